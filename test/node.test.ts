// The D-ID node in n8n's real engine against the sandbox over loopback.
import { createHash } from 'node:crypto';
import http from 'node:http';

import type { IDataObject } from 'n8n-workflow';

import { binaryBuffer, loadOptions, runNode, type NodeSpec } from './harness/engine';
import { credentialsFor, fixture, totalRequests } from './harness/sandbox';
import {
	createTalk,
	FILES_IN_VIDEO_OUT,
	IMAGE,
	otherTalks,
	TEST_SETTINGS,
	useSandbox,
} from './harness/suite';
import { VOICE_CONFIG_SENT } from './fixtures/elevenlabs';

const { sandbox, run } = useSandbox({ settings: TEST_SETTINGS });
const lastTalk = () => sandbox.talks().at(-1)!;
/** The sandbox's record of each output item's talk, in item order (fails when an item has none). */
const talksOf = (items: Array<{ json: IDataObject }>) =>
	items.map((item) => {
		const talk = sandbox.talk(String(item.json.id));
		expect([item.json.id, talk]).toEqual([
			item.json.id,
			expect.objectContaining({ id: item.json.id }),
		]);
		return talk;
	});

describe("the Talks overview's seven examples, body checked field for field", () => {
	test('#1 default call sends exactly source_url and the text script', async () => {
		const { items, error } = await run(createTalk({}));
		expect(error).toBeUndefined();
		expect(items[0].json).toMatchObject({ id: lastTalk().id, object: 'talk', status: 'created' });
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			script: { type: 'text', input: 'Hello world!' },
		});
	});

	test('#2 webhook', async () => {
		const received: IDataObject[] = [];
		const server = http.createServer((req, res) => {
			let data = '';
			req.on('data', (c) => (data += c));
			req.on('end', () => {
				received.push(JSON.parse(data));
				res.end();
			});
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
		const webhook = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhook`;
		const { items } = await run(
			createTalk({
				waitForCompletion: true,
				downloadVideo: false,
				additionalFields: { webhookUrl: webhook },
			}),
		);
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			script: { type: 'text', input: 'Hello world!' },
			webhook,
		});
		for (let i = 0; i < 50 && !received.length; i++) await new Promise((r) => setTimeout(r, 20));
		expect(received[0]).toMatchObject({ id: items[0].json.id, status: 'done' });
		server.close();
	});

	test('#3 stitch', async () => {
		await run(createTalk({ videoOptions: { stitch: true } }));
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			script: { type: 'text', input: 'Hello world!' },
			config: { stitch: true },
		});
	});

	test.each([
		['text-to-speech with provider, voice and style', 'Cheerful'],
		[
			'with the style as GET /tts/voices lists it ("cheerful"): sent as the overview writes it',
			'cheerful',
		],
	])('#4 %s', async (_title, style) => {
		await run(
			createTalk({
				provider: 'microsoft',
				voice: { __rl: true, mode: 'list', value: 'en-US-JennyNeural' },
				microsoftVoice: { style },
			}),
		);
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			script: {
				type: 'text',
				input: 'Hello world!',
				provider: {
					type: 'microsoft',
					voice_id: 'en-US-JennyNeural',
					voice_config: { style: 'Cheerful' },
				},
			},
		});
	});

	test('#4 the Style dropdown offers the saved spelling, either one, so the editor shows no warning', async () => {
		const styles = async (style?: string) => {
			const microsoftVoice = style === undefined ? {} : { style };
			const parameters = {
				...createTalk({}).parameters,
				provider: 'microsoft',
				voice: { __rl: true, mode: 'list', value: 'en-US-JennyNeural' },
				microsoftVoice,
			};
			return await loadOptions(
				'getVoiceStyles',
				parameters,
				credentialsFor(sandbox),
				'parameters.microsoftVoice.style',
			);
		};
		const fresh = await styles();
		expect(fresh[0]).toEqual({ name: 'Default', value: '' });
		expect(fresh).toContainEqual({ name: 'Cheerful', value: 'Cheerful' });
		expect(fresh).toContainEqual({ name: 'Customerservice', value: 'Customerservice' });
		expect(await styles('Cheerful')).toContainEqual({ name: 'Cheerful', value: 'Cheerful' });
		const lower = await styles('cheerful');
		expect(lower).toContainEqual({ name: 'Cheerful', value: 'cheerful' });
		expect(lower.filter((option) => option.name === 'Cheerful')).toHaveLength(1);
		// Each option value is what the dropdown saves and what Create then sends.
		expect(new Set(fresh.map((option) => option.value)).size).toBe(fresh.length);
	});

	test('#5 audio script', async () => {
		await run(
			createTalk({
				scriptType: 'audio',
				audioSource: 'url',
				audioUrl: 'https://path.to/audio.mp3',
			}),
		);
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			script: { type: 'audio', audio_url: 'https://path.to/audio.mp3' },
		});
	});

	test('#6 driver from the bank', async () => {
		await run(createTalk({ driver: 'bank', bankDriver: 'lively/driver-05' }));
		expect(lastTalk().request).toEqual({
			source_url: IMAGE,
			driver_url: 'bank://lively/driver-05',
			script: { type: 'text', input: 'Hello world!' },
		});
	});

	test('#7 expressions', async () => {
		const { items, error } = await run(
			createTalk({
				waitForCompletion: true,
				downloadVideo: false,
				expressions: {
					expression: [
						{ startFrame: 0, expression: 'happy', intensity: 1 },
						{ startFrame: 20, expression: 'serious', intensity: 0.6 },
					],
				},
				videoOptions: { transitionFrames: 10 },
			}),
		);
		expect(error).toBeUndefined();
		expect(items[0].json.status).toBe('done');
		expect(lastTalk().request.config).toEqual({
			driver_expressions: {
				expressions: [
					{ start_frame: 0, expression: 'happy', intensity: 1 },
					{ start_frame: 20, expression: 'serious', intensity: 0.6 },
				],
				transition_frames: 10,
			},
		});
	});

	test('every option at once: provider settings, config, legacy flags, other fields, own ElevenLabs key', async () => {
		await run(
			createTalk({
				ssml: true,
				text: '<speak>Hello <break time="1s"/> world</speak>',
				provider: 'elevenlabs',
				voice: { __rl: true, mode: 'id', value: '21m00Tcm4TlvDq8ikWAM' },
				elevenLabsVoice: {
					modelId: 'eleven_turbo_v2_5',
					stability: 0.4,
					similarityBoost: 0.8,
					rate: '0.9',
					style: '0.2',
					useSpeakerBoost: false,
					language: 'English (United States)',
					externalApiKey: 'el-secret',
				},
				driver: 'custom',
				customDriverUrl: 'https://example.com/driver.mp4',
				videoOptions: {
					stitch: false,
					fluent: true,
					padAudio: 1.5,
					resultFormat: 'mov',
					subtitles: true,
					logoUrl: 'https://example.com/logo.png',
					logoX: 10,
					logoY: -20,
				},
				legacyOptions: {
					alignDriver: false,
					alignExpandFactor: 0.5,
					autoMatch: true,
					motionFactor: 1.2,
					normalizationFactor: 0.9,
					sharpen: false,
				},
				additionalFields: {
					name: 'welcome',
					userData: '{"crm":42}',
					resultUrl: 'https://bucket.example.com/out/',
				},
			}),
		);
		const talk = lastTalk();
		expect(talk.request).toEqual({
			source_url: IMAGE,
			driver_url: 'https://example.com/driver.mp4',
			script: {
				type: 'text',
				input: '<speak>Hello <break time="1s"/> world</speak>',
				ssml: true,
				subtitles: true,
				provider: {
					type: 'elevenlabs',
					voice_id: '21m00Tcm4TlvDq8ikWAM',
					model_id: 'eleven_turbo_v2_5',
					language: 'English (United States)',
					voice_config: VOICE_CONFIG_SENT,
				},
			},
			config: {
				stitch: false,
				fluent: true,
				pad_audio: 1.5,
				result_format: 'mov',
				logo: { url: 'https://example.com/logo.png', position: [10, -20] },
				align_driver: false,
				align_expand_factor: 0.5,
				auto_match: true,
				motion_factor: 1.2,
				normalization_factor: 0.9,
				sharpen: false,
			},
			name: 'welcome',
			user_data: '{"crm":42}',
			result_url: 'https://bucket.example.com/out/',
		});
		// The own-key header reached D-ID (the sandbox keeps it redacted).
		expect(talk.requestHeaders['x-api-key-external']).toBe('<redacted>');
	});
});

describe('files in and out', () => {
	test('image and audio from binaries are uploaded; the video comes back with the bytes the sandbox served', async () => {
		const { items, error } = await run(
			createTalk({ ...FILES_IN_VIDEO_OUT, imageBinaryProperty: 'photo' }),
			[
				{
					binary: {
						photo: {
							data: fixture('portrait.jpg'),
							fileName: 'portrait.jpg',
							mimeType: 'image/jpeg',
						},
						voice: { data: fixture('speech.wav'), fileName: 'speech.wav', mimeType: 'audio/wav' },
					},
				},
			],
		);
		expect(error).toBeUndefined();
		const talk = lastTalk();
		expect(String(talk.request.source_url)).toMatch(/^s3:\/\/.*portrait\.jpg$/);
		expect(String((talk.request.script as IDataObject).audio_url)).toMatch(/^s3:\/\//);
		const video = items[0].binary!.video;
		expect(video).toMatchObject({ fileName: `${talk.id}.mp4`, mimeType: 'video/mp4' });
		const bytes = await binaryBuffer(items[0], 'video');
		expect(createHash('sha256').update(bytes).digest('hex')).toBe(
			await sandbox.resultDigest(talk.id),
		);
	});

	test('a large MOV result is streamed into binary storage byte for byte', async () => {
		sandbox.configure({ resultSizeBytes: 24 * 1024 * 1024 });
		try {
			const { items } = await run(
				createTalk({
					waitForCompletion: true,
					downloadVideo: true,
					videoOptions: { resultFormat: 'mov' },
				}),
			);
			const talk = lastTalk();
			expect(items[0].binary!.data).toMatchObject({
				fileName: `${talk.id}.mov`,
				mimeType: 'video/quicktime',
			});
			const bytes = await binaryBuffer(items[0]);
			expect(bytes.length).toBe(24 * 1024 * 1024);
			expect(createHash('sha256').update(bytes).digest('hex')).toBe(
				await sandbox.resultDigest(talk.id),
			);
		} finally {
			sandbox.configure({ resultSizeBytes: 0 });
		}
	});
});

describe('many items', () => {
	const texts = [
		'One two three four five six seven eight nine ten eleven twelve.',
		'Short one.',
		'A medium length sentence with some words.',
		'Hi there you.',
		'Another fairly long sentence that takes a while to say out loud.',
		'Bye now all.',
	];
	/** Creates a talk per text and waits for them all (no download). */
	const runBatch = (parameters: IDataObject = {}) =>
		run(
			createTalk({
				text: '={{ $json.text }}',
				waitForCompletion: true,
				downloadVideo: false,
				...parameters,
			}),
			texts.map((text) => ({ json: { text } })),
		);

	test('N items are created together and waited for concurrently; output in input order, paired', async () => {
		// Long enough that creating six talks cannot outlast the shortest render on a busy machine.
		sandbox.configure({ processing: { msPerSecond: 40, minMs: 600 } });
		const { items, error } = await runBatch();
		expect(error).toBeUndefined();
		expect(items).toHaveLength(texts.length);
		const talks = talksOf(items);
		items.forEach((item, i) => {
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.json.status).toBe('done');
			expect((talks[i].request.script as IDataObject).input).toBe(texts[i]);
		});
		// All talks were created before any finished: they ran side by side, not one after another.
		const records = talks as unknown as Array<{ createdAt: number; doneAt: number }>;
		expect(Math.max(...records.map((r) => r.createdAt))).toBeLessThan(
			Math.min(...records.map((r) => r.doneAt)),
		);
	});

	test('several talks waiting are looked at with one list request per look, not one request per talk', async () => {
		sandbox.configure({ processing: { msPerSecond: 1000, minMs: 2500 } });
		sandbox.resetStats();
		const { items, error } = await runBatch();
		expect(error).toBeUndefined();
		expect(items.map((item) => item.json.status)).toEqual(texts.map(() => 'done'));
		const { requests } = sandbox.stats();
		expect(requests['GET /talks/{id}'] ?? 0).toBe(0);
		// Renders of 2.5–5 s, looked at every 1–2 s: a handful of list requests for all six talks.
		expect(requests['GET /talks']).toBeGreaterThanOrEqual(2);
		expect(requests['GET /talks']).toBeLessThanOrEqual(8);
	});

	test('a single talk is checked with GET /talks/{id}', async () => {
		sandbox.configure({ processing: { msPerSecond: 10, minMs: 1500 } });
		sandbox.resetStats();
		const { error } = await run(createTalk({ waitForCompletion: true, downloadVideo: false }));
		expect(error).toBeUndefined();
		expect(sandbox.stats().requests['GET /talks'] ?? 0).toBe(0);
		expect(sandbox.stats().requests['GET /talks/{id}']).toBeGreaterThanOrEqual(1);
	});

	test('Max Concurrent Talks bounds how many are in flight', async () => {
		sandbox.configure({ processing: { msPerSecond: 10, minMs: 150 } });
		const { items, error } = await runBatch({ options: { maxConcurrency: 2 } });
		expect(error).toBeUndefined();
		expect(items.map((item) => item.json.status)).toEqual(texts.map(() => 'done'));
		// The talks of this run (by the IDs it output), not whatever the sandbox made last.
		const records = talksOf(items) as unknown as Array<{ createdAt: number; doneAt: number }>;
		expect(records.map((r, i) => (talksOf(items)[i].request.script as IDataObject).input)).toEqual(
			texts,
		);
		for (const r of records) {
			const overlapping = records.filter(
				(o) => o.createdAt <= r.createdAt && o.doneAt > r.createdAt,
			);
			expect(overlapping.length).toBeLessThanOrEqual(2);
		}
	});
});

describe('get, wait, list, delete, credits', () => {
	test('Get and Wait by ID (Wait downloads the video)', async () => {
		const created = await run(createTalk({}));
		const id = created.items[0].json.id as string;
		const got = await run({ parameters: { resource: 'talk', operation: 'get', talkId: id } });
		expect(got.items[0].json.id).toBe(id);
		const waited = await run({ parameters: { resource: 'talk', operation: 'wait', talkId: id } });
		expect(waited.items[0].json).toMatchObject({ id, status: 'done' });
		expect(waited.items[0].binary!.data.fileName).toBe(`${id}.mp4`);
	});

	test('List: Return All follows the token pages; Limit stops early', async () => {
		await otherTalks(sandbox, 210, 'https://myhost.com/paging.jpg', 'Paging test.');
		const existing = sandbox
			.talks()
			.filter((t) => !(t as unknown as { deleted: boolean }).deleted).length;
		sandbox.resetStats();
		const all = await run({ parameters: { resource: 'talk', operation: 'list', returnAll: true } });
		expect(all.items).toHaveLength(existing);
		expect(new Set(all.items.map((i) => i.json.id)).size).toBe(existing);
		expect(sandbox.stats().requests['GET /talks']).toBe(Math.ceil(existing / 100));
		sandbox.resetStats();
		const some = await run({
			parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: 150 },
		});
		expect(some.items).toHaveLength(150);
		expect(sandbox.stats().requests['GET /talks']).toBe(2);
	});

	test('Delete a finished talk; deleting one still processing says what to do', async () => {
		const done = await run(createTalk({ waitForCompletion: true, downloadVideo: false }));
		const deleted = await run({
			parameters: { resource: 'talk', operation: 'delete', talkId: done.items[0].json.id },
		});
		expect(deleted.items[0].json).toMatchObject({ id: done.items[0].json.id, deleted: true });

		sandbox.configure({ processing: { msPerSecond: 10, minMs: 5000 } });
		const busy = await run(createTalk({}));
		const refused = await run({
			parameters: { resource: 'talk', operation: 'delete', talkId: busy.items[0].json.id },
		});
		expect(refused.error?.message).toBe(`Talk ${busy.items[0].json.id} is still processing`);
		expect(refused.error?.description).toMatch(/Talk → Wait/);
	});

	test('Credits → Get', async () => {
		sandbox.configure({ credits: 77 });
		const { items } = await run({ parameters: { resource: 'credits', operation: 'get' } });
		expect(items[0].json).toMatchObject({ remaining: 77, total: 77 });
	});
});

describe('D-ID errors become NodeApiErrors that say what to do', () => {
	const cases: Array<[string, () => void, NodeSpec, RegExp, string?]> = [
		['401 wrong key', () => {}, createTalk({}), /D-ID refused the API key/, 'AuthorizationError'],
		[
			'402 no credits',
			() => sandbox.configure({ credits: 0 }),
			createTalk({}),
			/Not enough D-ID credits/,
			'InsufficientCreditsError',
		],
		[
			'403 plan without stitch',
			() => sandbox.configure({ plan: { stitch: false } }),
			createTalk({ videoOptions: { stitch: true } }),
			/plan does not allow this: user has no permission for stitch/,
			'PermissionError',
		],
		[
			'451 text moderation',
			() => {},
			createTalk({ text: 'Please [moderate-me] now' }),
			/content moderation refused the text/,
			'TextModerationError',
		],
		[
			'404 unknown talk',
			() => {},
			{ parameters: { resource: 'talk', operation: 'get', talkId: 'tlk_nope' } },
			/D-ID has no talk with ID tlk_nope/,
			'NotFoundError',
		],
		[
			'failed talk (no face)',
			() => {},
			createTalk({ imageUrl: 'https://x.com/no-face.jpg', waitForCompletion: true }),
			/D-ID could not make talk tlk_\S+ \(error\): FaceError/,
			'FaceError',
		],
		[
			'rejected talk',
			() => {},
			createTalk({ imageUrl: 'https://x.com/rejected-image.jpg', waitForCompletion: true }),
			/\(rejected\): ContentModerationError/,
			'ContentModerationError',
		],
	];
	test.each(cases)('%s', async (name, setup, spec, message, kind) => {
		setup();
		const credentials = name.startsWith('401')
			? { apiKey: 'wrong:key', baseUrl: sandbox.url }
			: credentialsFor(sandbox);
		const { error } = await run(spec, undefined, credentials);
		expect(error?.message).toMatch(message);
		expect(error?.context?.kind).toBe(kind);
		expect(error?.context?.itemIndex).toBe(0);
		expect(JSON.stringify(error)).not.toContain(sandbox.apiKey);
		expect(`${error?.message} ${error?.description}`).not.toContain(credentials.apiKey);
	});

	test('Continue On Fail: a failed item becomes an error item paired with it; the others go on', async () => {
		const { items, error } = await run(
			{
				...createTalk({
					imageUrl: '={{ $json.image }}',
					waitForCompletion: true,
					downloadVideo: false,
				}),
				continueOnFail: true,
			},
			[
				{ json: { image: IMAGE } },
				{ json: { image: 'https://x.com/no-face.jpg' } },
				{ json: { image: 'ftp://bad' } },
				{ json: { image: IMAGE } },
			],
		);
		expect(error).toBeUndefined();
		expect(items.map((i) => i.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(items[0].json.status).toBe('done');
		expect(items[1].json).toMatchObject({
			kind: 'FaceError',
			error: expect.stringMatching(/could not make talk/),
		});
		expect(items[2].json.error).toMatch(/Invalid "Image URL" in item 3/);
		expect(items[3].json.status).toBe('done');
	});
});

describe('transient failures', () => {
	test('429 with Retry-After, 5xx and dropped connections on reads are retried; 503 on create is retried', async () => {
		sandbox.addScriptedFaults([
			{ route: 'POST /talks', fault: '503' },
			{ route: 'POST /talks', fault: '429', retryAfterSec: 1 },
			{ route: 'GET /talks/{id}', fault: '500' },
			{ route: 'GET /talks/{id}', fault: 'dropAfter' },
			{ route: 'GET /results/{id}/{file}', fault: 'dropBefore' },
		]);
		const before = sandbox.stats().talksCreated;
		const { items, error } = await run(
			createTalk({ waitForCompletion: true, downloadVideo: true }),
		);
		expect(error).toBeUndefined();
		expect(items[0].json.status).toBe('done');
		expect(sandbox.stats().talksCreated).toBe(before + 1);
		expect((await binaryBuffer(items[0])).length).toBeGreaterThan(1000);
	});

	test('a connection dropped after POST /talks: the node finds the talk D-ID made, and makes no second one', async () => {
		sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter' });
		const before = sandbox.stats().talksCreated;
		const { items, error } = await run(createTalk({ additionalFields: { userData: 'crm-1' } }));
		expect(error).toBeUndefined();
		expect(sandbox.stats().talksCreated).toBe(before + 1);
		expect(items[0].json.id).toBe(lastTalk().id);
		expect(items[0].json.user_data).toBe('crm-1');
	});

	test('a connection dropped before D-ID took POST /talks: the node finds no talk and sends it again', async () => {
		sandbox.addScriptedFaults([{ route: 'POST /talks', fault: 'dropBefore' }]);
		const before = sandbox.stats().talksCreated;
		const { items, error } = await run(createTalk({}));
		expect(error).toBeUndefined();
		expect(sandbox.stats().talksCreated).toBe(before + 1);
		expect(items[0].json.id).toBe(lastTalk().id);
		expect(sandbox.stats().requests['GET /talks']).toBeGreaterThanOrEqual(2);
	}, 90_000); // each failure is looked up for LOOK_FOR_MS (a talk may be committed late) before it is sent again

	test('two items sent with the same fields, both dropped after sending: no guess, no second talk, the candidates named', async () => {
		sandbox.addScriptedFaults([
			{ route: 'POST /talks', fault: 'dropAfter' },
			{ route: 'POST /talks', fault: 'dropAfter' },
		]);
		const before = new Set(sandbox.talks().map((t) => t.id));
		const { items } = await run(createTalk({}, { continueOnFail: true }), [
			{ json: {} },
			{ json: {} },
		]);
		const made = sandbox
			.talks()
			.filter((t) => !before.has(t.id))
			.map((t) => t.id);
		expect(made).toHaveLength(2);
		// Both were sent together and both answers were lost: neither item can tell which talk is its
		// own, so each fails naming both, and neither takes one.
		expect(items).toHaveLength(2);
		for (const item of items) {
			expect(item.json.id).toBeUndefined();
			expect(String(item.json.error)).toMatch(/the talk may have been created: tlk_/);
			for (const id of made) expect(String(item.json.error)).toContain(id);
			expect(String(item.json.description)).toMatch(/Wait for it with Talk → Wait/);
		}
	});
});

describe('bad input is refused before any request, naming the field and the item', () => {
	// Field by field, every operation: test/bad-input.test.ts (the table in docs/BAD-INPUT.md).

	test('an http webhook is refused when the credential points at D-ID itself (no request sent)', async () => {
		const { error } = await run(
			createTalk({ additionalFields: { webhookUrl: 'http://n8n.example.com/webhook/x' } }),
			undefined,
			{ apiKey: 'k:s', baseUrl: 'https://api.d-id.com' },
		);
		expect(error?.message).toMatch(
			/Invalid "Webhook URL" in item 1: "http:\/\/n8n.example.com\/webhook\/x" is not an https:\/\/ address/,
		);
		expect(error?.description).toMatch(/WEBHOOK_URL/);
	});

	test('a bad third item stops the batch before any talk is created', async () => {
		const before = totalRequests(sandbox);
		const { error } = await run(createTalk({ text: '={{ $json.text }}' }), [
			{ json: { text: 'Fine text.' } },
			{ json: { text: 'Also fine.' } },
			{ json: { text: '' } },
		]);
		expect(error?.message).toMatch(/Invalid "Text" in item 3/);
		expect(error?.context?.itemIndex).toBe(2);
		expect(totalRequests(sandbox)).toBe(before);
	});
});

test('cancelling the execution stops waiting at once and sends no more requests', async () => {
	sandbox.configure({ processing: { msPerSecond: 10, minMs: 20_000 } });
	const started = Date.now();
	const result = await runNode(createTalk({ waitForCompletion: true }), {
		credentials: credentialsFor(sandbox),
		cancelAfterMs: 1500,
	});
	const stoppedAfter = Date.now() - started;
	expect(result.items).toHaveLength(0);
	expect(stoppedAfter).toBeLessThan(15_000); // far below the 20 s render: the wait did not run on
	const polls = sandbox.stats().requests['GET /talks/{id}'] ?? 0;
	await new Promise((r) => setTimeout(r, 2500));
	expect(sandbox.stats().requests['GET /talks/{id}'] ?? 0).toBe(polls);
});

describe('the API key pasted into a field', () => {
	test('the refusal that quotes the field does not repeat the key (nor under Continue On Fail)', async () => {
		const credentials = credentialsFor(sandbox);
		const key = String(credentials.apiKey);
		const { error } = await run(createTalk({ imageUrl: key }), undefined, credentials);
		expect(error?.message).toMatch(/^Invalid "Image URL" in item 1/);
		expect(
			JSON.stringify({ message: error?.message, description: error?.description }),
		).not.toContain(key);
		const { items } = await run(
			createTalk({ imageUrl: key }, { continueOnFail: true }),
			undefined,
			credentials,
		);
		expect(items[0].json.error).toMatch(/^Invalid "Image URL" in item 1/);
		expect(JSON.stringify(items)).not.toContain(key);
		expect(JSON.stringify(items)).toContain('[redacted]');
	});
});

describe('Wait Mode "Webhook" (engine level; the waiting itself is tested in real n8n: test/e2e/webhook-wait.e2e.js)', () => {
	test('against the real D-ID, an http resume URL is refused before any request', async () => {
		const requestsBefore = totalRequests(sandbox);
		const { error } = await run(
			createTalk({ waitForCompletion: true, waitMode: 'webhook' }),
			undefined,
			{
				apiKey: 'user:secret',
				baseUrl: 'https://api.d-id.com',
			},
		);
		expect(error?.message).toMatch(
			/^Invalid "Wait Mode" in item 1: D-ID cannot call this n8n back at http:\/\/127\.0\.0\.1:5678\/webhook-waiting\/\S+$/,
		);
		expect(error?.description).toMatch(
			/set WEBHOOK_URL to n8n’s public https address, or use Wait Mode "Poll"/,
		);
		expect(totalRequests(sandbox)).toBe(requestsBefore);
	});

	test('a Webhook URL of its own conflicts with Wait Mode "Webhook" (the node needs the talk’s webhook)', async () => {
		const requestsBefore = totalRequests(sandbox);
		const { error } = await run(
			createTalk({
				waitForCompletion: true,
				waitMode: 'webhook',
				additionalFields: { webhookUrl: 'http://127.0.0.1:1/hook' },
			}),
			[{ json: {} }, { json: {} }],
		);
		expect(error?.message).toMatch(
			/^Invalid "Webhook URL" in item 1: it is set while Wait Mode is Webhook/,
		);
		expect(totalRequests(sandbox)).toBe(requestsBefore);
	});

	test('n8n cannot reach its own resume URL: no talk is created and the run fails saying what to set (input is never passed through)', async () => {
		// The harness's resume URL is http://127.0.0.1:5678/webhook-waiting/…, where nothing listens.
		const before = sandbox.stats().talksCreated;
		const { run: result, error } = await run(
			createTalk({ waitForCompletion: true, waitMode: 'webhook' }),
			[{ json: {} }, { json: {} }],
		);
		expect(error?.message).toMatch(
			/^n8n cannot reach its own resume URL http:\/\/127\.0\.0\.1:5678\/webhook-waiting\/\S+ \(connection refused\); no talk was created$/,
		);
		expect(error?.description).toMatch(
			/Make WEBHOOK_URL reachable from the n8n processes too .* or use Wait Mode "Poll"/,
		);
		expect(result.status).not.toBe('waiting');
		expect(sandbox.stats().talksCreated).toBe(before);
	});

	test('… and under Continue On Fail every item carries that error (nothing created, nothing waits)', async () => {
		const before = sandbox.stats().talksCreated;
		const {
			items,
			error,
			run: result,
		} = await run(
			createTalk({ waitForCompletion: true, waitMode: 'webhook' }, { continueOnFail: true }),
			[{ json: {} }, { json: {} }],
		);
		expect(error).toBeUndefined();
		expect(result.status).not.toBe('waiting');
		expect(items).toHaveLength(2);
		for (const [index, item] of items.entries()) {
			expect(item.json.error).toMatch(/^n8n cannot reach its own resume URL/);
			expect(item.pairedItem).toEqual({ item: index });
		}
		expect(sandbox.stats().talksCreated).toBe(before);
	});

	test('Wait for Completion off for one item while the first item waits with Wait Mode "Webhook": refused before any request', async () => {
		const before = totalRequests(sandbox);
		const { error } = await run(
			createTalk({ waitForCompletion: '={{ $json.wait }}', waitMode: 'webhook' }),
			[{ json: { wait: true } }, { json: { wait: false } }],
		);
		expect(error?.message).toMatch(
			/^Invalid "Wait for Completion" in item 2: it is off for this item while the node waits with Wait Mode "Webhook"/,
		);
		expect(totalRequests(sandbox)).toBe(before);
	});
});
