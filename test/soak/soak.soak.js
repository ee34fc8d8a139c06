// Soak: many talks through real n8n while the sandbox injects every fault it has. Bounded in count
// (SOAK_TALKS, default 300) and time; `.ci/run` runs a shorter one (SOAK_TALKS=60) with the same faults.
const crypto = require('node:crypto');

const soak = require('./helpers');

const TALKS = Number(process.env.SOAK_TALKS ?? 300);
const SEED = Number(process.env.SOAK_SEED ?? 20261125);

const FAULTS = {
	global: {
		rate5xx: 0.1,
		rate429: 0.05,
		retryAfterSec: 1,
		dropBeforeRate: 0.01,
		dropAfterRate: 0.01,
		spikeRate: 0.1,
		spikeMs: [200, 2000],
	},
	webhooks: { duplicateRate: 0.2, outOfOrderRate: 0.2, delayMs: [0, 300] },
	// Each kind at least once, however short the run: the first requests of each route get them.
	script: [
		...['dropBefore', 'dropAfter', 500, 502, 503, 429].map((fault) => ({
			route: 'POST /talks',
			fault,
			count: 1,
			retryAfterSec: 1,
		})),
		...['dropBefore', 'dropAfter', 500, 429].map((fault) => ({
			route: 'GET /talks/{id}',
			fault,
			count: 1,
			retryAfterSec: 1,
		})),
		...['dropAfter', 502].map((fault) => ({ route: 'GET /results/{id}/{file}', fault, count: 1 })),
	],
};

/** Everything a secret could leak into: every string of the execution data, and n8n's log. */
function leaks(secretForms, ...haystacks) {
	return secretForms.filter((secret) => haystacks.some((text) => text.includes(secret)));
}

describe(`soak: ${TALKS} talks in real n8n ${soak.VERSION} with faults`, () => {
	let stack;
	let secretForms;
	const hookSecret = crypto.randomBytes(12).toString('hex');

	beforeAll(async () => {
		stack = await soak.start({ seed: SEED, hookSecret });
		const [user, key] = stack.sandbox.apiKey.split(':');
		// The API key (as given, its secret half, base64) and the trigger's secret, which D-ID echoes in each talk's webhook URL.
		secretForms = [
			key,
			stack.sandbox.apiKey,
			Buffer.from(stack.sandbox.apiKey).toString('base64'),
			hookSecret,
		];
		expect(user).toBeTruthy();
	}, 900_000);

	afterAll(async () => await stack?.stop());

	test(
		`${TALKS} items: one output each, paired; exactly one talk per item; the trigger fires once per finished talk; no secret anywhere`,
		async () => {
			const workflow = soak.batch('09-fifty-items.json', TALKS, {
				additionalFields: {
					userData: '={{ String($json.id) }}',
					webhookUrl: `${stack.url}${soak.HOOK_PATH}?secret=${hookSecret}`,
				},
				timeoutMinutes: 5,
			});
			const workflowId = await stack.importWorkflow(workflow, stack.credential);

			stack.sandbox.resetStats();
			stack.sandbox.setFaults(FAULTS);
			const started = Date.now();
			const execution = await stack.runWorkflow(workflowId, { timeoutMs: 20 * 60_000 });
			const seconds = (Date.now() - started) / 1000;
			expect(execution.status).toBe('success');

			// Every input item has exactly one output item, paired with it: done with a video, or a clear error.
			const items = soak.outputs(execution);
			expect(items).toHaveLength(TALKS);
			let done = 0;
			let failed = 0;
			for (const [index, item] of items.entries()) {
				expect(item.pairedItem).toEqual({ item: index });
				if (item.json.status === 'done') {
					done++;
					expect(item.json.user_data).toBe(String(index + 1));
					expect(item.binary.data.fileName).toBe(`${item.json.id}.mp4`);
				} else {
					failed++;
					expect(item.json.error).toEqual(expect.any(String));
					expect(item.json.description).toEqual(expect.any(String));
				}
			}

			// Exactly one talk per item at D-ID.
			const talks = stack.sandbox.talks().filter((t) => t.request.webhook?.includes(hookSecret));
			const { duplicates, missing } = soak.countPerItem(talks, TALKS);

			// The trigger workflow: once per finished talk, despite duplicate and reordered deliveries.
			const finished = new Set(talks.map((t) => t.id));
			const trigger = await soak.triggerEmissions(
				stack,
				stack.triggerWorkflowId,
				started + 25 * 60_000,
			);
			const { executions } = trigger;
			const emitted = trigger.emitted.map((json) => json.id);
			const emittedOnce = new Set(emitted);
			const stats = stack.sandbox.stats();

			console.log(
				[
					`soak: ${TALKS} items in ${seconds.toFixed(1)} s on n8n ${stack.version}`,
					`  outputs: ${items.length} (done ${done}, failed with an error ${failed})`,
					`  talks at D-ID: ${talks.length}; items with more than one talk: ${duplicates}; items with none: ${missing}`,
					`  trigger: ${emitted.length} emissions for ${finished.size} finished talks (${emittedOnce.size} distinct)`,
					`  webhook deliveries: ${stats.webhookDeliveries.length} (${stats.webhookDeliveries.filter((d) => d.duplicate).length} duplicates)`,
					`  faults injected: ${JSON.stringify(stats.faults)}`,
				].join('\n'),
			);

			expect(duplicates).toBe(0);
			expect(missing).toBe(0);
			expect(talks).toHaveLength(TALKS);
			expect(emitted.length).toBe(emittedOnce.size);
			expect([...emittedOnce].sort()).toEqual([...finished].sort());
			for (const kind of ['500', '502', '503', '429', 'dropBefore', 'dropAfter']) {
				expect(Object.keys(stats.faults).some((fault) => fault.endsWith(` ${kind}`))).toBe(true);
			}
			expect(stats.webhookDeliveries.some((d) => d.duplicate)).toBe(true);

			// The API key: in no output item, no error, no line of n8n's log.
			const triggerRuns = await Promise.all(
				executions.map(async (e) => JSON.stringify((await stack.getExecution(e.id)).data)),
			);
			expect(
				leaks(secretForms, JSON.stringify(execution.data), ...triggerRuns, stack.readLog()),
			).toEqual([]);
		},
		30 * 60_000,
	);

	test('the trigger refuses a missing or wrong secret, an oversized body, a wrong method and malformed JSON: 0 executions', async () => {
		const before = (await stack.listExecutions(stack.triggerWorkflowId)).length;
		const url = `${stack.url}${soak.HOOK_PATH}`;
		const post = async (target, body, headers = { 'content-type': 'application/json' }) =>
			(await fetch(target, { method: 'POST', headers, body })).status;
		const talk = JSON.stringify({ id: 'tlk_x', status: 'done' });
		expect(await post(url, talk)).toBe(401);
		expect(await post(`${url}?secret=wrong`, talk)).toBe(401);
		expect(
			await post(
				`${url}?secret=${hookSecret}`,
				JSON.stringify({ id: 'tlk_x', status: 'done', pad: 'x'.repeat(2 * 1024 * 1024) }),
			),
		).toBeGreaterThanOrEqual(400);
		expect(
			await post(`${url}?secret=${hookSecret}`, '{"id": "tlk_x", "status": '),
		).toBeGreaterThanOrEqual(400);
		expect(
			await post(`${url}?secret=${hookSecret}`, 'id=tlk_x', {
				'content-type': 'application/x-www-form-urlencoded',
			}),
		).toBe(400);
		const get = await fetch(`${url}?secret=${hookSecret}`);
		expect(get.status).toBeGreaterThanOrEqual(400);
		await soak.sleep(1500);
		expect((await stack.listExecutions(stack.triggerWorkflowId)).length).toBe(before);
		expect(leaks(secretForms, stack.readLog())).toEqual([]);
	});

	test('cancelling a running execution during a wait stops its requests within 1 s', async () => {
		stack.sandbox.setFaults({});
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 60_000, jitter: 0 } });
		const workflow = soak.withLength(soak.example('09-fifty-items.json'), 5);
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		stack.sandbox.resetStats();
		const executionId = await stack.startWorkflow(workflowId);
		const total = () => Object.values(stack.sandbox.stats().requests).reduce((a, b) => a + b, 0);
		// Wait until it is polling (the talks exist and status requests have begun).
		const polls = () =>
			(stack.sandbox.stats().requests['GET /talks'] ?? 0) +
			(stack.sandbox.stats().requests['GET /talks/{id}'] ?? 0);
		const deadline = Date.now() + 60_000;
		while (polls() < 2 && Date.now() < deadline) await soak.sleep(100);
		expect(polls()).toBeGreaterThanOrEqual(2);
		await stack.stopExecution(executionId);
		const stoppedAt = Date.now();
		await soak.sleep(1000);
		const afterOneSecond = total();
		await soak.sleep(6000); // the polling interval would have fired several times by now
		expect(total()).toBe(afterOneSecond);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 30_000 });
		expect(['canceled', 'error']).toContain(execution.status);
		expect(Date.now() - stoppedAt).toBeLessThan(60_000);
		stack.sandbox.configure({ processing: { msPerSecond: 100, minMs: 300, jitter: 0.5 } });
	});
});
