// Bad input, field by field and operation by operation: each row is refused before any request,
// with a message that names the field and the item, and without the API key in it.
// The table in docs/BAD-INPUT.md is these rows with the message each one gives; this test fails
// when the two differ (UPDATE_DOCS=1 npx jest test/bad-input.test.ts rewrites it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { runNode, type InputItem } from './harness/engine';
import { credentialsFor, ROOT, startSandbox, totalRequests, type Sandbox } from './harness/sandbox';

interface Row {
	operation: string;
	field: string;
	what: string;
	parameters: IDataObject;
	items?: InputItem[];
	/** Real D-ID as the credential's base URL (nothing is sent: the input is refused first). */
	realDId?: boolean;
	/** Which item (1-based) the message must name. */
	item?: number;
}

const IMAGE = 'https://myhost.com/image.jpg';
const create = (parameters: IDataObject): IDataObject => ({
	resource: 'talk',
	operation: 'create',
	imageUrl: IMAGE,
	text: 'Hello world!',
	waitForCompletion: false,
	...parameters,
});
const file = (mimeType: string, bytes: number, fileName: string): InputItem[] => [
	{ json: {}, binary: { data: { data: Buffer.alloc(bytes, 1), fileName, mimeType } } },
];
const expression = (intensity: number, startFrame = 0, name = 'happy') => ({ expressions: { expression: [{ startFrame, expression: name, intensity }] } });

const ROWS: Row[] = [
	{ operation: 'Create', field: 'Image URL', what: 'empty (an expression gave nothing)', parameters: create({ imageUrl: '={{ "" }}' }) },
	{ operation: 'Create', field: 'Image URL', what: 'http:// instead of https://', parameters: create({ imageUrl: 'http://x.com/a.jpg' }) },
	{ operation: 'Create', field: 'Image URL', what: 'a GIF', parameters: create({ imageUrl: 'https://x.com/a.gif' }) },
	{ operation: 'Create', field: 'Image Binary Field', what: 'the item has no such binary', parameters: create({ imageSource: 'binary', imageBinaryProperty: 'photo' }) },
	{ operation: 'Create', field: 'Image Binary Field', what: 'a text file', parameters: create({ imageSource: 'binary' }), items: file('text/plain', 5, 'a.txt') },
	{ operation: 'Create', field: 'Image Binary Field', what: 'a photo over 10 MB', parameters: create({ imageSource: 'binary' }), items: file('image/jpeg', 10 * 1024 * 1024 + 1, 'big.jpg') },
	{ operation: 'Create', field: 'Text', what: 'two characters', parameters: create({ text: 'Hi' }) },
	{ operation: 'Create', field: 'Text', what: 'over 40,000 characters', parameters: create({ text: 'a'.repeat(40001) }) },
	{
		operation: 'Create',
		field: 'Text',
		what: 'empty in the third item only (nothing is sent for the first two either)',
		parameters: create({ text: '={{ $json.text }}' }),
		items: [{ json: { text: 'Fine text.' } }, { json: { text: 'Also fine.' } }, { json: { text: '' } }],
		item: 3,
	},
	{ operation: 'Create', field: 'Voice', what: 'Microsoft style without a voice', parameters: create({ microsoftVoice: { style: 'Cheerful' } }) },
	{ operation: 'Create', field: 'Voice', what: 'an Amazon voice D-ID does not offer', parameters: create({ provider: 'amazon', voice: { __rl: true, mode: 'id', value: 'Bob' } }) },
	{ operation: 'Create', field: 'Voice', what: 'Azure OpenAI without a voice', parameters: create({ provider: 'azure-openai' }) },
	{ operation: 'Create', field: 'Rate', what: 'ElevenLabs rate 1.5', parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { rate: '1.5' } }) },
	{ operation: 'Create', field: 'Stability', what: 'ElevenLabs stability 2', parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { stability: 2 } }) },
	{ operation: 'Create', field: 'Similarity Boost', what: 'ElevenLabs similarity boost -1', parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { similarityBoost: -1 } }) },
	{ operation: 'Create', field: 'Style Exaggeration', what: 'ElevenLabs style 3', parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { style: '3' } }) },
	{ operation: 'Create', field: 'Audio URL', what: 'missing', parameters: create({ scriptType: 'audio', audioUrl: '={{ "" }}' }) },
	{ operation: 'Create', field: 'Audio URL', what: 'an .ogg file', parameters: create({ scriptType: 'audio', audioUrl: 'https://x.com/a.ogg' }) },
	{ operation: 'Create', field: 'Audio Binary Field', what: 'audio over 6 MB', parameters: create({ scriptType: 'audio', audioSource: 'binary' }), items: file('audio/mpeg', 6 * 1024 * 1024 + 1, 'big.mp3') },
	{ operation: 'Create', field: 'Driver URL', what: 'not an https address', parameters: create({ driver: 'custom', customDriverUrl: 'driver.mp4' }) },
	{ operation: 'Create', field: 'Expressions → Intensity (#1)', what: '1.5', parameters: create(expression(1.5)) },
	{ operation: 'Create', field: 'Expressions → Start Frame (#1)', what: '-3', parameters: create(expression(1, -3)) },
	{ operation: 'Create', field: 'Expressions → Expression (#1)', what: 'angry', parameters: create(expression(1, 0, 'angry')) },
	{ operation: 'Create', field: 'Transition Frames', what: 'set without any expression', parameters: create({ videoOptions: { transitionFrames: 5 } }) },
	{ operation: 'Create', field: 'Transition Frames', what: '-1', parameters: create({ ...expression(1), videoOptions: { transitionFrames: -1 } }) },
	{ operation: 'Create', field: 'Pad Audio (Seconds)', what: '61', parameters: create({ videoOptions: { padAudio: 61 } }) },
	{ operation: 'Create', field: 'Logo URL', what: 'ftp://', parameters: create({ videoOptions: { logoUrl: 'ftp://x/logo.png' } }) },
	{ operation: 'Create', field: 'Logo Position', what: 'half a pixel', parameters: create({ videoOptions: { logoUrl: 'https://x/logo.png', logoX: 1.5 } }) },
	{ operation: 'Create', field: 'Align Expand Factor', what: '2 (legacy, 0 to 1)', parameters: create({ legacyOptions: { alignExpandFactor: 2 } }) },
	{ operation: 'Create', field: 'User Data', what: 'over 1,000 characters', parameters: create({ additionalFields: { userData: 'x'.repeat(1001) } }) },
	{ operation: 'Create', field: 'User Data', what: 'empty', parameters: create({ additionalFields: { userData: '={{ "" }}' } }) },
	{ operation: 'Create', field: 'Result URL', what: 'http://', parameters: create({ additionalFields: { resultUrl: 'http://x/out' } }) },
	{ operation: 'Create', field: 'Webhook URL', what: 'http:// with the real D-ID', parameters: create({ additionalFields: { webhookUrl: 'http://n8n.example.com/webhook/x' } }), realDId: true },
	{
		operation: 'Create',
		field: 'Webhook URL',
		what: 'set while Wait Mode is Webhook',
		parameters: create({ waitForCompletion: true, waitMode: 'webhook', additionalFields: { webhookUrl: 'http://127.0.0.1:1/hook' } }),
	},
	{ operation: 'Create', field: 'Wait Mode', what: 'Webhook while n8n is not on https (real D-ID)', parameters: create({ waitForCompletion: true, waitMode: 'webhook' }), realDId: true },
	{ operation: 'Create', field: 'Timeout (Minutes)', what: '0', parameters: create({ waitForCompletion: true, timeoutMinutes: 0 }) },
	{ operation: 'Create', field: 'Put Video in Field', what: 'empty', parameters: create({ waitForCompletion: true, downloadVideo: true, binaryPropertyOutput: '={{ "" }}' }) },
	{ operation: 'Get', field: 'Talk ID', what: 'empty', parameters: { resource: 'talk', operation: 'get', talkId: '={{ "" }}' } },
	{ operation: 'Wait', field: 'Talk ID', what: 'a path, not an ID', parameters: { resource: 'talk', operation: 'wait', talkId: 'tlk 1/..' } },
	{ operation: 'Wait', field: 'Timeout (Minutes)', what: '-5', parameters: { resource: 'talk', operation: 'wait', talkId: 'tlk_123', timeoutMinutes: -5 } },
	{ operation: 'Delete', field: 'Talk ID', what: 'a missing field of the item', parameters: { resource: 'talk', operation: 'delete', talkId: '={{ $json.missing }}' } },
	{ operation: 'List', field: 'Limit', what: '0', parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: 0 } },
];

let sandbox: Sandbox;
beforeAll(async () => (sandbox = await startSandbox()));
afterAll(async () => sandbox.stop());

const seen = new Map<Row, string>();

describe('bad input: refused before any request, naming the field and the item', () => {
	test('the table has at least 30 rows and covers every operation with input', () => {
		expect(ROWS.length).toBeGreaterThanOrEqual(30);
		expect(new Set(ROWS.map((r) => r.operation))).toEqual(new Set(['Create', 'Get', 'Wait', 'Delete', 'List']));
	});

	test.each(ROWS.map((row) => [`${row.operation} → ${row.field}: ${row.what}`, row] as const))('%s', async (_title, row) => {
		const before = totalRequests(sandbox);
		const credentials = row.realDId ? { apiKey: sandbox.apiKey, baseUrl: 'https://api.d-id.com' } : credentialsFor(sandbox);
		const { error } = await runNode({ parameters: row.parameters }, { credentials, items: row.items });
		const item = row.item ?? 1;
		expect(error?.message).toMatch(new RegExp(`^Invalid "${row.field.replace(/[()]/g, '\\$&')}" in item ${item}: `));
		expect(error?.context?.itemIndex).toBe(item - 1);
		expect(error?.description).toEqual(expect.any(String));
		expect(totalRequests(sandbox)).toBe(before);
		const [, secret] = sandbox.apiKey.split(':');
		expect(`${error?.message} ${error?.description}`).not.toContain(secret);
		seen.set(row, `${error!.message} — ${error!.description}`);
	});

	test('docs/BAD-INPUT.md is this table, with the messages users see', () => {
		const lines = [
			'# Bad input and what the user sees',
			'',
			'Every row is refused before any request reaches D-ID (no credits spent), with a message that',
			'names the field and the item and says what to do. Generated from `test/bad-input.test.ts`,',
			'which runs each row in n8n’s engine against the sandbox and checks that it sent nothing.',
			'',
			'| # | Operation | Field | Input | Error shown (message — hint) |',
			'| --- | --- | --- | --- | --- |',
			...ROWS.map((row, n) => `| ${n + 1} | ${row.operation} | ${row.field} | ${row.what} | ${(seen.get(row) ?? '(not run)').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
			'',
		];
		const doc = lines.join('\n');
		const target = path.join(ROOT, 'docs', 'BAD-INPUT.md');
		if (process.env.UPDATE_DOCS === '1') writeFileSync(target, doc);
		expect(readFileSync(target, 'utf8')).toBe(doc);
	});
});
