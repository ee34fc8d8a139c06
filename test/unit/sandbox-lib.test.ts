/* The sandbox's pure parts: schema validation, fault decisions, multipart parsing, the POST /talks checks. */
/* eslint-disable @typescript-eslint/no-require-imports */
const { validate } = require('../../sandbox/lib/schema');
const { Faults } = require('../../sandbox/lib/faults');
const { createRandom } = require('../../sandbox/lib/prng');
const { parseMultipart, sniffMime } = require('../../sandbox/lib/multipart');
const { checkCreateTalk, scriptSeconds } = require('../../sandbox/lib/create-talk');

describe('schema validation (the subset of JSON Schema D-ID’s OpenAPI uses)', () => {
	const schema = {
		type: 'object',
		required: ['script'],
		additionalProperties: false,
		properties: {
			name: { type: 'string', minLength: 1, maxLength: 3 },
			count: { type: 'integer', format: 'int32', minimum: 0 },
			ratio: { type: 'number', maximum: 1, nullable: true },
			tags: { type: 'array', maxItems: 2, items: { type: 'string', pattern: '^[a-z]+$' } },
			script: {
				anyOf: [
					{
						type: 'object',
						required: ['input'],
						properties: { type: { type: 'string', enum: ['text'] }, input: { type: 'string' } },
					},
					{
						type: 'object',
						required: ['audio_url'],
						properties: {
							type: { type: 'string', enum: ['audio'] },
							audio_url: { type: 'string' },
						},
					},
				],
			},
		},
	};

	test('a valid value has no problems', () => {
		expect(
			validate(schema, {
				script: { type: 'text', input: 'hi' },
				name: 'abc',
				count: 3,
				ratio: null,
				tags: ['a'],
			}),
		).toEqual([]);
	});

	test('each keyword reports its own problem at a dotted path', () => {
		const problems = validate(schema, {
			script: { type: 'text', input: 'x' },
			name: 'abcd',
			count: 1.5,
			ratio: 2,
			tags: ['a', 'B', 'c'],
			extra: 1,
		});
		expect(problems).toEqual(
			expect.arrayContaining([
				{ path: 'body.name', message: 'must be at most 3 characters long' },
				{ path: 'body.count', message: 'must be of type integer' },
				{ path: 'body.ratio', message: 'must be <= 1' },
				{ path: 'body.tags', message: 'must have at most 2 items' },
				{ path: 'body.tags.1', message: 'must match pattern "^[a-z]+$"' },
				{ path: 'body.extra', message: 'is not allowed (unknown property)' },
			]),
		);
		expect(problems).toHaveLength(6);
	});

	test('a missing required property, and int32 bounds', () => {
		expect(validate(schema, { count: 2 ** 31 })).toEqual([
			{ path: 'body.script', message: 'is required' },
			{ path: 'body.count', message: 'must be a 32-bit integer' },
		]);
	});

	test('anyOf reports the branch its type names', () => {
		expect(validate(schema, { script: { type: 'audio' } })).toEqual([
			{ path: 'body.script.audio_url', message: 'is required' },
		]);
	});

	test('lengths count UTF-16 code units unless told to count code points', () => {
		const short = { type: 'string', maxLength: 2 };
		expect(validate(short, '😀😀')).toHaveLength(1);
		expect(validate(short, '😀😀', 'body', { lengthUnits: 'code-points' })).toEqual([]);
	});
});

describe('fault decisions', () => {
	test('scripted faults come first, in order, for their route', () => {
		const faults = new Faults(createRandom(1));
		faults.set({
			script: [
				{ fault: '503', route: 'GET /talks/{id}' },
				{ fault: 'dropAfter', commit: 'late' },
				{ fault: 429, retryAfterSec: 4 },
			],
		});
		expect(faults.decide('POST /talks')).toEqual({
			latencyMs: 0,
			action: 'dropAfter',
			commit: 'late',
		});
		expect(faults.decide('GET /talks/{id}')).toEqual({
			latencyMs: 0,
			action: { status: 503, retryAfterSec: 1 },
			commit: undefined,
		});
		expect(faults.decide('GET /credits')).toEqual({
			latencyMs: 0,
			action: { status: 429, retryAfterSec: 4 },
			commit: undefined,
		});
		expect(faults.decide('GET /credits')).toEqual({ latencyMs: 0 });
	});

	test('random faults are drawn per route from a seed: the same seed, the same faults', () => {
		const config = {
			global: { rate5xx: 0.3 },
			routes: { 'POST /talks': { rate429: 0.5, retryAfterSec: 2 } },
		};
		const run = () => {
			const faults = new Faults(createRandom(42));
			faults.set(config);
			return Array.from({ length: 50 }, (_, i) =>
				faults.decide(i % 2 ? 'POST /talks' : 'GET /talks'),
			);
		};
		const decisions = run();
		expect(run()).toEqual(decisions);
		const statuses = decisions.map((d) => d.action?.status).filter(Boolean);
		expect(statuses).toContain(429);
		expect(statuses.some((s) => s >= 500)).toBe(true);
		expect(decisions.filter((d, i) => i % 2 === 0).every((d) => d.action?.status !== 429)).toBe(
			true,
		);
	});

	test('a rate limit answers 429 with the seconds until a token is back', () => {
		const faults = new Faults(createRandom(1));
		faults.set({ rateLimit: { perSecond: 1, burst: 2 } });
		expect(faults.decide('GET /talks').action).toBeUndefined();
		expect(faults.decide('GET /talks').action).toBeUndefined();
		expect(faults.decide('GET /talks').action).toEqual({ status: 429, retryAfterSec: 1 });
	});

	test('unknown settings, faults and commits are refused', () => {
		const faults = new Faults(createRandom(1));
		expect(() => faults.set({ gloabl: {} })).toThrow(/unknown fault setting "gloabl"/);
		expect(() => faults.set({ global: { rate500: 1 } })).toThrow(/unknown fault "rate500"/);
		expect(() => faults.set({ script: [{ fault: '418' }] })).toThrow(
			/unknown scripted fault "418"/,
		);
		expect(() => faults.set({ script: [{ fault: '500', commit: 'maybe' }] })).toThrow(
			/unknown commit "maybe"/,
		);
	});

	test('webhook plans: dropped, duplicated, delayed', () => {
		const faults = new Faults(createRandom(1));
		faults.set({ webhooks: { dropRate: 1, duplicateRate: 1, delayMs: [100, 100] } });
		expect(faults.webhookPlan()).toEqual({ drop: true, duplicate: true, delayMs: 100 });
		faults.set({});
		expect(faults.webhookPlan()).toEqual({ drop: false, duplicate: false, delayMs: 0 });
	});
});

describe('multipart parsing', () => {
	const boundary = 'XyZ';
	const body = Buffer.concat([
		Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n`),
		Buffer.from(
			`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="face.png"\r\nContent-Type: IMAGE/PNG\r\n\r\n`,
		),
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x0d, 0x0a]),
		Buffer.from(`\r\n--${boundary}--\r\n`),
	]);

	test('parts with their names, file names, types and exact bytes (a CRLF inside the file kept)', () => {
		const parts = parseMultipart(body, `multipart/form-data; boundary=${boundary}`);
		expect(parts).toHaveLength(2);
		expect(parts[0]).toEqual({
			name: 'note',
			filename: undefined,
			contentType: undefined,
			data: Buffer.from('hello'),
		});
		expect(parts[1].name).toBe('image');
		expect(parts[1].filename).toBe('face.png');
		expect(parts[1].contentType).toBe('image/png');
		expect(parts[1].data).toEqual(
			Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x0d, 0x0a]),
		);
	});

	test('a quoted boundary is read; a body that is not multipart gives undefined', () => {
		expect(parseMultipart(body, `multipart/form-data; boundary="${boundary}"`)).toHaveLength(2);
		expect(parseMultipart(body, 'multipart/form-data')).toBeUndefined();
		expect(
			parseMultipart(Buffer.from('no parts here'), `multipart/form-data; boundary=${boundary}`),
		).toBeUndefined();
		expect(
			parseMultipart(body.subarray(0, 60), `multipart/form-data; boundary=${boundary}`),
		).toBeUndefined();
	});

	test('sniffMime tells the upload types apart by their first bytes', () => {
		expect(sniffMime(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
		expect(sniffMime(Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1'))).toBe('audio/wav');
		expect(sniffMime(Buffer.from('ID3\u0004', 'latin1'))).toBe('audio/mpeg');
		expect(sniffMime(Buffer.from('\0\0\0\u0018ftypmp42', 'latin1'))).toBe('video/mp4');
		expect(sniffMime(Buffer.from('<html>'))).toBeUndefined();
	});
});

describe('POST /talks checks', () => {
	const ctx = (extra = {}) => ({
		headers: {},
		plan: { stitch: true, subtitles: true },
		allowHttpLoopbackWebhooks: true,
		uploads: new Map(),
		legacy: 'overview',
		...extra,
	});
	const talk = (extra = {}) => ({
		source_url: 'https://example.com/face.jpg',
		script: { type: 'text', input: 'Hello there' },
		...extra,
	});
	const refusal = (body: unknown, context = ctx()) => {
		try {
			checkCreateTalk(body, context);
		} catch (error) {
			return error as {
				kind: string;
				status: number;
				details?: Record<string, { message: string }>;
			};
		}
		throw new Error('accepted');
	};

	test('a valid talk passes; a loopback http webhook only when allowed', () => {
		expect(() =>
			checkCreateTalk(talk({ webhook: 'http://127.0.0.1:5678/hook' }), ctx()),
		).not.toThrow();
		expect(
			refusal(
				talk({ webhook: 'http://127.0.0.1:5678/hook' }),
				ctx({ allowHttpLoopbackWebhooks: false }),
			).details,
		).toHaveProperty(['body.webhook']);
	});

	test('schema problems are a 400 ValidationError with tsoa-style details', () => {
		const error = refusal(talk({ script: { type: 'text', input: 'hi' } }));
		expect(error.kind).toBe('ValidationError');
		expect(error.status).toBe(400);
		expect(error.details?.['body.script.input'].message).toBe('must be at least 3 characters long');
	});

	test('legacy fields: accepted by the overview profile, refused by today’s spec', () => {
		expect(() =>
			checkCreateTalk(talk({ driver_url: 'bank://lively/driver-01' }), ctx()),
		).not.toThrow();
		expect(
			refusal(talk({ driver_url: 'bank://lively/driver-01' }), ctx({ legacy: false })).details?.[
				'body.driver_url'
			].message,
		).toMatch(/unknown property/);
		expect(refusal(talk({ driver_url: 'bank://lively/driver-99' })).kind).toBe('BadRequestError');
	});

	test('plan, external key, uploads and moderation markers', () => {
		expect(
			refusal(talk({ config: { stitch: true } }), ctx({ plan: { stitch: false, subtitles: true } }))
				.kind,
		).toBe('PermissionError');
		expect(refusal(talk(), ctx({ headers: { 'x-api-key-external': 'plain' } })).kind).toBe(
			'BadRequestError',
		);
		expect(refusal(talk({ source_url: 's3://bucket/unknown.jpg' })).kind).toBe('BadRequestError');
		expect(refusal(talk({ source_url: 'https://example.com/nsfw.jpg' })).status).toBe(451);
		expect(refusal(talk({ script: { type: 'text', input: 'say [moderate-me] now' } })).kind).toBe(
			'TextModerationError',
		);
	});

	test('scriptSeconds: about 150 words a minute plus pad_audio; audio by its upload', () => {
		expect(
			scriptSeconds(
				talk({
					script: { type: 'text', input: Array(25).fill('w').join(' ') },
					config: { pad_audio: 2 },
				}),
				new Map(),
			),
		).toBe(12);
		expect(
			scriptSeconds(
				{ script: { type: 'audio', audio_url: 's3://a' } },
				new Map([['s3://a', { duration: 7.5 }]]),
			),
		).toBe(7.5);
	});
});
