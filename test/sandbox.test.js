// The sandbox answers as D-ID's API does: the Talks overview's examples, every request example of
// D-ID's OpenAPI, D-ID's error kinds and codes, and the fault injection tests and benchmarks use.
const { createSandbox } = require('../sandbox/server');
const { SCHEMA } = require('../sandbox/lib/create-talk');
const spec = require('../sandbox/openapi.talks.json');

let sandbox;
let auth;
beforeAll(async () => {
	sandbox = createSandbox({ processing: { msPerSecond: 10, minMs: 60 }, seed: 7 });
	await sandbox.start();
	auth = { authorization: `Basic ${sandbox.apiKey}` };
});
afterAll(() => sandbox.stop());
beforeEach(() => {
	sandbox.setFaults({});
	sandbox.configure({ credits: 100, plan: { stitch: true, subtitles: true }, resultSizeBytes: 0 });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, body, headers = {}) {
	const res = await fetch(sandbox.url + path, {
		method,
		headers: {
			...auth,
			...(body !== undefined && typeof body !== 'string'
				? { 'content-type': 'application/json' }
				: {}),
			...headers,
		},
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	let json;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = text;
	}
	return { status: res.status, body: json, headers: res.headers };
}

const EXAMPLE_1 = {
	source_url: 'https://myhost.com/image.jpg',
	script: { type: 'text', input: 'Hello world!' },
};

async function waitDone(id) {
	for (let i = 0; i < 100; i++) {
		const { body } = await api('GET', `/talks/${id}`);
		if (['done', 'error', 'rejected'].includes(body.status)) return body;
		await sleep(20);
	}
	throw new Error('talk did not finish');
}

describe('Talks overview, Example #1 (default call)', () => {
	test('POST /talks answers 201 with the overview fields and the talk goes created → started → done', async () => {
		// 'created' lasts a quarter of the processing time (300 ms here): long enough for the first
		// GET to see it on a loaded machine.
		sandbox.configure({ processing: { msPerSecond: 100, minMs: 1200 } });
		try {
			const created = await api('POST', '/talks', EXAMPLE_1);
			expect(created.status).toBe(201);
			expect(Object.keys(created.body).sort()).toEqual([
				'created_at',
				'created_by',
				'id',
				'object',
				'status',
			]);
			expect(created.body).toMatchObject({ object: 'talk', status: 'created' });
			expect(created.body.id).toMatch(/^tlk_/);

			const seen = new Set();
			let talk;
			for (let i = 0; i < 400 && talk?.status !== 'done'; i++) {
				talk = (await api('GET', `/talks/${created.body.id}`)).body;
				seen.add(talk.status);
				if (talk.status !== 'done') expect(talk.result_url).toBeUndefined();
				await sleep(15);
			}
			expect([...seen]).toEqual(['created', 'started', 'done']);
			for (const field of [
				'metadata',
				'audio_url',
				'created_at',
				'face',
				'config',
				'source_url',
				'created_by',
				'status',
				'driver_url',
				'modified_at',
				'user_id',
				'result_url',
				'id',
				'duration',
				'started_at',
			]) {
				expect(talk).toHaveProperty(field);
			}
			expect(talk.metadata).toMatchObject({ num_faces: 1, resolution: [512, 512] });
			expect(talk.config).toMatchObject({
				stitch: false,
				result_format: '.mp4',
				align_driver: true,
				fluent: false,
			});
			expect(talk.source_url).toBe(EXAMPLE_1.source_url);
		} finally {
			sandbox.configure({ processing: { msPerSecond: 10, minMs: 60 } });
		}
	});

	test('result_url serves a real MP4 (ftyp box) of the configured size, streamed', async () => {
		sandbox.configure({ resultSizeBytes: 3 * 1024 * 1024 });
		const { body } = await api('POST', '/talks', EXAMPLE_1);
		const talk = await waitDone(body.id);
		const res = await fetch(talk.result_url);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('video/mp4');
		const bytes = Buffer.from(await res.arrayBuffer());
		expect(bytes.length).toBe(3 * 1024 * 1024);
		expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
		expect(talk.metadata.size_kib).toBe(3 * 1024);
		const crypto = require('node:crypto');
		expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(
			await sandbox.resultDigest(body.id),
		);
	});

	test('result_format mov gives a QuickTime file; a tampered or expired link gets S3 AccessDenied', async () => {
		const { body } = await api('POST', '/talks', {
			...EXAMPLE_1,
			config: { result_format: 'mov' },
		});
		const talk = await waitDone(body.id);
		const res = await fetch(talk.result_url);
		expect(res.headers.get('content-type')).toBe('video/quicktime');
		const bytes = Buffer.from(await res.arrayBuffer());
		expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
		expect(bytes.subarray(8, 12).toString('latin1')).toBe('qt  ');
		// Change the signature's first character to one it certainly is not.
		const tampered = await fetch(
			talk.result_url.replace(/Signature=(.)/, (_, c) => `Signature=${c === 'A' ? 'B' : 'A'}`),
		);
		expect(tampered.status).toBe(403);
		expect(await tampered.text()).toContain('AccessDenied');
		sandbox.configure({ resultUrlTtlSec: -10 });
		const expired = await fetch(sandbox.renderTalk(body.id).result_url);
		expect(expired.status).toBe(403);
		expect(await expired.text()).toContain('Request has expired');
		sandbox.configure({ resultUrlTtlSec: 86400 });
	});
});

// Builds a request from the `example`/`default` values D-ID's OpenAPI gives each field.
function exampleOf(schema, name) {
	if (schema.anyOf) return exampleOf(schema.anyOf[0], name);
	if (schema.enum) return schema.enum[0];
	if (schema.type === 'object') {
		const out = {};
		for (const [key, child] of Object.entries(schema.properties ?? {}))
			out[key] = exampleOf(child, key);
		return out;
	}
	if (schema.type === 'array') return schema.example ?? [exampleOf(schema.items, name)];
	const value = schema.example ?? schema.default;
	if (schema.type === 'number' || schema.type === 'integer') return Number(value ?? 0);
	if (schema.type === 'boolean') return value ?? true;
	if (value !== undefined) return value;
	return (
		{ url: 'https://example.com/logo.png', user_data: 'crm-42', name: 'my talk' }[name] ?? 'text'
	);
}

describe("every request example of D-ID's OpenAPI is accepted", () => {
	const request = spec.paths['/talks'].post.requestBody.content['application/json'].schema;
	const [textScript, audioScript] = request.properties.script.anyOf;
	const providers = textScript.properties.provider.anyOf;
	const cases = [
		...providers.map((provider) => [
			`text script, ${provider.title} provider`,
			{ ...exampleOf(textScript), provider: exampleOf(provider) },
		]),
		['audio script', exampleOf(audioScript)],
	];
	test.each(cases)('%s', async (_name, script) => {
		const body = exampleOf(request);
		body.script = script;
		const res = await api('POST', '/talks', body);
		expect(res.body).toMatchObject({ status: 'created' });
		expect(res.status).toBe(201);
		expect(sandbox.talk(res.body.id).request).toEqual(body);
	});

	test('the legacy fields of the Talks overview are accepted too', async () => {
		const res = await api('POST', '/talks', {
			...EXAMPLE_1,
			driver_url: 'bank://lively/driver-05',
			config: {
				align_driver: true,
				align_expand_factor: 0.3,
				auto_match: true,
				motion_factor: 1,
				normalization_factor: 1,
				sharpen: true,
			},
		});
		expect(res.status).toBe(201);
	});
});

describe('requests that break the schema are refused as D-ID does', () => {
	test.each([
		['unknown top-level field', { ...EXAMPLE_1, colour: 'red' }, 'body.colour'],
		['persist (not in the current spec)', { ...EXAMPLE_1, persist: true }, 'body.persist'],
		[
			'image URL without an image ending',
			{ ...EXAMPLE_1, source_url: 'https://myhost.com/image.gif' },
			'body.source_url',
		],
		[
			'http image URL',
			{ ...EXAMPLE_1, source_url: 'http://myhost.com/image.jpg' },
			'body.source_url',
		],
		[
			'text shorter than 3',
			{ ...EXAMPLE_1, script: { type: 'text', input: 'Hi' } },
			'body.script.input',
		],
		[
			'text longer than 40000',
			{ ...EXAMPLE_1, script: { type: 'text', input: 'a'.repeat(40001) } },
			'body.script.input',
		],
		[
			'audio URL of the wrong kind',
			{ ...EXAMPLE_1, script: { type: 'audio', audio_url: 'https://x.com/a.ogg' } },
			'body.script.audio_url',
		],
		['missing script', { source_url: EXAMPLE_1.source_url }, 'body.script'],
		['missing source_url', { script: EXAMPLE_1.script }, 'body.source_url'],
		[
			'Amazon voice not in the list',
			{
				...EXAMPLE_1,
				script: { ...EXAMPLE_1.script, provider: { type: 'amazon', voice_id: 'Bob' } },
			},
			'body.script.provider.voice_id',
		],
		[
			'Microsoft without voice_id',
			{ ...EXAMPLE_1, script: { ...EXAMPLE_1.script, provider: { type: 'microsoft' } } },
			'body.script.provider.voice_id',
		],
		[
			'ElevenLabs rate out of range',
			{
				...EXAMPLE_1,
				script: {
					...EXAMPLE_1.script,
					provider: { type: 'elevenlabs', voice_config: { rate: '1.5' } },
				},
			},
			'body.script.provider.voice_config.rate',
		],
		[
			'intensity above 1',
			{
				...EXAMPLE_1,
				config: {
					driver_expressions: {
						expressions: [{ start_frame: 0, expression: 'happy', intensity: 1.5 }],
					},
				},
			},
			'body.config.driver_expressions.expressions.0.intensity',
		],
		[
			'negative start frame',
			{
				...EXAMPLE_1,
				config: {
					driver_expressions: {
						expressions: [{ start_frame: -1, expression: 'happy', intensity: 1 }],
					},
				},
			},
			'body.config.driver_expressions.expressions.0.start_frame',
		],
		[
			'unknown expression',
			{
				...EXAMPLE_1,
				config: {
					driver_expressions: {
						expressions: [{ start_frame: 0, expression: 'angry', intensity: 1 }],
					},
				},
			},
			'body.config.driver_expressions.expressions.0.expression',
		],
		['pad_audio above 60', { ...EXAMPLE_1, config: { pad_audio: 61 } }, 'body.config.pad_audio'],
		[
			'result_format gif',
			{ ...EXAMPLE_1, config: { result_format: 'gif' } },
			'body.config.result_format',
		],
		[
			'logo with one coordinate',
			{ ...EXAMPLE_1, config: { logo: { url: 'https://x.com/l.png', position: [1] } } },
			'body.config.logo.position',
		],
		['empty user_data', { ...EXAMPLE_1, user_data: '' }, 'body.user_data'],
		['blank user_data', { ...EXAMPLE_1, user_data: '   ' }, 'body.user_data'],
		['user_data over 1000', { ...EXAMPLE_1, user_data: 'x'.repeat(1001) }, 'body.user_data'],
		[
			'http webhook off loopback',
			{ ...EXAMPLE_1, webhook: 'http://example.com/hook' },
			'body.webhook',
		],
		['result_url ftp', { ...EXAMPLE_1, result_url: 'ftp://x/y' }, 'body.result_url'],
		['stitch as a string', { ...EXAMPLE_1, config: { stitch: 'yes' } }, 'body.config.stitch'],
	])('%s → 400 ValidationError naming the field', async (_name, body, path) => {
		const res = await api('POST', '/talks', body);
		expect(res.status).toBe(400);
		expect(res.body.kind).toBe('ValidationError');
		expect(res.body.details).toHaveProperty([path]);
	});

	test('malformed JSON → 400 BadRequestError; unknown bank driver → 400; unknown s3 upload → 400', async () => {
		expect((await api('POST', '/talks', '{"source_url":')).body.kind).toBe('BadRequestError');
		expect(
			(await api('POST', '/talks', { ...EXAMPLE_1, driver_url: 'bank://wild/driver-9' })).body.kind,
		).toBe('BadRequestError');
		expect(
			(
				await api('POST', '/talks', {
					...EXAMPLE_1,
					source_url: 's3://d-id-images-prod/nobody/img.jpg',
				})
			).body,
		).toMatchObject({ kind: 'BadRequestError', description: 'invalid actor url' });
	});
});

describe('authentication', () => {
	test.each([
		['no header', {}],
		['wrong key', { authorization: 'Basic someone:else' }],
		['empty', { authorization: 'Basic ' }],
	])('%s → 401 AuthorizationError', async (_n, headers) => {
		const res = await fetch(`${sandbox.url}/credits`, { headers });
		expect(res.status).toBe(401);
		expect(await res.json()).toEqual({
			kind: 'AuthorizationError',
			description: 'user unauthenticated',
		});
	});

	test('the key as given and base64-encoded are both accepted', async () => {
		for (const token of [sandbox.apiKey, Buffer.from(sandbox.apiKey).toString('base64')]) {
			const res = await fetch(`${sandbox.url}/credits`, {
				headers: { authorization: `Basic ${token}` },
			});
			expect(res.status).toBe(200);
		}
	});
});

describe('plan, credits, moderation, failures', () => {
	test('a plan without stitch or subtitles → 403 PermissionError', async () => {
		sandbox.configure({ plan: { stitch: false, subtitles: false } });
		const stitch = await api('POST', '/talks', { ...EXAMPLE_1, config: { stitch: true } });
		expect(stitch.status).toBe(403);
		expect(stitch.body).toEqual({
			kind: 'PermissionError',
			description: 'user has no permission for stitch',
		});
		const subtitles = await api('POST', '/talks', {
			...EXAMPLE_1,
			script: { ...EXAMPLE_1.script, subtitles: true },
		});
		expect(subtitles.body.kind).toBe('PermissionError');
	});

	test('credits go down per talk and run out with 402 InsufficientCreditsError', async () => {
		sandbox.configure({ credits: 2 });
		expect((await api('GET', '/credits')).body).toMatchObject({ remaining: 2, total: 2 });
		expect((await api('POST', '/talks', EXAMPLE_1)).status).toBe(201);
		expect((await api('GET', '/credits')).body.remaining).toBe(1);
		expect((await api('POST', '/talks', EXAMPLE_1)).status).toBe(201);
		const refused = await api('POST', '/talks', EXAMPLE_1);
		expect(refused.status).toBe(402);
		expect(refused.body.kind).toBe('InsufficientCreditsError');
	});

	test('moderation markers → 451 with the right kind', async () => {
		const text = await api('POST', '/talks', {
			...EXAMPLE_1,
			script: { type: 'text', input: 'say [moderate-me] now' },
		});
		expect([text.status, text.body.kind]).toEqual([451, 'TextModerationError']);
		const image = await api('POST', '/talks', {
			...EXAMPLE_1,
			source_url: 'https://x.com/nsfw.jpg',
		});
		expect([image.status, image.body.kind]).toEqual([451, 'ImageModerationError']);
		const celebrity = await api('POST', '/talks', {
			...EXAMPLE_1,
			source_url: 'https://x.com/celebrity.png',
		});
		expect([celebrity.status, celebrity.body.kind]).toEqual([451, 'CelebrityRecognizedError']);
	});

	test('an image without a face ends in status error with error {kind, description}', async () => {
		const { body } = await api('POST', '/talks', {
			...EXAMPLE_1,
			source_url: 'https://x.com/no-face.jpg',
		});
		const talk = await waitDone(body.id);
		expect(talk.status).toBe('error');
		expect(talk.error).toEqual({ kind: 'FaceError', description: expect.any(String) });
		expect(talk.result_url).toBeUndefined();
	});
});

describe('GET /talks paging and DELETE', () => {
	test('limit/token pages through every talk once, newest first', async () => {
		const all = [];
		let token;
		do {
			const { body } = await api('GET', `/talks?limit=3${token ? `&token=${token}` : ''}`);
			expect(body.talks.length).toBeLessThanOrEqual(3);
			all.push(...body.talks);
			token = body.token;
		} while (token);
		const ids = sandbox
			.talks()
			.filter((t) => !t.deleted)
			.map((t) => t.id);
		expect(all.map((t) => t.id).sort()).toEqual(ids.sort());
		const times = all.map((t) => t.created_at);
		expect([...times].sort().reverse()).toEqual(times);
	});

	test('DELETE while processing → 409 NotReadyError; when done → 200, then 404', async () => {
		sandbox.configure({ processing: { msPerSecond: 10, minMs: 300 } });
		const { body } = await api('POST', '/talks', EXAMPLE_1);
		const early = await api('DELETE', `/talks/${body.id}`);
		expect([early.status, early.body.kind]).toEqual([409, 'NotReadyError']);
		await waitDone(body.id);
		expect((await api('DELETE', `/talks/${body.id}`)).status).toBe(200);
		expect((await api('GET', `/talks/${body.id}`)).body.kind).toBe('NotFoundError');
		sandbox.configure({ processing: { msPerSecond: 10, minMs: 60 } });
	});
});

describe('uploads', () => {
	const fs = require('node:fs');
	const path = require('node:path');
	const jpg = fs.readFileSync(path.join(__dirname, 'fixtures', 'portrait.jpg'));
	const wav = fs.readFileSync(path.join(__dirname, 'fixtures', 'speech.wav'));

	async function upload(route, field, data, type, name) {
		const form = new FormData();
		form.append(field, new Blob([data], { type }), name);
		const res = await fetch(sandbox.url + route, { method: 'POST', headers: auth, body: form });
		return { status: res.status, body: await res.json() };
	}

	test('POST /images returns an s3:// URL that POST /talks accepts; DELETE removes it', async () => {
		const image = await upload('/images', 'image', jpg, 'image/jpeg', 'portrait.jpg');
		expect(image.status).toBe(201);
		expect(image.body.url).toMatch(/^s3:\/\/.*\.jpg$/);
		expect((await api('POST', '/talks', { ...EXAMPLE_1, source_url: image.body.url })).status).toBe(
			201,
		);
		expect((await api('DELETE', `/images/${image.body.id}`)).status).toBe(204);
		expect((await api('DELETE', `/images/${image.body.id}`)).status).toBe(404);
	});

	test('POST /audios measures the audio and the talk lasts as long', async () => {
		const audio = await upload('/audios', 'audio', wav, 'audio/wav', 'speech.wav');
		expect(audio.status).toBe(201);
		expect(audio.body.duration).toBeCloseTo(1.5, 2);
		const { body } = await api('POST', '/talks', {
			source_url: EXAMPLE_1.source_url,
			script: { type: 'audio', audio_url: audio.body.url },
		});
		expect((await waitDone(body.id)).duration).toBeCloseTo(1.5, 2);
	});

	test('wrong types → 415, too large → 400, bad file name → 400', async () => {
		expect(
			(await upload('/images', 'image', Buffer.from('GIF89a'), 'image/gif', 'a.gif')).body.kind,
		).toBe('UnsupportedMimeTypeError');
		expect((await upload('/audios', 'audio', jpg, 'image/jpeg', 'a.jpg')).status).toBe(415);
		const big = await upload(
			'/audios',
			'audio',
			Buffer.alloc(6 * 1024 * 1024 + 10),
			'audio/mpeg',
			'big.mp3',
		);
		expect(big.status).toBe(400);
		expect((await upload('/images', 'image', jpg, 'image/jpeg', 'bad name!.jpg')).status).toBe(400);
	});
});

describe('voices', () => {
	test.each(['microsoft', 'elevenlabs', 'amazon', 'google', 'azure-openai'])(
		'GET /tts/voices?provider=%s lists that provider’s voices',
		async (provider) => {
			const { status, body } = await api('GET', `/tts/voices?provider=${provider}`);
			expect(status).toBe(200);
			expect(body.length).toBeGreaterThan(3);
			for (const voice of body) {
				expect(voice).toMatchObject({
					provider,
					id: expect.any(String),
					name: expect.any(String),
					gender: expect.any(String),
				});
				expect(voice.languages[0]).toMatchObject({
					language: expect.any(String),
					locale: expect.any(String),
				});
				expect(Array.isArray(voice.styles)).toBe(true);
			}
		},
	);

	test('Amazon voices are exactly the 24 the spec allows', async () => {
		const allowed = SCHEMA.properties.script.anyOf[0].properties.provider.anyOf.find(
			(p) => p.title === 'Amazon',
		).properties.voice_id.enum;
		const { body } = await api('GET', '/tts/voices?provider=amazon');
		expect(body.map((v) => v.id).sort()).toEqual([...allowed].sort());
	});

	test('an unknown provider → 400', async () => {
		expect((await api('GET', '/tts/voices?provider=acme')).status).toBe(400);
	});

	test('GET /tts/voices lists the catalogue recorded in test/fixtures/voices.json, in its order', async () => {
		const recorded = require('./fixtures/voices.json');
		const { body } = await api('GET', '/tts/voices');
		expect(body).toEqual(recorded.VOICES);
		expect(body.map((v) => Object.keys(v))).toEqual(recorded.VOICES.map((v) => Object.keys(v)));
		expect(require('../sandbox/lib/voices').PROVIDERS).toEqual(recorded.PROVIDERS);
	});
});

describe('webhooks', () => {
	const http = require('node:http');
	let receiver;
	let received;
	beforeAll(async () => {
		receiver = http.createServer((req, res) => {
			let data = '';
			req.on('data', (c) => (data += c));
			req.on('end', () => {
				received.push(JSON.parse(data));
				res.end('ok');
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
	});
	afterAll(() => new Promise((r) => receiver.close(r)));
	beforeEach(() => (received = []));

	const hook = () => `http://127.0.0.1:${receiver.address().port}/hook?secret=abc`;

	test('done and error talks are POSTed to the webhook with the talk JSON', async () => {
		const ok = await api('POST', '/talks', { ...EXAMPLE_1, webhook: hook(), user_data: 'crm-1' });
		const bad = await api('POST', '/talks', {
			...EXAMPLE_1,
			source_url: 'https://x.com/no-face.jpg',
			webhook: hook(),
		});
		for (let i = 0; i < 100 && received.length < 2; i++) await sleep(20);
		const byId = Object.fromEntries(received.map((t) => [t.id, t]));
		expect(byId[ok.body.id]).toMatchObject({
			status: 'done',
			user_data: 'crm-1',
			result_url: expect.any(String),
		});
		expect(byId[bad.body.id]).toMatchObject({ status: 'error', error: { kind: 'FaceError' } });
		const deliveries = sandbox.stats().webhookDeliveries.filter((d) => d.talkId === ok.body.id);
		expect(deliveries[0].url).toContain('secret=<redacted>');
	});

	test('fault injection duplicates and reorders deliveries', async () => {
		sandbox.setFaults({ webhooks: { duplicateRate: 1, outOfOrderRate: 0.5 } });
		const ids = [];
		for (let i = 0; i < 6; i++)
			ids.push((await api('POST', '/talks', { ...EXAMPLE_1, webhook: hook() })).body.id);
		for (let i = 0; i < 200 && received.length < 12; i++) await sleep(20);
		expect(received.length).toBe(12);
		for (const id of ids) expect(received.filter((t) => t.id === id)).toHaveLength(2);
	});

	test('webhooks to hosts off this machine are never sent', async () => {
		const { body } = await api('POST', '/talks', {
			...EXAMPLE_1,
			webhook: 'https://example.com/hook',
		});
		await waitDone(body.id);
		await sleep(30);
		const delivery = sandbox.stats().webhookDeliveries.find((d) => d.talkId === body.id);
		expect(delivery.outcome).toMatch(/only delivers webhooks to loopback/);
	});
});

describe('fault injection and counters', () => {
	test('429 with Retry-After, 5xx, latency, scripted one-offs', async () => {
		sandbox.addScriptedFaults([
			{ route: 'GET /credits', fault: '429', retryAfterSec: 3 },
			{ route: 'GET /credits', fault: '502' },
		]);
		const limited = await api('GET', '/credits');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('3');
		expect((await api('GET', '/credits')).status).toBe(502);
		expect((await api('GET', '/credits')).status).toBe(200);
		sandbox.setFaults({ routes: { 'GET /credits': { latencyMs: 150 } } });
		const started = Date.now();
		await api('GET', '/credits');
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
	});

	test('a drop after create still creates the talk; a drop before does not', async () => {
		const before = sandbox.stats().talksCreated;
		sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropBefore' });
		await expect(api('POST', '/talks', EXAMPLE_1)).rejects.toThrow();
		expect(sandbox.stats().talksCreated).toBe(before);
		sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter' });
		await expect(api('POST', '/talks', EXAMPLE_1)).rejects.toThrow();
		expect(sandbox.stats().talksCreated).toBe(before + 1);
	});

	test('rate limit answers 429 with Retry-After when exceeded', async () => {
		sandbox.setFaults({ rateLimit: { perSecond: 2, burst: 2 } });
		const statuses = [];
		for (let i = 0; i < 4; i++) statuses.push((await api('GET', '/credits')).status);
		expect(statuses.slice(0, 2)).toEqual([200, 200]);
		expect(statuses).toContain(429);
	});

	test('faults and config change at runtime over HTTP; counters over HTTP', async () => {
		const json = { 'content-type': 'application/json' };
		const put = await fetch(`${sandbox.url}/__sandbox/faults`, {
			method: 'PUT',
			headers: json,
			body: JSON.stringify({ routes: { 'GET /credits': { rate5xx: 1 } } }),
		});
		expect(put.status).toBe(200);
		expect([500, 502, 503]).toContain((await api('GET', '/credits')).status);
		const bad = await fetch(`${sandbox.url}/__sandbox/faults`, {
			method: 'PUT',
			headers: json,
			body: JSON.stringify({ global: { explode: 1 } }),
		});
		expect(bad.status).toBe(400);
		await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'PUT', headers: json, body: '{}' });
		const stats = await (await fetch(`${sandbox.url}/__sandbox/stats`)).json();
		expect(stats.requests['GET /credits']).toBeGreaterThan(0);
		expect(stats.talksCreated).toBeGreaterThan(0);
		expect(stats).toHaveProperty('webhooksSent');
	});

	test('garbage gets D-ID-style errors, never a crash', async () => {
		expect((await api('GET', '/nope')).body.kind).toBe('NotFoundError');
		expect((await api('POST', '/talks', [1, 2])).status).toBe(400);
		expect((await api('POST', '/talks', 'null')).status).toBe(400);
		expect((await api('GET', '/talks?limit=abc')).status).toBe(400);
		expect((await api('GET', '/talks?token=%%%')).status).toBe(400);
		expect(
			(await api('POST', '/images', 'not multipart', { 'content-type': 'text/plain' })).status,
		).toBe(415);
		expect((await api('GET', '/credits')).status).toBe(200);
	});
});

describe('the spec-strict profile (README "Profiles")', () => {
	let strict;
	const call = async (method, path, body) => {
		const res = await fetch(strict.url + path, {
			method,
			headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
			body: body ? JSON.stringify(body) : undefined,
		});
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
	};
	beforeAll(async () => {
		strict = createSandbox({
			profile: 'spec-strict',
			processing: { msPerSecond: 10, minMs: 60 },
			seed: 3,
			readLagMs: 0,
			lateCommitMs: [150, 150],
		});
		await strict.start();
	});
	afterAll(() => strict.stop());
	beforeEach(() => {
		strict.setFaults({});
		strict.configure({
			profile: 'spec-strict',
			readLagMs: 0,
			lateCommitMs: [150, 150],
			credits: 100,
		});
	});
	const TALK_SCHEMA =
		spec.paths['/talks/{id}'].get.responses['200'].content['application/json'].schema;
	const LIST_ITEM_SCHEMA =
		spec.paths['/talks'].get.responses['200'].content['application/json'].schema.properties.talks
			.items;

	test('talks and list items carry only the fields the spec lists: no user_data, no name', async () => {
		const created = await call('POST', '/talks', {
			...EXAMPLE_1,
			user_data: 'crm-1',
			name: 'n',
			webhook: 'https://myhost.com/hook',
		});
		expect(created.status).toBe(201);
		await sleep(200);
		const got = await call('GET', `/talks/${created.body.id}`);
		for (const key of Object.keys(got.body))
			expect(Object.keys(TALK_SCHEMA.properties)).toContain(key);
		expect(got.body).not.toHaveProperty('user_data');
		expect(got.body.webhook).toBe('https://myhost.com/hook');
		const list = await call('GET', '/talks');
		const item = list.body.talks.find((t) => t.id === created.body.id);
		for (const key of Object.keys(item))
			expect(Object.keys(LIST_ITEM_SCHEMA.properties)).toContain(key);
		for (const key of Object.keys(item.config))
			expect(Object.keys(LIST_ITEM_SCHEMA.properties.config.properties)).toContain(key);
		expect(item).not.toHaveProperty('name');
	});

	test('created_at without a Z, on a clock 3 s behind; the Date header on the same clock', async () => {
		const before = Date.now();
		const created = await call('POST', '/talks', EXAMPLE_1);
		expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
		const createdAt = Date.parse(`${created.body.created_at}Z`);
		expect(createdAt).toBeLessThan(before - 2000);
		expect(Date.parse(created.headers.get('date'))).toBeLessThan(before - 1000);
		strict.configure({ createdAtFormat: 'z', clockSkewMs: 0 });
		expect((await call('POST', '/talks', EXAMPLE_1)).body.created_at).toMatch(/Z$/);
	});

	test('list order: oldest-first, newest-first, shuffled; a token on every page, an empty page at the end', async () => {
		const ids = [];
		for (let i = 0; i < 5; i++) ids.push((await call('POST', '/talks', EXAMPLE_1)).body.id);
		const all = async () => {
			const seen = [];
			let token = '';
			for (let page = 0; page < 100; page++) {
				const res = await call('GET', `/talks?limit=3${token ? `&token=${token}` : ''}`);
				expect(res.body.token).toBeDefined();
				if (res.body.talks.length === 0) break;
				seen.push(...res.body.talks.map((t) => t.id));
				token = res.body.token;
			}
			return seen.filter((id) => ids.includes(id));
		};
		strict.configure({ listOrder: 'oldest-first' });
		expect(await all()).toEqual(ids);
		strict.configure({ listOrder: 'newest-first' });
		expect(await all()).toEqual([...ids].reverse());
		strict.configure({ listOrder: 'shuffled' });
		expect([...(await all())].sort()).toEqual([...ids].sort());
	});

	test('reads lag the webhook: GET says started while the webhook already said done', async () => {
		strict.configure({ readLagMs: 500 });
		const created = await call('POST', '/talks', EXAMPLE_1);
		expect((await call('GET', '/talks')).body.talks.map((t) => t.id)).not.toContain(
			created.body.id,
		);
		await sleep(250);
		const talk = strict.talk(created.body.id);
		expect(talk.finished).toBe(true);
		expect((await call('GET', `/talks/${created.body.id}`)).body.status).not.toBe('done');
		await sleep(500);
		expect((await call('GET', `/talks/${created.body.id}`)).body.status).toBe('done');
	});

	test('dropAfter, 500, 502 and 504 on POST /talks commit the talk after the answer; commit: never makes none', async () => {
		for (const fault of ['dropAfter', '500', '502', '504']) {
			const before = strict.stats().talksCreated;
			strict.addScriptedFaults({ route: 'POST /talks', fault });
			if (fault === 'dropAfter') await expect(call('POST', '/talks', EXAMPLE_1)).rejects.toThrow();
			else expect((await call('POST', '/talks', EXAMPLE_1)).status).toBe(Number(fault));
			expect(strict.stats().talksCreated).toBe(before);
			await sleep(300);
			expect(strict.stats().talksCreated).toBe(before + 1);
		}
		const before = strict.stats().talksCreated;
		strict.addScriptedFaults({ route: 'POST /talks', fault: '504', commit: 'never' });
		expect((await call('POST', '/talks', EXAMPLE_1)).status).toBe(504);
		await sleep(300);
		expect(strict.stats().talksCreated).toBe(before);
	});

	test('legacy fields are refused as the spec refuses them, unless legacy is on', async () => {
		for (const body of [
			{ ...EXAMPLE_1, driver_url: 'bank://lively/' },
			{ ...EXAMPLE_1, config: { sharpen: true } },
			{ ...EXAMPLE_1, persist: true },
		]) {
			const refused = await call('POST', '/talks', body);
			expect(refused.status).toBe(400);
			expect(JSON.stringify(refused.body)).toMatch(/unknown property/);
		}
		strict.configure({ legacy: true });
		for (const body of [
			{ ...EXAMPLE_1, driver_url: 'bank://lively/' },
			{ ...EXAMPLE_1, config: { sharpen: true } },
			{ ...EXAMPLE_1, persist: true },
		]) {
			expect((await call('POST', '/talks', body)).status).toBe(201);
		}
	});

	test('string lengths are counted in UTF-16 code units, as D-ID counts them', async () => {
		const emoji = '😀'.repeat(20_001); // 20,001 code points, 40,002 UTF-16 units
		const refused = await call('POST', '/talks', {
			...EXAMPLE_1,
			script: { type: 'text', input: emoji },
		});
		expect(refused.status).toBe(400);
		expect(JSON.stringify(refused.body)).toMatch(/body\.script\.input/);
		expect(
			(
				await call('POST', '/talks', {
					...EXAMPLE_1,
					script: { type: 'text', input: '😀'.repeat(20_000) },
				})
			).status,
		).toBe(201);
		strict.configure({ lengthUnits: 'code-points' });
		expect(
			(await call('POST', '/talks', { ...EXAMPLE_1, script: { type: 'text', input: emoji } }))
				.status,
		).toBe(201);
	});

	test('unknown profile settings are refused', () => {
		expect(() => createSandbox({ profile: 'lenient' })).toThrow(/unknown sandbox profile/);
		expect(() => strict.configure({ listOrder: 'random' })).toThrow(/listOrder/);
	});
});

describe('the sandbox as a server on the user’s machine', () => {
	const http = require('node:http');
	const { spawnSync } = require('node:child_process');
	const path = require('node:path');

	/** A raw request, so the Host header can be anything. */
	function raw(method, urlPath, headers = {}, body) {
		const { port } = new URL(sandbox.url);
		return new Promise((resolve, reject) => {
			const req = http.request(
				{ host: '127.0.0.1', port, method, path: urlPath, headers },
				(res) => {
					const chunks = [];
					res.on('data', (c) => chunks.push(c));
					res.on('end', () =>
						resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
					);
				},
			);
			req.on('error', reject);
			req.end(body);
		});
	}

	async function doneTalk() {
		const { body } = await api('POST', '/talks', EXAMPLE_1);
		return await waitDone(body.id);
	}

	test('a result over 4 GiB is served with a 64-bit MP4 box size, and the sandbox keeps running; over 64 GB is refused', async () => {
		const size = 5 * 1024 ** 3;
		sandbox.configure({ resultSizeBytes: size });
		const talk = await doneTalk();
		const controller = new AbortController();
		const res = await fetch(talk.result_url, { signal: controller.signal });
		expect(res.status).toBe(200);
		expect(Number(res.headers.get('content-length'))).toBe(size);
		const reader = res.body.getReader();
		const { value } = await reader.read();
		controller.abort();
		const head = Buffer.from(value);
		const at = head.lastIndexOf('free');
		expect(at).toBeGreaterThan(8);
		expect(head.readUInt32BE(at - 4)).toBe(1);
		expect(Number(head.readBigUInt64BE(at + 4))).toBe(size - (at - 4));
		expect((await api('GET', '/credits')).status).toBe(200);
		expect(() => sandbox.configure({ resultSizeBytes: 100 * 1024 ** 3 })).toThrow(/64 GB/);
		const cli = spawnSync(
			process.execPath,
			[path.join(__dirname, '..', 'sandbox', 'cli.js'), '--result-size', '100GB', '--port', '0'],
			{ encoding: 'utf8', timeout: 10_000 },
		);
		expect(cli.status).not.toBe(0);
		expect(cli.stderr).toMatch(/64 GB/);
	});

	test('--host refuses a non-loopback address unless --unsafe-listen-public is given', async () => {
		await expect(createSandbox({ host: '0.0.0.0' }).start()).rejects.toThrow(
			/refusing to listen on 0\.0\.0\.0.*--unsafe-listen-public/,
		);
		const cli = spawnSync(
			process.execPath,
			[path.join(__dirname, '..', 'sandbox', 'cli.js'), '--host', '0.0.0.0', '--port', '0'],
			{ encoding: 'utf8', timeout: 10_000 },
		);
		expect(cli.status).not.toBe(0);
		expect(cli.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/);
		const loopback = createSandbox({ host: '127.0.0.1' });
		await loopback.start();
		await loopback.stop();
	});

	test('the control API takes only JSON and only requests addressed to a loopback host', async () => {
		const before = sandbox.stats().faults;
		const plain = await raw(
			'PUT',
			'/__sandbox/faults',
			{ 'content-type': 'text/plain', host: new URL(sandbox.url).host },
			JSON.stringify({ global: { rate5xx: 1 } }),
		);
		expect(plain.status).toBe(415);
		expect((await api('GET', '/credits')).status).toBe(200);
		const talk = await doneTalk();
		for (const host of ['evil.example', 'evil.example:8765', '192.168.1.10']) {
			const rebound = await raw('GET', `/__sandbox/talks/${talk.id}/request`, { host });
			expect([host, rebound.status]).toEqual([host, 403]);
			expect(rebound.text).not.toContain('myhost.com');
			expect(
				(
					await raw(
						'PUT',
						'/__sandbox/faults',
						{ host, 'content-type': 'application/json' },
						'{"global":{"rate5xx":1}}',
					)
				).status,
			).toBe(403);
		}
		for (const host of [new URL(sandbox.url).host, `localhost:${new URL(sandbox.url).port}`]) {
			expect((await raw('GET', `/__sandbox/talks/${talk.id}/request`, { host })).status).toBe(200);
		}
		expect(sandbox.stats().faults).toEqual(before);
	});

	test('a signed result link does not work with another talk’s ID', async () => {
		const [a, b] = [await doneTalk(), await doneTalk()];
		const moved = a.result_url.replace(`/results/${a.id}/`, `/results/${b.id}/`);
		expect((await fetch(moved)).status).toBe(403);
		const renamed = moved.replace(`/${a.id}.mp4`, `/${b.id}.mp4`);
		expect((await fetch(renamed)).status).toBe(403);
		expect((await fetch(a.result_url)).status).toBe(200);
	});

	test('malformed % escapes and non-ASCII signatures get 4xx, never 500', async () => {
		const talk = await doneTalk();
		const url = new URL(talk.result_url);
		for (const pathname of ['/talks/%E0%A4%A', '/talks/%zz']) {
			const res = await raw('GET', pathname, auth);
			expect([pathname, res.status]).toEqual([pathname, 400]);
		}
		expect((await raw('DELETE', '/images/%zz', auth)).status).toBe(400);
		expect((await raw('GET', '/__sandbox/talks/%zz/request', { host: url.host })).status).toBe(400);
		const badEscape = await raw('GET', `/results/%zz/x.mp4${url.search}`);
		expect(badEscape.status).toBeGreaterThanOrEqual(400);
		expect(badEscape.status).toBeLessThan(500);
		const signature = url.searchParams.get('Signature');
		url.searchParams.set('Signature', 'é'.repeat(signature.length));
		const res = await fetch(url);
		expect(res.status).toBe(403);
	});

	test('unknown paths share one counter', async () => {
		const before = Object.keys(sandbox.stats().requests).length;
		for (let i = 0; i < 50; i++) await api('GET', `/unknown-${i}`);
		const keys = Object.keys(sandbox.stats().requests);
		expect(keys.length).toBeLessThanOrEqual(before + 1);
		expect(sandbox.stats().requests['GET (unknown route)']).toBeGreaterThanOrEqual(50);
	});
});
