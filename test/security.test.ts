// Hostile callers (issue 13): the trigger's SSRF and secret leaks, and the API key staying home.
import { readdirSync, readFileSync } from 'node:fs';

import { Container } from '@n8n/di';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { runNode, type NodeSpec } from './harness/engine';
import { credentialsFor, ROOT } from './harness/sandbox';
import { createParameters, postJson as post, sleep, until, useSandbox } from './harness/suite';
import { activateTrigger, useTriggers } from './harness/trigger';
import { capped, resultUrlProblem, type ResultStream } from '../nodes/DId/transport';

const SECRET = 'Zq8-trigger-secret-4f1c9a7e';
/** The trigger's settings: the secret, the done event, and `settings`. */
const triggerWith = (settings: IDataObject) => ({ secret: SECRET, events: ['done'], ...settings });
const { sandbox, createTalks } = useSandbox();
const startTrigger = useTriggers();
const servers: http.Server[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback HTTP server (for what the sandbox never does: redirect, echo headers, serve internal data). */
async function serve(
	handler: http.RequestListener,
): Promise<{ url: string; requests: http.IncomingMessage[] }> {
	const requests: http.IncomingMessage[] = [];
	const server = http.createServer((req, res) => {
		requests.push(req);
		handler(req, res);
	});
	servers.push(server);
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** Creates a talk with `webhookUrl` as its webhook; its ID. */
const createTalk = async (webhookUrl: string) => (await createTalks(webhookUrl))[0];

describe('D-ID Trigger: no download from an unconfirmed body (SSRF)', () => {
	test('activation refuses Download Video with Confirm with D-ID off', async () => {
		const error = await activateTrigger(triggerWith({ confirm: false, downloadVideo: true }));
		expect(error?.message).toMatch(/Download Video needs Confirm with D-ID/);
		expect(await activateTrigger(triggerWith({ confirm: false }))).toBeUndefined();
	});

	test('a saved workflow with that combination fetches nothing a caller names', async () => {
		const internal = await serve((_req, res) => res.end('internal secrets'));
		const trigger = await startTrigger(triggerWith({ confirm: false, downloadVideo: true }));
		const res = await post(trigger.url(SECRET), {
			id: 'tlk_ssrf',
			status: 'done',
			result_url: `${internal.url}/admin`,
		});
		expect(res.status).toBe(500);
		expect(internal.requests).toHaveLength(0);
		expect(trigger.executions).toHaveLength(0);
	});

	test('result links: https to public hosts only; plain http and internal addresses only for the credential’s loopback sandbox', () => {
		const sandboxUrl = 'http://127.0.0.1:8765';
		expect(
			resultUrlProblem(
				'https://d-id-talks-prod.s3.us-west-2.amazonaws.com/a/b.mp4?X-Amz=1',
				sandboxUrl,
			),
		).toBeUndefined();
		expect(
			resultUrlProblem('http://127.0.0.1:8765/results/tlk_1/tlk_1.mp4', sandboxUrl),
		).toBeUndefined();
		for (const url of [
			'http://d-id-talks-prod.s3.amazonaws.com/x.mp4',
			'data:video/mp4;base64,AAAA',
			'file:///etc/passwd',
			'http://127.0.0.1:9999/x.mp4',
			'https://127.0.0.1:8765/x.mp4'.replace('8765', '8766'),
			'https://169.254.169.254/latest/meta-data',
			'https://10.0.0.5/x.mp4',
			'https://172.20.1.1/x.mp4',
			'https://192.168.1.1/x.mp4',
			'https://[::1]/x.mp4',
			'https://[fe80::1]/x.mp4',
			'https://[::ffff:127.0.0.1]/x.mp4',
			'https://localhost/x.mp4',
			'https://2130706433/x.mp4',
			'https://metadata/x.mp4',
			'https://user:pass@example.com/x.mp4',
		]) {
			expect([url, resultUrlProblem(url, sandboxUrl)]).toEqual([url, expect.any(String)]);
		}
		// With D-ID itself as the base URL, no loopback address is anyone's sandbox.
		expect(resultUrlProblem('http://127.0.0.1:8765/results/x.mp4', 'https://api.d-id.com')).toEqual(
			expect.any(String),
		);
	});

	/** A D-ID on loopback (so it counts as the credential's sandbox) whose talk tlk_1 links to `link(self)`; /result does `result`. */
	async function fakeDId(link: (self: string) => string, result: http.RequestListener) {
		let self = '';
		const server = await serve((req, res) => {
			if (req.url === '/result') return result(req, res);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ id: 'tlk_1', status: 'done', result_url: link(self) }));
		});
		self = server.url;
		return server;
	}
	const waitAndDownload: NodeSpec = {
		parameters: {
			resource: 'talk',
			operation: 'wait',
			talkId: 'tlk_1',
			downloadVideo: true,
			binaryPropertyOutput: 'data',
		},
	};

	test('the D-ID node downloads nothing from a link to another host, and follows no redirect to one', async () => {
		const internal = await serve((_req, res) => res.end('internal secrets'));
		const elsewhere = await fakeDId(
			() => `${internal.url}/admin`,
			() => {},
		);
		const redirected = await fakeDId(
			(self) => `${self}/result`,
			(_req, res) => {
				res.writeHead(302, { location: `${internal.url}/admin` });
				res.end();
			},
		);
		for (const api of [elsewhere, redirected]) {
			const { error } = await runNode(waitAndDownload, {
				credentials: { apiKey: 'user:key', baseUrl: api.url },
			});
			expect(error?.message).toMatch(
				/did not download the video of talk tlk_1: its link is not allowed/,
			);
		}
		expect(internal.requests).toHaveLength(0);
	});

	test('a result without Content-Length is cut off once more than the cap arrives; below the cap every byte goes through', async () => {
		const { Readable, Writable } = await import('node:stream');
		const { pipeline } = await import('node:stream/promises');
		const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(1000, i));
		const received: Buffer[] = [];
		const sink = () =>
			new Writable({ write: (chunk, _enc, done) => (received.push(chunk), done()) });
		const tooLarge = () => new Error('more than the cap');
		/** The chunks through a stream capped at `cap` bytes, piped into the sink. */
		const pipeCapped = (cap: number) =>
			pipeline(
				capped(
					Readable.from(chunks) as unknown as ResultStream,
					cap,
					tooLarge,
				) as unknown as NodeJS.ReadableStream,
				sink(),
			);
		await expect(pipeCapped(5000)).rejects.toThrow('more than the cap');
		received.length = 0;
		await pipeCapped(10_000);
		expect(Buffer.concat(received)).toEqual(Buffer.concat(chunks));
	});

	test('the capped stream ends for a consumer that only listens for data and end (n8n database binary mode, queue mode)', async () => {
		const { Readable } = await import('node:stream');
		const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(1000, i));
		const tooLarge = () => new Error('more than the cap');
		// What n8n's binaryToBuffer does in database mode: 'data' and 'end' listeners, nothing else.
		const collect = (stream: ResultStream) =>
			new Promise<Buffer>((resolve, reject) => {
				const got: Buffer[] = [];
				const source = stream as unknown as NodeJS.ReadableStream;
				source.on('data', (chunk: Buffer) => got.push(chunk));
				source.once('end', () => resolve(Buffer.concat(got)));
				source.once('error', reject);
			});
		expect(
			await collect(capped(Readable.from(chunks) as unknown as ResultStream, 10_000, tooLarge)),
		).toEqual(Buffer.concat(chunks));
		await expect(
			collect(capped(Readable.from(chunks) as unknown as ResultStream, 5000, tooLarge)),
		).rejects.toThrow('more than the cap');
	});

	test('a result larger than a video can be is refused before it is read', async () => {
		const api = await fakeDId(
			(self) => `${self}/result`,
			(_req, res) => {
				res.writeHead(200, {
					'content-type': 'video/mp4',
					'content-length': String(3 * 1024 ** 3),
				});
				res.write(Buffer.alloc(1024));
				setTimeout(() => res.destroy(), 1000);
			},
		);
		const { error } = await runNode(waitAndDownload, {
			credentials: { apiKey: 'user:key', baseUrl: api.url },
		});
		expect(error?.message).toMatch(/3\.0 GiB, more than the 2 GiB/);
	});
});

describe('D-ID Trigger: the secret stays home', () => {
	test.each([
		['empty', ''],
		['whitespace', '    \t  '],
		['short', 'abc123-short'],
		['a placeholder', 'change-me'],
		['a long placeholder', 'please-change-me-before-use'],
	])('a secret that is %s is refused at activation and on every call', async (_name, secret) => {
		const error = await activateTrigger({ secret, events: ['done'], confirm: false });
		expect(error?.message).toMatch(/Secret is (empty|shorter than 16|a placeholder)/);
		const trigger = await startTrigger({ secret, events: ['done'], confirm: false });
		const res = await post(trigger.url(secret), { id: 'tlk_weak', status: 'done' });
		expect(res.status).toBeGreaterThanOrEqual(400);
		expect(trigger.executions).toHaveLength(0);
	});

	test('no trigger item, Get, List or Wait output carries the secret D-ID echoes in the talk’s webhook URL', async () => {
		const trigger = await startTrigger(triggerWith({ confirm: true }), credentialsFor(sandbox));
		const id = await createTalk(trigger.url(SECRET));
		await until(() => trigger.executions.length > 0);
		expect(trigger.executions).toHaveLength(1);
		const emitted = trigger.executions[0][0].json;
		expect(emitted).toMatchObject({ id, webhook: expect.stringContaining('secret=') });
		const run = (parameters: NodeSpec['parameters']) =>
			runNode({ parameters }, { credentials: credentialsFor(sandbox) });
		const outputs = [
			emitted,
			(await run({ resource: 'talk', operation: 'get', talkId: id })).items,
			(await run({ resource: 'talk', operation: 'list', returnAll: false, limit: 10 })).items,
			(await run({ resource: 'talk', operation: 'wait', talkId: id, downloadVideo: false })).items,
		];
		for (const output of outputs) {
			expect(JSON.stringify(output)).toContain(id);
			expect(JSON.stringify(output)).not.toContain(SECRET);
			expect(JSON.stringify(output)).not.toContain(encodeURIComponent(SECRET));
		}
	});
});

describe('D-ID Trigger: Confirm failures, body size, dedupe, acknowledgement', () => {
	test('a transient failure during Confirm answers 503 (the caller retries), not 404; a later delivery is emitted', async () => {
		const trigger = await startTrigger(triggerWith({ confirm: true }), credentialsFor(sandbox));
		const id = await createTalk('https://example.com/not-the-trigger');
		await until(() => sandbox.talk(id) && (sandbox.stats().talksFinished ?? 0) > 0);
		await sleep(200);
		sandbox.addScriptedFaults({
			route: 'GET /talks/{id}',
			fault: '429',
			count: 6,
			retryAfterSec: 0,
		});
		const first = await post(trigger.url(SECRET), { id, status: 'done' });
		expect(first.status).toBe(503);
		expect(trigger.executions).toHaveLength(0);
		const second = await post(trigger.url(SECRET), { id, status: 'done' });
		expect(second.status).toBe(200);
		expect(trigger.executions).toHaveLength(1);
	});

	test('Confirm on without a credential: refused at activation with the reason, 500 on a call (not "Unknown talk")', async () => {
		const error = await activateTrigger(triggerWith({ confirm: true }));
		expect(error?.message).toMatch(/no D-ID credential is selected/);
		const trigger = await startTrigger(triggerWith({ confirm: true }));
		const res = await post(trigger.url(SECRET), { id: 'tlk_nocred', status: 'done' });
		expect(res.status).toBe(500);
		expect(trigger.executions).toHaveLength(0);
	});

	test('a chunked body over 1 MB (no Content-Length) is refused with 413', async () => {
		const trigger = await startTrigger(triggerWith({ confirm: false }));
		const body = Buffer.from(
			JSON.stringify({ id: 'tlk_chunked', status: 'done', pad: 'x'.repeat(3 * 1024 * 1024) }),
		);
		const url = new URL(trigger.url(SECRET));
		const status = await new Promise<number>((resolve, reject) => {
			const req = http.request(
				url,
				{
					method: 'POST',
					headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
				},
				(res) => {
					res.resume();
					resolve(res.statusCode ?? 0);
				},
			);
			req.on('error', reject);
			for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
			req.end();
		});
		expect(status).toBe(413);
		expect(trigger.executions).toHaveLength(0);
	});

	test('dedupe forgets by age, not by count: a replay after 2,100 other talks starts nothing; one older than Remember Talks does', async () => {
		const trigger = await startTrigger(
			triggerWith({ confirm: false, deduplicate: true, rememberDays: 7 }),
		);
		expect((await post(trigger.url(SECRET), { id: 'tlk_first', status: 'done' })).status).toBe(200);
		for (let i = 0; i < 2100; i += 50) {
			await Promise.all(
				Array.from({ length: 50 }, (_, j) =>
					post(trigger.url(SECRET), { id: `tlk_other_${i + j}`, status: 'done' }),
				),
			);
		}
		expect(trigger.executions).toHaveLength(2101);
		expect(
			await (await post(trigger.url(SECRET), { id: 'tlk_first', status: 'done' })).json(),
		).toMatchObject({ note: 'duplicate' });
		expect(trigger.executions).toHaveLength(2101);
		// Saved eight days ago (static data outlives the process; this talk never passed through it).
		const talks = trigger.staticData().talks as Record<string, unknown>;
		talks.tlk_old = { status: 'done', at: Date.now() - 8 * 24 * 3600 * 1000 };
		talks.tlk_recent = { status: 'done', at: Date.now() - 6 * 24 * 3600 * 1000 };
		await post(trigger.url(SECRET), { id: 'tlk_old', status: 'done' });
		await post(trigger.url(SECRET), { id: 'tlk_recent', status: 'done' });
		expect(trigger.executions.map((e) => e[0].json.id).slice(-1)).toEqual(['tlk_old']);
		expect(trigger.executions).toHaveLength(2102);
	}, 60_000);

	test('ten concurrent deliveries of one talk start one execution (each call sees the static data as last saved)', async () => {
		const trigger = await startTrigger(
			triggerWith({ confirm: true, deduplicate: true }),
			credentialsFor(sandbox),
		);
		const id = await createTalk('https://example.com/not-the-trigger');
		await until(
			() => sandbox.talks().some((t) => t.id === id) && sandbox.stats().talksFinished > 0,
		);
		await sleep(300);
		const answers = await Promise.all(
			Array.from({ length: 10 }, () => post(trigger.url(SECRET), { id, status: 'done' })),
		);
		expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
		expect(trigger.executions).toHaveLength(1);
		// And later ones (static data saved by then) too.
		await post(trigger.url(SECRET), { id, status: 'done' });
		expect(trigger.executions).toHaveLength(1);
	});

	test('an accepted delivery is answered with a small JSON acknowledgement', async () => {
		const trigger = await startTrigger(triggerWith({ confirm: false }));
		const res = await post(trigger.url(SECRET), { id: 'tlk_ack', status: 'done' });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true });
		expect(trigger.executions).toHaveLength(1);
	});
});

describe('the API key stays home', () => {
	const KEY = 'am9obkBleGFtcGxlLmNvbQ:Xk29sL-secret-key-material';
	const basic = (key: string) => Buffer.from(key).toString('base64');

	test('a redirect from the base URL to another origin is not followed: the other host never sees the key', async () => {
		const other = await serve((_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"remaining": 1, "total": 1}');
		});
		const base = await serve((_req, res) => {
			res.writeHead(302, { location: `${other.url}/credits` });
			res.end();
		});
		const { error } = await runNode(
			{ parameters: { resource: 'credits', operation: 'get' } },
			{ credentials: { apiKey: KEY, baseUrl: base.url } },
		);
		expect(error?.message).toMatch(/redirect \(HTTP 302\) that the node does not follow/);
		expect(base.requests[0].headers.authorization).toBe(`Basic ${KEY}`);
		expect(other.requests).toHaveLength(0);
	});

	test('a redirect within the base URL’s origin is followed', async () => {
		const base = await serve((req, res) => {
			if (req.url === '/credits') {
				res.writeHead(301, { location: '/v2/credits' });
				res.end();
				return;
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"remaining": 5, "total": 9}');
		});
		const { items, error } = await runNode(
			{ parameters: { resource: 'credits', operation: 'get' } },
			{ credentials: { apiKey: KEY, baseUrl: base.url } },
		);
		expect(error).toBeUndefined();
		expect(items[0].json).toMatchObject({ remaining: 5 });
	});

	test.each([
		[
			'JSON description',
			(auth: string) => ({
				type: 'application/json',
				body: JSON.stringify({
					kind: 'ValidationError',
					description: `bad header: ${auth}`,
					details: { authorization: auth },
				}),
			}),
		],
		[
			'plain text',
			(auth: string) => ({
				type: 'text/plain',
				body: `proxy refused request with headers authorization=${auth} key=${Buffer.from(auth.slice(6)).toString('base64')}`,
			}),
		],
	])(
		'a server that echoes the request headers in a %s error puts no key in the error',
		async (_name, answer) => {
			const base = await serve((req, res) => {
				const { type, body } = answer(String(req.headers.authorization));
				res.writeHead(400, { 'content-type': type });
				res.end(body);
			});
			const { error } = await runNode(
				{ parameters: { resource: 'credits', operation: 'get' }, continueOnFail: true },
				{ credentials: { apiKey: KEY, baseUrl: base.url } },
			);
			expect(error).toBeUndefined();
			const failed = await runNode(
				{ parameters: { resource: 'credits', operation: 'get' } },
				{ credentials: { apiKey: KEY, baseUrl: base.url } },
			);
			const shown = JSON.stringify([
				failed.error,
				failed.error?.message,
				failed.error?.description,
				failed.error?.context,
			]);
			expect(shown).toMatch(/redacted/);
			for (const secret of [KEY, basic(KEY)]) expect(shown).not.toContain(secret);
		},
	);
});

describe('the own ElevenLabs key lives in the credential', () => {
	const elevenLabsTalk = (voice: Record<string, unknown> = {}) =>
		createParameters({
			provider: 'elevenlabs',
			voice: { __rl: true, mode: 'id', value: '21m00Tcm4TlvDq8ikWAM' },
			elevenLabsVoice: voice,
		});
	// The sandbox keeps the header only as "<redacted>": the value is read off its server as it arrives.
	const received: Array<{ key: string | undefined }> = [];
	const listen = (req: {
		method?: string;
		url?: string;
		headers: Record<string, string | string[] | undefined>;
	}) => {
		if (req.method === 'POST' && req.url === '/talks')
			received.push({ key: req.headers['x-api-key-external'] as string | undefined });
	};
	beforeAll(() => sandbox.server.on('request', listen));
	afterAll(() => sandbox.server.off('request', listen));
	/** Runs a Create and returns the x-api-key-external header its POST /talks carried. */
	const sentKey = async (
		parameters: NodeSpec['parameters'],
		credentials: Parameters<typeof runNode>[1]['credentials'],
	) => {
		received.length = 0;
		const { items, error } = await runNode({ parameters }, { credentials });
		expect(error).toBeUndefined();
		expect(items[0].json.id).toEqual(expect.stringMatching(/^tlk_/));
		expect(received).toHaveLength(1);
		return received[0].key;
	};
	const elevenLabs = (key: string) => JSON.stringify({ elevenlabs: key });

	test('a key in the credential is sent with ElevenLabs talks only, and never appears in the workflow', async () => {
		const credentials = { ...credentialsFor(sandbox), elevenLabsApiKey: 'el-credential-key-123' };
		const parameters = elevenLabsTalk();
		expect(await sentKey(parameters, credentials)).toBe(elevenLabs('el-credential-key-123'));
		expect(JSON.stringify(parameters)).not.toContain('el-credential-key-123');
		const microsoft = createParameters({ text: 'Hi there' });
		expect(await sentKey(microsoft, credentials)).toBeUndefined();
		expect(await sentKey(parameters, credentialsFor(sandbox))).toBeUndefined();
		// Spaces around the key in the credential are not part of it.
		expect(
			await sentKey(parameters, {
				...credentialsFor(sandbox),
				elevenLabsApiKey: '  el-credential-key-123 ',
			}),
		).toBe(elevenLabs('el-credential-key-123'));
	});

	test('a saved workflow with the key in the node still sends it, before the credential’s', async () => {
		const parameters = elevenLabsTalk({ externalApiKey: 'el-old-node-key' });
		expect(await sentKey(parameters, credentialsFor(sandbox))).toBe(elevenLabs('el-old-node-key'));
		expect(
			await sentKey(parameters, {
				...credentialsFor(sandbox),
				elevenLabsApiKey: 'el-credential-key-123',
			}),
		).toBe(elevenLabs('el-old-node-key'));
	});
});

test('no example ships a placeholder trigger secret: secrets come from an expression', () => {
	const dir = path.join(ROOT, 'examples');
	for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
		const text = readFileSync(path.join(dir, file), 'utf8');
		expect([file, /change-?me/i.test(text)]).toEqual([file, false]);
		for (const node of JSON.parse(text).nodes as Array<{ parameters: Record<string, unknown> }>) {
			const secret = node.parameters.secret;
			if (secret !== undefined) expect(String(secret)).toMatch(/^=\{\{.*\}\}$/);
			const webhookUrl = (node.parameters.additionalFields as Record<string, unknown> | undefined)
				?.webhookUrl;
			if (typeof webhookUrl === 'string' && webhookUrl.includes('secret='))
				expect(webhookUrl).toMatch(/^=.*secret=\{\{.*\}\}/);
		}
	}
});

test('a D-ID answer that echoes the trigger secret reaches no log line and no response', async () => {
	const echoing = await serve((req, res) => {
		res.writeHead(400, { 'content-type': 'application/json' });
		res.end(
			JSON.stringify({
				kind: 'ValidationError',
				description: `talk ${req.url} has webhook https://n8n.example.com/webhook/x/talk-ended?secret=${SECRET}`,
			}),
		);
	});
	// n8n's logger, as every node context hands it out (n8n-core's own copy of @n8n/backend-common),
	// replaced for this test by one that records every line.
	const { Logger } = require(
		require.resolve('@n8n/backend-common', { paths: [path.dirname(require.resolve('n8n-core'))] }),
	);
	const original = Container.get(Logger) as object;
	const written: string[] = [];
	const record = (message: unknown, meta?: unknown) =>
		void written.push(`${String(message)} ${JSON.stringify(meta ?? {})}`);
	Container.set(
		Logger,
		new Proxy(original, {
			get: (target, key) =>
				['error', 'warn', 'info', 'debug'].includes(String(key))
					? record
					: Reflect.get(target, key),
		}),
	);
	try {
		const trigger = await startTrigger(triggerWith({ confirm: true }), {
			apiKey: 'user:key',
			baseUrl: echoing.url,
		});
		const res = await post(trigger.url(SECRET), { id: 'tlk_echo', status: 'done' });
		expect(res.status).toBe(503);
		expect(await res.text()).not.toContain(SECRET);
	} finally {
		Container.set(Logger, original);
	}
	expect(written.join('\n')).toMatch(/could not confirm talk tlk_echo/);
	expect(written.join('\n')).not.toContain(SECRET);
});
