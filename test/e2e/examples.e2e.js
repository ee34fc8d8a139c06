// The examples/ workflows imported into real n8n and executed against the sandbox, on every n8n
// version the package supports (N8N_VERSIONS, default "compat,latest": see scripts/n8n/install.js).
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../../scripts/n8n/stack');
const {
	VERSIONS,
	sha256,
	sleep,
	example,
	withParameters,
	expectVideo: expectVideoIn,
} = require('./helpers');

// The examples this file runs; the others run in a suite of their own.
const RUN_HERE = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11'];
const RUN_ELSEWHERE = {
	'12-ai-agent-tool.json': 'test/e2e/agent.e2e.js (an AI Agent with a scripted local model)',
	'13-exactly-once-queue-mode.json':
		'test/e2e-queue/queue.e2e.js (needs PostgreSQL: n8n in queue mode, 2 webhook processes)',
};

test('every workflow in examples/ is run by an end-to-end suite', () => {
	const files = fs
		.readdirSync(path.join(ROOT, 'examples'))
		.filter((file) => file.endsWith('.json'));
	const unrun = files.filter(
		(file) => !RUN_HERE.includes(file.slice(0, 2)) && !RUN_ELSEWHERE[file],
	);
	expect(unrun).toEqual([]);
	for (const file of Object.keys(RUN_ELSEWHERE)) expect(files).toContain(file);
});

describe.each(VERSIONS)('examples/ in real n8n %s', (version) => {
	let stack;
	let imageServer;
	const portrait = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'portrait.jpg'));

	beforeAll(async () => {
		stack = await startStack({
			version,
			sandbox: { credits: 100_000, processing: { msPerSecond: 10, minMs: 50 } },
		});
		imageServer = http.createServer((req, res) =>
			res.writeHead(200, { 'content-type': 'image/jpeg' }).end(portrait),
		);
		await new Promise((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
	}, 900_000);

	afterAll(async () => {
		await stack?.stop();
		imageServer?.close();
	});

	beforeEach(() => stack.sandbox.resetStats());

	/** Runs an example; returns the execution and the D-ID node's output items. */
	async function run(workflow, nodeName) {
		const id = await stack.importWorkflow(workflow, stack.credential);
		const execution = await stack.runWorkflow(id);
		if (execution.status !== 'success') {
			throw new Error(
				`${workflow.name} ended ${execution.status}: ${JSON.stringify(execution.data.resultData.error)}`,
			);
		}
		return { execution, items: nodeOutput(execution, nodeName) };
	}

	const expectVideo = (item, index, extension) => expectVideoIn(stack, item, index, extension);

	test.each([
		[
			'01-default-call.json',
			(request) =>
				expect(request).toEqual({
					source_url: expect.stringMatching(/alice\.jpg$/),
					script: { type: 'text', input: expect.any(String) },
				}),
		],
		['03-stitch.json', (request) => expect(request.config).toEqual({ stitch: true })],
		[
			'04-voice-style.json',
			(request) =>
				expect(request.script.provider).toEqual({
					type: 'microsoft',
					voice_id: 'en-US-JennyNeural',
					voice_config: { style: 'Cheerful' },
				}),
		],
		[
			'05-audio-script.json',
			(request) =>
				expect(request.script).toEqual({
					type: 'audio',
					audio_url: expect.stringMatching(/\.mp3$/),
				}),
		],
		['06-driver.json', (request) => expect(request.driver_url).toBe('bank://lively/driver-03')],
		[
			'07-expressions.json',
			(request) =>
				expect(request.config.driver_expressions).toEqual({
					expressions: [
						{ start_frame: 0, expression: 'happy', intensity: 1 },
						{ start_frame: 75, expression: 'serious', intensity: 0.7 },
					],
					transition_frames: 10,
				}),
		],
	])(
		'%s makes one talk with the example’s options and returns its video',
		async (file, checkRequest) => {
			const { items } = await run(example(file), 'Make talking video');
			expect(items).toHaveLength(1);
			await expectVideo(items[0], 0);
			expect(stack.sandbox.stats().talksCreated).toBe(1);
			checkRequest(stack.sandbox.talk(items[0].json.id).request);
		},
	);

	test('08-binary-image.json uploads the downloaded photo and returns the video', async () => {
		const workflow = withParameters(example('08-binary-image.json'), 'Download photo', {
			url: `http://127.0.0.1:${imageServer.address().port}/alice.jpg`,
		});
		const { items } = await run(workflow, 'Make talking video');
		expect(items).toHaveLength(1);
		await expectVideo(items[0], 0);
		expect(stack.sandbox.stats().requests['POST /images']).toBe(1);
		expect(stack.sandbox.talk(items[0].json.id).request.source_url).toMatch(/^s3:\/\//);
	});

	test.each([
		['09-fifty-items.json', 'Poll'],
		['11-webhook-wait.json', 'Webhook'],
	])(
		'%s: 50 items → 50 talks (Wait Mode %s), node run once, in order, each paired with its item',
		async (file) => {
			const { execution, items } = await run(example(file), 'Personal video per customer');
			expect(execution.data.resultData.runData['Personal video per customer']).toHaveLength(1);
			expect(items).toHaveLength(50);
			for (const [index, item] of items.entries()) {
				expect(item.json.user_data).toBe(String(index + 1));
				await expectVideo(item, index);
			}
			expect(stack.sandbox.stats().talksCreated).toBe(50);
		},
	);

	test('10-webhook-trigger.json with a placeholder secret, or Download Video without Confirm, is not activated: its webhook never answers', async () => {
		const secret = crypto.randomBytes(12).toString('hex');
		const cases = [
			[{ secret: 'change-me' }, /shorter than 16/],
			[{ secret: 'please-change-me-before-use' }, /placeholder/],
			[{ secret, confirm: false, downloadVideo: true }, /Download Video needs Confirm with D-ID/],
			[{ secret, confirm: false, downloadVideo: false }, undefined], // the control: a valid trigger answers in time
		];
		for (const [index, [patch, reason]] of cases.entries()) {
			const workflow = withParameters(example('10-webhook-trigger.json'), 'D-ID Trigger', patch);
			workflow.nodes[0].webhookId = `d-id-refused-${index}`;
			const id = await stack.importWorkflow(workflow, stack.credential);
			// n8n 1.x refuses the activation request with the reason; 2.x publishes in the background.
			let refused;
			try {
				await stack.activateWorkflow(id);
			} catch (error) {
				refused = error;
			}
			if (reason && refused) expect(refused.message).toMatch(reason);
			if (!reason) expect(refused).toBeUndefined();
			await sleep(2000);
			const res = await fetch(
				`${stack.url}/webhook/d-id-refused-${index}/talk-ended?secret=${encodeURIComponent(patch.secret)}`,
				{
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({
						id: 'tlk_x',
						status: 'done',
						result_url: 'http://127.0.0.1:1/internal',
					}),
				},
			);
			expect([index, res.status]).toEqual([index, reason ? 404 : 200]);
			if (!reason) expect(await res.json()).toEqual({ received: true });
		}
	});

	test('02-webhook.json → 10-webhook-trigger.json: the sandbox’s webhook starts exactly one execution with the talk', async () => {
		const secret = crypto.randomBytes(12).toString('hex');
		const triggerWorkflow = withParameters(example('10-webhook-trigger.json'), 'D-ID Trigger', {
			secret,
		});
		const triggerId = await stack.importWorkflow(triggerWorkflow, stack.credential);
		await stack.activateWorkflow(triggerId);
		await stack.waitForWebhook('/webhook/d-id-talk-ended/talk-ended');
		const hookUrl = `${stack.url}/webhook/d-id-talk-ended/talk-ended`;

		// No secret, or a wrong one: refused, nothing runs.
		for (const url of [hookUrl, `${hookUrl}?secret=wrong`]) {
			const res = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ id: 'tlk_forged', status: 'done' }),
			});
			expect(res.status).toBe(401);
		}

		const createWorkflow = example('02-webhook.json');
		const creator = createWorkflow.nodes.find((n) => n.type.endsWith('.dId'));
		creator.parameters.additionalFields.webhookUrl = `${hookUrl}?secret=${secret}`;
		const { items } = await run(createWorkflow, creator.name);
		const talkId = items[0].json.id;
		expect(items[0].json.status).toBe('created');

		let executions = [];
		for (let i = 0; i < 150 && executions.filter((e) => e.status === 'success').length < 1; i++) {
			await sleep(200);
			executions = await stack.listExecutions(triggerId);
		}
		await sleep(1500); // room for a second (wrong) execution to show up
		executions = await stack.listExecutions(triggerId);
		expect(executions).toHaveLength(1);
		const execution = await stack.waitForExecution(executions[0].id);
		const [emitted] = nodeOutput(execution, 'D-ID Trigger');
		expect(emitted.json.id).toBe(talkId);
		expect(emitted.json.status).toBe('done');
		expect(emitted.json.user_data_json).toEqual({ crmRecordId: 'rec_42' });
		expect(sha256(await stack.binary(emitted.binary.data.id))).toBe(
			await stack.sandbox.resultDigest(talkId),
		);
		expect(stack.sandbox.stats().webhooksSent).toBe(1);
		// The secret D-ID echoes in the talk's webhook URL is not in the execution.
		expect(emitted.json.webhook).toContain('secret=[redacted]');
		expect(JSON.stringify(execution.data)).not.toContain(secret);

		// A repeated delivery: the small JSON acknowledgement, no execution.
		const again = await fetch(`${hookUrl}?secret=${secret}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ id: talkId, status: 'done' }),
		});
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual({ received: true, note: 'duplicate' });
		// A chunked body over 1 MB (no Content-Length) is measured and refused.
		const big = JSON.stringify({ id: 'tlk_big', status: 'done', pad: 'x'.repeat(3 * 1024 * 1024) });
		const chunked = await fetch(`${hookUrl}?secret=${secret}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: new ReadableStream({
				start(controller) {
					controller.enqueue(new TextEncoder().encode(big));
					controller.close();
				},
			}),
			duplex: 'half',
		});
		expect(chunked.status).toBe(413);
		expect(await stack.listExecutions(triggerId)).toHaveLength(1);
	});
});
