// Wait Mode "Webhook" in real n8n: the execution sleeps until D-ID (the sandbox) calls back.
const { startStack, nodeOutput } = require('../../scripts/n8n/stack');
const { VERSIONS, sleep, example, withItems, withParameters, expectVideo } = require('./helpers');

const NODE = 'Personal video per customer';

/** examples/11-webhook-wait.json with `count` items and the given D-ID node parameters. */
function batchWorkflow(count, parameters = {}) {
	return withParameters(withItems(example('11-webhook-wait.json'), count), NODE, parameters);
}

describe.each(VERSIONS)('Wait Mode "Webhook" in real n8n %s', (version) => {
	let stack;

	beforeAll(async () => {
		// Talks take 3–4 s: longer than creating the batch, so every callback comes while the execution waits.
		stack = await startStack({ version, sandbox: { processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } } });
	}, 900_000);

	afterAll(async () => await stack?.stop());

	beforeEach(() => {
		stack.sandbox.resetStats();
		stack.sandbox.setFaults({});
	});

	const gets = () => stack.sandbox.stats().requests['GET /talks/{id}'] ?? 0;

	async function startBatch(count, parameters) {
		const workflowId = await stack.importWorkflow(batchWorkflow(count, parameters), stack.credential);
		const executionId = await stack.startWorkflow(workflowId);
		await stack.waitForExecution(executionId, { until: ['waiting', 'success', 'error'], timeoutMs: 60_000 });
		// The node creates the talks once the execution waits (so no callback can come too early).
		const ours = () => stack.sandbox.talks().filter((t) => new URL(t.request.webhook ?? 'http://x').pathname === `/webhook-waiting/${executionId}`);
		for (let i = 0; i < 200 && ours().length < count; i++) await sleep(50);
		return { workflowId, executionId, talks: ours() };
	}

	test('a batch of 6 waits with 0 status requests and resumes once, with every item’s video in order', async () => {
		const { workflowId, executionId } = await startBatch(6);
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		expect(stack.sandbox.stats().talksCreated).toBe(6);
		// While waiting: no status requests at all, until D-ID's first call.
		while (stack.sandbox.stats().webhooksSent === 0) {
			expect(gets()).toBe(0);
			await sleep(100);
		}
		const execution = await stack.waitForExecution(executionId);
		expect(execution.status).toBe('success');
		// One confirmation per talk, nothing else.
		expect(gets()).toBe(6);
		expect(execution.data.resultData.runData[NODE]).toHaveLength(1);
		const items = nodeOutput(execution, NODE);
		expect(items).toHaveLength(6);
		for (const [index, item] of items.entries()) {
			expect(item.json.user_data).toBe(String(index + 1));
			await expectVideo(stack, item, index);
		}
		expect(await stack.listExecutions(workflowId)).toHaveLength(1);
	});

	test('a forged call resumes nothing: wrong token, unknown talk, or a talk that is not done', async () => {
		const { executionId, talks } = await startBatch(2);
		const [talk] = talks;
		// What D-ID was given: n8n's resume URL (n8n 2.x adds its own token to it) + our item and token.
		const given = new URL(talk.request.webhook);
		expect(given.pathname).toBe(`/webhook-waiting/${executionId}`);
		const url = (changes) => {
			const forged = new URL(given);
			for (const [key, value] of Object.entries(changes)) {
				if (value === undefined) forged.searchParams.delete(key);
				else forged.searchParams.set(key, value);
			}
			return forged.toString();
		};
		const post = async (target, body) => {
			const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
			return res.status;
		};
		const fake = { id: talk.id, status: 'done', result_url: 'https://evil.example/x.mp4' };
		const getsBefore = gets();
		expect(await post(url({ dIdToken: '0'.repeat(64) }), fake)).toBe(401);
		// The token of this talk's item, presented for the other item of the batch.
		expect(await post(url({ dIdItem: given.searchParams.get('dIdItem') === '0' ? '1' : '0' }), fake)).toBe(401);
		expect(await post(url({ dIdItem: undefined, dIdToken: undefined, dIdCheck: 'timeout' }), {})).toBe(401);
		expect(gets()).toBe(getsBefore); // refused before asking D-ID anything
		expect(await post(url({ dIdItem: undefined, dIdToken: undefined }), { id: 'tlk_not_ours', status: 'done' })).toBe(200);
		// A real talk of the batch, before it is done, without our token: D-ID is asked and says "not done".
		expect(await post(url({ dIdItem: undefined, dIdToken: undefined }), fake)).toBe(200);
		// (The node answers at once and asks D-ID after.)
		for (let i = 0; i < 50 && gets() === getsBefore; i++) await sleep(50);
		expect(gets()).toBe(getsBefore + 1);
		if (given.search.includes('signature') || given.search.includes('token=')) {
			// n8n 2.x refuses a call without its own token before our node sees it.
			const bare = new URL(given.pathname, given).toString();
			expect(await post(bare, fake)).toBe(401);
		}
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		const execution = await stack.waitForExecution(executionId);
		expect(execution.status).toBe('success');
		for (const item of nodeOutput(execution, NODE)) {
			expect(item.json.result_url).toMatch(new RegExp(`^${stack.sandbox.url}/results/`));
		}
	});

	test('lost webhooks: the execution resumes at the timeout and checks each talk once', async () => {
		stack.sandbox.setFaults({ webhooks: { dropRate: 1 } });
		const started = Date.now();
		const { executionId } = await startBatch(3, { timeoutMinutes: 0.2 });
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 120_000 });
		expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
		expect(execution.status).toBe('success');
		expect(stack.sandbox.stats().webhooksSent).toBe(0);
		expect(gets()).toBe(3);
		const items = nodeOutput(execution, NODE);
		expect(items.map((item) => item.json.status)).toEqual(['done', 'done', 'done']);
	});

	test('a talk still rendering at the timeout fails with a clear message (Continue On Fail keeps the others)', async () => {
		stack.sandbox.setFaults({ webhooks: { dropRate: 1 } });
		stack.sandbox.configure({ credits: 10_000, processing: { msPerSecond: 1000, minMs: 3000, jitter: 0 } });
		const workflow = batchWorkflow(2, { timeoutMinutes: 0.1 });
		workflow.nodes.find((n) => n.name === NODE).onError = 'continueRegularOutput';
		// Item 2's text is long: it renders for minutes.
		workflow.nodes.find((n) => n.name === NODE).parameters.text = "={{ $json.id === 2 ? 'a long text '.repeat(300) : 'Hello ' + $json.name }}";
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		const execution = await stack.runWorkflow(workflowId, { timeoutMs: 120_000 });
		expect(execution.status).toBe('success');
		const [first, second] = nodeOutput(execution, NODE);
		expect(first.json.status).toBe('done');
		expect(second.json.error).toMatch(/is not done after 0\.1 min \(status: (created|started)\)/);
		expect(second.json.description).toMatch(/Talk → Wait later with this talk ID/);
		expect(second.pairedItem).toEqual({ item: 1 });
	});
	test('Delete Talk After Download: each talk is deleted at D-ID once its video is in n8n', async () => {
		stack.sandbox.configure({ credits: 10_000, processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } });
		const { executionId, talks } = await startBatch(3, { deleteTalk: true });
		const execution = await stack.waitForExecution(executionId);
		expect(execution.status).toBe('success');
		const items = nodeOutput(execution, NODE);
		expect(items).toHaveLength(3);
		for (const [index, item] of items.entries()) {
			expect(item.json.cleanup).toEqual({ talk: { id: item.json.id, result: 'deleted' } });
			expect(item.json.credits_used).toBe(stack.sandbox.talk(item.json.id).credits);
			await expectVideo(stack, item, index);
		}
		expect(talks.map((t) => stack.sandbox.talk(t.id).deleted)).toEqual([true, true, true]);
		expect(stack.sandbox.stats().requests['DELETE /talks/{id}']).toBe(3);
	});

	test('Check Credits First: a batch that cannot be paid for creates nothing and the execution fails before it waits', async () => {
		stack.sandbox.configure({ credits: 2 });
		const workflowId = await stack.importWorkflow(batchWorkflow(4), stack.credential);
		const execution = await stack.runWorkflow(workflowId, { timeoutMs: 60_000 });
		expect(execution.status).toBe('error');
		expect(execution.data.resultData.error.message).toMatch(/Not enough D-ID credits for this run: it needs an estimated 4 credits for 4 talks/);
		expect(stack.sandbox.stats().talksCreated).toBe(0);
		expect(stack.sandbox.stats().requests['GET /credits']).toBe(1);
		stack.sandbox.configure({ credits: 10_000 });
	});
});
