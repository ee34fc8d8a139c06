// The package in n8n's queue mode (issue 17): n8n 2.x main + 2 workers + 2 webhook processes,
// private Redis and PostgreSQL, a round-robin proxy in front of the webhook processes
// (scripts/n8n/queue-stack.js), against the sandbox. Run: npm run test:e2e:queue
const crypto = require('node:crypto');
const fs = require('node:fs');

const { startQueueStack } = require('../../scripts/n8n/queue-stack');
const { nodeOutput } = require('../../scripts/n8n/stack');
const { createTalk, example, sha256, sleep } = require('../e2e/helpers');

const NODE = 'Personal video per customer';
const FAST = { msPerSecond: 10, minMs: 50, rangeMs: undefined, jitter: 0 };

/** Remove Duplicates after the trigger, side by side with the claim of example 13 (measured, not asserted: see below). */
function withRemoveDuplicates(workflow) {
	workflow.nodes.push(
		{
			id: 'b3c8d0a4-1f7e-4c55-9d7e-8f0c6a1e2d01',
			name: 'Remove Duplicates',
			type: 'n8n-nodes-base.removeDuplicates',
			typeVersion: 2,
			// n8n runs the branches top to bottom: the claim (y 0) before Remove Duplicates (y 400),
			// so that an error in Remove Duplicates cannot keep a talk from the claim branch.
			position: [260, 400],
			parameters: {
				operation: 'removeItemsSeenInPreviousExecutions',
				dedupeValue: '={{ $json.id }}',
				options: { scope: 'workflow' },
			},
		},
		{
			id: 'b3c8d0a4-1f7e-4c55-9d7e-8f0c6a1e2d02',
			name: 'Next step (Remove Duplicates)',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [520, 400],
			parameters: {},
		},
	);
	workflow.connections['D-ID Trigger'].main[0].push({
		node: 'Remove Duplicates',
		type: 'main',
		index: 0,
	});
	workflow.connections['Remove Duplicates'] = {
		main: [[{ node: 'Next step (Remove Duplicates)', type: 'main', index: 0 }]],
	};
	return workflow;
}

/** What each test measured, printed at the end (the numbers the README and the issue quote). */
const measured = {};

/** Talks created since `since` for each item of example 09 (`user_data` is the customer number). */
function talksPerItem(sandbox, since) {
	const perItem = new Map();
	for (const talk of sandbox.talks().filter((t) => t.createdAt >= since)) {
		const key = talk.request.user_data;
		perItem.set(key, (perItem.get(key) ?? 0) + 1);
	}
	return perItem;
}

describe('queue mode: n8n main + 2 workers + 2 webhook processes, Redis, PostgreSQL', () => {
	let stack;

	beforeAll(async () => {
		const started = Date.now();
		stack = await startQueueStack({
			sandbox: { credits: 1_000_000, seed: 17, processing: FAST },
			// A dead worker's job is detected after the lock expires plus one stalled check: n8n's
			// defaults (60 s + 30 s) are shortened here to keep the suite quick.
			env: {
				QUEUE_WORKER_LOCK_DURATION: '10000',
				QUEUE_WORKER_LOCK_RENEW_TIME: '2500',
				QUEUE_WORKER_STALLED_INTERVAL: '5000',
			},
		});
		measured.stackStartSeconds = Number(((Date.now() - started) / 1000).toFixed(1));
		measured.stackTimings = stack.timings;
	}, 600_000);

	afterAll(async () => {
		process.stderr.write(`[queue e2e] measured: ${JSON.stringify(measured, null, 1)}\n`);
		// QUEUE_E2E_LOGS=<file>: every n8n process's log is written there before the stack stops (its temp dir goes).
		if (process.env.QUEUE_E2E_LOGS && stack)
			fs.writeFileSync(process.env.QUEUE_E2E_LOGS, stack.readLogs());
		await stack?.stop();
	}, 120_000);

	afterAll(() => {
		// stop() (above) left nothing behind: every process exited, the temp dir is gone.
		const left = Object.values(stack?.processes ?? {})
			.filter((proc) => !proc.exited)
			.map((proc) => proc.name);
		if (left.length) throw new Error(`still running after stop(): ${left.join(', ')}`);
		if (stack && fs.existsSync(stack.dir))
			throw new Error(`${stack.dir} still exists after stop()`);
	});

	beforeEach(() => {
		stack.sandbox.resetStats();
		stack.sandbox.setFaults({});
		stack.sandbox.configure({ processing: FAST });
	});

	test('09-fifty-items.json (Wait Mode Poll) on a worker: 50 items → exactly 50 talks, one per item, in order, paired, videos stored in the database', async () => {
		const started = Date.now();
		const id = await stack.importWorkflow(example('09-fifty-items.json'), stack.credential);
		const executionId = await stack.startWorkflow(id);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 180_000 });
		measured.poll50Seconds = Number(((Date.now() - started) / 1000).toFixed(1));
		if (execution.status !== 'success')
			throw new Error(
				`ended ${execution.status}: ${JSON.stringify(execution.data.resultData.error)}`,
			);
		expect(stack.workerOf(executionId)).toMatch(/^worker\d$/);

		const items = nodeOutput(execution, NODE);
		expect(execution.data.resultData.runData[NODE]).toHaveLength(1);
		expect(items).toHaveLength(50);
		for (const [index, item] of items.entries()) {
			expect(item.json.status).toBe('done');
			expect(item.json.user_data).toBe(String(index + 1));
			expect(item.pairedItem).toEqual({ item: index });
			expect(item.binary.data.fileName).toBe(`${item.json.id}.mp4`);
		}
		// Binary data mode `database`: the main process serves a video a worker stored.
		expect(items[0].binary.data.id).toMatch(/^database:/);
		expect(sha256(await stack.binary(items[0].binary.data.id))).toBe(
			await stack.sandbox.resultDigest(items[0].json.id),
		);

		expect(stack.sandbox.stats().talksCreated).toBe(50);
		const perItem = talksPerItem(stack.sandbox, started);
		expect(perItem.size).toBe(50);
		expect([...perItem.values()].every((n) => n === 1)).toBe(true);
		measured.poll50 = {
			talksCreated: stack.sandbox.stats().talksCreated,
			worker: stack.workerOf(executionId),
		};
	});

	/** Starts example 09 (renders of `rangeMs`) and returns once its worker has created 10 talks. */
	async function startPollRun(rangeMs) {
		stack.sandbox.configure({ processing: { rangeMs } });
		const started = Date.now();
		const id = await stack.importWorkflow(example('09-fifty-items.json'), stack.credential);
		const executionId = await stack.startWorkflow(id);
		let worker;
		for (let i = 0; i < 300 && !(worker && stack.sandbox.stats().talksCreated >= 10); i++) {
			await sleep(100);
			worker = stack.workerOf(executionId);
		}
		expect(worker).toBeDefined();
		return { started, executionId, worker };
	}

	test('Wait Mode Poll, its worker killed (SIGKILL) mid-run: n8n fails the execution; no talk is ever created twice, not even after the worker is back', async () => {
		// Slow renders, so that the worker dies while it polls.
		const { started, executionId, worker } = await startPollRun([6000, 12000]);
		const killedAt = Date.now();
		await stack.kill(worker, 'SIGKILL');
		await sleep(500); // a request the worker sent just before it died still arrives
		const talksAtKill = stack.sandbox.stats().talksCreated;
		expect(talksAtKill).toBeGreaterThan(0);

		const execution = await stack.waitForExecution(executionId, { timeoutMs: 120_000 });
		const failedAfter = Number(((Date.now() - killedAt) / 1000).toFixed(1));
		// The worker comes back; the other one runs all along. Neither picks the job up again.
		await stack.start(worker);
		await sleep(5000);

		const perItem = talksPerItem(stack.sandbox, started);
		measured.pollWorkerKilled = {
			worker,
			talksAtKill,
			talksAfter: stack.sandbox.stats().talksCreated,
			status: execution.status,
			error: execution.data?.resultData?.error?.message,
			failedSecondsAfterKill: failedAfter,
		};
		expect(['error', 'crashed']).toContain(execution.status);
		expect([...perItem.values()].filter((n) => n > 1)).toEqual([]);
		expect(stack.sandbox.stats().talksCreated).toBe(talksAtKill);
	});

	test('Wait Mode Poll, its worker restarted gracefully (SIGTERM) mid-run: the worker finishes the execution first — success, 50 talks, one per item', async () => {
		// The whole batch ends well within n8n's shutdown grace period (N8N_GRACEFUL_SHUTDOWN_TIMEOUT,
		// 30 s); one that does not is failed as in the test above (measured: 3–8 s renders, 50 items).
		const { started, executionId, worker } = await startPollRun([1000, 2500]);
		const stoppedAt = Date.now();
		const exit = await stack.kill(worker, 'SIGTERM');
		const stopSeconds = Number(((Date.now() - stoppedAt) / 1000).toFixed(1));
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 60_000 });
		await stack.start(worker);
		measured.pollWorkerSigterm = {
			worker,
			exit,
			workerStopSeconds: stopSeconds,
			status: execution.status,
			talks: stack.sandbox.stats().talksCreated,
		};
		if (execution.status !== 'success')
			throw new Error(
				`ended ${execution.status}: ${JSON.stringify(execution.data.resultData.error)}`,
			);
		expect(nodeOutput(execution, NODE)).toHaveLength(50);
		const perItem = talksPerItem(stack.sandbox, started);
		expect(perItem.size).toBe(50);
		expect([...perItem.values()].every((n) => n === 1)).toBe(true);
	});

	describe('D-ID Trigger (example 13: trigger → atomic claim in PostgreSQL → IF) behind 2 webhook processes, 50 % duplicate deliveries', () => {
		const TALKS = 40;
		const NEXT_STEP = 'Your next step (once per talk)';
		const secret = crypto.randomBytes(12).toString('hex');
		let postgresCredential;
		const runs = {};
		/** Runs the deliveries once per way in (each test below asserts one part of the same run). */
		const viaProxy = () =>
			(runs.proxy ??= runDeliveries('d-id-talk-ended-once', () => stack.webhookUrl));
		const viaOneProcess = () =>
			(runs.one ??= viaProxy().then(() =>
				runDeliveries('d-id-talk-ended-one-process', () => stack.webhookProcessUrls.webhook1),
			));

		/**
		 * Example 13 (+ Remove Duplicates, measured) with the trigger at `webhookId`; TALKS talks whose
		 * webhook is that trigger at `base()` (the round-robin proxy, or one webhook process); counts
		 * what n8n did with the deliveries.
		 */
		async function runDeliveries(webhookId, base) {
			postgresCredential ??= await stack.createCredentialOfType('postgres', 'n8n database', {
				...stack.postgres,
				password: '',
				ssl: 'disable',
			});
			const workflow = withRemoveDuplicates(example('13-exactly-once-queue-mode.json'));
			for (const node of workflow.nodes)
				if (node.credentials?.postgres) node.credentials.postgres = postgresCredential;
			const trigger = workflow.nodes.find((node) => node.name === 'D-ID Trigger');
			trigger.webhookId = webhookId;
			Object.assign(trigger.parameters, { secret });
			const workflowId = await stack.importWorkflow(workflow, stack.credential);
			// The example's own set-up path: "Create the claim table (run once)" (a worker runs it).
			const setup = await stack.runWorkflow(workflowId, { timeoutMs: 60_000 });
			if (setup.status !== 'success')
				throw new Error(
					`the claim table was not created: ${JSON.stringify(setup.data.resultData.error)}`,
				);
			await stack.activateWorkflow(workflowId);
			const hookPath = `/webhook/${webhookId}/talk-ended`;
			await stack.waitForWebhook(hookPath);
			const executionsBefore = (await stack.listExecutions(workflowId)).length;

			stack.sandbox.resetStats();
			stack.sandbox.setFaults({ webhooks: { duplicateRate: 0.5, delayMs: [0, 300] } });
			const proxyBefore = stack.proxyCounts();
			const talkIds = [];
			for (let i = 0; i < TALKS; i++)
				talkIds.push(
					await createTalk(stack.sandbox, {
						input: `Hello number ${i + 1}`,
						webhook: `${base()}${hookPath}?secret=${secret}`,
						userData: String(i + 1),
					}),
				);

			// Every delivery made, then every execution finished, then a quiet moment for late ones.
			const deadline = Date.now() + 120_000;
			let executions = [];
			for (;;) {
				const stats = stack.sandbox.stats();
				const sent = stats.webhookDeliveries.length;
				const expected = TALKS + stats.webhookDeliveries.filter((d) => d.duplicate).length;
				executions = (await stack.listExecutions(workflowId)).slice(
					0,
					-executionsBefore || undefined,
				);
				const running = executions.filter(
					(e) => !['success', 'error', 'crashed', 'canceled'].includes(e.status),
				);
				// Each delivery the trigger answered with a bare {"received":true} started an execution
				// (n8n creates it after that answer): wait until all of them are listed, not just answered.
				const started = stats.webhookDeliveries.filter(
					(d) => d.answer === '{"received":true}',
				).length;
				if (
					stats.talksFinished === TALKS &&
					sent >= expected &&
					sent > 0 &&
					running.length === 0 &&
					executions.length >= started
				)
					break;
				if (Date.now() > deadline)
					throw new Error(
						`deliveries not done: ${JSON.stringify({ sent, expected, finished: stats.talksFinished, started, executions: executions.length, running: running.length })}`,
					);
				await sleep(500);
			}
			await sleep(3000);
			executions = (await stack.listExecutions(workflowId)).slice(
				0,
				-executionsBefore || undefined,
			);

			const emitted = [];
			const errors = {};
			// Remove Duplicates' own failures (its race, README "Queue mode") are measured apart: the
			// example's path is the claim branch, which n8n runs before it.
			const removeDuplicatesErrors = {};
			const removeDuplicates = [];
			const claimed = [];
			for (const summary of executions) {
				const execution = await stack.waitForExecution(summary.id, { timeoutMs: 30_000 });
				for (const item of nodeOutput(execution, trigger.name) ?? []) emitted.push(item.json.id);
				const error = execution.data?.resultData?.error;
				if (error) {
					const key =
						`${error.node?.name ?? execution.data.resultData.lastNodeExecuted}: ${error.message}`.slice(
							0,
							200,
						);
					const into = key.startsWith('Remove Duplicates:') ? removeDuplicatesErrors : errors;
					into[key] = (into[key] ?? 0) + 1;
				}
				for (const item of nodeOutput(execution, 'Next step (Remove Duplicates)') ?? [])
					removeDuplicates.push(item.json.id);
				for (const item of nodeOutput(execution, NEXT_STEP) ?? []) claimed.push(item.json.talk_id);
			}
			const stats = stack.sandbox.stats();
			const proxyAfter = stack.proxyCounts();
			const count = (ids) =>
				ids.reduce((acc, id) => acc.set(id, (acc.get(id) ?? 0) + 1), new Map());
			const deliveriesPerTalk = count(stats.webhookDeliveries.map((d) => d.talkId));
			const emissionsPerTalk = count(emitted);
			const result = {
				talks: talkIds.length,
				finished: stats.talksFinished,
				deliveries: stats.webhookDeliveries.length,
				duplicateDeliveries: stats.webhookDeliveries.filter((d) => d.duplicate).length,
				// What the webhook processes answered, counted (e.g. {"received":true} or a note).
				deliveryAnswers: stats.webhookDeliveries.reduce(
					(acc, d) => ({
						...acc,
						[`${d.outcome} ${d.answer ?? ''}`.trim()]:
							(acc[`${d.outcome} ${d.answer ?? ''}`.trim()] ?? 0) + 1,
					}),
					{},
				),
				executions: executions.length,
				executionStatuses: executions.reduce(
					(acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }),
					{},
				),
				errors,
				emissions: emitted.length,
				distinctEmitted: emissionsPerTalk.size,
				talksEmittedTwice: [...emissionsPerTalk.values()].filter((n) => n > 1).length,
				talksEmittedMoreThanDelivered: talkIds.filter(
					(id) => (emissionsPerTalk.get(id) ?? 0) > (deliveriesPerTalk.get(id) ?? 0),
				).length,
				afterRemoveDuplicates: removeDuplicates.length,
				removeDuplicatesErrors,
				distinctAfterRemoveDuplicates: new Set(removeDuplicates).size,
				afterClaim: claimed.length,
				distinctAfterClaim: new Set(claimed).size,
				claimRows: Number(
					stack
						.psql(
							`SELECT count(*) FROM d_id_talks_seen WHERE talk_id IN (${talkIds.map((id) => `'${id}'`).join(',')})`,
						)
						.trim(),
				),
				perWebhookProcess: Object.fromEntries(
					Object.keys(proxyAfter).map((name) => [name, proxyAfter[name] - proxyBefore[name]]),
				),
			};
			measured[`trigger_${webhookId}`] = result;
			return result;
		}

		test('through the round-robin proxy: every finished talk is delivered (with duplicates) and starts the workflow at least once; both webhook processes receive deliveries', async () => {
			const r = await viaProxy();
			expect(r.finished).toBe(TALKS);
			expect(r.duplicateDeliveries).toBeGreaterThan(0);
			expect(r.distinctEmitted).toBe(TALKS);
			expect(r.errors).toEqual({});
			for (const count of Object.values(r.perWebhookProcess)) expect(count).toBeGreaterThan(0);
		});

		// What the trigger itself guarantees across webhook processes (README "Queue mode"): at least
		// once, never more often than the talk was delivered. n8n offers a node no store that two
		// processes can claim a talk in atomically (static data: last writer wins; the deduplication
		// helpers of execute(), Remove Duplicates' memory: read, then write back without a lock; data
		// tables: only n8n's own nodes), so a duplicate that reaches the other process while the first
		// is being handled starts a second execution.
		test('through the round-robin proxy: the trigger starts a talk no more often than D-ID delivered it (at least once, at most once per delivery)', async () => {
			const r = await viaProxy();
			expect(r.talksEmittedMoreThanDelivered).toBe(0);
			expect(r.emissions).toBeGreaterThanOrEqual(TALKS);
			expect(r.emissions).toBeLessThanOrEqual(TALKS + r.duplicateDeliveries);
		});

		test('through the round-robin proxy, with the atomic claim of example 13 after the trigger: the next step runs exactly once per talk', async () => {
			const r = await viaProxy();
			expect(r.distinctAfterClaim).toBe(TALKS);
			expect(r.afterClaim).toBe(TALKS);
			expect(r.claimRows).toBe(TALKS);
		});

		// Remove Duplicates runs in the same executions and is measured, not asserted (printed at the
		// end): it reads its history, filters, then writes it back without a lock, so two executions of
		// one talk at the same time on two workers both pass; two first uses at the same time fail one
		// execution with "duplicate key value violates unique constraint".

		test('every delivery to one webhook process (the other one running): the trigger fires exactly once per finished talk, with no claim needed', async () => {
			const r = await viaOneProcess();
			expect(r.finished).toBe(TALKS);
			expect(r.duplicateDeliveries).toBeGreaterThan(0);
			expect(Object.values(r.perWebhookProcess).every((n) => n === 0)).toBe(true);
			expect(r.emissions).toBe(TALKS);
			expect(r.distinctEmitted).toBe(TALKS);
			expect(r.afterClaim).toBe(TALKS);
		});
	});

	// Issue 17: webhook() runs in a webhook process before its execution exists; a video it stored
	// (binary data mode `database`) was kept under n8n's temporary id ("execution:temp"), never
	// deleted with its execution. The trigger now downloads in execute(), inside the execution.
	test('the D-ID Trigger with Download Video behind the webhook processes: each video belongs to the execution it starts, n8n serves it and deletes it with the execution', async () => {
		const secret = crypto.randomBytes(12).toString('hex');
		const workflow = example('10-webhook-trigger.json');
		const trigger = workflow.nodes[0];
		trigger.webhookId = 'd-id-talk-ended-video';
		Object.assign(trigger.parameters, { secret, downloadVideo: true });
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		await stack.activateWorkflow(workflowId);
		const hookPath = `/webhook/${trigger.webhookId}/talk-ended`;
		await stack.waitForWebhook(hookPath);
		const VIDEOS = 4;
		const isolatesBefore = await stack.isolatesBuilt();
		for (let i = 0; i < VIDEOS; i++)
			await createTalk(stack.sandbox, {
				input: `Video ${i + 1}`,
				webhook: `${stack.webhookUrl}${hookPath}?secret=${secret}`,
			});
		let executions = [];
		for (
			let i = 0;
			i < 300 && executions.filter((e) => e.status === 'success').length < VIDEOS;
			i++
		) {
			await sleep(200);
			executions = await stack.listExecutions(workflowId);
		}
		expect(executions.filter((e) => e.status === 'success')).toHaveLength(VIDEOS);
		// A delivery to a version-2 trigger whose fields hold no expression builds n8n no expression
		// isolate in the webhook process that takes it (README "Queue mode").
		const isolatesAfter = await stack.isolatesBuilt();
		for (const name of Object.keys(isolatesAfter))
			expect(isolatesAfter[name] - isolatesBefore[name]).toBe(0);
		const owners = [];
		for (const summary of executions) {
			const execution = await stack.getExecution(summary.id);
			const [item] = nodeOutput(execution, trigger.name);
			const fileId = item.binary.data.id.replace(/^database:/, '');
			expect(fileId).toMatch(/^[0-9a-f-]{36}$/);
			owners.push({
				execution: String(summary.id),
				worker: stack.workerOf(summary.id),
				fileId,
				row: stack
					.psql(
						`SELECT "sourceType" || ':' || "sourceId" FROM binary_data WHERE "fileId" = '${fileId}'`,
					)
					.trim(),
			});
			// The main process serves it (the editor's download), byte for byte D-ID's video.
			expect(sha256(await stack.binary(item.binary.data.id))).toBe(
				await stack.sandbox.resultDigest(item.json.id),
			);
		}
		for (const { execution, row, worker } of owners) {
			expect(row).toBe(`execution:${execution}`);
			expect(worker).toMatch(/^worker\d$/); // downloaded by the worker that ran the execution
		}
		// Deleting an execution (as the editor does) deletes its video; the others stay.
		const [gone, ...kept] = owners;
		await stack.rest('POST', '/rest/executions/delete', { ids: [gone.execution] });
		const rowsOf = (o) =>
			Number(stack.psql(`SELECT count(*) FROM binary_data WHERE "fileId" = '${o.fileId}'`).trim());
		measured.triggerVideoOwners = {
			owners: owners.map(({ execution, row, worker }) => ({ execution, row, worker })),
			rowsAfterDeletingTheFirst: owners.map(rowsOf),
		};
		expect(rowsOf(gone)).toBe(0);
		for (const o of kept) expect(rowsOf(o)).toBe(1);
	});

	/** Example 11 with `count` items; `parameters` go to the D-ID node. */
	function webhookBatch(count, parameters = {}) {
		const workflow = example('11-webhook-wait.json');
		const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
		set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', `length: ${count}`);
		Object.assign(workflow.nodes.find((n) => n.name === NODE).parameters, parameters);
		return workflow;
	}

	function expectOneTalkPerItem(execution, count, since) {
		expect(execution.status).toBe('success');
		expect(execution.data.resultData.runData[NODE]).toHaveLength(1);
		const items = nodeOutput(execution, NODE);
		expect(items).toHaveLength(count);
		for (const [index, item] of items.entries()) {
			expect(item.json.status).toBe('done');
			expect(item.json.user_data).toBe(String(index + 1));
			expect(item.pairedItem).toEqual({ item: index });
		}
		const perItem = talksPerItem(stack.sandbox, since);
		expect(perItem.size).toBe(count);
		expect([...perItem.values()].every((n) => n === 1)).toBe(true);
		return items;
	}

	test("11-webhook-wait.json (Wait Mode Webhook) on a worker: 50 items → exactly 50 talks, one per item, in order, paired; D-ID's calls taken by the webhook processes; no status polling while waiting", async () => {
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 4000, jitter: 0.3 } });
		const started = Date.now();
		const proxyBefore = stack.proxyCounts();
		const isolatesBefore = await stack.isolatesBuilt();
		const id = await stack.importWorkflow(example('11-webhook-wait.json'), stack.credential);
		const executionId = await stack.startWorkflow(id);
		await stack.waitForExecution(executionId, {
			until: ['waiting', 'success', 'error'],
			timeoutMs: 60_000,
		});
		const waitingAt = {
			lists: stack.sandbox.stats().requests['GET /talks'] ?? 0,
			gets: stack.sandbox.stats().requests['GET /talks/{id}'] ?? 0,
		};
		let execution;
		try {
			execution = await stack.waitForExecution(executionId, { timeoutMs: 120_000 });
		} finally {
			const stats = stack.sandbox.stats();
			measured.webhook50 = {
				status: execution?.status ?? 'not finished after 120 s',
				error: execution?.data?.resultData?.error?.message,
				talksCreated: stats.talksCreated,
				seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
				statusRequests: {
					atWait: waitingAt,
					total: {
						lists: stats.requests['GET /talks'] ?? 0,
						gets: stats.requests['GET /talks/{id}'] ?? 0,
					},
				},
			};
			if (!execution) await stack.stopExecution(executionId).catch(() => undefined);
		}
		expect(stack.workerOf(executionId)).toMatch(/^worker\d$/);
		const items = expectOneTalkPerItem(execution, 50, started);
		expect(items[0].binary.data.id).toMatch(/^database:/);
		expect(sha256(await stack.binary(items[0].binary.data.id))).toBe(
			await stack.sandbox.resultDigest(items[0].json.id),
		);
		const proxyAfter = stack.proxyCounts();
		// Calls of the resume URL each webhook process took during the run.
		const callsTo = Object.fromEntries(
			Object.keys(proxyAfter).map((name) => [name, proxyAfter[name] - (proxyBefore[name] ?? 0)]),
		);
		for (const name of Object.keys(callsTo)) expect(callsTo[name]).toBeGreaterThan(0);
		// No polling: status requests come from calls of the resume URL (D-ID's 50, the node's probe,
		// its look when the wait began and the one 5 s later while the batch still waits; those n8n
		// refused before the wait, or after the batch completed, read nothing), not from
		// time passing. A call reads one list page (the batch fits one) and, by ID, the talks that page
		// showed rendering up to the first one still rendering: more than one only for talks that
		// ended while it looked (here 50 talks end within ~1.5 s). CI once measured 45 pages and 64
		// reads; a poller would add reads for every second waited.
		const calls = Object.values(callsTo).reduce((sum, n) => sum + n, 0);
		const total = measured.webhook50.statusRequests.total;
		measured.webhook50.statusRequests.resumeUrlCalls = calls;
		expect(total.lists).toBeLessThanOrEqual(calls);
		expect(total.gets).toBeLessThanOrEqual(2 * calls);
		// Nothing keeps reading once the execution has ended.
		await sleep(3000);
		const after = stack.sandbox.stats().requests;
		expect((after['GET /talks'] ?? 0) + (after['GET /talks/{id}'] ?? 0)).toBe(
			total.lists + total.gets,
		);
		// n8n 2.x builds an expression isolate (~0.1 s of CPU) for each call that evaluates an
		// expression. With the webhook processes as README "Queue mode" recommends, D-ID's calls of a
		// version-2 node evaluate none: a process builds at most one per batch (the resume URL, when
		// it keeps the batch's timeout), not one per call (n8n does for a version-1 node).
		const isolatesAfter = await stack.isolatesBuilt();
		measured.webhook50.isolatesBuilt = {};
		for (const name of Object.keys(callsTo)) {
			const isolates = isolatesAfter[name] - isolatesBefore[name];
			measured.webhook50.isolatesBuilt[name] = {
				calls: callsTo[name],
				isolates,
			};
			expect(isolates).toBeLessThanOrEqual(2);
		}
	});

	// Every n8n process restarted while the batch waits, as in a rolling restart (SIGTERM, then
	// started again): main, both webhook processes, the other worker (which takes the resumed
	// execution), and the worker that started the wait — that one as a container restarts
	// without a volume, its n8n folder empty (README "Queue mode": a worker keeps nothing n8n needs;
	// n8n's event-log recovery then has no log of the executions it started).
	test('Wait Mode Webhook survives restarts of every n8n process (main, both workers, both webhook processes) while 20 talks render → success, every result, one talk per item', async () => {
		// Renders of 100–120 s: longer than stopping and starting all five n8n processes.
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 100_000, jitter: 0.2 } });
		const started = Date.now();
		const id = await stack.importWorkflow(
			webhookBatch(20, { timeoutMinutes: 6 }),
			stack.credential,
		);
		const executionId = await stack.startWorkflow(id);
		await stack.waitForExecution(executionId, {
			until: ['waiting', 'success', 'error'],
			timeoutMs: 60_000,
		});
		expect((await stack.getExecution(executionId)).status).toBe('waiting');
		const worker = stack.workerOf(executionId);
		expect(worker).toMatch(/^worker\d$/);
		const restartStarted = Date.now();
		const restarted = [
			worker === 'worker1' ? 'worker2' : 'worker1',
			'webhook1',
			'webhook2',
			'main',
		];
		await Promise.all([
			...restarted.map((name) => stack.restart(name)),
			stack.restart(worker, { emptyFolder: true }),
		]);
		restarted.push(`${worker} (n8n folder emptied)`);
		const restartSeconds = Number(((Date.now() - restartStarted) / 1000).toFixed(1));
		const firstEnd = Math.min(
			...stack.sandbox
				.talks()
				.filter((t) => t.createdAt >= started)
				.map((t) => t.doneAt ?? Infinity),
		);
		let execution;
		try {
			execution = await stack.waitForExecution(executionId, { timeoutMs: 330_000 });
		} finally {
			measured.webhookRestart = {
				restarted,
				restartSeconds,
				restartDoneBeforeFirstTalkEnded: restartStarted + restartSeconds * 1000 < firstEnd,
				status: execution?.status,
				seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
				talksCreated: stack.sandbox.stats().talksCreated,
			};
		}
		// Every process was back before any talk ended: every D-ID call reached restarted processes.
		expect(measured.webhookRestart.restartDoneBeforeFirstTalkEnded).toBe(true);
		expectOneTalkPerItem(execution, 20, started);
		// Resumed by D-ID's calls, not by the 6-min timeout.
		expect(Date.now() - started).toBeLessThan(5 * 60_000);
	}, 480_000);
});
