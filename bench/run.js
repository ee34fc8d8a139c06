'use strict';
// `npm run bench`: the D-ID node against what n8n users build today, side by side in one run, in
// real n8n against the sandbox. Writes bench/RESULTS.md. BENCH_QUICK=1 shortens every scenario.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../scripts/n8n/stack');
const { photoFolder, inputFilesMemory } = require('./input-files');

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = QUICK ? 10 : 50;
const RANGE_MS = QUICK ? [2000, 6000] : [5000, 30000];
const THROUGHPUT_ITEMS = QUICK ? 40 : 200;
const BIG_VIDEO_BYTES = (QUICK ? 50 : 200) * 1024 * 1024;
const TRIGGER_CALLS = QUICK ? 20 : 100;
const INPUT_PHOTOS = QUICK ? 50 : 500;
const INPUT_CONCURRENCIES = [1, 10];
// `node bench/run.js --only input-files`: runs section 6 alone and merges it into bench/results.json.
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (values) => values.reduce((a, b) => a + b, 0);

function withItems(workflow, count) {
	const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
	set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', `length: ${count}`);
	return workflow;
}

/** The hand-built loop, pointed at the sandbox, with the given Wait. */
function statusQuo(stack, waitSeconds, headerCredential) {
	const workflow = withItems(json('bench/status-quo-loop.json'), BATCH);
	for (const node of workflow.nodes) {
		if (node.type === 'n8n-nodes-base.httpRequest') {
			node.parameters.url = node.parameters.url.replace('https://api.d-id.com', stack.sandbox.url);
			node.credentials = { httpHeaderAuth: headerCredential };
		}
		if (node.type === 'n8n-nodes-base.wait') node.parameters.amount = waitSeconds;
	}
	return workflow;
}

function ours(mode) {
	const workflow = withItems(json(mode === 'webhook' ? 'examples/11-webhook-wait.json' : 'examples/09-fifty-items.json'), BATCH);
	const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
	node.parameters.downloadVideo = false;
	node.parameters.options = { maxConcurrency: BATCH };
	return workflow;
}

/** Runs a batch workflow; measures makespan, the slowest talk, status requests and overhead. */
async function batchRun(stack, label, workflow) {
	const workflowId = await stack.importWorkflow(workflow, stack.credential);
	stack.sandbox.resetStats();
	const before = new Set(stack.sandbox.talks().map((t) => t.id));
	const execution = await stack.runWorkflow(workflowId, { timeoutMs: 15 * 60_000 });
	if (execution.status !== 'success') throw new Error(`${label}: ${execution.status} ${JSON.stringify(execution.data.resultData.error)}`);
	const talks = stack.sandbox.talks().filter((t) => !before.has(t.id));
	const started = Date.parse(execution.startedAt);
	const stopped = Date.parse(execution.stoppedAt);
	const makespan = stopped - started;
	const slowest = Math.max(...talks.map((t) => t.doneAt - t.createdAt));
	const lastDone = Math.max(...talks.map((t) => t.doneAt));
	const requests = stack.sandbox.stats().requests;
	const statusRequests = requests['GET /talks/{id}'] ?? 0;
	return {
		label,
		talks: talks.length,
		makespanS: round(makespan / 1000),
		slowestS: round(slowest / 1000),
		ratio: round(makespan / slowest, 3),
		statusPerTalk: round(statusRequests / talks.length),
		listRequests: requests['GET /talks'] ?? 0,
		overheadS: round((stopped - lastDone) / 1000),
	};
}

function rssKb(pid) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
	} catch {
		return 0;
	}
}

/** Peak RSS growth of the n8n process while `work` runs. */
async function peakGrowthMb(pid, work) {
	await sleep(2000);
	const baseline = rssKb(pid);
	let peak = baseline;
	let running = true;
	const sampler = (async () => {
		while (running) {
			peak = Math.max(peak, rssKb(pid));
			await sleep(25);
		}
	})();
	try {
		await work();
	} finally {
		running = false;
		await sampler;
	}
	return round((peak - baseline) / 1024, 1);
}

/** 6. Memory while ${INPUT_PHOTOS} photos from disk are uploaded. */
async function inputFilesSection(stack, photos) {
	console.log(`input files: ${INPUT_PHOTOS} photos of 4 MB, Max Concurrent Talks ${INPUT_CONCURRENCIES.join(' and ')}`);
	stack.sandbox.configure({ processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 } });
	stack.sandbox.setFaults({});
	return await inputFilesMemory(stack, { dir: photos, items: INPUT_PHOTOS, concurrencies: INPUT_CONCURRENCIES, peakGrowthMb });
}

async function main() {
	const t0 = Date.now();
	const results = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()}` };
	const photos = photoFolder(INPUT_PHOTOS);
	const stack = await startStack({
		version: process.env.N8N_VERSION ?? 'latest',
		sandbox: { credits: 10_000_000, seed: 42, processing: { rangeMs: RANGE_MS, jitter: 0 } },
		env: { N8N_RESTRICT_FILE_ACCESS_TO: photos },
	});
	try {
		if (ONLY === 'input-files') {
			const previous = json('bench/results.json');
			previous.inputFiles = await inputFilesSection(stack, photos);
			previous.inputFilesRun = { n8n: stack.version, node: process.version, machine: results.machine, date: new Date().toISOString().slice(0, 10) };
			fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(previous, null, 2) + '\n');
			fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), render(previous));
			console.log(`bench/RESULTS.md written (section 6 only, ${Math.round((Date.now() - t0) / 1000)} s)`);
			return;
		}
		results.n8n = stack.version;
		results.node = process.version;
		const header = await stack.rest('POST', '/rest/credentials', {
			name: 'D-ID (Authorization header)',
			type: 'httpHeaderAuth',
			data: { name: 'Authorization', value: `Basic ${stack.sandbox.apiKey}` },
		});
		const headerCredential = { id: header.id, name: header.name };

		// 1 + 2. Batch makespan and polling cost, same seeded jittered renders for every variant.
		console.log(`batch: ${BATCH} talks, renders ${RANGE_MS[0] / 1000}–${RANGE_MS[1] / 1000} s`);
		results.batch = [];
		for (const [label, workflow] of [
			['D-ID node, Wait Mode Poll', ours('poll')],
			['D-ID node, Wait Mode Webhook', ours('webhook')],
			['hand-built loop, Wait 10 s', statusQuo(stack, 10, headerCredential)],
			['hand-built loop, Wait 2 s', statusQuo(stack, 2, headerCredential)],
		]) {
			const row = await batchRun(stack, label, workflow);
			console.log(`  ${JSON.stringify(row)}`);
			results.batch.push(row);
		}

		// 3. Create throughput: 200 items, 200 ms added to every request.
		console.log(`throughput: ${THROUGHPUT_ITEMS} creates, +200 ms per request`);
		stack.sandbox.configure({ processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 } });
		stack.sandbox.setFaults({ global: { latencyMs: 200 } });
		results.throughput = [];
		for (const [label, concurrency] of [
			['D-ID node, 10 at a time (default)', 10],
			['one at a time', 1],
		]) {
			const workflow = withItems(json('examples/09-fifty-items.json'), THROUGHPUT_ITEMS);
			const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
			Object.assign(node.parameters, { waitForCompletion: false, options: { maxConcurrency: concurrency } });
			const id = await stack.importWorkflow(workflow, stack.credential);
			const execution = await stack.runWorkflow(id, { timeoutMs: 15 * 60_000 });
			const seconds = (Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)) / 1000;
			const row = { label, items: nodeOutput(execution, node.name).length, seconds: round(seconds), perSecond: round(THROUGHPUT_ITEMS / seconds) };
			console.log(`  ${JSON.stringify(row)}`);
			results.throughput.push(row);
		}
		// With a rate limit: 429s with Retry-After are honoured, every item gets exactly one talk.
		stack.sandbox.setFaults({ global: { latencyMs: 200 }, rateLimit: { perSecond: 20, burst: 5 } });
		stack.sandbox.resetStats();
		{
			const workflow = withItems(json('examples/09-fifty-items.json'), THROUGHPUT_ITEMS);
			const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
			Object.assign(node.parameters, { waitForCompletion: false });
			const id = await stack.importWorkflow(workflow, stack.credential);
			const before = new Set(stack.sandbox.talks().map((t) => t.id));
			const execution = await stack.runWorkflow(id, { timeoutMs: 15 * 60_000 });
			const seconds = (Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)) / 1000;
			const created = stack.sandbox.talks().filter((t) => !before.has(t.id)).length;
			results.rateLimited = { status: execution.status, seconds: round(seconds), talksCreated: created, responses429: stack.sandbox.stats().responses['429'] ?? 0 };
			console.log(`  rate-limited: ${JSON.stringify(results.rateLimited)}`);
		}
		stack.sandbox.setFaults({});

		// 4. Memory: one big result downloaded into a binary property (n8n's default binary mode).
		console.log(`memory: a ${BIG_VIDEO_BYTES / 2 ** 20} MB video`);
		stack.sandbox.configure({ resultSizeBytes: BIG_VIDEO_BYTES });
		let resultUrl;
		const bigTalk = withItems(json('examples/09-fifty-items.json'), 1);
		const bigNode = bigTalk.nodes.find((n) => n.type.endsWith('.dId'));
		Object.assign(bigNode.parameters, { waitForCompletion: true, downloadVideo: true });
		const bigId = await stack.importWorkflow(bigTalk, stack.credential);
		await stack.runWorkflow(bigId, { timeoutMs: 10 * 60_000 }).then((execution) => {
			resultUrl = nodeOutput(execution, bigNode.name)[0].json.result_url;
		});
		const runOurs = async () => {
			const execution = await stack.runWorkflow(bigId, { timeoutMs: 10 * 60_000 });
			const [item] = nodeOutput(execution, bigNode.name);
			resultUrl = item.json.result_url;
			if (!item.binary?.data) throw new Error('no video downloaded');
		};
		const download = {
			name: 'download',
			nodes: [
				{ id: 'a', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{
					id: 'b',
					name: 'HTTP Request',
					type: 'n8n-nodes-base.httpRequest',
					typeVersion: 4.2,
					position: [200, 0],
					parameters: { url: resultUrl, options: { response: { response: { responseFormat: 'file' } } } },
				},
			],
			connections: { Start: { main: [[{ node: 'HTTP Request', type: 'main', index: 0 }]] } },
		};
		const downloadId = await stack.importWorkflow(download);
		const runHttp = async () => {
			const execution = await stack.runWorkflow(downloadId, { timeoutMs: 10 * 60_000 });
			if (execution.status !== 'success') throw new Error(`HTTP Request download: ${execution.status}`);
		};
		// Each once to warm up (code loaded, caches filled), then measured alternately.
		await runHttp();
		await runOurs();
		const oursMb = await peakGrowthMb(stack.pid, runOurs);
		const httpMb = await peakGrowthMb(stack.pid, runHttp);
		const oursAgainMb = await peakGrowthMb(stack.pid, runOurs);
		results.memory = { videoMb: BIG_VIDEO_BYTES / 2 ** 20, oursMb: Math.max(oursMb, oursAgainMb), httpRequestMb: httpMb };
		console.log(`  ${JSON.stringify(results.memory)}`);
		stack.sandbox.configure({ resultSizeBytes: 200 * 1024 });

		// 5. Trigger: webhook → execution start, and executions per second with Confirm on.
		console.log(`trigger: ${TRIGGER_CALLS} deliveries`);
		const trigger = json('examples/10-webhook-trigger.json');
		Object.assign(trigger.nodes[0].parameters, { secret: 'bench', downloadVideo: false });
		const triggerId = await stack.importWorkflow(trigger, stack.credential);
		await stack.activateWorkflow(triggerId);
		const hook = '/webhook/d-id-talk-ended/talk-ended';
		await stack.waitForWebhook(hook);
		const done = stack.sandbox.talks().filter((t) => t.doneAt < Date.now()).slice(-TRIGGER_CALLS);
		const latencies = [];
		for (const talk of done.slice(0, 10)) {
			const sent = Date.now();
			await fetch(`${stack.url}${hook}?secret=bench`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stack.sandbox.renderTalk(talk.id)) });
			const list = await stack.listExecutions(triggerId);
			const newest = list.reduce((a, b) => (Number(a.id) > Number(b.id) ? a : b));
			latencies.push(Date.parse(newest.startedAt) - sent);
		}
		const burstStart = Date.now();
		await Promise.all(
			done.slice(10).map((talk) =>
				fetch(`${stack.url}${hook}?secret=bench`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stack.sandbox.renderTalk(talk.id)) }),
			),
		);
		const expected = done.length;
		let executions = [];
		while (Date.now() - burstStart < 120_000) {
			executions = await stack.listExecutions(triggerId);
			if (executions.length >= expected && executions.every((e) => e.status === 'success')) break;
			await sleep(100);
		}
		const burstSeconds = (Math.max(...executions.map((e) => Date.parse(e.stoppedAt))) - burstStart) / 1000;
		results.trigger = {
			startLatencyMs: { median: latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)], max: Math.max(...latencies) },
			burst: { deliveries: done.length - 10, executions: executions.length - 10, seconds: round(burstSeconds), perSecond: round((done.length - 10) / burstSeconds) },
		};
		console.log(`  ${JSON.stringify(results.trigger)}`);

		results.inputFiles = await inputFilesSection(stack, photos);
	} finally {
		await stack.stop();
		fs.rmSync(photos, { recursive: true, force: true });
	}
	results.totalS = round((Date.now() - t0) / 1000, 0);
	fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
	fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), render(results));
	console.log(`bench/RESULTS.md written (${results.totalS} s)`);
}

function renderInputFiles(r) {
	const [first] = r.inputFiles;
	const run = r.inputFilesRun ? ` (run on its own with \`--only input-files\` on ${r.inputFilesRun.date}, n8n ${r.inputFilesRun.n8n}, Node ${r.inputFilesRun.node})` : '';
	return `## 6. Memory — ${first.items} photos of ${first.photoMb} MB uploaded from binary files${run}

Read/Write Files from Disk reads the photos (streamed into n8n's binary storage, filesystem mode),
then the D-ID node creates one talk per photo (Image Source: Binary File, no waiting). Peak RSS
growth of the n8n process over the whole execution:

| Max Concurrent Talks | talks created | uploads | time | peak RSS growth (each run) | bound (concurrency × file size + 64 MB) |
| --- | --- | --- | --- | --- | --- |
${r.inputFiles.map((row) => `| ${row.concurrency} | ${row.talks} | ${row.uploads} | ${row.seconds} s | **${row.growthMb} MB** (${(row.growthRunsMb ?? [row.growthMb]).join(' MB, ')} MB) | ${row.boundMb} MB (${verdictOf(row.growthMb <= row.boundMb)}) |`).join('\n')}

Each photo is checked before any request from its metadata and first 16 bytes, read when its item
runs and let go after its upload; before, every photo was read before the first request. The
figure is the larger of two runs after a warm-up run: how much garbage waits for collection varies.

`;
}

function verdictOf(ok) {
	return ok ? 'met' : '**missed**';
}

function render(r) {
	const by = (label) => r.batch.find((row) => row.label === label);
	const poll = by('D-ID node, Wait Mode Poll');
	const hook = by('D-ID node, Wait Mode Webhook');
	const loop10 = by('hand-built loop, Wait 10 s');
	const loop2 = by('hand-built loop, Wait 2 s');
	const [fast, slow] = r.throughput;
	// Every request that asks D-ID for a status: GET /talks/{id} and the node's GET /talks.
	const perTalk = (row) => round(row.statusPerTalk + row.listRequests / row.talks);
	const verdict = (ok) => (ok ? 'met' : '**missed**');
	return `# Benchmark results

Written by \`npm run bench\` (\`bench/run.js\`) on ${new Date().toISOString().slice(0, 10)}${QUICK ? ' — QUICK mode (BENCH_QUICK=1), smaller than the targets are set for' : ''}.
Every figure comes from one run, all variants against the same sandbox, whose render times
come from one seeded sequence (the slowest talk still differs a little between variants: other
random draws, such as webhook delivery delays, interleave with it), in real n8n ${r.n8n}
(Node ${r.node}); machine: ${r.machine}.
Raw figures: \`bench/results.json\`.

## 1. Batch makespan — ${BATCH} talks, renders ${RANGE_MS[0] / 1000}–${RANGE_MS[1] / 1000} s (jittered)

Makespan ÷ slowest talk: 1.00 would be "finished the moment the slowest talk did".

| variant | makespan | slowest talk | makespan ÷ slowest |
| --- | --- | --- | --- |
${r.batch.map((row) => `| ${row.label} | ${row.makespanS} s | ${row.slowestS} s | ${row.ratio} |`).join('\n')}

Target for the D-ID node ≤ 1.05: Poll ${poll.ratio} (${verdict(poll.ratio <= 1.05)}), Webhook ${hook.ratio} (${verdict(hook.ratio <= 1.05)}).
The hand-built loop with Wait 10 s: ${loop10.ratio}.

## 2. Polling cost — same talks

| variant | GET /talks/{id} per talk | GET /talks (list) | status requests per talk, all | overhead (last talk done → finished) |
| --- | --- | --- | --- | --- |
${r.batch.map((row) => `| ${row.label} | ${row.statusPerTalk} | ${row.listRequests} | ${perTalk(row)} | ${row.overheadS} s |`).join('\n')}

- Requests, D-ID node (Poll) ÷ fixed 2-s polling: **${round(perTalk(poll) / perTalk(loop2), 3)}×** (target ≤ 0.4×: ${verdict(perTalk(poll) / perTalk(loop2) <= 0.4)}).
- Overhead, D-ID node (Poll) ÷ fixed 2-s polling: **${round(poll.overheadS / Math.max(0.001, loop2.overheadS))}×** (target ≤ 1.5×: ${verdict(poll.overheadS <= 1.5 * loop2.overheadS)}).
- Against fixed 10-s polling: ${round(perTalk(poll) / perTalk(loop10), 3)}× the requests, ${round(poll.overheadS / Math.max(0.001, loop10.overheadS))}× the overhead.
- Webhook mode: ${hook.statusPerTalk} status request(s) per talk, all of them the one confirmation per talk after D-ID's call (none while waiting; \`test/e2e/webhook-wait.e2e.js\` asserts 0 before the first call); overhead ${hook.overheadS} s after the last talk was done (target ≤ 1 s: ${verdict(hook.overheadS <= 1)}).

## 3. Create throughput — ${THROUGHPUT_ITEMS} items, 200 ms added to every request

| variant | time | talks per second |
| --- | --- | --- |
${r.throughput.map((row) => `| ${row.label} | ${row.seconds} s | ${row.perSecond} |`).join('\n')}

Speed-up **${round(fast.perSecond / slow.perSecond, 1)}×** (target ≥ 8×: ${verdict(fast.perSecond / slow.perSecond >= 8)}).
With the sandbox limiting the rate to 20 requests/s (burst 5): ${r.rateLimited.responses429} answers were 429 with Retry-After, the run ended ${r.rateLimited.status} in ${r.rateLimited.seconds} s with ${r.rateLimited.talksCreated} talks for ${THROUGHPUT_ITEMS} items.

## 4. Memory — a ${r.memory.videoMb} MB video downloaded into a binary property (default binary mode: filesystem)

| variant | peak RSS growth of the n8n process |
| --- | --- |
| D-ID node (Wait + Download Video) | ${r.memory.oursMb} MB |
| HTTP Request node (response format File) | ${r.memory.httpRequestMb} MB |

Target ≤ 64 MB: ${verdict(r.memory.oursMb <= 64)}.

## 5. D-ID Trigger (Confirm with D-ID on)

- Webhook call → execution started: median ${r.trigger.startLatencyMs.median} ms, max ${r.trigger.startLatencyMs.max} ms (10 calls one after another).
- Burst of ${r.trigger.burst.deliveries} deliveries at once: ${r.trigger.burst.executions} executions in ${r.trigger.burst.seconds} s, **${r.trigger.burst.perSecond} executions/s**.

${r.inputFiles ? renderInputFiles(r) : ''}Whole run: ${r.totalS} s.

## Notes

- *Makespan* runs from the execution's start to its end, so it includes n8n starting the run, the
  Set and Split Out nodes and creating the ${BATCH} talks; each talk's render time starts when it
  was created. In Webhook mode the talks are created only once n8n has saved the execution as
  waiting (so that no D-ID call can be refused as too early), which puts that creation time
  after the start: measured separately, for 50 talks the first is created about 0.3 s after the
  execution started and the last about 1.3 s after (n8n loads and decrypts the credential for
  every request; reading it once per run instead of twice per request took the first creation
  from 1.4 s to 0.3 s). Once D-ID calls back, the execution resumes within a tenth of a second
  or so (the overhead column).
- The hand-built loop's ratio depends on where the slowest talk ends relative to its fixed ticks:
  anywhere from 1.0 to 1 + tick ÷ slowest (1.33 for a 30-s talk with 10-s ticks). Its overhead per
  talk is half a tick on average; the figure above is the last talk's only.
- The D-ID node polls the batch with D-ID's list (\`GET /talks\`, one request for up to 100 talks),
  so its status requests do not grow with the number of items; a single talk is polled with
  \`GET /talks/{id}\` on a schedule that widens with the time spent (1 s, then a fifth of it, 1–5 s).
`;
}

if (process.argv.includes('--render')) {
	// Re-render RESULTS.md from the figures of the last run (bench/results.json), without running.
	fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), render(json('bench/results.json')));
	process.exit(0);
}

main().catch((error) => {
	console.error(`bench failed: ${error.stack ?? error.message}`);
	process.exit(1);
});
