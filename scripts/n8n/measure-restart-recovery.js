// Measures what n8n's own start-up recovery ("Found unfinished executions") does to waiting
// executions when the n8n process that started them restarts: n8n's Wait node (resume on webhook
// call) side by side with the D-ID node's Wait Mode Webhook, in queue mode (n8n 2.x).
//   node scripts/n8n/measure-restart-recovery.js          (MODES=worker,worker,fresh,fresh,main)
// Each round starts one execution of each, waits until both wait, then restarts: `worker` the
// workers that started them (SIGTERM, n8n folder kept), `fresh` the same with the n8n folder
// emptied (a container without a volume), `main` the main process. 40 s later it reads the
// status of every execution so far and the recovery lines each process logged. Talks render
// 15 min, so nothing resumes during the measurement. Prints one JSON line a round.
const fs = require('node:fs');
const path = require('node:path');

const { startQueueStack } = require('./queue-stack');
const { ROOT } = require('./stack');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const example = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
const MODES = (process.env.MODES ?? 'worker,worker,fresh,fresh,main').split(',');
const AFTER_MS = Number(process.env.AFTER_MS ?? 40_000);

/** Manual trigger → n8n's Wait node, resumed by a call of its resume URL (10 min at most). */
function waitNodeWorkflow() {
	const workflow = example('11-webhook-wait.json');
	const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger');
	workflow.name = "n8n's Wait node";
	workflow.nodes = [
		trigger,
		{
			id: 'aaaaaaaa-1111-4222-8333-444444444444',
			name: 'Wait',
			type: 'n8n-nodes-base.wait',
			typeVersion: 1.1,
			position: [300, 0],
			webhookId: 'bbbbbbbb-1111-4222-8333-444444444444',
			parameters: {
				resume: 'webhook',
				limitWaitTime: true,
				resumeAmount: 10,
				resumeUnit: 'minutes',
			},
		},
	];
	workflow.connections = { [trigger.name]: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] } };
	return workflow;
}

/** Example 11 with 3 items, Timeout 10 min. */
function dIdWorkflow() {
	const workflow = example('11-webhook-wait.json');
	const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
	set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', 'length: 3');
	workflow.nodes.find((n) => n.type === 'n8n-nodes-d-id.dId').parameters.timeoutMinutes = 10;
	return workflow;
}

async function main() {
	const stack = await startQueueStack({ version: process.env.N8N_VERSION ?? 'latest' });
	const all = [];
	try {
		stack.sandbox.configure({ processing: { msPerSecond: 1000, minMs: 900_000, jitter: 0 } });
		const waitId = await stack.importWorkflow(waitNodeWorkflow());
		const dIdId = await stack.importWorkflow(dIdWorkflow(), stack.credential);
		const recoveryLines = (name) =>
			stack.readLog(name).match(/Found unfinished executions[^\n]*/g) ?? [];
		for (const [index, mode] of MODES.entries()) {
			const executions = {
				wait: await stack.startWorkflow(waitId),
				dId: await stack.startWorkflow(dIdId),
			};
			for (const id of Object.values(executions))
				await stack.waitForExecution(id, {
					until: ['waiting', 'success', 'error', 'crashed'],
					timeoutMs: 60_000,
				});
			await sleep(2000);
			all.push(...Object.values(executions));
			const workers = [...new Set(Object.values(executions).map((id) => stack.workerOf(id)))];
			const linesBefore = Object.fromEntries(stack.names.map((n) => [n, recoveryLines(n).length]));
			for (const name of mode === 'main' ? ['main'] : workers)
				await stack.restart(name, { emptyFolder: mode === 'fresh' });
			await sleep(AFTER_MS);
			const statuses = {};
			for (const id of all) statuses[id] = (await stack.getExecution(id)).status;
			const recovery = Object.fromEntries(
				stack.names
					.map((n) => [n, recoveryLines(n).slice(linesBefore[n])])
					.filter(([, lines]) => lines.length > 0),
			);
			console.log(
				JSON.stringify({ round: index + 1, mode, executions, workers, statuses, recovery }),
			);
		}
	} finally {
		await stack.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
