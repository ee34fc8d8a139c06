// Wait Mode "Webhook" in real n8n: the execution sleeps until D-ID (the sandbox) calls back.
const { startStack, nodeOutput } = require('../../scripts/n8n/stack');
const {
	VERSIONS,
	sleep,
	example,
	withItems,
	withParameters,
	expectVideo,
	createTalk,
} = require('./helpers');

const NODE = 'Personal video per customer';

/** examples/11-webhook-wait.json with `count` items and the given D-ID node parameters. */
function batchWorkflow(count, parameters = {}) {
	return withParameters(withItems(example('11-webhook-wait.json'), count), NODE, parameters);
}

/** Talks take 3–4 s: longer than creating the batch, so every callback comes while the execution waits. */
const PROCESSING = { msPerSecond: 1000, minMs: 3000, jitter: 0.2 };

describe.each(VERSIONS)('Wait Mode "Webhook" in real n8n %s', (version) => {
	let stack;

	beforeAll(async () => {
		stack = await startStack({ version, sandbox: { processing: PROCESSING } });
	}, 900_000);

	afterAll(async () => await stack?.stop());

	beforeEach(() => {
		stack.sandbox.resetStats();
		stack.sandbox.setFaults({});
		// The suite's renders (a test that draws render times from a range sets rangeMs: cleared here).
		stack.sandbox.configure({ processing: { ...PROCESSING, rangeMs: undefined } });
	});

	const gets = () => stack.sandbox.stats().requests['GET /talks/{id}'] ?? 0;
	const lists = () => stack.sandbox.stats().requests['GET /talks'] ?? 0;
	/** Status requests: GET /talks/{id} and pages of GET /talks. */
	const reads = () => gets() + lists();
	/** D-ID calls that reached n8n for these talks (a dropped one is recorded as dropped). */
	const deliveredTo = (talks) =>
		stack.sandbox
			.stats()
			.webhookDeliveries.filter(
				(d) => talks.some((t) => t.id === d.talkId) && !d.outcome.startsWith('dropped'),
			);
	/**
	 * For tests that count every status request: a call of the previous test's batch still under
	 * way (n8n answering it after that execution ended) has ended, and the counts start at 0.
	 */
	async function quiet() {
		await sleep(1500);
		stack.sandbox.resetStats();
	}

	async function startBatch(count, parameters) {
		const workflowId = await stack.importWorkflow(
			batchWorkflow(count, parameters),
			stack.credential,
		);
		const executionId = await stack.startWorkflow(workflowId);
		await stack.waitForExecution(executionId, {
			until: ['waiting', 'success', 'error'],
			timeoutMs: 60_000,
		});
		// The talks are created before the execution waits: all of them are there now.
		const talks = stack.sandbox
			.talks()
			.filter(
				(t) =>
					new URL(t.request.webhook ?? 'http://x').pathname === `/webhook-waiting/${executionId}`,
			);
		return { workflowId, executionId, talks };
	}

	test('a batch of 6: talks created before the wait, one look at D-ID when the wait begins, then none until D-ID calls; resumes once with every video in order', async () => {
		const { workflowId, executionId, talks } = await startBatch(6);
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		expect(talks).toHaveLength(6);
		expect(stack.sandbox.stats().talksCreated).toBe(6);
		// While waiting, until D-ID's first call: only the look taken when the wait began (the
		// "sweep", for talks that ended before it): one list page and one talk read by ID.
		await sleep(500);
		const atWait = { gets: gets(), lists: lists() };
		expect(atWait.lists).toBe(1);
		expect(atWait.gets).toBe(1);
		while (stack.sandbox.stats().webhooksSent === 0) {
			expect({ gets: gets(), lists: lists() }).toEqual(atWait);
			await sleep(100);
		}
		const execution = await stack.waitForExecution(executionId);
		expect(execution.status).toBe('success');
		// Each call of D-ID reads one list page and, unless it completes the batch, one talk that has
		// not ended; the later looks (5 s and 30 s after the first) only if the batch still waits then.
		expect(lists()).toBeLessThanOrEqual(1 + 6 + 2);
		expect(gets()).toBeLessThanOrEqual(1 + 6 + 2);
		expect(execution.data.resultData.runData[NODE]).toHaveLength(1);
		const items = nodeOutput(execution, NODE);
		expect(items).toHaveLength(6);
		for (const [index, item] of items.entries()) {
			expect(item.json.user_data).toBe(String(index + 1));
			await expectVideo(stack, item, index);
		}
		expect(await stack.listExecutions(workflowId)).toHaveLength(1);
	});

	test("a busy D-ID account (350 newer talks of other clients above the batch in D-ID's list): each call still finds the batch on the list pages, not by reading every ended talk by ID", async () => {
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 1000, rangeMs: [8000, 16000], jitter: 0 },
		});
		const { executionId, talks } = await startBatch(20);
		expect(talks).toHaveLength(20);
		// Other clients' talks, created after the batch's: D-ID's first 3 list pages hold none of it.
		for (let i = 0; i < 350; i += 25)
			await Promise.all(
				Array.from({ length: 25 }, (_, k) =>
					createTalk(stack.sandbox, { input: `another client's talk ${i + k}` }),
				),
			);
		expect(stack.sandbox.stats().webhooksSent).toBe(0);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 120_000 });
		expect(execution.status).toBe('success');
		expect(nodeOutput(execution, NODE).map((item) => item.json.status)).toEqual(
			Array(20).fill('done'),
		);
		// Per call (D-ID's 20, the look when the wait began and the one 5 s later): the list pages down
		// to the batch and one read of a talk still rendering (a list may lag); reading each ended
		// talk by ID instead would cost about 20 × H(20) ≈ 72.
		expect(gets()).toBeLessThanOrEqual(2 + 20 + 4);
		expect(lists()).toBeLessThanOrEqual(6 * 22);
	}, 240_000);

	test('forged or tokenless calls cost no D-ID request and resume nothing; a call with the token asks D-ID before it believes anything', async () => {
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 1000, minMs: 6000, jitter: 0 },
		});
		const { executionId, talks } = await startBatch(2);
		const [talk] = talks;
		// What D-ID was given: n8n's resume URL (n8n 2.x adds its own token to it) + the execution's token.
		const given = new URL(talk.request.webhook);
		expect(given.pathname).toBe(`/webhook-waiting/${executionId}`);
		expect(given.searchParams.get('dIdToken')).toMatch(/^[0-9a-f]{64}$/);
		const url = (changes) => {
			const forged = new URL(given);
			for (const [key, value] of Object.entries(changes)) {
				if (value === undefined) forged.searchParams.delete(key);
				else forged.searchParams.set(key, value);
			}
			return forged.toString();
		};
		const post = async (target, body) => {
			const res = await fetch(target, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body),
			});
			return res.status;
		};
		const fake = { id: talk.id, status: 'done', result_url: 'https://evil.example/x.mp4' };
		await sleep(500); // the look when the wait began
		const before = reads();
		expect(await post(url({ dIdToken: '0'.repeat(64) }), fake)).toBe(401);
		expect(await post(url({ dIdToken: undefined }), fake)).toBe(401);
		expect(await post(url({ dIdToken: undefined, dIdCheck: 'timeout' }), {})).toBe(401);
		expect(await post(url({ dIdCheck: 'timeout' }), {})).toBe(401); // a talk's token is not a check's
		expect(await post(url({}), { id: 'tlk_not_ours', status: 'done' })).toBe(200);
		expect(await post(url({}), { id: talk.id, status: 'started' })).toBe(200);
		expect(reads()).toBe(before); // none of these asked D-ID anything
		// A real talk of the batch said to be done with the token while it renders: D-ID is asked and says no.
		expect(await post(url({}), fake)).toBe(200);
		for (let i = 0; i < 50 && reads() === before; i++) await sleep(50);
		expect(reads()).toBeGreaterThan(before);
		if (given.search.includes('signature') || given.search.includes('token=')) {
			// n8n 2.x refuses a call without its own token before our node sees it.
			const bare = new URL(given.pathname, given).toString();
			expect(await post(bare, fake)).toBe(401);
		}
		await sleep(300);
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		const execution = await stack.waitForExecution(executionId);
		expect(execution.status).toBe('success');
		for (const item of nodeOutput(execution, NODE)) {
			expect(item.json.result_url).toMatch(new RegExp(`^${stack.sandbox.url}/results/`));
		}
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } });
	});

	test('lost webhooks (D-ID calls nothing): the look 5 s after the wait began finds every talk ended, long before the Timeout', async () => {
		await quiet();
		stack.sandbox.setFaults({ webhooks: { dropRate: 1 } });
		// Renders of 4 s: still rendering at the first look, ended at the look 5 s later.
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 4000, jitter: 0 } });
		const { executionId, talks } = await startBatch(3, { timeoutMinutes: 10 });
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 60_000 });
		expect(execution.status).toBe('success');
		expect(deliveredTo(talks)).toEqual([]);
		expect(nodeOutput(execution, NODE).map((item) => item.json.status)).toEqual([
			'done',
			'done',
			'done',
		]);
		// Two looks: when the wait began (the talks rendering) and 5 s later (every talk ended).
		expect(lists()).toBe(2);
	});

	test('lost webhooks, talks still rendering at the later look: the execution resumes at the timeout and checks each open talk once', async () => {
		await quiet();
		stack.sandbox.setFaults({ webhooks: { dropRate: 1 } });
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 8000, jitter: 0 } });
		const started = Date.now();
		const { executionId, talks } = await startBatch(3, { timeoutMinutes: 0.2 });
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		// After the look when the wait began (its list page read).
		for (let i = 0; i < 100 && lists() === 0; i++) await sleep(50);
		await sleep(200);
		const afterSweep = { gets: gets(), lists: lists() };
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 120_000 });
		expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
		expect(execution.status).toBe('success');
		expect(deliveredTo(talks)).toEqual([]);
		// The look 5 s after the first (a list page; the first talk, read by ID, still renders), then
		// at the timeout one list page and a read by ID only for a talk the list does not show ended.
		// The look 30 s after the first is not made: the Timeout (12 s) comes before it.
		expect(lists() - afterSweep.lists).toBe(2);
		expect(gets() - afterSweep.gets).toBeLessThanOrEqual(1 + 3);
		const items = nodeOutput(execution, NODE);
		expect(items.map((item) => item.json.status)).toEqual(['done', 'done', 'done']);
	});

	test('talks that end before the execution is saved as waiting are found by the look when the wait begins', async () => {
		// Talks of 50 ms: D-ID's calls reach n8n before it saved the execution as waiting (409).
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 10, minMs: 50, jitter: 0 },
		});
		const { executionId } = await startBatch(4, { timeoutMinutes: 5 });
		const started = Date.now();
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 60_000 });
		// By that first look, not the one 5 s after it.
		expect(Date.now() - started).toBeLessThan(4000);
		expect(execution.status).toBe('success');
		expect(nodeOutput(execution, NODE).map((item) => item.json.status)).toEqual([
			'done',
			'done',
			'done',
			'done',
		]);
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } });
	});

	test('every D-ID call delivered twice, slow downloads: the execution resumes once, with every result (duplicates are answered, not thrown)', async () => {
		stack.sandbox.setFaults({
			webhooks: { duplicateRate: 1, delayMs: [0, 200] },
			routes: { 'GET /results/{id}/{file}': { latencyMs: 1500 } },
		});
		const { workflowId, executionId } = await startBatch(3);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 60_000 });
		expect(execution.status).toBe('success');
		expect(execution.data.resultData.runData[NODE]).toHaveLength(1);
		expect(nodeOutput(execution, NODE).map((item) => item.json.status)).toEqual([
			'done',
			'done',
			'done',
		]);
		expect(
			stack.sandbox.stats().webhookDeliveries.filter((d) => d.duplicate).length,
		).toBeGreaterThan(0);
		// No answer of ours was a server error, and nothing ran twice downstream.
		await sleep(1000);
		expect(
			stack.sandbox.stats().webhookDeliveries.filter((d) => /^HTTP 5/.test(d.outcome)),
		).toEqual([]);
		expect(await stack.listExecutions(workflowId)).toHaveLength(1);
		const again = await stack.getExecution(executionId);
		expect(again.status).toBe('success');
	});

	test('custom data already full (the workflow set 10 keys): the batch cannot be recorded, so the node waits as Poll mode does and says so on each item', async () => {
		const workflow = batchWorkflow(3);
		const split = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.splitOut');
		workflow.nodes.push({
			id: 'f1d2c3b4-0000-4000-8000-00000000e0da',
			name: 'Ten custom data keys',
			type: 'n8n-nodes-base.executionData',
			typeVersion: 1.1,
			position: [650, 200],
			parameters: {
				dataToSave: {
					values: Array.from({ length: 10 }, (_, k) => ({
						key: `workflow_key_${k}`,
						value: `value ${k}`,
					})),
				},
			},
		});
		workflow.connections[split.name] = {
			main: [[{ node: 'Ten custom data keys', type: 'main', index: 0 }]],
		};
		workflow.connections['Ten custom data keys'] = {
			main: [[{ node: NODE, type: 'main', index: 0 }]],
		};
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		const execution = await stack.runWorkflow(workflowId, { timeoutMs: 120_000 });
		expect(execution.status).toBe('success');
		const items = nodeOutput(execution, NODE);
		expect(items).toHaveLength(3);
		for (const [index, item] of items.entries()) {
			expect(item.json.status).toBe('done');
			expect(item.pairedItem).toEqual({ item: index });
			expect(item.json.wait_note).toMatch(
				/could not record this batch in the execution’s custom data .* waited as Wait Mode "Poll" does/,
			);
		}
		expect(stack.sandbox.stats().talksCreated).toBe(3);
		// The workflow's own custom data is untouched.
		expect(execution.data.resultData.metadata).toMatchObject({
			workflow_key_0: 'value 0',
			workflow_key_9: 'value 9',
		});
	});

	test("the node's own calls after its batch completed (the look 5 s after the first, the timeout's check) do not resume a Wait node (On Webhook Call, POST) the execution waits at next", async () => {
		const workflow = batchWorkflow(3, { timeoutMinutes: 0.2, downloadVideo: false });
		workflow.nodes.push({
			id: 'f1d2c3b4-0000-4000-8000-0000000a9901',
			name: 'Approval',
			type: 'n8n-nodes-base.wait',
			typeVersion: 1.1,
			position: [1040, 0],
			webhookId: '5b0e6d1c-9a43-4f0e-8d2a-4c7f1e2d3a01',
			parameters: { resume: 'webhook', httpMethod: 'POST', options: {} },
		});
		workflow.connections[NODE] = { main: [[{ node: 'Approval', type: 'main', index: 0 }]] };
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		const executionId = await stack.startWorkflow(workflowId);
		// The batch (3-s renders) completes on D-ID's calls; the execution then waits at Approval.
		const deadline = Date.now() + 60_000;
		let execution = await stack.getExecution(executionId);
		while (
			!(
				execution.status === 'waiting' && execution.data.resultData.lastNodeExecuted === 'Approval'
			) &&
			Date.now() < deadline
		) {
			await sleep(200);
			execution = await stack.getExecution(executionId);
		}
		expect(execution.status).toBe('waiting');
		expect(execution.data.resultData.lastNodeExecuted).toBe('Approval');
		expect(nodeOutput(execution, NODE)).toHaveLength(3);
		// Past the look 5 s after the first and the Timeout's check (12 s after the talks were made):
		// both were made, to the D-ID node's own path, which the Wait node does not have.
		await sleep(14_000);
		execution = await stack.getExecution(executionId);
		expect(execution.status).toBe('waiting');
		expect(execution.data.resultData.lastNodeExecuted).toBe('Approval');
		await stack.stopExecution(executionId);
	});

	test("n8n restarted while the batch waits (regular mode): the execution resumes on D-ID's calls with every result", async () => {
		// Talks of 48–72 s: longer than n8n's restart, also on a busy machine (8–11 s there, more
		// under load; a call sent while n8n is down is lost, as it would be from D-ID).
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 1000, minMs: 60_000, jitter: 0.2 },
		});
		const { executionId, talks } = await startBatch(3);
		expect(talks).toHaveLength(3);
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		const restartedAt = Date.now();
		await stack.restartN8n();
		const restartMs = Date.now() - restartedAt;
		expect(stack.sandbox.stats().webhooksSent).toBe(0); // every call comes to the new process
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 180_000 });
		process.stderr.write(`[webhook-wait] n8n ${version} restart took ${restartMs} ms\n`);
		// n8n's own start-up recovery ("Found unfinished executions: …" in its log) may mark a waiting
		// execution "crashed": it logs no end for a waiting execution, and whether its node events
		// reached the event log before the restart is a race (README "Queue mode"). That is n8n's
		// doing; the node's part is then that nothing was lost or made twice at D-ID.
		const recovered = [...stack.readLog().matchAll(/Found unfinished executions: ([\d, ]+)/g)].some(
			(m) => m[1].split(/[ ,]+/).includes(String(executionId)),
		);
		if (recovered && execution.status === 'crashed') {
			process.stderr.write(
				`[webhook-wait] n8n ${version}: its recovery marked the waiting execution crashed\n`,
			);
			expect(stack.sandbox.stats().talksCreated).toBe(3);
			stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } });
			return;
		}
		expect(execution.status).toBe('success');
		const items = nodeOutput(execution, NODE);
		expect(items.map((item) => item.json.status)).toEqual(['done', 'done', 'done']);
		for (const [index, item] of items.entries()) await expectVideo(stack, item, index);
		expect(stack.sandbox.stats().talksCreated).toBe(3);
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 } });
	}, 300_000);

	test('a talk still rendering at the timeout fails with a clear message (Continue On Fail keeps the others)', async () => {
		stack.sandbox.setFaults({ webhooks: { dropRate: 1 } });
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 1000, minMs: 3000, jitter: 0 },
		});
		const workflow = batchWorkflow(2, { timeoutMinutes: 0.1 });
		workflow.nodes.find((n) => n.name === NODE).onError = 'continueRegularOutput';
		// Item 2's text is long: it renders for minutes.
		workflow.nodes.find((n) => n.name === NODE).parameters.text =
			"={{ $json.id === 2 ? 'a long text '.repeat(300) : 'Hello ' + $json.name }}";
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
		stack.sandbox.configure({
			credits: 10_000,
			processing: { msPerSecond: 1000, minMs: 3000, jitter: 0.2 },
		});
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
		expect(execution.data.resultData.error.message).toMatch(
			/Not enough D-ID credits for this run: it needs an estimated 4 credits for 4 talks/,
		);
		expect(stack.sandbox.stats().talksCreated).toBe(0);
		expect(stack.sandbox.stats().requests['GET /credits']).toBe(1);
		stack.sandbox.configure({ credits: 10_000 });
	});
});
