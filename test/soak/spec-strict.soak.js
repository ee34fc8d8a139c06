// Soak against D-ID as its spec describes it (README "Profiles": spec-strict): both wait modes in
// real n8n, with talks committed after the failed answer (504 while creating, 500/502, dropped
// connections), D-ID's clock 3 s behind and created_at without a zone, reads 1 s behind webhooks,
// list items without user_data and in no order, duplicate and out-of-order webhooks. Prints the
// counts; holds 0 duplicate talks, 0 items without their talk, the trigger once per finished talk.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../../scripts/n8n/stack');

const TALKS = Number(process.env.SOAK_TALKS ?? 60);
const VERSION = process.env.SOAK_N8N_VERSION ?? 'latest';
const SEED = Number(process.env.SOAK_SEED ?? 20261212);
const NODE = 'Personal video per customer';
const TRIGGER = 'D-ID Trigger';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const example = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));

const FAULTS = {
	global: { rate5xx: 0.05, rate429: 0.05, retryAfterSec: 1, spikeRate: 0.1, spikeMs: [200, 1500] },
	routes: {
		'POST /talks': { rate5xx: 0.05, rate504: 0.03, dropBeforeRate: 0.005, dropAfterRate: 0.03 },
	},
	webhooks: { duplicateRate: 0.2, outOfOrderRate: 0.2, delayMs: [0, 300] },
	// Each kind at least once on POST /talks, however short the run (late commits: the profile's).
	script: ['dropBefore', 'dropAfter', 500, 502, 503, 504, 429].map((fault) => ({
		route: 'POST /talks',
		fault,
		count: 1,
		retryAfterSec: 1,
	})),
};

function batch(file, count, parameters) {
	const workflow = example(file);
	const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
	set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', `length: ${count}`);
	const node = workflow.nodes.find((n) => n.name === NODE);
	node.onError = 'continueRegularOutput';
	Object.assign(node.parameters, { downloadVideo: false, timeoutMinutes: 5 }, parameters);
	return workflow;
}

describe(`soak under the spec-strict sandbox: ${TALKS} talks per wait mode in real n8n ${VERSION}`, () => {
	let stack;
	const hookSecret = crypto.randomBytes(12).toString('hex');
	const hookPath = '/webhook/d-id-talk-ended/talk-ended';

	beforeAll(async () => {
		stack = await startStack({
			version: VERSION,
			sandbox: {
				profile: 'spec-strict',
				credits: 1_000_000,
				seed: SEED,
				processing: { msPerSecond: 100, minMs: 300, jitter: 0.5 },
			},
		});
		const trigger = example('10-webhook-trigger.json');
		Object.assign(trigger.nodes[0].parameters, { secret: hookSecret, downloadVideo: false });
		stack.triggerWorkflowId = await stack.importWorkflow(trigger, stack.credential);
		await stack.activateWorkflow(stack.triggerWorkflowId);
		await stack.waitForWebhook(hookPath);
	}, 900_000);

	afterAll(async () => await stack?.stop());

	/** Runs one batch and counts: outputs, talks per item at D-ID (by the sandbox's own records). */
	async function soak(mode, workflow, ownTalk) {
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		stack.sandbox.resetStats();
		stack.sandbox.setFaults(FAULTS);
		const started = Date.now();
		const executionId = await stack.startWorkflow(workflowId);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 20 * 60_000 });
		const seconds = (Date.now() - started) / 1000;
		stack.sandbox.setFaults({});
		expect(execution.status).toBe('success');
		await sleep(6000); // any late commit of the batch has landed by now

		const items = nodeOutput(execution, NODE);
		const talks = stack.sandbox.talks().filter(ownTalk);
		const perItem = new Map();
		for (const talk of talks)
			perItem.set(talk.request.user_data, (perItem.get(talk.request.user_data) ?? 0) + 1);
		const counts = {
			outputs: items.length,
			done: items.filter((item) => item.json.status === 'done').length,
			failed: items.filter((item) => item.json.error).length,
			talks: talks.length,
			duplicates: [...perItem.values()].filter((n) => n > 1).length,
			missing: Array.from({ length: TALKS }, (_, i) => String(i + 1)).filter(
				(id) => !perItem.has(id),
			).length,
			// Each item's output is its own talk (the sandbox's record of what was sent for it).
			mismatched: items.filter(
				(item, index) =>
					item.json.id && stack.sandbox.talk(item.json.id)?.request.user_data !== String(index + 1),
			).length,
		};
		const stats = stack.sandbox.stats();
		console.log(
			[
				`soak spec-strict, Wait Mode ${mode}: ${TALKS} items in ${seconds.toFixed(1)} s on n8n ${stack.version}`,
				`  outputs: ${counts.outputs} (done ${counts.done}, failed with an error ${counts.failed}); outputs naming another item's talk: ${counts.mismatched}`,
				`  talks at D-ID: ${counts.talks}; items with more than one talk: ${counts.duplicates}; items with none: ${counts.missing}; late commits: ${stats.lateCommits}`,
				`  webhook deliveries: ${stats.webhookDeliveries.length} (${stats.webhookDeliveries.filter((d) => d.duplicate).length} duplicates)`,
				`  faults injected: ${JSON.stringify(stats.faults)}`,
			].join('\n'),
		);
		items.forEach((item, index) => expect(item.pairedItem).toEqual({ item: index }));
		expect(counts).toMatchObject({
			outputs: TALKS,
			done: TALKS,
			failed: 0,
			talks: TALKS,
			duplicates: 0,
			missing: 0,
			mismatched: 0,
		});
		expect(stats.lateCommits).toBeGreaterThanOrEqual(1);
		return { talks };
	}

	test(
		'Wait Mode "Poll", each item with its own trigger URL: one talk per item; the trigger fires once per finished talk',
		async () => {
			const webhookUrl = `=${stack.url}${hookPath}?secret=${hookSecret}&item={{ $json.id }}`;
			const { talks } = await soak(
				'Poll',
				batch('09-fifty-items.json', TALKS, {
					additionalFields: { userData: '={{ String($json.id) }}', webhookUrl },
				}),
				(t) => t.request.webhook?.includes(hookSecret),
			);

			const finished = new Set(talks.map((t) => t.id));
			let executions = [];
			const started = Date.now();
			for (
				let last = -1, stableSince = Date.now();
				Date.now() - stableSince < 4000 && Date.now() - started < 5 * 60_000;
				await sleep(500)
			) {
				executions = await stack.listExecutions(stack.triggerWorkflowId);
				if (executions.length !== last) {
					last = executions.length;
					stableSince = Date.now();
				}
			}
			const emitted = [];
			for (const summary of executions) {
				const run = await stack.waitForExecution(summary.id);
				for (const item of nodeOutput(run, TRIGGER) ?? []) emitted.push(item.json);
			}
			const ids = emitted.map((json) => json.id);
			console.log(
				`  trigger: ${emitted.length} emissions for ${finished.size} finished talks (${new Set(ids).size} distinct); with user_data_json: ${emitted.filter((j) => j.user_data !== undefined).length}`,
			);
			expect(ids.length).toBe(new Set(ids).size);
			expect([...new Set(ids)].sort()).toEqual([...finished].sort());
			// GET /talks/{id} lists no user_data: the trigger kept the delivery's.
			for (const json of emitted)
				expect(json.user_data).toBe(stack.sandbox.talk(json.id).request.user_data);
		},
		30 * 60_000,
	);

	test(
		'Wait Mode "Webhook": one talk per item; the batch resumes although reads lag the webhooks',
		async () => {
			await soak('Webhook', batch('11-webhook-wait.json', TALKS, {}), (t) =>
				/\/webhook-waiting\//.test(t.request.webhook ?? ''),
			);
		},
		30 * 60_000,
	);
});
