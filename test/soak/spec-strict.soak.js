// Soak against D-ID as its spec describes it (README "Profiles": spec-strict): both wait modes in
// real n8n, with talks committed after the failed answer (504 while creating, 500/502, dropped
// connections), D-ID's clock 3 s behind and created_at without a zone, reads 1 s behind webhooks,
// list items without user_data and in no order, duplicate and out-of-order webhooks. Prints the
// counts; holds 0 duplicate talks, 0 items without their talk, the trigger once per finished talk.
const crypto = require('node:crypto');

const soak = require('./helpers');

const TALKS = Number(process.env.SOAK_TALKS ?? 60);
const SEED = Number(process.env.SOAK_SEED ?? 20261212);

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

/** A batch of TALKS items that does not download the videos. */
function batchOf(file, parameters) {
	return soak.batch(file, TALKS, { downloadVideo: false, timeoutMinutes: 5, ...parameters });
}

describe(`soak under the spec-strict sandbox: ${TALKS} talks per wait mode in real n8n ${soak.VERSION}`, () => {
	let stack;
	const hookSecret = crypto.randomBytes(12).toString('hex');

	beforeAll(async () => {
		stack = await soak.start({
			seed: SEED,
			hookSecret,
			sandbox: { profile: 'spec-strict' },
		});
	}, 900_000);

	afterAll(async () => await stack?.stop());

	/** Runs one batch and counts: outputs, talks per item at D-ID (by the sandbox's own records). */
	async function soakBatch(mode, workflow, ownTalk) {
		const workflowId = await stack.importWorkflow(workflow, stack.credential);
		stack.sandbox.resetStats();
		stack.sandbox.setFaults(FAULTS);
		const started = Date.now();
		const executionId = await stack.startWorkflow(workflowId);
		const execution = await stack.waitForExecution(executionId, { timeoutMs: 20 * 60_000 });
		const seconds = (Date.now() - started) / 1000;
		stack.sandbox.setFaults({});
		expect(execution.status).toBe('success');
		await soak.sleep(6000); // any late commit of the batch has landed by now

		const items = soak.outputs(execution);
		const talks = stack.sandbox.talks().filter(ownTalk);
		const counts = {
			outputs: items.length,
			done: items.filter((item) => item.json.status === 'done').length,
			failed: items.filter((item) => item.json.error).length,
			talks: talks.length,
			...soak.countPerItem(talks, TALKS),
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
			const webhookUrl = `=${stack.url}${soak.HOOK_PATH}?secret=${hookSecret}&item={{ $json.id }}`;
			const { talks } = await soakBatch(
				'Poll',
				batchOf('09-fifty-items.json', {
					additionalFields: { userData: '={{ String($json.id) }}', webhookUrl },
				}),
				(t) => t.request.webhook?.includes(hookSecret),
			);

			const finished = new Set(talks.map((t) => t.id));
			const { emitted } = await soak.triggerEmissions(
				stack,
				stack.triggerWorkflowId,
				Date.now() + 5 * 60_000,
			);
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
			await soakBatch('Webhook', batchOf('11-webhook-wait.json', {}), (t) =>
				/\/webhook-waiting\//.test(t.request.webhook ?? ''),
			);
		},
		30 * 60_000,
	);
});
