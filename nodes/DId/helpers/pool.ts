/*
 * The one bounded worker pool: at most `concurrency` tasks run at once, started in the order given.
 * Without `keepGoing` the first failure stops new tasks from starting and aborts the signal the
 * running ones were given (they end their waiting); the pool still waits for every started task
 * to settle, so nothing runs on after it returns. Aborting `signal` (the execution's cancel) does
 * the same without a failure.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface PoolOptions {
	/** At most this many tasks at once: a whole number of 1 or more. */
	concurrency: number;
	/** Start every task even after one failed (n8n's Continue On Fail). */
	keepGoing?: boolean;
	/** Stops new tasks from starting, and aborts the running tasks' signal. */
	signal?: AbortSignal;
}

export interface PoolRun<T> {
	/** What each started task gave, by its key; a task stopped before it started has no entry. */
	results: Map<number, Settled<T>>;
	/** The first task to fail (in time), unless `keepGoing`. */
	firstFailure?: { key: number; error: unknown };
}

/** Runs `task(key, signal)` for every key (e.g. item indexes), at most `options.concurrency` at a time. */
export async function runPool<T>(
	keys: readonly number[],
	task: (key: number, signal: AbortSignal) => Promise<T>,
	options: PoolOptions,
): Promise<PoolRun<T>> {
	if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
		throw new RangeError(
			`concurrency must be a whole number of 1 or more, not ${options.concurrency}`,
		);
	}
	const run: PoolRun<T> = { results: new Map() };
	const stop = new AbortController();
	const onAbort = () => stop.abort();
	options.signal?.addEventListener('abort', onAbort, { once: true });
	if (options.signal?.aborted) stop.abort();
	let next = 0;
	const worker = async () => {
		while (!stop.signal.aborted && next < keys.length) {
			const key = keys[next++];
			try {
				run.results.set(key, { ok: true, value: await task(key, stop.signal) });
			} catch (error) {
				run.results.set(key, { ok: false, error });
				if (!options.keepGoing && !run.firstFailure) {
					run.firstFailure = { key, error };
					stop.abort();
				}
			}
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.min(options.concurrency, keys.length) }, worker));
	} finally {
		options.signal?.removeEventListener('abort', onAbort);
	}
	return run;
}
