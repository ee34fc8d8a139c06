'use strict';
// `npm run bench`: the D-ID node against what n8n users build today, side by side in one run, in
// real n8n against the sandbox, and the node in n8n's queue mode. Writes bench/results.json and
// bench/RESULTS.md. BENCH_QUICK=1 shortens every scenario; BENCH_NOTE="…" adds a note under each section run.
//
//   node bench/run.js                          every section
//   node bench/run.js --only seeds             one section (or several: --only seeds,queue); the
//                                              others keep their figures from bench/results.json
//   node bench/run.js --seeds 42,1,2           the seeds of the makespan section
//   node bench/run.js --render                 RESULTS.md again from bench/results.json
//
// Sections: seeds (batch makespan over several seeds and polling cost), throughput, memory,
// trigger, input-files, queue.
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../scripts/n8n/stack');
const { manualChain } = require('../scripts/n8n/workflows');
const { ensureN8n } = require('../scripts/n8n/install');
const { photoFolder, inputFilesMemory } = require('./input-files');

const { createSandbox } = require(path.join(ROOT, 'sandbox', 'server'));

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = QUICK ? 10 : 50;
const RANGE_MS = QUICK ? [2000, 6000] : [5000, 30000];
const THROUGHPUT_ITEMS = QUICK ? 40 : 200;
const BIG_VIDEO_BYTES = (QUICK ? 50 : 200) * 1024 * 1024;
const TRIGGER_CALLS = QUICK ? 20 : 100;
const INPUT_PHOTOS = QUICK ? 50 : 500;
const INPUT_CONCURRENCIES = [1, 10];
// Queue mode: QUEUE_EXECUTIONS executions of QUEUE_ITEMS items, all started at once.
const QUEUE_EXECUTIONS = QUICK ? 2 : 10;
const QUEUE_ITEMS = QUICK ? 10 : 50;
const QUEUE_WORKERS = 2;
const QUEUE_WORKER_CONCURRENCY = Math.ceil(QUEUE_EXECUTIONS / QUEUE_WORKERS);
const QUEUE_TIMEOUT_MS = 8 * 60_000;
const QUEUE_ENV = process.env.BENCH_QUEUE_ENV ? JSON.parse(process.env.BENCH_QUEUE_ENV) : {};
// BENCH_QUEUE_MODES=webhook: one wait mode only (a look at one of them; RESULTS.md shows both).
const QUEUE_MODES = (process.env.BENCH_QUEUE_MODES ?? 'poll,webhook').split(',');
const NODE_NAME = 'Personal video per customer'; // the D-ID node in examples 09 and 11

const SECTIONS = ['seeds', 'throughput', 'memory', 'trigger', 'input-files', 'queue'];
const REGULAR_SECTIONS = SECTIONS.filter((s) => s !== 'queue');

function argument(name) {
	const index = process.argv.indexOf(name);
	if (index < 0) return undefined;
	const value = process.argv[index + 1];
	if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
	return value;
}
const ONLY = argument('--only')
	?.split(',')
	.map((s) => s.trim())
	.filter(Boolean);
for (const name of ONLY ?? [])
	if (!SECTIONS.includes(name))
		throw new Error(`--only: no section "${name}" (have: ${SECTIONS.join(', ')})`);
const SEEDS = (argument('--seeds') ?? process.env.BENCH_SEEDS ?? (QUICK ? '42,1,2' : '42,1,2,3,4'))
	.split(',')
	.map((s) => {
		const seed = Number(s);
		if (!Number.isSafeInteger(seed)) throw new Error(`--seeds: "${s}" is not a whole number`);
		return seed;
	});
const wanted = (section) => !ONLY || ONLY.includes(section);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const VARIANTS = [
	{ key: 'poll', label: 'D-ID node, Wait Mode Poll' },
	{ key: 'webhook', label: 'D-ID node, Wait Mode Webhook' },
	{ key: 'loop10', label: 'hand-built loop, Wait 10 s', wait: 10 },
	{ key: 'loop2', label: 'hand-built loop, Wait 2 s', wait: 2 },
];

function withItems(workflow, count) {
	const set = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.set');
	set.parameters.jsonOutput = set.parameters.jsonOutput.replace('length: 50', `length: ${count}`);
	return workflow;
}

/** The hand-built loop, pointed at `sandboxUrl`, with the given Wait. */
function statusQuo(sandboxUrl, waitSeconds, headerCredential, items = BATCH) {
	const workflow = withItems(json('bench/status-quo-loop.json'), items);
	for (const node of workflow.nodes) {
		if (node.type === 'n8n-nodes-base.httpRequest') {
			node.parameters.url = node.parameters.url.replace('https://api.d-id.com', sandboxUrl);
			node.credentials = { httpHeaderAuth: headerCredential };
		}
		if (node.type === 'n8n-nodes-base.wait') node.parameters.amount = waitSeconds;
	}
	return workflow;
}

/** Examples 09 (Poll) and 11 (Webhook): no download, every item's talk started at once. */
function ours(mode, items = BATCH) {
	const workflow = withItems(
		json(mode === 'webhook' ? 'examples/11-webhook-wait.json' : 'examples/09-fifty-items.json'),
		items,
	);
	const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
	node.parameters.downloadVideo = false;
	node.parameters.options = { maxConcurrency: items };
	return workflow;
}

/**
 * A sandbox of its own for one run: a fresh generator from `seed`, so that every variant run
 * with the same seed gets the same render times (the sandbox draws two numbers per talk, its
 * render time and its place in a shuffled list, and nothing else without faults), and credentials
 * in `stack` that point at it.
 */
async function isolatedSandbox(stack, seed, rangeMs = RANGE_MS) {
	const sandbox = createSandbox({
		port: 0,
		credits: 10_000_000,
		seed,
		processing: { rangeMs, jitter: 0 },
	});
	await sandbox.start();
	try {
		const credential = await stack.createCredential(
			{ apiKey: sandbox.apiKey, baseUrl: sandbox.url },
			`D-ID sandbox, seed ${seed}`,
		);
		const header = await stack.rest('POST', '/rest/credentials', {
			name: `D-ID (Authorization header), seed ${seed}`,
			type: 'httpHeaderAuth',
			data: { name: 'Authorization', value: `Basic ${sandbox.apiKey}` },
		});
		return { sandbox, credential, headerCredential: { id: header.id, name: header.name } };
	} catch (error) {
		await sandbox.stop();
		throw error;
	}
}

/** GET /talks/{id} and the node's GET /talks (list): every request that asks D-ID for a status. */
function statusRequests(sandbox) {
	const requests = sandbox.stats().requests;
	return { byId: requests['GET /talks/{id}'] ?? 0, list: requests['GET /talks'] ?? 0 };
}

/** Runs a batch workflow; measures makespan, the slowest talk, status requests and overhead. */
async function batchRun(stack, label, workflow, sandbox, credential) {
	const workflowId = await stack.importWorkflow(workflow, credential);
	sandbox.resetStats();
	const before = new Set(sandbox.talks().map((t) => t.id));
	const execution = await stack.runWorkflow(workflowId, { timeoutMs: 15 * 60_000 });
	if (execution.status !== 'success') {
		const error = execution.data?.resultData?.error;
		throw new Error(
			`${label}: execution ${execution.status}: ${error?.message ?? JSON.stringify(error)}`,
		);
	}
	const talks = sandbox.talks().filter((t) => !before.has(t.id));
	const started = Date.parse(execution.startedAt);
	const stopped = Date.parse(execution.stoppedAt);
	const makespan = stopped - started;
	const slowest = Math.max(...talks.map((t) => t.doneAt - t.createdAt));
	const lastDone = Math.max(...talks.map((t) => t.doneAt));
	const status = statusRequests(sandbox);
	return {
		label,
		talks: talks.length,
		makespanS: round(makespan / 1000),
		slowestS: round(slowest / 1000),
		ratio: round(makespan / slowest, 3),
		statusPerTalk: round(status.byId / talks.length),
		listRequests: status.list,
		allStatusPerTalk: round((status.byId + status.list) / talks.length),
		// When the first and the last talk were created, after the execution started.
		firstCreateS: round((Math.min(...talks.map((t) => t.createdAt)) - started) / 1000),
		lastCreateS: round((Math.max(...talks.map((t) => t.createdAt)) - started) / 1000),
		overheadS: round((stopped - lastDone) / 1000),
	};
}

function procStatusKb(pid, field) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]);
	} catch {
		return 0;
	}
}
const rssKb = (pid) => procStatusKb(pid, 'VmRSS');
/** CPU seconds a process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid) {
	try {
		const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return 0;
	}
}
/** CPU seconds the whole machine spent busy (every core), from /proc/stat. */
function machineBusySeconds() {
	const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
	const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
	return (user + nice + system + irq + softirq + steal) / 100;
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

/** The 1-minute load average, sampled every 5 s while `work` runs: how busy the machine was. */
async function withLoad(work) {
	const samples = [os.loadavg()[0]];
	let running = true;
	const sampler = (async () => {
		while (running) {
			await sleep(5000);
			if (running) samples.push(os.loadavg()[0]);
		}
	})();
	try {
		const value = await work();
		return {
			value,
			load: {
				start: round(samples[0]),
				mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
				max: round(Math.max(...samples)),
			},
		};
	} finally {
		running = false;
		await sampler;
	}
}

// ------------------------------------------------------------------ 1 + 2. makespan over seeds

/**
 * Every variant once per seed, each in a sandbox of its own seeded with that seed (the same render
 * times for every variant of a seed). The order of the variants rotates from seed to seed, so that
 * none always runs first or last.
 */
async function seedsSection(stack) {
	console.log(
		`seeds ${SEEDS.join(', ')}: ${BATCH} talks each, renders ${RANGE_MS[0] / 1000}–${RANGE_MS[1] / 1000} s`,
	);
	// Every variant once, unmeasured: the first run of a workflow in a fresh n8n loads code and
	// fills caches (it started its talks up to 0.6 s later than the runs after it).
	for (const variant of VARIANTS) {
		const own = await isolatedSandbox(stack, 0, [500, 1000]);
		try {
			const workflow = variant.wait
				? statusQuo(own.sandbox.url, 1, own.headerCredential, 2)
				: ours(variant.key, 2);
			await batchRun(stack, `warm-up: ${variant.label}`, workflow, own.sandbox, own.credential);
		} catch (error) {
			console.log(`  warm-up, ${variant.label}: ${error.message.slice(0, 300)}`);
		} finally {
			await own.sandbox.stop();
		}
	}
	const runs = [];
	for (const [n, seed] of SEEDS.entries()) {
		const order = VARIANTS.map((_, i) => VARIANTS[(i + n) % VARIANTS.length]);
		for (const variant of order) {
			const own = await isolatedSandbox(stack, seed);
			try {
				const workflow = variant.wait
					? statusQuo(own.sandbox.url, variant.wait, own.headerCredential)
					: ours(variant.key);
				const row = {
					seed,
					key: variant.key,
					...(await batchRun(stack, variant.label, workflow, own.sandbox, own.credential)),
				};
				console.log(`  ${JSON.stringify(row)}`);
				runs.push(row);
			} catch (error) {
				const row = {
					seed,
					key: variant.key,
					label: variant.label,
					error: error.message.slice(0, 500),
				};
				console.log(`  ${JSON.stringify(row)}`);
				runs.push(row);
			} finally {
				await own.sandbox.stop();
			}
		}
	}
	return { seeds: SEEDS, talks: BATCH, rangeMs: RANGE_MS, runs, summary: summarizeSeeds(runs) };
}

function summarizeSeeds(runs) {
	return VARIANTS.map(({ key, label }) => {
		const ok = runs.filter((r) => r.key === key && !r.error);
		const failed = runs.filter((r) => r.key === key && r.error);
		if (!ok.length) return { key, label, runs: 0, failed: failed.length };
		const of = (field) => ok.map((r) => r[field]);
		return {
			key,
			label,
			runs: ok.length,
			failed: failed.length,
			ratio: {
				median: round(median(of('ratio')), 3),
				min: Math.min(...of('ratio')),
				max: Math.max(...of('ratio')),
			},
			statusPerTalk: round(median(of('statusPerTalk'))),
			listRequests: median(of('listRequests')),
			allStatusPerTalk: {
				median: round(median(of('allStatusPerTalk'))),
				min: Math.min(...of('allStatusPerTalk')),
				max: Math.max(...of('allStatusPerTalk')),
			},
			overheadS: {
				median: round(median(of('overheadS'))),
				min: Math.min(...of('overheadS')),
				max: Math.max(...of('overheadS')),
			},
			lastCreateS: round(median(of('lastCreateS'))),
		};
	});
}

// ------------------------------------------------------------------ 3. throughput

async function throughputSection(stack) {
	console.log(`throughput: ${THROUGHPUT_ITEMS} creates, +200 ms per request`);
	stack.sandbox.configure({ processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 } });
	stack.sandbox.setFaults({ global: { latencyMs: 200 } });
	const rows = [];
	for (const [label, concurrency] of [
		['D-ID node, 10 at a time (default)', 10],
		['one at a time', 1],
	]) {
		const workflow = withItems(json('examples/09-fifty-items.json'), THROUGHPUT_ITEMS);
		const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
		Object.assign(node.parameters, {
			waitForCompletion: false,
			options: { maxConcurrency: concurrency },
		});
		const id = await stack.importWorkflow(workflow, stack.credential);
		const execution = await stack.runWorkflow(id, { timeoutMs: 15 * 60_000 });
		const seconds = (Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)) / 1000;
		const row = {
			label,
			items: nodeOutput(execution, node.name).length,
			seconds: round(seconds),
			perSecond: round(THROUGHPUT_ITEMS / seconds),
		};
		console.log(`  ${JSON.stringify(row)}`);
		rows.push(row);
	}
	// With a rate limit: 429s with Retry-After are honoured, every item gets exactly one talk.
	stack.sandbox.setFaults({ global: { latencyMs: 200 }, rateLimit: { perSecond: 20, burst: 5 } });
	stack.sandbox.resetStats();
	let rateLimited;
	{
		const workflow = withItems(json('examples/09-fifty-items.json'), THROUGHPUT_ITEMS);
		const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
		Object.assign(node.parameters, { waitForCompletion: false });
		const id = await stack.importWorkflow(workflow, stack.credential);
		const before = new Set(stack.sandbox.talks().map((t) => t.id));
		const execution = await stack.runWorkflow(id, { timeoutMs: 15 * 60_000 });
		const seconds = (Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)) / 1000;
		const created = stack.sandbox.talks().filter((t) => !before.has(t.id)).length;
		rateLimited = {
			status: execution.status,
			seconds: round(seconds),
			talksCreated: created,
			responses429: stack.sandbox.stats().responses['429'] ?? 0,
		};
		console.log(`  rate-limited: ${JSON.stringify(rateLimited)}`);
	}
	stack.sandbox.setFaults({});
	return { items: THROUGHPUT_ITEMS, rows, rateLimited };
}

// ------------------------------------------------------------------ 4. memory, one big video

async function memorySection(stack) {
	console.log(`memory: a ${BIG_VIDEO_BYTES / 2 ** 20} MB video`);
	stack.sandbox.configure({
		resultSizeBytes: BIG_VIDEO_BYTES,
		processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 },
	});
	try {
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
		const download = manualChain('download', [
			{
				name: 'HTTP Request',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				parameters: {
					url: resultUrl,
					options: { response: { response: { responseFormat: 'file' } } },
				},
			},
		]);
		const downloadId = await stack.importWorkflow(download);
		const runHttp = async () => {
			const execution = await stack.runWorkflow(downloadId, { timeoutMs: 10 * 60_000 });
			if (execution.status !== 'success')
				throw new Error(`HTTP Request download: ${execution.status}`);
		};
		// Each once to warm up (code loaded, caches filled), then measured alternately.
		await runHttp();
		await runOurs();
		const oursMb = await peakGrowthMb(stack.pid, runOurs);
		const httpMb = await peakGrowthMb(stack.pid, runHttp);
		const oursAgainMb = await peakGrowthMb(stack.pid, runOurs);
		const memory = {
			videoMb: BIG_VIDEO_BYTES / 2 ** 20,
			oursMb: Math.max(oursMb, oursAgainMb),
			httpRequestMb: httpMb,
		};
		console.log(`  ${JSON.stringify(memory)}`);
		return memory;
	} finally {
		stack.sandbox.configure({ resultSizeBytes: 200 * 1024 });
	}
}

// ------------------------------------------------------------------ 5. trigger

/** n8n's REST API answers 503 "Database is not ready" for a moment when its database check is slow (a busy machine). */
async function listExecutions(stack, workflowId) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await stack.listExecutions(workflowId);
		} catch (error) {
			if (error.status !== 503 || attempt >= 30) throw error;
			await sleep(1000);
		}
	}
}

async function triggerSection(stack) {
	console.log(`trigger: ${TRIGGER_CALLS} deliveries`);
	// Finished talks to deliver: made here when the sections before did not leave enough.
	stack.sandbox.configure({ processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 } });
	const finished = () => stack.sandbox.talks().filter((t) => t.doneAt < Date.now() && !t.deleted);
	if (finished().length < TRIGGER_CALLS) {
		const workflow = withItems(json('examples/09-fifty-items.json'), TRIGGER_CALLS);
		Object.assign(workflow.nodes.find((n) => n.type.endsWith('.dId')).parameters, {
			waitForCompletion: true,
			downloadVideo: false,
		});
		const id = await stack.importWorkflow(workflow, stack.credential);
		await stack.runWorkflow(id, { timeoutMs: 10 * 60_000 });
	}
	const trigger = json('examples/10-webhook-trigger.json');
	// Activation refuses a short or placeholder secret.
	const secret = crypto.randomBytes(24).toString('hex');
	Object.assign(trigger.nodes[0].parameters, { secret, downloadVideo: false });
	const triggerId = await stack.importWorkflow(trigger, stack.credential);
	await stack.activateWorkflow(triggerId);
	const hook = '/webhook/d-id-talk-ended/talk-ended';
	await stack.waitForWebhook(hook);
	const done = finished().slice(-TRIGGER_CALLS);
	const deliver = (talk) =>
		fetch(`${stack.url}${hook}?secret=${secret}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(stack.sandbox.renderTalk(talk.id)),
		});
	const latencies = [];
	for (const [n, talk] of done.slice(0, 10).entries()) {
		const sent = Date.now();
		const res = await deliver(talk);
		if (!res.ok)
			throw new Error(
				`the trigger answered a delivery ${res.status}: ${(await res.text()).slice(0, 200)}`,
			);
		await res.arrayBuffer();
		// The trigger answers before n8n has saved the execution it starts: wait for it to be listed.
		let list = [];
		while (list.length < n + 1 && Date.now() - sent < 30_000) {
			list = await listExecutions(stack, triggerId);
			if (list.length < n + 1) await sleep(200);
		}
		if (list.length < n + 1) throw new Error(`no execution listed 30 s after delivery ${n + 1}`);
		const newest = list.reduce((a, b) => (Number(a.id) > Number(b.id) ? a : b));
		latencies.push(Date.parse(newest.startedAt) - sent);
	}
	const burstStart = Date.now();
	await Promise.all(done.slice(10).map(deliver));
	const expected = done.length;
	let executions = [];
	while (Date.now() - burstStart < 120_000) {
		executions = await listExecutions(stack, triggerId);
		if (executions.length >= expected && executions.every((e) => e.status === 'success')) break;
		await sleep(500);
	}
	const burstSeconds =
		(Math.max(...executions.map((e) => Date.parse(e.stoppedAt))) - burstStart) / 1000;
	const result = {
		startLatencyMs: {
			median: latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)],
			max: Math.max(...latencies),
		},
		burst: {
			deliveries: done.length - 10,
			executions: executions.length - 10,
			seconds: round(burstSeconds),
			perSecond: round((done.length - 10) / burstSeconds),
		},
	};
	console.log(`  ${JSON.stringify(result)}`);
	return result;
}

// ------------------------------------------------------------------ 6. input files

/** Memory while ${INPUT_PHOTOS} photos from disk are uploaded. */
async function inputFilesSection(stack, photos) {
	console.log(
		`input files: ${INPUT_PHOTOS} photos of 4 MB, Max Concurrent Talks ${INPUT_CONCURRENCIES.join(' and ')}`,
	);
	stack.sandbox.configure({ processing: { rangeMs: undefined, msPerSecond: 10, minMs: 50 } });
	stack.sandbox.setFaults({});
	return await inputFilesMemory(stack, {
		dir: photos,
		items: INPUT_PHOTOS,
		concurrencies: INPUT_CONCURRENCIES,
		peakGrowthMb,
	});
}

// ------------------------------------------------------------------ 7. queue mode

/**
 * One wait mode in queue mode: QUEUE_EXECUTIONS executions of QUEUE_ITEMS items started at once
 * (each worker runs up to QUEUE_WORKER_CONCURRENCY at a time, so they split evenly), every talk
 * in a sandbox of its own (seed 42). An execution that fails or does not end in time is reported
 * with its error, not thrown.
 */
async function queueRun(stack, mode, labelSuffix = '') {
	const label = `${mode === 'webhook' ? 'D-ID node, Wait Mode Webhook' : 'D-ID node, Wait Mode Poll'}${labelSuffix}`;
	const own = await isolatedSandbox(stack, 42);
	const workers = stack.names.filter((name) => name.startsWith('worker'));
	try {
		const id = await stack.importWorkflow(ours(mode, QUEUE_ITEMS), own.credential);
		await sleep(2000);
		const pids = Object.fromEntries(workers.map((name) => [name, stack.processes[name].pid]));
		const baselineKb = Object.fromEntries(workers.map((name) => [name, rssKb(pids[name])]));
		const peakKb = { ...baselineKb };
		let sampling = true;
		const sampler = (async () => {
			while (sampling) {
				for (const name of workers) peakKb[name] = Math.max(peakKb[name], rssKb(pids[name]));
				await sleep(100);
			}
		})();
		const proxyBefore = stack.proxyCounts();
		const cpuBefore = Object.fromEntries(
			stack.names.map((name) => [name, cpuSeconds(stack.processes[name].pid)]),
		);
		const isolatesBefore = await stack.isolatesBuilt().catch(() => ({}));
		const benchCpuBefore = process.cpuUsage();
		const machineBefore = machineBusySeconds();
		const t0 = Date.now();
		let executions = [];
		let timedOut = false;
		try {
			const ids = await Promise.all(
				Array.from({ length: QUEUE_EXECUTIONS }, () => stack.startWorkflow(id)),
			);
			const ended = (e) => ['success', 'error', 'crashed', 'canceled'].includes(e.status);
			for (;;) {
				executions = (await listExecutions(stack, id)).filter((e) =>
					ids.map(String).includes(String(e.id)),
				);
				if (executions.length === ids.length && executions.every(ended)) break;
				if (Date.now() - t0 > QUEUE_TIMEOUT_MS) {
					timedOut = true;
					break;
				}
				await sleep(1000);
			}
		} finally {
			sampling = false;
			await sampler;
		}
		// Where the CPU went during the run (2 cores shared by everything): each n8n process, this
		// process (the sandbox and the bench), and the machine (the rest: PostgreSQL, Redis, proxy).
		const benchCpu = process.cpuUsage(benchCpuBefore);
		const cpu = {
			...Object.fromEntries(
				stack.names.map((name) => [
					name,
					round(cpuSeconds(stack.processes[name].pid) - cpuBefore[name], 1),
				]),
			),
			sandbox: round((benchCpu.user + benchCpu.system) / 1e6, 1),
			machine: round(machineBusySeconds() - machineBefore, 1),
			seconds: round((Date.now() - t0) / 1000, 1),
			cores: os.cpus().length,
		};
		const talks = own.sandbox.talks();
		const status = statusRequests(own.sandbox);
		const statuses = {};
		for (const e of executions) statuses[e.status] = (statuses[e.status] ?? 0) + 1;
		const ok = executions.filter((e) => e.status === 'success');
		const row = {
			mode,
			label,
			executions: QUEUE_EXECUTIONS,
			itemsPerExecution: QUEUE_ITEMS,
			statuses,
			timedOut,
			talks: talks.length,
			statusPerTalk: talks.length ? round(status.byId / talks.length) : null,
			listRequests: status.list,
			allStatusPerTalk: talks.length ? round((status.byId + status.list) / talks.length) : null,
			workers: Object.fromEntries(
				workers.map((name) => [
					name,
					{
						executions: executions.filter((e) =>
							new RegExp(`Worker started execution ${e.id}\\b`).test(stack.readLog(name)),
						).length,
						baselineMb: round(baselineKb[name] / 1024, 1),
						peakMb: round(peakKb[name] / 1024, 1),
						growthMb: round((peakKb[name] - baselineKb[name]) / 1024, 1),
						hwmMb: round(procStatusKb(pids[name], 'VmHWM') / 1024, 1),
					},
				]),
			),
			cpu,
			// Expression isolates n8n built in each webhook process during the run (its /metrics).
			isolates: Object.fromEntries(
				Object.entries(await stack.isolatesBuilt().catch(() => ({}))).map(([name, n]) => [
					name,
					n - (isolatesBefore[name] ?? 0),
				]),
			),
			// Calls that reached each webhook process through the proxy during this run.
			webhookProxy: Object.fromEntries(
				Object.entries(stack.proxyCounts()).map(([name, n]) => [
					name,
					n - (proxyBefore[name] ?? 0),
				]),
			),
		};
		if (talks.length) {
			const slowest = Math.max(...talks.map((t) => t.doneAt - t.createdAt));
			row.slowestS = round(slowest / 1000);
			row.firstCreateS = round((Math.min(...talks.map((t) => t.createdAt)) - t0) / 1000);
			row.lastCreateS = round((Math.max(...talks.map((t) => t.createdAt)) - t0) / 1000);
			row.lastDoneS = round((Math.max(...talks.map((t) => t.doneAt)) - t0) / 1000);
			if (ok.length === QUEUE_EXECUTIONS) {
				const first = Math.min(...executions.map((e) => Date.parse(e.startedAt)));
				const last = Math.max(...executions.map((e) => Date.parse(e.stoppedAt)));
				row.makespanS = round((last - first) / 1000);
				row.ratio = round((last - first) / slowest, 3);
				// From the first run request the bench sent (includes n8n queueing the executions).
				row.fromRequestS = round((last - t0) / 1000);
				row.fromRequestRatio = round((last - t0) / slowest, 3);
				row.overheadS = round((last - Math.max(...talks.map((t) => t.doneAt))) / 1000);
			}
		}
		// Success is not enough: every item must come out done, one talk each (an execution can end
		// "success" with items that carry an error, or with its input passed through).
		let itemsDone = 0;
		let notDone;
		for (const e of ok) {
			const execution = await stack.getExecution(e.id);
			const items = nodeOutput(execution, NODE_NAME) ?? [];
			const done = items.filter((item) => item.json?.status === 'done' && item.json?.id);
			itemsDone += done.length;
			if (done.length !== QUEUE_ITEMS && !notDone) {
				const other = items.find((item) => !(item.json?.status === 'done' && item.json?.id));
				notDone = `execution ${e.id} ended success with ${done.length} of ${QUEUE_ITEMS} items done${other ? `; one item: ${JSON.stringify(other.json).slice(0, 300)}` : ''}`;
			}
		}
		row.itemsDone = itemsDone;
		// Per execution: its own makespan ÷ its own slowest talk, and how long after its last talk
		// ended it did (talks found by the IDs in its output).
		const byId = new Map(talks.map((t) => [t.id, t]));
		const perExecution = [];
		for (const e of ok) {
			const execution = await stack.getExecution(e.id);
			const mine = (nodeOutput(execution, NODE_NAME) ?? [])
				.map((item) => byId.get(item.json?.id))
				.filter(Boolean);
			if (!mine.length) continue;
			const start = Date.parse(e.startedAt);
			const stop = Date.parse(e.stoppedAt);
			const created = mine.map((t) => t.createdAt);
			perExecution.push({
				ratio: (stop - start) / Math.max(...mine.map((t) => t.doneAt - t.createdAt)),
				tailS: (stop - Math.max(...mine.map((t) => t.doneAt))) / 1000,
				// Where the start goes: the run request → n8n starts the execution → its first talk
				// is created → its last talk is created.
				startedS: (start - t0) / 1000,
				firstCreateS: (Math.min(...created) - start) / 1000,
				createSpanS: (Math.max(...created) - Math.min(...created)) / 1000,
			});
		}
		if (perExecution.length) {
			const sorted = (key) => perExecution.map((x) => x[key]).sort((a, b) => a - b);
			const ratios = sorted('ratio');
			const tails = sorted('tailS');
			const range = (key) => `${round(sorted(key)[0])}–${round(sorted(key).at(-1))}`;
			row.perExecution = {
				ratioMedian: round(median(ratios), 3),
				ratioMax: round(ratios.at(-1), 3),
				tailMedianS: round(median(tails)),
				tailMaxS: round(tails.at(-1)),
				startedS: range('startedS'),
				firstCreateS: range('firstCreateS'),
				createSpanS: range('createSpanS'),
			};
		}
		// What D-ID's calls got back (Webhook mode): status and the start of the answer, counted.
		const deliveries = own.sandbox.stats().webhookDeliveries;
		if (deliveries.length) {
			row.deliveryOutcomes = {};
			for (const d of deliveries) {
				const note = /"(?:note|error)":"([^"]{0,60})/.exec(d.answer ?? '')?.[1];
				const key = note ? `${d.outcome} (${note})` : d.outcome;
				row.deliveryOutcomes[key] = (row.deliveryOutcomes[key] ?? 0) + 1;
			}
		}
		if (notDone) {
			delete row.ratio;
			row.error = notDone;
		}
		const failed = executions.find((e) => e.status !== 'success');
		if (failed || timedOut) {
			const first = failed ?? executions[0];
			if (first && failed) {
				try {
					const execution = await stack.getExecution(first.id);
					const error = execution.data?.resultData?.error;
					const runData = execution.data?.resultData?.runData ?? {};
					const nodeError = Object.values(runData)
						.flat()
						.map((run) => run?.error?.message)
						.find(Boolean);
					row.error = `execution ${first.id} ${first.status}: ${(error?.message ?? nodeError ?? 'no error message').slice(0, 400)}`;
				} catch (error) {
					row.error = `execution ${first.id} ${first.status} (its data could not be read: ${error.message.slice(0, 200)})`;
				}
			}
			// Which n8n process logged that error, how often: where to look.
			const message = /: (.{10,80}?)(?:\.|$)/.exec(row.error ?? '')?.[1];
			if (message) {
				row.errorLogged = Object.fromEntries(
					stack.names
						.map((name) => [name, stack.readLog(name).split(message).length - 1])
						.filter(([, n]) => n > 0),
				);
			}
			if (timedOut)
				row.error = `not all executions ended within ${QUEUE_TIMEOUT_MS / 60_000} min (${JSON.stringify(statuses)})${row.error ? `; ${row.error}` : ''}`;
			for (const e of executions.filter(
				(x) => !['success', 'error', 'crashed', 'canceled'].includes(x.status),
			)) {
				await stack.stopExecution(e.id).catch(() => {});
			}
		}
		console.log(`  ${JSON.stringify(row)}`);
		return row;
	} finally {
		await own.sandbox.stop();
	}
}

async function queueSection() {
	const { startQueueStack } = require('../scripts/n8n/queue-stack');
	console.log(
		`queue mode: ${QUEUE_EXECUTIONS} executions × ${QUEUE_ITEMS} items, renders ${RANGE_MS[0] / 1000}–${RANGE_MS[1] / 1000} s, ${QUEUE_WORKERS} workers`,
	);
	// The stack as README "Queue mode" recommends it (webhook processes with lazy expression
	// isolates), then Webhook mode again with n8n's default expression settings on the webhook
	// processes: what the recommendation buys.
	const stacks = [
		{ env: QUEUE_ENV, modes: QUEUE_MODES, suffix: '' },
		{
			env: { ...QUEUE_ENV, N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'false' },
			modes: QUEUE_MODES.filter((mode) => mode === 'webhook'),
			suffix: ", n8n's default expression settings",
		},
	];
	const rows = [];
	let version;
	for (const { env, modes, suffix } of stacks) {
		if (!modes.length) continue;
		const stack = await startQueueStack({
			version: process.env.N8N_VERSION ?? 'latest',
			workers: QUEUE_WORKERS,
			webhooks: 2,
			concurrency: QUEUE_WORKER_CONCURRENCY,
			sandbox: false,
			// BENCH_QUEUE_ENV='{"DB_POSTGRESDB_POOL_SIZE":"10"}': extra env for every n8n process (recorded).
			env,
		});
		version = stack.version;
		try {
			for (const mode of modes) rows.push({ ...(await queueRun(stack, mode, suffix)), env });
		} finally {
			await stack.stop();
		}
	}
	return {
		n8n: version,
		n8nNode: nodeVersionOf(version),
		workers: QUEUE_WORKERS,
		webhookProcesses: 2,
		workerConcurrency: QUEUE_WORKER_CONCURRENCY,
		executions: QUEUE_EXECUTIONS,
		itemsPerExecution: QUEUE_ITEMS,
		rangeMs: RANGE_MS,
		env: QUEUE_ENV,
		rows,
	};
}

// ------------------------------------------------------------------ main

/** The Node.js version n8n `version` runs on here (n8n 2.x needs Node 24: the installer brings its own). */
function nodeVersionOf(version) {
	const installed = nodeVersionOf.cache?.[version];
	if (installed) return installed;
	return undefined;
}
async function rememberNodeVersion(version) {
	const installed = await ensureN8n(version);
	const result = spawnSync(installed.node, ['--version'], { encoding: 'utf8' });
	nodeVersionOf.cache = {
		...(nodeVersionOf.cache ?? {}),
		[installed.version]: result.stdout.trim(),
	};
	return installed.version;
}

function gitDescription() {
	const run = (args) =>
		spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
	const dirty = run(['status', '--porcelain', '--', 'nodes', 'credentials'])
		? ' (with uncommitted changes in nodes/ or credentials/)'
		: '';
	return `${run(['rev-parse', '--short', 'HEAD'])}${dirty}`;
}

/** results.json as earlier versions wrote it (one seed, \`throughput\` a list) → this version's shape. */
function migrate(r) {
	const out = { ...r, runs: { ...(r.runs ?? {}) } };
	delete out.batch;
	if (Array.isArray(r.throughput)) {
		out.throughput = { items: r.quick ? 40 : 200, rows: r.throughput, rateLimited: r.rateLimited };
		delete out.rateLimited;
	}
	if (r.inputFilesRun) {
		out.runs['input-files'] ??= {
			date: r.inputFilesRun.date,
			n8n: r.inputFilesRun.n8n,
			commit: 'unknown',
		};
		delete out.inputFilesRun;
	}
	delete out.n8n;
	delete out.node;
	return out;
}

async function main() {
	const t0 = Date.now();
	const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()}`;
	const previous =
		ONLY && fs.existsSync(path.join(ROOT, 'bench', 'results.json'))
			? migrate(json('bench/results.json'))
			: {};
	const results = { ...previous, machine, runs: { ...(previous.runs ?? {}) } };
	delete results.batch; // the single-seed table of earlier versions
	const version = await rememberNodeVersion(process.env.N8N_VERSION ?? 'latest');
	const commit = gitDescription();
	const failures = [];
	// A section that fails is reported and keeps its earlier figures; the others still run.
	const record = async (section, work) => {
		const started = Date.now();
		let outcome;
		try {
			outcome = await withLoad(work);
		} catch (error) {
			console.error(`section ${section} failed: ${error.stack ?? error.message}`);
			failures.push(section);
			return results[section === 'input-files' ? 'inputFiles' : section];
		}
		const { value, load } = outcome;
		results.runs[section] = {
			date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
			n8n: version,
			n8nNode: nodeVersionOf(version),
			commit,
			seconds: round((Date.now() - started) / 1000, 0),
			load,
			...(process.env.BENCH_NOTE ? { note: process.env.BENCH_NOTE } : {}),
		};
		return value;
	};

	const regular = REGULAR_SECTIONS.filter(wanted);
	if (regular.length) {
		const photos = wanted('input-files') ? photoFolder(INPUT_PHOTOS) : undefined;
		const stack = await startStack({
			version,
			sandbox: { credits: 10_000_000, seed: 42, processing: { rangeMs: RANGE_MS, jitter: 0 } },
			env: photos ? { N8N_RESTRICT_FILE_ACCESS_TO: photos } : {},
		});
		try {
			if (wanted('seeds')) results.seeds = await record('seeds', () => seedsSection(stack));
			if (wanted('throughput'))
				results.throughput = await record('throughput', () => throughputSection(stack));
			if (wanted('memory')) results.memory = await record('memory', () => memorySection(stack));
			if (wanted('trigger')) results.trigger = await record('trigger', () => triggerSection(stack));
			if (wanted('input-files'))
				results.inputFiles = await record('input-files', () => inputFilesSection(stack, photos));
		} finally {
			await stack.stop();
			if (photos) fs.rmSync(photos, { recursive: true, force: true });
		}
	}
	if (wanted('queue')) results.queue = await record('queue', () => queueSection());

	results.quick = QUICK;
	results.totalS = round((Date.now() - t0) / 1000, 0);
	fs.writeFileSync(
		path.join(ROOT, 'bench', 'results.json'),
		JSON.stringify(results, null, 2) + '\n',
	);
	fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), render(results));
	console.log(
		`bench/RESULTS.md written (${ONLY ? ONLY.join(', ') : 'every section'}, ${results.totalS} s)`,
	);
	if (failures.length)
		throw new Error(`failed, figures of the last successful run kept: ${failures.join(', ')}`);
}

// ------------------------------------------------------------------ RESULTS.md

const verdict = (ok) => (ok ? 'met' : '**missed**');

function runLine(r, section) {
	const run = r.runs?.[section];
	if (!run) return '';
	const load = run.load
		? `; load average (1 min) ${run.load.mean} on average, ${run.load.max} at most, on ${r.machine.split(' ×')[0]} cores`
		: '';
	return `*Measured ${run.date}${run.seconds ? ` in ${run.seconds} s` : ''}, n8n ${run.n8n}${run.n8nNode ? ` on Node ${run.n8nNode.replace(/^v/, '')}` : ''}, package at ${run.commit?.replace(/ ".*"/, '') ?? 'an earlier commit'}${load}.*\n\n${run.note ? `${run.note}\n\n` : ''}`;
}

function renderSeeds(r) {
	const s = r.seeds;
	const byKey = Object.fromEntries(s.summary.map((row) => [row.key, row]));
	const cell = (seed, key) => {
		const run = s.runs.find((x) => x.seed === seed && x.key === key);
		if (!run) return '–';
		if (run.error) return 'failed';
		return `${run.ratio} (${run.makespanS} s)`;
	};
	const spread = (row) =>
		row.runs
			? `**${row.ratio.median.toFixed(3)}** | ${row.ratio.min.toFixed(3)}–${row.ratio.max.toFixed(3)}`
			: 'not measured | –';
	const target = (key, limit) => {
		const row = byKey[key];
		if (!row?.runs) return `${row?.label ?? key}: not measured`;
		return `${row.label.replace('D-ID node, Wait Mode ', '')} median ${row.ratio.median.toFixed(3)} (target ≤ ${limit}: ${verdict(row.ratio.median <= limit)})`;
	};
	const slowest = (seed) => {
		const values = s.runs.filter((x) => x.seed === seed && !x.error).map((x) => x.slowestS);
		return values.length
			? `${Math.min(...values)}${Math.max(...values) !== Math.min(...values) ? `–${Math.max(...values)}` : ''} s`
			: '–';
	};
	const failures = s.runs.filter((x) => x.error);
	const poll = byKey.poll;
	const hook = byKey.webhook;
	const loop2 = byKey.loop2;
	const loop10 = byKey.loop10;
	const perTalk = (row) => row.allStatusPerTalk.median;
	const comparisons =
		poll?.runs && loop2?.runs && loop10?.runs
			? `- Requests, D-ID node (Poll) ÷ fixed 2-s polling: **${round(perTalk(poll) / perTalk(loop2), 3)}×** (target ≤ 0.4×: ${verdict(perTalk(poll) / perTalk(loop2) <= 0.4)}).
- Overhead, D-ID node (Poll) ÷ fixed 2-s polling: **${round(poll.overheadS.median / Math.max(0.001, loop2.overheadS.median))}×** (target ≤ 1.5×: ${verdict(poll.overheadS.median <= 1.5 * loop2.overheadS.median)}).
- Against fixed 10-s polling: ${round(perTalk(poll) / perTalk(loop10), 3)}× the requests, ${round(poll.overheadS.median / Math.max(0.001, loop10.overheadS.median))}× the overhead.
`
			: '';
	const hookLine = hook?.runs
		? `- Webhook mode: ${hook.allStatusPerTalk.median} status requests per talk (median; ${hook.statusPerTalk} GET /talks/{id} per talk and ${hook.listRequests} list pages per run), made when D-ID's calls come in (and the node's own looks when the wait began and 5 s and 30 s after, while the batch still waits) rather than by polling; resumed ${hook.overheadS.median} s after the last talk was done (median; target ≤ 1 s: ${verdict(hook.overheadS.median <= 1)}).\n`
		: '';
	return `## 1. Batch makespan over ${s.seeds.length} seeds — ${s.talks} talks, renders ${s.rangeMs[0] / 1000}–${s.rangeMs[1] / 1000} s

${runLine(r, 'seeds')}Makespan ÷ slowest talk: 1.00 would be "finished the moment the slowest talk did". For each seed
every variant runs once, in a sandbox of its own seeded with that seed, so all variants of a seed
get the same ${s.talks} render times (the slowest talk is the same); the order of the variants
rotates from seed to seed. Each cell: makespan ÷ slowest (makespan).

| seed | slowest talk | ${VARIANTS.map((v) => v.label).join(' | ')} |
| --- | --- | ${VARIANTS.map(() => '---').join(' | ')} |
${s.seeds.map((seed) => `| ${seed} | ${slowest(seed)} | ${VARIANTS.map((v) => cell(seed, v.key)).join(' | ')} |`).join('\n')}

| variant | median makespan ÷ slowest | spread (min–max) | runs |
| --- | --- | --- | --- |
${s.summary.map((row) => `| ${row.label} | ${spread(row)} | ${row.runs}${row.failed ? ` (+${row.failed} failed)` : ''} |`).join('\n')}

Targets: ${target('poll', 1.03)}; ${target('webhook', 1.02)}.
${failures.length ? `\nFailed runs:\n${failures.map((f) => `- seed ${f.seed}, ${f.label}: ${f.error}`).join('\n')}\n` : ''}
## 2. Polling cost — the same runs (medians over the seeds)

| variant | GET /talks/{id} per talk | GET /talks (list) per run | status requests per talk, all (min–max) | overhead: last talk done → finished (min–max) | last talk created after start |
| --- | --- | --- | --- | --- | --- |
${s.summary
	.filter((row) => row.runs)
	.map(
		(row) =>
			`| ${row.label} | ${row.statusPerTalk} | ${row.listRequests} | ${row.allStatusPerTalk.median} (${row.allStatusPerTalk.min}–${row.allStatusPerTalk.max}) | ${row.overheadS.median} s (${row.overheadS.min}–${row.overheadS.max}) | ${row.lastCreateS} s |`,
	)
	.join('\n')}

${comparisons}${hookLine}
`;
}

function renderQueue(r) {
	const q = r.queue;
	const row = (x) => {
		const workerCells = Object.entries(x.workers)
			.map(
				([name, w]) =>
					`${name}: ${w.executions}, ${w.baselineMb} → ${w.peakMb} MB (+${w.growthMb}), ${w.hwmMb} MB`,
			)
			.join('; ');
		const statuses = Object.entries(x.statuses)
			.map(([status, n]) => `${n} ${status}`)
			.join(', ');
		if (x.ratio === undefined) {
			return `| ${x.label} | **failed**: ${statuses || 'none ended'} | – | ${x.talks} | ${x.allStatusPerTalk ?? '–'} | ${workerCells} |`;
		}
		return `| ${x.label} | ${statuses} | **${x.ratio}** (${x.makespanS} s ÷ ${x.slowestS} s) | ${x.talks} | ${x.allStatusPerTalk} (${x.statusPerTalk} by id + ${x.listRequests} lists) | ${workerCells} |`;
	};
	const notes = q.rows
		.map((x) => {
			const parts = [];
			if (x.talks)
				parts.push(
					`talks created ${x.firstCreateS}–${x.lastCreateS} s after the first run request, last one done at ${x.lastDoneS} s`,
				);
			if (x.fromRequestRatio !== undefined)
				parts.push(
					`from the first run request to the last execution's end ${x.fromRequestS} s (÷ slowest ${x.fromRequestRatio}); resumed ${x.overheadS} s after the last talk was done`,
				);
			if (x.perExecution)
				parts.push(
					`per execution: its makespan ÷ its slowest talk median ${x.perExecution.ratioMedian} (max ${x.perExecution.ratioMax}), ended ${x.perExecution.tailMedianS} s after its last talk (max ${x.perExecution.tailMaxS} s)${x.perExecution.startedS ? `; started ${x.perExecution.startedS} s after the first run request, first talk created ${x.perExecution.firstCreateS} s after its start, its talks created over ${x.perExecution.createSpanS} s` : ''}`,
				);
			if (x.cpu)
				parts.push(
					`CPU seconds in the ${x.cpu.seconds} s: ${Object.entries(x.cpu)
						.filter(([name]) => !['seconds', 'machine', 'cores'].includes(name))
						.map(([name, sec]) => `${name} ${sec}`)
						.join(
							', ',
						)}; the machine ${x.cpu.machine} of ${round(x.cpu.cores * x.cpu.seconds, 1)} (${x.cpu.cores} cores)`,
				);
			if (x.isolates && Object.keys(x.isolates).length)
				parts.push(
					`expression isolates n8n built: ${Object.entries(x.isolates)
						.map(([name, n]) => `${name} ${n}`)
						.join(', ')}`,
				);
			if (x.deliveryOutcomes)
				parts.push(
					`D-ID's calls answered: ${Object.entries(x.deliveryOutcomes)
						.map(([outcome, n]) => `${n}× ${outcome}`)
						.join(', ')}`,
				);
			parts.push(
				`calls through the webhook proxy: ${Object.entries(x.webhookProxy)
					.map(([name, n]) => `${n} to ${name}`)
					.join(', ')}`,
			);
			if (x.error) parts.push(`**error**: ${x.error.replace(/\s+/g, ' ')}`);
			if (x.errorLogged && Object.keys(x.errorLogged).length) {
				parts.push(
					`that message appears in the logs of ${Object.entries(x.errorLogged)
						.map(([name, n]) => `${name} (${n}×)`)
						.join(', ')}`,
				);
			}
			return `- ${x.label}: ${parts.join('; ')}.`;
		})
		.join('\n');
	const targets = q.rows
		.map(
			(x) =>
				`${x.label.replace('D-ID node, Wait Mode ', '')} ${x.ratio === undefined ? 'failed' : `${x.ratio} (${verdict(x.ratio <= 1.05)})`}`,
		)
		.join(', ');
	return `## 7. Queue mode — ${q.executions * q.itemsPerExecution} talks across ${q.workers} workers, renders ${q.rangeMs[0] / 1000}–${q.rangeMs[1] / 1000} s

${runLine(r, 'queue')}n8n ${q.n8n} in queue mode as \`scripts/n8n/queue-stack.js\` starts it: main + ${q.workers} workers
(\`n8n worker --concurrency=${q.workerConcurrency}\`) + ${q.webhookProcesses} webhook processes behind a round-robin
proxy (with \`N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true\`, as README "Queue mode" recommends; the row
marked "n8n's default expression settings" on a second stack without it), Redis and PostgreSQL, binary data mode \`database\`${
		Object.keys(q.env ?? {}).length
			? `, and ${Object.entries(q.env)
					.map(([k, v]) => `\`${k}=${v}\``)
					.join(', ')}`
			: " (n8n's defaults otherwise)"
	}. Per wait mode: ${q.executions} executions of
example 09/11 with ${q.itemsPerExecution} items each (Max Concurrent Talks ${q.itemsPerExecution}, no download), all
started at once through main's REST API (as the editor's Execute workflow, offloaded to the
workers); each worker takes at most ${q.workerConcurrency} at a time, so the executions split between them. All
talks in one sandbox seeded 42. Makespan: the first execution's start to the last one's end;
slowest: the longest render of all ${q.executions * q.itemsPerExecution} talks. Worker memory: VmRSS of each \`n8n worker\`
process sampled every 0.1 s (before → peak during the run), and its VmHWM (peak since it started).

| variant | executions | makespan ÷ slowest | talks | status requests per talk | workers: executions run (started or resumed), RSS before → peak, VmHWM |
| --- | --- | --- | --- | --- | --- |
${q.rows.map(row).join('\n')}

Target makespan ÷ slowest ≤ 1.05: ${targets}.${
		q.rows.some((x) => x.perExecution)
			? ` Each execution on its own (its makespan ÷ its slowest talk), median: ${q.rows
					.filter((x) => x.perExecution)
					.map(
						(x) =>
							`${x.label.replace('D-ID node, Wait Mode ', '')} ${x.perExecution.ratioMedian} (${verdict(x.perExecution.ratioMedian <= 1.05)})`,
					)
					.join(', ')}.`
			: ''
	}

${notes}

`;
}

function renderInputFiles(r) {
	const [first] = r.inputFiles;
	return `## 6. Memory — ${first.items} photos of ${first.photoMb} MB uploaded from binary files

${runLine(r, 'input-files')}Read/Write Files from Disk reads the photos (streamed into n8n's binary storage, filesystem mode),
then the D-ID node creates one talk per photo (Image Source: Binary File, no waiting). Peak RSS
growth of the n8n process over the whole execution:

| Max Concurrent Talks | talks created | uploads | time | peak RSS growth (each run) | bound (concurrency × file size + 64 MB) |
| --- | --- | --- | --- | --- | --- |
${r.inputFiles.map((row) => `| ${row.concurrency} | ${row.talks} | ${row.uploads} | ${row.seconds} s | **${row.growthMb} MB** (${(row.growthRunsMb ?? [row.growthMb]).join(' MB, ')} MB) | ${row.boundMb} MB (${verdict(row.growthMb <= row.boundMb)}) |`).join('\n')}

Each photo is checked before any request from its metadata and first 16 bytes, read when its item
runs and let go after its upload; before, every photo was read before the first request. The
figure is the larger of two runs after a warm-up run: how much garbage waits for collection varies.

`;
}

function renderThroughput(r) {
	const t = r.throughput;
	const [fast, slow] = t.rows;
	return `## 3. Create throughput — ${t.items} items, 200 ms added to every request

${runLine(r, 'throughput')}| variant | time | talks per second |
| --- | --- | --- |
${t.rows.map((row) => `| ${row.label} | ${row.seconds} s | ${row.perSecond} |`).join('\n')}

Speed-up **${round(fast.perSecond / slow.perSecond, 1)}×** (target ≥ 8×: ${verdict(fast.perSecond / slow.perSecond >= 8)}).
With the sandbox limiting the rate to 20 requests/s (burst 5): ${t.rateLimited.responses429} answers were 429 with Retry-After, the run ended ${t.rateLimited.status} in ${t.rateLimited.seconds} s with ${t.rateLimited.talksCreated} talks for ${t.items} items.

`;
}

function renderMemory(r) {
	return `## 4. Memory — a ${r.memory.videoMb} MB video downloaded into a binary property (default binary mode: filesystem)

${runLine(r, 'memory')}| variant | peak RSS growth of the n8n process |
| --- | --- |
| D-ID node (Wait + Download Video) | ${r.memory.oursMb} MB |
| HTTP Request node (response format File) | ${r.memory.httpRequestMb} MB |

Target ≤ 64 MB: ${verdict(r.memory.oursMb <= 64)}.

`;
}

function renderTrigger(r) {
	return `## 5. D-ID Trigger (Confirm with D-ID on)

${runLine(r, 'trigger')}- Webhook call → execution started: median ${r.trigger.startLatencyMs.median} ms, max ${r.trigger.startLatencyMs.max} ms (10 calls one after another).
- Burst of ${r.trigger.burst.deliveries} deliveries at once: ${r.trigger.burst.executions} executions in ${r.trigger.burst.seconds} s, **${r.trigger.burst.perSecond} executions/s**.

`;
}

function render(r) {
	const dates = Object.values(r.runs ?? {}).map((run) => run.date.slice(0, 10));
	const span = dates.length ? [...new Set(dates.sort())].join(' to ') : 'an unknown date';
	return `# Benchmark results

Written by \`npm run bench\` (\`bench/run.js\`) from runs on ${span}${r.quick ? ' — QUICK mode (BENCH_QUICK=1), smaller than the targets are set for' : ''}.
Real n8n against the sandbox on loopback; machine: ${r.machine}. The machine is shared: other
jobs ran on it during these runs (each section says how busy it was: the 1-minute load average,
sampled every 5 s; with 2 cores, a load above 2 means processes waited for a core). Raw figures:
\`bench/results.json\`. Each section can be re-run on its own: \`npm run bench -- --only <section>\`
(\`seeds\`, \`throughput\`, \`memory\`, \`trigger\`, \`input-files\`, \`queue\`).

${r.seeds ? renderSeeds(r) : ''}${r.throughput ? renderThroughput(r) : ''}${r.memory ? renderMemory(r) : ''}${r.trigger ? renderTrigger(r) : ''}${r.inputFiles ? renderInputFiles(r) : ''}${r.queue ? renderQueue(r) : ''}## Notes

- *Makespan* runs from the execution's start to its end, so it includes n8n starting the run, the
  Set and Split Out nodes and creating the talks; each talk's render time starts when it was
  created (the "last talk created after start" column).
- The hand-built loop's ratio depends on where the slowest talk ends relative to its fixed ticks:
  anywhere from 1.0 to 1 + tick ÷ slowest (1.33 for a 30-s talk with 10-s ticks). Its overhead per
  talk is half a tick on average; the figure above is the last talk's only. Several seeds show
  that spread instead of one lucky (or unlucky) tick alignment.
- The D-ID node polls the batch with D-ID's list (\`GET /talks\`, one request for up to 100 talks),
  so its status requests do not grow with the number of items; a single talk is polled with
  \`GET /talks/{id}\` on a schedule that widens with the time spent (1 s, then a fifth of it, 1–5 s).
`;
}

if (process.argv.includes('--render')) {
	// Re-render RESULTS.md from the figures of the last run (bench/results.json), without running.
	fs.writeFileSync(
		path.join(ROOT, 'bench', 'RESULTS.md'),
		render(migrate(json('bench/results.json'))),
	);
	process.exit(0);
}

main().catch((error) => {
	console.error(`bench failed: ${error.stack ?? error.message}`);
	process.exit(1);
});
