// What the soaks share: a batch example with more items, the D-ID Trigger workflow listening,
// talks counted per item, and the trigger's emissions once they have stopped coming.
const { startStack, nodeOutput } = require('../../scripts/n8n/stack');
const { example, sleep } = require('../e2e/helpers');

/** The n8n version the soaks run on (SOAK_N8N_VERSION, default latest). */
const VERSION = process.env.SOAK_N8N_VERSION ?? 'latest';
/** The D-ID node of the batch examples (09, 11). */
const NODE = 'Personal video per customer';
const TRIGGER = 'D-ID Trigger';
const HOOK_PATH = '/webhook/d-id-talk-ended/talk-ended';

/**
 * n8n VERSION next to a sandbox with plenty of credits and talks of 100 ms per second of video
 * (`sandbox`: more createSandbox options), and the D-ID Trigger listening at HOOK_PATH with
 * `hookSecret` (its workflow: stack.triggerWorkflowId).
 */
async function start({ seed, hookSecret, sandbox = {} }) {
	const stack = await startStack({
		version: VERSION,
		sandbox: {
			credits: 1_000_000,
			seed,
			processing: { msPerSecond: 100, minMs: 300, jitter: 0.5 },
			...sandbox,
		},
	});
	try {
		stack.triggerWorkflowId = await startTrigger(stack, hookSecret, HOOK_PATH);
	} catch (error) {
		await stack.stop();
		throw error;
	}
	return stack;
}

/** `workflow` (a batch example, 09 or 11) with its Set node making `count` customers instead of 50. */
function withLength(workflow, count) {
	const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
	set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', `length: ${count}`);
	return workflow;
}

/**
 * Batch example `file` (09, 11) with `count` customers, its D-ID node going on after an error (an
 * error item per failed talk) and `parameters` merged into its parameters.
 */
function batch(file, count, parameters) {
	const workflow = withLength(example(file), count);
	const node = workflow.nodes.find((n) => n.name === NODE);
	node.onError = 'continueRegularOutput';
	Object.assign(node.parameters, parameters);
	return workflow;
}

/** Example 10 (the D-ID Trigger) with `secret`, active and listening on `hookPath`; returns its id. */
async function startTrigger(stack, secret, hookPath) {
	const trigger = example('10-webhook-trigger.json');
	Object.assign(trigger.nodes[0].parameters, { secret, downloadVideo: false });
	const id = await stack.importWorkflow(trigger, stack.credential);
	await stack.activateWorkflow(id);
	await stack.waitForWebhook(hookPath);
	return id;
}

/** The D-ID node's output items in `execution`. */
function outputs(execution) {
	return nodeOutput(execution, NODE);
}

/** Talks per item of a batch of `count` (by user_data "1"…): items with more than one, and with none. */
function countPerItem(talks, count) {
	const perItem = new Map();
	for (const talk of talks)
		perItem.set(talk.request.user_data, (perItem.get(talk.request.user_data) ?? 0) + 1);
	return {
		duplicates: [...perItem.values()].filter((n) => n > 1).length,
		missing: Array.from({ length: count }, (_, i) => String(i + 1)).filter((id) => !perItem.has(id))
			.length,
	};
}

/**
 * The trigger workflow's executions once their number has not changed for 4 s (or at `deadline`),
 * and what they emitted: the `json` of every item, in execution order.
 */
async function triggerEmissions(stack, workflowId, deadline) {
	let executions = [];
	for (
		let last = -1, stableSince = Date.now();
		Date.now() - stableSince < 4000 && Date.now() < deadline;
		await sleep(500)
	) {
		executions = await stack.listExecutions(workflowId);
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
	return { executions, emitted };
}

module.exports = {
	VERSION,
	HOOK_PATH,
	example,
	sleep,
	start,
	withLength,
	batch,
	outputs,
	countPerItem,
	triggerEmissions,
};
