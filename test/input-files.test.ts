// Input files and addresses that must be ACCEPTED, and when input files are read: in n8n's engine
// against the sandbox over loopback. (What is refused is in test/bad-input.test.ts.)
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { type InputItem } from './harness/engine';
import { fixture } from './harness/sandbox';
import { createTalk, useSandbox } from './harness/suite';

const { sandbox, run } = useSandbox({ resetStats: true });
const photo = (data: Buffer, mimeType: string, fileName = 'portrait.jpg'): InputItem => ({
	json: {},
	binary: { data: { data, fileName, mimeType } },
});
const JPEG = fixture('portrait.jpg');
const PNG = fixture('portrait.png');

describe('input files that other software labels differently are accepted', () => {
	test.each(['image/jpg', 'image/pjpeg', 'IMAGE/JPEG', 'image/jpeg; charset=binary'])(
		'a real JPEG labelled %s is uploaded as image/jpeg',
		async (mimeType) => {
			const { items, error } = await run(createTalk({ imageSource: 'binary' }), [
				photo(JPEG, mimeType),
			]);
			expect(error).toBeUndefined();
			// The sandbox, like D-ID, takes image/jpeg or image/png only.
			expect(sandbox.stats().requests['POST /images']).toBe(1);
			expect(sandbox.talk(String(items[0].json.id)).request.source_url).toMatch(
				/^s3:\/\/.*portrait\.jpg$/,
			);
		},
	);

	test('a PNG with no type (application/octet-stream) is recognised by its content', async () => {
		const { error } = await run(createTalk({ imageSource: 'binary' }), [
			photo(PNG, 'application/octet-stream', 'upload.bin'),
		]);
		expect(error).toBeUndefined();
		expect(sandbox.stats().requests['POST /images']).toBe(1);
	});

	test('an MP3 labelled audio/mpeg is uploaded', async () => {
		const { error } = await run(createTalk({ scriptType: 'audio', audioSource: 'binary' }), [
			{
				json: {},
				binary: {
					data: { data: fixture('speech.mp3'), fileName: 'speech.mp3', mimeType: 'audio/mpeg' },
				},
			},
		]);
		expect(error).toBeUndefined();
		expect(sandbox.stats().requests['POST /audios']).toBe(1);
	});
});

describe('addresses and values that are fine stay fine', () => {
	test.each([
		'https://bucket.s3.amazonaws.com/people/anna.JPG?X-Amz-Signature=abc&X-Amz-Expires=600',
		'https://cdn.example.com/a/b/photo.jpeg#top',
		'https://cdn.example.com/photo.png',
	])('image URL %s is sent as given', async (imageUrl) => {
		const { items, error } = await run(createTalk({ imageUrl }));
		expect(error).toBeUndefined();
		expect(sandbox.talk(String(items[0].json.id)).request.source_url).toBe(imageUrl);
	});

	test('Stability 0 is sent as 0, and Max Concurrent Talks from an expression "3" is taken', async () => {
		const { items, error } = await run(
			createTalk({
				provider: 'elevenlabs',
				voice: { __rl: true, mode: 'id', value: '21m00Tcm4TlvDq8ikWAM' },
				elevenLabsVoice: { stability: 0 },
				options: { maxConcurrency: '={{ "3" }}' },
			}),
		);
		expect(error).toBeUndefined();
		const request = sandbox.talk(String(items[0].json.id)).request as {
			script: { provider: { voice_config: IDataObject } };
		};
		expect(request.script.provider.voice_config.stability).toBe(0);
	});

	test('text with words around zero-width characters is sent unchanged', async () => {
		const text = 'Hello\u200b world, again';
		const { items, error } = await run(createTalk({ text }));
		expect(error).toBeUndefined();
		expect((sandbox.talk(String(items[0].json.id)).request.script as IDataObject).input).toBe(text);
	});
});

/** Files under `dir` whose content is exactly `content` (n8n's filesystem binary store). */
function storedCopies(dir: string, content: Buffer): string[] {
	const found: string[] = [];
	for (const name of readdirSync(dir)) {
		const file = path.join(dir, name);
		const stat = statSync(file);
		if (stat.isDirectory()) found.push(...storedCopies(file, content));
		else if (stat.size === content.length && readFileSync(file).equals(content)) found.push(file);
	}
	return found;
}

describe('memory: each file is read when its item runs, not all before the first request', () => {
	test('a file removed from storage after the first item started fails only the item that reads it later', async () => {
		// Two different JPEGs, so each item's stored copy can be found on disk.
		const first = JPEG;
		const second = Buffer.concat([JPEG, Buffer.from('second item')]);
		// The first talk's creation takes 400 ms: the second item's file is removed meanwhile.
		sandbox.setFaults({ routes: { 'POST /talks': { latencyMs: 400 } } });
		const running = run(
			createTalk(
				{ imageSource: 'binary', options: { maxConcurrency: 1 } },
				{ continueOnFail: true },
			),
			[photo(first, 'image/jpeg'), photo(second, 'image/jpeg', 'second.jpg')],
		);
		let removed: string[] = [];
		for (let waited = 0; waited < 10_000 && !removed.length; waited += 10) {
			if ((sandbox.stats().requests['POST /talks'] ?? 0) >= 1) {
				removed = storedCopies(process.env.N8N_USER_FOLDER!, second);
				removed.forEach((file) => unlinkSync(file));
			}
			await new Promise((r) => setTimeout(r, 10));
		}
		const { items } = await running;
		expect(removed.length).toBeGreaterThan(0);
		// Read before any request (the old way), both files would have been in memory and both talks created.
		expect(items[0].json).toMatchObject({ status: 'created' });
		expect(items[1].json.error).toEqual(expect.any(String));
		expect(sandbox.stats().requests['POST /images']).toBe(1);
		expect(sandbox.stats().requests['POST /talks']).toBe(1);
	});
});
