import { runPool } from '../../nodes/DId/helpers/pool';

/** A task whose end the test decides. */
function deferred<T = void>() {
	let resolve!: (value: T) => void;
	let reject!: (error: unknown) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

const settle = async () => {
	for (let n = 0; n < 10; n++) await Promise.resolve();
};

/** Tasks that record when they start and end only when the test says so. */
function controlled(keys: number[]) {
	const gates = new Map(keys.map((key) => [key, deferred<string>()]));
	const started: number[] = [];
	const signals = new Map<number, AbortSignal>();
	let running = 0;
	let peak = 0;
	const task = async (key: number, signal: AbortSignal) => {
		started.push(key);
		signals.set(key, signal);
		peak = Math.max(peak, ++running);
		try {
			return await gates.get(key)!.promise;
		} finally {
			running--;
		}
	};
	return { gates, started, signals, task, peak: () => peak, running: () => running };
}

describe('runPool', () => {
	test('runs every task, at most `concurrency` at a time, in the order of the keys, and gives each result by its key', async () => {
		const keys = [0, 1, 2, 3, 4, 5, 6];
		const c = controlled(keys);
		const done = runPool(keys, c.task, { concurrency: 3 });
		await settle();
		expect(c.started).toEqual([0, 1, 2]);
		c.gates.get(1)!.resolve('one');
		await settle();
		expect(c.started).toEqual([0, 1, 2, 3]);
		for (const key of keys) c.gates.get(key)!.resolve(`v${key}`);
		const run = await done;
		expect(c.peak()).toBe(3);
		expect(c.started).toEqual(keys);
		expect(run.firstFailure).toBeUndefined();
		expect([...run.results.entries()].sort(([a], [b]) => a - b)).toEqual([
			[0, { ok: true, value: 'v0' }],
			[1, { ok: true, value: 'one' }],
			[2, { ok: true, value: 'v2' }],
			[3, { ok: true, value: 'v3' }],
			[4, { ok: true, value: 'v4' }],
			[5, { ok: true, value: 'v5' }],
			[6, { ok: true, value: 'v6' }],
		]);
	});

	test('runs only the keys given (items refused earlier are left out)', async () => {
		const seen: number[] = [];
		const run = await runPool([1, 4, 7], async (key) => seen.push(key), { concurrency: 10 });
		expect(seen).toEqual([1, 4, 7]);
		expect([...run.results.keys()].sort()).toEqual([1, 4, 7]);
	});

	test('the first failure stops new tasks, aborts the running ones’ signal, and the pool waits for them to settle', async () => {
		const keys = [0, 1, 2, 3, 4];
		const c = controlled(keys);
		let returned = false;
		const done = runPool(keys, c.task, { concurrency: 2 }).then((run) => {
			returned = true;
			return run;
		});
		await settle();
		const failure = new Error('item 1 failed');
		c.gates.get(1)!.reject(failure);
		await settle();
		expect(c.signals.get(0)!.aborted).toBe(true);
		expect(c.started).toEqual([0, 1]);
		expect(returned).toBe(false); // task 0 is still running
		c.gates.get(0)!.reject(new Error('item 0 ended by the abort'));
		const run = await done;
		expect(run.firstFailure).toEqual({ key: 1, error: failure });
		expect(run.results.get(0)).toEqual({
			ok: false,
			error: new Error('item 0 ended by the abort'),
		});
		expect(run.results.has(2)).toBe(false);
		expect(c.running()).toBe(0);
	});

	test('keepGoing: every task starts despite failures, and no first failure is reported', async () => {
		const run = await runPool(
			[0, 1, 2, 3],
			async (key, signal) => {
				expect(signal.aborted).toBe(false);
				if (key % 2 === 0) throw new Error(`bad ${key}`);
				return key * 10;
			},
			{ concurrency: 1, keepGoing: true },
		);
		expect(run.firstFailure).toBeUndefined();
		expect(run.results.get(0)).toEqual({ ok: false, error: new Error('bad 0') });
		expect(run.results.get(1)).toEqual({ ok: true, value: 10 });
		expect(run.results.get(2)).toEqual({ ok: false, error: new Error('bad 2') });
		expect(run.results.get(3)).toEqual({ ok: true, value: 30 });
	});

	test('aborting the signal (the execution’s cancel) stops new tasks and aborts the running ones, also with keepGoing', async () => {
		const keys = [0, 1, 2, 3];
		const c = controlled(keys);
		const cancel = new AbortController();
		const done = runPool(keys, c.task, { concurrency: 2, keepGoing: true, signal: cancel.signal });
		await settle();
		cancel.abort();
		expect(c.signals.get(0)!.aborted).toBe(true);
		expect(c.signals.get(1)!.aborted).toBe(true);
		c.gates.get(0)!.resolve('finished anyway');
		c.gates.get(1)!.reject(new Error('cancelled'));
		const run = await done;
		expect(c.started).toEqual([0, 1]);
		expect(run.firstFailure).toBeUndefined();
		expect(run.results.get(0)).toEqual({ ok: true, value: 'finished anyway' });
		expect(run.results.size).toBe(2);
	});

	test('a signal aborted before the start runs nothing', async () => {
		const cancel = new AbortController();
		cancel.abort();
		const task = jest.fn(async () => 1);
		const run = await runPool([0, 1], task, { concurrency: 2, signal: cancel.signal });
		expect(task).not.toHaveBeenCalled();
		expect(run.results.size).toBe(0);
	});

	test('lets go of the caller’s signal when done (a long-lived cancel signal collects no listeners)', async () => {
		const cancel = new AbortController();
		const add = jest.spyOn(cancel.signal, 'addEventListener');
		const remove = jest.spyOn(cancel.signal, 'removeEventListener');
		await runPool([0], async () => 1, { concurrency: 1, signal: cancel.signal });
		await expect(
			runPool([0], async () => Promise.reject(new Error('x')), {
				concurrency: 1,
				signal: cancel.signal,
			}),
		).resolves.toBeDefined();
		expect(add).toHaveBeenCalledTimes(2);
		expect(remove.mock.calls.map((call) => call[1])).toEqual(add.mock.calls.map((call) => call[1]));
	});

	test('no keys: returns at once', async () => {
		const run = await runPool([], async () => 1, { concurrency: 3 });
		expect(run.results.size).toBe(0);
	});

	test.each([0, -1, 1.5, NaN])('refuses concurrency %p', async (concurrency) => {
		await expect(runPool([0], async () => 1, { concurrency })).rejects.toThrow(RangeError);
	});
});
