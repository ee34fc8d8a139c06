// Credits before the batch (Check Credits First), the credits each finished talk used, and the
// clean-up of what D-ID keeps (uploads, talks): the D-ID node in n8n's engine against the sandbox.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { estimateTalk, textSeconds, WORDS_PER_MINUTE } from '../nodes/DId/helpers/credits';
import { type InputItem, type NodeSpec } from './harness/engine';
import { fixture, ROOT } from './harness/sandbox';
import { createTalk, FILES_IN_VIDEO_OUT, TEST_SETTINGS, useSandbox } from './harness/suite';

const { sandbox, run } = useSandbox({
	settings: { ...TEST_SETTINGS, processing: { msPerSecond: 1, minMs: 30, rangeMs: undefined } },
	resetStats: true,
});
/** Create Talk reading each item's text. */
const create = (parameters: IDataObject, extra: Partial<NodeSpec> = {}) =>
	createTalk({ text: '={{ $json.text }}', ...parameters }, extra);
const requests = (route: string) => sandbox.stats().requests[route] ?? 0;
const words = (n: number) => Array.from({ length: n }, (_, k) => `word${k}`).join(' ');
const photo = (name = 'portrait.jpg'): InputItem['binary'] => ({
	data: { data: fixture('portrait.jpg'), fileName: name, mimeType: 'image/jpeg' },
});

describe('Check Credits First', () => {
	test('a batch whose estimate exceeds the remaining credits creates nothing (no upload, no talk) and says why', async () => {
		// 4 items of 400 words: at least 3 credits each at D-ID's pace; 10 credits remain.
		sandbox.configure({ credits: 10 });
		const items = Array.from({ length: 4 }, () => ({
			json: { text: words(400) },
			binary: photo(),
		}));
		const { error } = await run(create({ imageSource: 'binary' }), items);
		expect(error?.message).toMatch(
			/Not enough D-ID credits for this run: it needs an estimated (\d+) credits for 4 talks .* D-ID reports 10 remaining\. No talk was created\./,
		);
		expect(Number(/estimated (\d+)/.exec(error!.message)![1])).toBeGreaterThan(10);
		expect(error?.description).toMatch(/Split the batch .*top up/);
		expect(requests('GET /credits')).toBe(1);
		expect(requests('POST /talks')).toBe(0);
		expect(requests('POST /images')).toBe(0);
		expect(sandbox.stats().credits.remaining).toBe(10);
	});

	test('audio binaries are measured from their first bytes (n8n binary storage), before any upload', async () => {
		sandbox.configure({ credits: 1 });
		const voice = { data: fixture('speech.wav'), fileName: 'speech.wav', mimeType: 'audio/wav' };
		const { error } = await run(create({ scriptType: 'audio', audioSource: 'binary' }), [
			{ json: {}, binary: { data: voice } },
			{ json: {}, binary: { data: voice } },
		]);
		expect(error?.message).toMatch(
			/needs an estimated 2 credits for 2 talks .* D-ID reports 1 remaining/,
		);
		expect(error?.description).toMatch(/based on: audio file header/);
		expect(requests('POST /audios')).toBe(0);
	});

	test('under Continue On Fail every item carries the refusal and nothing is created', async () => {
		sandbox.configure({ credits: 2 });
		const { items, error } = await run(create({}, { continueOnFail: true }), [
			{ json: { text: words(400) } },
			{ json: { text: words(400) } },
		]);
		expect(error).toBeUndefined();
		expect(items).toHaveLength(2);
		for (const item of items) expect(String(item.json.error)).toMatch(/Not enough D-ID credits/);
		expect(requests('POST /talks')).toBe(0);
	});

	test('a batch that fits runs, after one GET /credits; each finished talk reports the credits D-ID charged', async () => {
		sandbox.configure({ credits: 20 });
		const texts = [words(10), words(60), words(200)];
		const { items, error } = await run(
			create({ waitForCompletion: true, downloadVideo: false }),
			texts.map((text) => ({ json: { text } })),
		);
		expect(error).toBeUndefined();
		expect(requests('GET /credits')).toBe(1);
		expect(items).toHaveLength(3);
		for (const item of items) {
			const talk = sandbox.talk(String(item.json.id)) as unknown as { credits: number };
			expect(item.json.credits_used).toBe(talk.credits);
		}
		expect(items.map((item) => item.json.credits_used)).toEqual([1, 2, 6]);
		expect(sandbox.stats().credits.remaining).toBe(20 - 9);
	});

	test('one item does not check by default; Always checks it, Never skips a batch', async () => {
		await run(create({}), [{ json: { text: 'Hello world!' } }]);
		expect(requests('GET /credits')).toBe(0);
		await run(create({ options: { checkCredits: 'always' } }), [
			{ json: { text: 'Hello world!' } },
		]);
		expect(requests('GET /credits')).toBe(1);
		sandbox.configure({ credits: 1 });
		const { error } = await run(create({ options: { checkCredits: 'always' } }), [
			{ json: { text: words(100) } },
		]);
		expect(error?.message).toMatch(/Not enough D-ID credits/);
		expect(requests('POST /talks')).toBe(2); // the two runs above, none for this one
		sandbox.configure({ credits: 100 });
		await run(create({ options: { checkCredits: 'never' } }), [
			{ json: { text: 'Hello world!' } },
			{ json: { text: 'Hello again!' } },
		]);
		expect(requests('GET /credits')).toBe(2);
	});
});

describe('the estimate is never below what D-ID (the sandbox) charges', () => {
	/** Every literal text of the examples, plus lengths around the 15-s credit steps. */
	function exampleTexts(): string[] {
		const texts: string[] = [];
		for (const file of readdirSync(path.join(ROOT, 'examples')).filter((f) =>
			f.endsWith('.json'),
		)) {
			const workflow = JSON.parse(readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
			for (const node of workflow.nodes) {
				const text = node.parameters?.text;
				if (typeof text === 'string' && !text.startsWith('=')) texts.push(text);
			}
		}
		return texts;
	}

	test('texts of the examples and of every length from 1 to 400 words', async () => {
		const texts = [...exampleTexts(), ...Array.from({ length: 80 }, (_, k) => words(1 + k * 5))];
		expect(texts.length).toBeGreaterThan(85);
		const { items, error } = await run(
			create({ options: { checkCredits: 'never', maxConcurrency: 20 } }),
			texts.map((text) => ({ json: { text } })),
		);
		expect(error).toBeUndefined();
		for (const item of items) {
			const talk = sandbox.talk(String(item.json.id)) as unknown as {
				request: IDataObject;
				credits: number;
			};
			expect(estimateTalk(talk.request).credits).toBeGreaterThanOrEqual(talk.credits);
		}
	});

	test.each([
		['speech.wav', 'audio/wav'],
		['speech.mp3', 'audio/mpeg'],
	])('audio %s, also padded', async (name, mimeType) => {
		const data = fixture(name);
		for (const pad of [undefined, 14.5]) {
			const { items, error } = await run(
				create({
					scriptType: 'audio',
					audioSource: 'binary',
					...(pad ? { videoOptions: { padAudio: pad } } : {}),
				}),
				[{ json: {}, binary: { data: { data, fileName: name, mimeType } } }],
			);
			expect(error).toBeUndefined();
			const talk = sandbox.talk(String(items[0].json.id)) as unknown as {
				request: IDataObject;
				credits: number;
				seconds: number;
			};
			const estimate = estimateTalk(talk.request, {
				head: data.subarray(0, 65536),
				size: data.length,
			});
			expect(estimate.basis).toBe('audio file header');
			expect(estimate.seconds).toBeGreaterThanOrEqual(talk.seconds);
			expect(estimate.credits).toBeGreaterThanOrEqual(talk.credits);
		}
	});

	test('the text estimate follows its documented method', () => {
		const hello = Array(130).fill('hello').join(' ');
		expect(textSeconds(hello, false)).toBeCloseTo(60, 5); // 130 words a minute
		expect(textSeconds(hello, false, '0.5')).toBeCloseTo(120, 5); // a voice at half speed takes twice as long
		expect(textSeconds(`${hello}<break time="2500ms"/><break time="1s"/>`, true)).toBeCloseTo(
			63.5,
			5,
		);
		expect(textSeconds('x'.repeat(120), false)).toBeCloseTo(10, 5); // few spaces: 12 characters a second
		expect(textSeconds('你好世界你好世界你好', false)).toBeCloseTo(3, 5); // 10 CJK characters at 0.3 s
		expect(WORDS_PER_MINUTE).toBe(130);
	});
});

describe('clean-up of what D-ID keeps', () => {
	const audio = () => ({
		data: fixture('speech.wav'),
		fileName: 'speech.wav',
		mimeType: 'audio/wav',
	});
	const withFiles = (name = 'portrait.jpg'): InputItem => ({
		json: {},
		binary: { ...photo(name), voice: audio() },
	});
	const cleanCreate = (extra: IDataObject = {}) =>
		create({ ...FILES_IN_VIDEO_OUT, deleteUploads: true, deleteTalk: true, ...extra });

	test('with both options on, the sandbox holds no upload and no talk of the run afterwards', async () => {
		const before = sandbox.uploads().length;
		const { items, error } = await run(cleanCreate(), [withFiles(), withFiles()]);
		expect(error).toBeUndefined();
		expect(items).toHaveLength(2);
		for (const item of items) {
			const talk = sandbox.talk(String(item.json.id)) as unknown as { deleted: boolean };
			expect(talk.deleted).toBe(true);
			expect(item.binary?.video).toBeDefined();
			expect(item.json.cleanup).toMatchObject({
				uploads: { image: { result: 'deleted' }, audio: { result: 'deleted' } },
				talk: { result: 'deleted' },
			});
		}
		expect(sandbox.uploads()).toHaveLength(before);
		expect(requests('DELETE /images/{id}')).toBe(2);
		expect(requests('DELETE /audios/{id}')).toBe(2);
		expect(requests('DELETE /talks/{id}')).toBe(2);
	});

	test('nothing is deleted when the download failed', async () => {
		sandbox.setFaults({ routes: { 'GET /results/{id}/{file}': { rate5xx: 1 } } });
		const before = sandbox.uploads().length;
		const { items } = await run(cleanCreate(), [withFiles()]);
		expect(items.length === 0 || items[0].json.error !== undefined).toBe(true);
		expect(
			requests('DELETE /images/{id}') +
				requests('DELETE /audios/{id}') +
				requests('DELETE /talks/{id}'),
		).toBe(0);
		expect(sandbox.uploads()).toHaveLength(before + 2);
		expect(sandbox.talks().at(-1)!.deleted).toBe(false);
	});

	test('a talk that failed at D-ID still has its uploads deleted; the item fails as before', async () => {
		const before = sandbox.uploads().length;
		const { error } = await run(cleanCreate(), [withFiles('no-face.jpg')]);
		expect(error?.message).toMatch(/could not make talk/);
		expect(requests('DELETE /images/{id}')).toBe(1);
		expect(requests('DELETE /audios/{id}')).toBe(1);
		expect(requests('DELETE /talks/{id}')).toBe(0);
		expect(sandbox.uploads()).toHaveLength(before);
	});

	test('a delete that keeps failing is reported on the item and never fails it', async () => {
		sandbox.setFaults({ routes: { 'DELETE /talks/{id}': { rate5xx: 1 } } });
		const { items, error } = await run(cleanCreate(), [withFiles()]);
		expect(error).toBeUndefined();
		expect(items[0].binary?.video).toBeDefined();
		expect((items[0].json.cleanup as IDataObject).talk).toMatchObject({
			result: expect.stringMatching(/^not deleted: /),
		});
		expect(requests('DELETE /talks/{id}')).toBeGreaterThan(1); // retried as reads are
		expect((items[0].json.cleanup as IDataObject).uploads).toMatchObject({
			image: { result: 'deleted' },
		});
	});

	test('Wait deletes the talk after its download; without Download Video the talk is kept', async () => {
		const created = await run(create({ text: 'Hello world!' }));
		const id = String(created.items[0].json.id);
		const kept = await run({
			parameters: {
				resource: 'talk',
				operation: 'wait',
				talkId: id,
				downloadVideo: false,
				deleteTalk: true,
			},
		});
		expect((kept.items[0].json.cleanup as IDataObject).talk).toMatchObject({
			result: expect.stringMatching(/^kept/),
		});
		expect(requests('DELETE /talks/{id}')).toBe(0);
		const waited = await run({
			parameters: { resource: 'talk', operation: 'wait', talkId: id, deleteTalk: true },
		});
		expect(waited.items[0].binary?.data).toBeDefined();
		expect((waited.items[0].json.cleanup as IDataObject).talk).toMatchObject({ result: 'deleted' });
		expect((sandbox.talk(id) as unknown as { deleted: boolean }).deleted).toBe(true);
	});
	test('Create → Wait: Create names its uploads, Wait deletes them (Uploaded Files defaults to {{ $json.uploads }}) and the talk', async () => {
		const created = await run(create({ imageSource: 'binary', text: 'Hello world!' }), [
			{ json: {}, binary: photo() },
		]);
		const uploads = created.items[0].json.uploads as IDataObject;
		expect(uploads).toEqual({ image: expect.stringMatching(/^img_/) });
		expect(sandbox.uploads().map((u) => u.id)).toContain(uploads.image);
		const waited = await run(
			{
				parameters: {
					resource: 'talk',
					operation: 'wait',
					talkId: '={{ $json.id }}',
					deleteUploads: true,
					uploadedFiles: '={{ $json.uploads }}',
					deleteTalk: true,
				},
			},
			[{ json: created.items[0].json }],
		);
		expect(waited.error).toBeUndefined();
		expect(waited.items[0].json.cleanup).toEqual({
			uploads: { image: { id: uploads.image, result: 'deleted' } },
			talk: { id: created.items[0].json.id, result: 'deleted' },
		});
		expect(sandbox.uploads().map((u) => u.id)).not.toContain(uploads.image);
	});

	test.each([
		['a number', 42],
		['an array', '={{ ["img_1"] }}'],
		['text that is not JSON', 'img_1'],
		['an object with other keys', '={{ { photo: "img_1" } }}'],
	])('Wait refuses Uploaded Files that is %s before any request', async (_, uploadedFiles) => {
		const { error } = await run({
			parameters: {
				resource: 'talk',
				operation: 'wait',
				talkId: 'tlk_x',
				deleteUploads: true,
				uploadedFiles,
			},
		});
		expect(error?.message).toMatch(/Uploaded Files/);
		expect(error?.description).toMatch(/Map the uploads field of the D-ID Create output/);
		expect(Object.values(sandbox.stats().requests).reduce((a, b) => a + b, 0)).toBe(0);
	});
});
