// Wait Mode "Webhook" in real n8n against the spec-strict sandbox (README "Profiles"): D-ID's read
// API behind its webhooks, and a talk committed after its failed answer that ends before the
// execution waits. The node's Timeout is 10 min; each batch must resume long before it (no timeout
// check needed), with one talk per item.
const { startStack, nodeOutput } = require('../../scripts/n8n/stack');
const { example, withItems, withParameters } = require('./helpers');

const NODE = 'Personal video per customer';
const VERSION = process.env.N8N_VERSION ?? 'latest';

function batchWorkflow(count) {
	return withParameters(withItems(example('11-webhook-wait.json'), count), NODE, {
		downloadVideo: false,
		timeoutMinutes: 10,
	});
}

describe(`Wait Mode "Webhook" against the spec-strict sandbox in real n8n ${VERSION}`, () => {
	let stack;
	beforeAll(async () => {
		stack = await startStack({
			version: VERSION,
			sandbox: {
				profile: 'spec-strict',
				credits: 100_000,
				processing: { msPerSecond: 100, minMs: 300, jitter: 0.2 },
			},
		});
	}, 900_000);
	afterAll(async () => await stack?.stop());
	beforeEach(() => {
		stack.sandbox.setFaults({});
		stack.sandbox.resetStats();
	});

	async function runBatch(count) {
		const workflowId = await stack.importWorkflow(batchWorkflow(count), stack.credential);
		const executionId = await stack.startWorkflow(workflowId);
		// Far below the node's 10-min Timeout: the batch must resume on D-ID's calls.
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 90_000 });
		expect(execution.status).toBe('success');
		const items = nodeOutput(execution, NODE);
		expect(items.map((item) => item.json.status)).toEqual(
			Array.from({ length: count }, () => 'done'),
		);
		items.forEach((item, index) =>
			expect(stack.sandbox.talk(item.json.id).request.user_data).toBe(String(index + 1)),
		);
		return { executionId, items };
	}

	test('case 8: GET /talks/{id} says started for 2 s after the webhook said done: re-read until it agrees', async () => {
		stack.sandbox.configure({ readLagMs: 2000 });
		await runBatch(5);
		// Each talk was read more than once: the first read still lagged.
		expect(stack.sandbox.stats().requests['GET /talks/{id}']).toBeGreaterThan(5);
	}, 120_000);

	// The node learns the talk's ID from the list 1.5 s after the talk was made, while its status
	// reads "done" only 1.8 s after (0.3 s render + the lag): when the wait begins inside that
	// window, the first look still reads it rendering. The look 5 s later finds it.
	test('a talk committed after its lost answer ends before the execution waits: n8n refuses its call (the execution is still running), a look after the wait began finds it', async () => {
		// The list shows a talk 1.5 s after it was made; the talk ends 0.3 s after it was made.
		stack.sandbox.configure({ readLagMs: 1500, lateCommitMs: [200, 200] });
		stack.sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter', commit: 'late' });
		await runBatch(3);
		expect(stack.sandbox.stats().talksCreated).toBe(3);
		// n8n answers such a call with an error (409 or 500, by version) before the node sees it.
		expect(
			stack.sandbox.stats().webhookDeliveries.some((d) => /^HTTP (409|500)$/.test(d.outcome)),
		).toBe(true);
	}, 120_000);

	// Times from the talks' requests. The lost answer's talk is listed 5.2 s after (0.2-s commit +
	// 5-s lag): the node finds it by its look at the list 7 s after. Every talk ends at 4–4.2 s,
	// 3 s before the wait begins, so n8n refuses every D-ID call; D-ID reads them done only at
	// 9–9.2 s, about 2 s after the wait's first look; the look 5 s after that (about 12 s) finds
	// them. Had the first look completed the batch, it would have ended by about 9.5 s.
	test('every talk ends before the execution waits and D-ID still reads them rendering when the wait begins (4-s renders, 5-s read lag): every call was refused, and the look 5 s after the first completes the batch, not the 10-min Timeout', async () => {
		stack.sandbox.configure({
			readLagMs: 5000,
			lateCommitMs: [200, 200],
			processing: { msPerSecond: 100, minMs: 4000, jitter: 0 },
		});
		stack.sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter', commit: 'late' });
		const { executionId } = await runBatch(3);
		expect(stack.sandbox.stats().talksCreated).toBe(3);
		const deliveries = stack.sandbox.stats().webhookDeliveries;
		expect(deliveries).toHaveLength(3);
		// Every D-ID call came while the execution ran (n8n refused it): only the node's looks remained.
		for (const delivery of deliveries) expect(delivery.outcome).toMatch(/^HTTP (409|500)$/);
		const madeAt = Math.min(
			...deliveries.map(({ talkId }) => stack.sandbox.talk(talkId).createdAt),
		);
		const endedAt = Date.parse((await stack.getExecution(executionId)).stoppedAt);
		// Completed by the later look, far before the Timeout.
		expect(endedAt - madeAt).toBeGreaterThanOrEqual(11_000);
		expect(endedAt - madeAt).toBeLessThan(60_000);
	}, 120_000);
});
