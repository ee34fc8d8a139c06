import { sleep } from 'n8n-workflow';

// n8n-workflow's sleepWithAbort is gone since 2.34 and timers are off-limits in community nodes,
// so waits are slices of `sleep` raced against the abort signal: cancelling ends the wait at once.
const SLICE_MS = 1000;

export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (!signal) return await sleep(ms);
	let onAbort = () => {};
	const aborted = new Promise<void>((resolve) => {
		onAbort = () => resolve();
		if (signal.aborted) resolve();
		else signal.addEventListener('abort', onAbort, { once: true });
	});
	try {
		let left = ms;
		while (left > 0 && !signal.aborted) {
			const slice = Math.min(SLICE_MS, left);
			await Promise.race([sleep(slice), aborted]);
			left -= slice;
		}
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}
