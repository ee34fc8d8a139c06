'use strict';
// What a stack starts, it stops: stop() runs the cleanups added, the last added first; when this
// process exits or is interrupted (SIGINT, SIGTERM) first, each cleanup's `sync` part runs at once,
// so that a crash or Ctrl-C leaves nothing running.
const fs = require('node:fs');

/** `log(message)` reports a cleanup that failed during stop(). */
function createCleanups(log) {
	const cleanups = [];
	let stopped = false;
	const onExit = () => {
		for (const cleanup of [...cleanups].reverse()) {
			try {
				cleanup.sync?.();
			} catch {
				/* best effort: the next cleanup still runs */
			}
		}
	};
	const onSignal = (signal) => {
		process.off('exit', onExit);
		onExit();
		process.exit(signal === 'SIGINT' ? 130 : 143);
	};
	process.on('exit', onExit);
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	return {
		/** `cleanup()` may be async; `cleanup.sync()`, if given, is what can be done at exit. */
		add(cleanup) {
			cleanups.push(cleanup);
		},
		/** Removes `paths` (files or folders) on stop() and at exit. */
		remove(...paths) {
			const removeAll = () => {
				for (const target of paths) fs.rmSync(target, { recursive: true, force: true });
			};
			removeAll.sync = removeAll;
			cleanups.push(removeAll);
		},
		async stop() {
			if (stopped) return;
			stopped = true;
			process.off('exit', onExit);
			process.off('SIGINT', onSignal);
			process.off('SIGTERM', onSignal);
			for (const cleanup of cleanups.reverse()) {
				try {
					await cleanup();
				} catch (error) {
					log(`cleanup: ${error.message}`);
				}
			}
		},
	};
}

module.exports = { createCleanups };
