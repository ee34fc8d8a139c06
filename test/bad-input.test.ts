// Bad input, field by field and operation by operation: each row is refused before any request,
// with a message that names the field and the item, and without the API key in it.
// The table in docs/BAD-INPUT.md is these rows with the message each one gives; this test fails
// when the two differ (UPDATE_DOCS=1 npx jest test/bad-input.test.ts rewrites it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { IDataObject } from 'n8n-workflow';

import { runNode, type InputItem } from './harness/engine';
import { credentialsFor, fixture, ROOT, totalRequests } from './harness/sandbox';
import { createParameters, useSandbox } from './harness/suite';

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
	/** What the message must also say (for rows whose old message named the field but misled). */
	says?: RegExp;
}

const ELEVENLABS_KEY = 'el-bad-input-key-0123456789';
const create = createParameters;
const file = (mimeType: string, bytes: number, fileName: string): InputItem[] => [
	{ json: {}, binary: { data: { data: Buffer.alloc(bytes, 1), fileName, mimeType } } },
];
const bytes = (
	data: Buffer,
	mimeType: string,
	fileName: string,
	property = 'data',
): InputItem[] => [{ json: {}, binary: { [property]: { data, fileName, mimeType } } }];
const expression = (
	intensity: number | string,
	startFrame: number | string = 0,
	name = 'happy',
): IDataObject => ({ expressions: { expression: [{ startFrame, expression: name, intensity }] } });
const elevenLabs = (settings: IDataObject) =>
	create({ provider: 'elevenlabs', elevenLabsVoice: settings });
const logo = (options: IDataObject) =>
	create({ videoOptions: { logoUrl: 'https://x.com/logo.png', ...options } });
const audioFile = (items: InputItem[]) => ({
	parameters: create({ scriptType: 'audio', audioSource: 'binary' }),
	items,
});
const imageFile = (items: InputItem[]) => ({
	parameters: create({ imageSource: 'binary' }),
	items,
});
const withJson = (json: IDataObject): InputItem[] => [{ json }];
const talk = (operation: string, talkId: string, extra: IDataObject = {}): IDataObject => ({
	resource: 'talk',
	operation,
	talkId,
	...extra,
});
const JPEG = fixture('portrait.jpg');
const PNG = fixture('portrait.png');
const MP3 = fixture('speech.mp3');

const ROWS: Row[] = [
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'empty (an expression gave nothing)',
		parameters: create({ imageUrl: '={{ "" }}' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'http:// instead of https://',
		parameters: create({ imageUrl: 'http://x.com/a.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'a GIF',
		parameters: create({ imageUrl: 'https://x.com/a.gif' }),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'the item has no such binary',
		parameters: create({ imageSource: 'binary', imageBinaryProperty: 'photo' }),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a text file',
		parameters: create({ imageSource: 'binary' }),
		items: file('text/plain', 5, 'a.txt'),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a photo over 10 MB',
		parameters: create({ imageSource: 'binary' }),
		items: file('image/jpeg', 10 * 1024 * 1024 + 1, 'big.jpg'),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'two characters',
		parameters: create({ text: 'Hi' }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'over 40,000 characters',
		parameters: create({ text: 'a'.repeat(40001) }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'empty in the third item only (nothing is sent for the first two either)',
		parameters: create({ text: '={{ $json.text }}' }),
		items: [
			{ json: { text: 'Fine text.' } },
			{ json: { text: 'Also fine.' } },
			{ json: { text: '' } },
		],
		item: 3,
	},
	{
		operation: 'Create',
		field: 'Voice',
		what: 'Microsoft style without a voice',
		parameters: create({ microsoftVoice: { style: 'Cheerful' } }),
	},
	{
		operation: 'Create',
		field: 'Voice',
		what: 'an Amazon voice D-ID does not offer',
		parameters: create({ provider: 'amazon', voice: { __rl: true, mode: 'id', value: 'Bob' } }),
	},
	{
		operation: 'Create',
		field: 'Voice',
		what: 'Azure OpenAI without a voice',
		parameters: create({ provider: 'azure-openai' }),
	},
	{
		operation: 'Create',
		field: 'Rate',
		what: 'ElevenLabs rate 1.5',
		parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { rate: '1.5' } }),
	},
	{
		operation: 'Create',
		field: 'Stability',
		what: 'ElevenLabs stability 2',
		parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { stability: 2 } }),
	},
	{
		operation: 'Create',
		field: 'Similarity Boost',
		what: 'ElevenLabs similarity boost -1',
		parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { similarityBoost: -1 } }),
	},
	{
		operation: 'Create',
		field: 'Style Exaggeration',
		what: 'ElevenLabs style 3',
		parameters: create({ provider: 'elevenlabs', elevenLabsVoice: { style: '3' } }),
	},
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'missing',
		parameters: create({ scriptType: 'audio', audioUrl: '={{ "" }}' }),
	},
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'an .ogg file',
		parameters: create({ scriptType: 'audio', audioUrl: 'https://x.com/a.ogg' }),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'audio over 6 MB',
		parameters: create({ scriptType: 'audio', audioSource: 'binary' }),
		items: file('audio/mpeg', 6 * 1024 * 1024 + 1, 'big.mp3'),
	},
	{
		operation: 'Create',
		field: 'Driver URL',
		what: 'not an https address',
		parameters: create({ driver: 'custom', customDriverUrl: 'driver.mp4' }),
	},
	{
		operation: 'Create',
		field: 'Expressions → Intensity (#1)',
		what: '1.5',
		parameters: create(expression(1.5)),
	},
	{
		operation: 'Create',
		field: 'Expressions → Start Frame (#1)',
		what: '-3',
		parameters: create(expression(1, -3)),
	},
	{
		operation: 'Create',
		field: 'Expressions → Expression (#1)',
		what: 'angry',
		parameters: create(expression(1, 0, 'angry')),
	},
	{
		operation: 'Create',
		field: 'Transition Frames',
		what: 'set without any expression',
		parameters: create({ videoOptions: { transitionFrames: 5 } }),
	},
	{
		operation: 'Create',
		field: 'Transition Frames',
		what: '-1',
		parameters: create({ ...expression(1), videoOptions: { transitionFrames: -1 } }),
	},
	{
		operation: 'Create',
		field: 'Pad Audio (Seconds)',
		what: '61',
		parameters: create({ videoOptions: { padAudio: 61 } }),
	},
	{
		operation: 'Create',
		field: 'Logo URL',
		what: 'ftp://',
		parameters: create({ videoOptions: { logoUrl: 'ftp://x/logo.png' } }),
	},
	{
		operation: 'Create',
		field: 'Logo Position',
		what: 'half a pixel',
		parameters: create({ videoOptions: { logoUrl: 'https://x/logo.png', logoX: 1.5 } }),
	},
	{
		operation: 'Create',
		field: 'Align Expand Factor',
		what: '2 (legacy, 0 to 1)',
		parameters: create({ legacyOptions: { alignExpandFactor: 2 } }),
	},
	{
		operation: 'Create',
		field: 'User Data',
		what: 'over 1,000 characters',
		parameters: create({ additionalFields: { userData: 'x'.repeat(1001) } }),
	},
	{
		operation: 'Create',
		field: 'User Data',
		what: 'empty',
		parameters: create({ additionalFields: { userData: '={{ "" }}' } }),
	},
	{
		operation: 'Create',
		field: 'Result URL',
		what: 'http://',
		parameters: create({ additionalFields: { resultUrl: 'http://x/out' } }),
	},
	{
		operation: 'Create',
		field: 'Webhook URL',
		what: 'http:// with the real D-ID',
		parameters: create({ additionalFields: { webhookUrl: 'http://n8n.example.com/webhook/x' } }),
		realDId: true,
	},
	{
		operation: 'Create',
		field: 'Webhook URL',
		what: 'set while Wait Mode is Webhook',
		parameters: create({
			waitForCompletion: true,
			waitMode: 'webhook',
			additionalFields: { webhookUrl: 'http://127.0.0.1:1/hook' },
		}),
	},
	{
		operation: 'Create',
		field: 'Wait Mode',
		what: 'Webhook while n8n is not on https (real D-ID)',
		parameters: create({ waitForCompletion: true, waitMode: 'webhook' }),
		realDId: true,
	},
	{
		operation: 'Create',
		field: 'Timeout (Minutes)',
		what: '0',
		parameters: create({ waitForCompletion: true, timeoutMinutes: 0 }),
	},
	{
		operation: 'Create',
		field: 'Put Video in Field',
		what: 'empty',
		parameters: create({
			waitForCompletion: true,
			downloadVideo: true,
			binaryPropertyOutput: '={{ "" }}',
		}),
	},
	{
		operation: 'Get',
		field: 'Talk ID',
		what: 'empty',
		parameters: { resource: 'talk', operation: 'get', talkId: '={{ "" }}' },
	},
	{
		operation: 'Wait',
		field: 'Talk ID',
		what: 'a path, not an ID',
		parameters: { resource: 'talk', operation: 'wait', talkId: 'tlk 1/..' },
	},
	{
		operation: 'Wait',
		field: 'Timeout (Minutes)',
		what: '-5',
		parameters: { resource: 'talk', operation: 'wait', talkId: 'tlk_123', timeoutMinutes: -5 },
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: 'a missing field of the item',
		parameters: { resource: 'talk', operation: 'delete', talkId: '={{ $json.missing }}' },
	},
	{
		operation: 'List',
		field: 'Limit',
		what: '0',
		parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: 0 },
	},
	// Addresses: the path must end in the file type, no line breaks, spaces, control characters or user:password@.
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'the extension is in the host name (https://x.png.evil)',
		parameters: create({ imageUrl: 'https://x.png.evil' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'the extension is in the query (…/download?f=.png)',
		parameters: create({ imageUrl: 'https://cdn.example.com/download?f=.png' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'the extension is in the fragment (…/photo#.jpg)',
		parameters: create({ imageUrl: 'https://cdn.example.com/photo#.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'a line break inside',
		parameters: create({ imageUrl: '={{ "https://x.com/a\\nb.jpg" }}' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'a control character inside',
		parameters: create({ imageUrl: 'https://x.com/a\u0007b.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'a space inside',
		parameters: create({ imageUrl: 'https://x.com/my photo.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'user:password@ in it',
		parameters: create({ imageUrl: 'https://user:secret@x.com/a.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'an object from an expression',
		parameters: create({ imageUrl: '={{ $json.photo }}' }),
		items: withJson({ photo: { url: 'https://x.com/a.jpg' } }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'ftp://',
		parameters: create({ imageUrl: 'ftp://x.com/a.jpg' }),
	},
	{
		operation: 'Create',
		field: 'Image URL',
		what: 'a file name, not an address',
		parameters: create({ imageUrl: 'photo.jpg' }),
	},
	// Input files: checked from their metadata and first bytes, before any upload.
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'empty',
		parameters: create({ imageSource: 'binary', imageBinaryProperty: '={{ "" }}' }),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'another binary property than the one the item has',
		parameters: create({ imageSource: 'binary', imageBinaryProperty: 'photo' }),
		items: bytes(JPEG, 'image/jpeg', 'a.jpg', 'picture'),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a 0-byte file',
		...imageFile(bytes(Buffer.alloc(0), 'image/jpeg', 'empty.jpg')),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'text labelled image/png',
		...imageFile(bytes(Buffer.from('just some text, not a picture'), 'image/png', 'a.png')),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'an MP3 labelled image/jpeg',
		...imageFile(bytes(MP3, 'image/jpeg', 'a.jpg')),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a PNG labelled image/jpeg',
		...imageFile(bytes(PNG, 'image/jpeg', 'a.jpg')),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'an HTML error page labelled image/jpeg',
		...imageFile(
			bytes(
				Buffer.from('<!DOCTYPE html><html><body>403 Forbidden</body></html>'),
				'image/jpeg',
				'a.jpg',
			),
		),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a PDF with no type (application/octet-stream)',
		...imageFile(
			bytes(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'application/octet-stream', 'a.bin'),
		),
	},
	{
		operation: 'Create',
		field: 'Image Binary Field',
		what: 'a GIF labelled image/gif',
		...imageFile(bytes(Buffer.from('GIF89a\u0001\u0000\u0001\u0000'), 'image/gif', 'a.gif')),
	},
	// Text from an expression that is not text, or that shows nothing.
	{
		operation: 'Create',
		field: 'Text',
		what: 'an object from an expression (would be sent as [object Object])',
		parameters: create({ text: '={{ $json.script }}' }),
		items: withJson({ script: { text: 'Hello there' } }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'a list from an expression (would be sent as a,b,c)',
		parameters: create({ text: '={{ $json.lines }}' }),
		items: withJson({ lines: ['Hello', 'and', 'welcome'] }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'true from an expression',
		parameters: create({ text: '={{ $json.ok }}' }),
		items: withJson({ ok: true }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'only spaces and line breaks',
		parameters: create({ text: '={{ "   \\n\\n   " }}' }),
	},
	{
		operation: 'Create',
		field: 'Text',
		what: 'only zero-width characters',
		parameters: create({ text: '\u200b\u200b\u200c\u200d\ufeff' }),
	},
	// Voices.
	{
		operation: 'Create',
		field: 'Voice',
		what: 'an object as the voice ID',
		parameters: create({ voice: { __rl: true, mode: 'id', value: '={{ $json.voice }}' } }),
		items: withJson({ voice: { id: 'en-US-JennyNeural' } }),
	},
	{
		operation: 'Create',
		field: 'Voice',
		what: 'a list as the Amazon voice',
		parameters: create({
			provider: 'amazon',
			voice: { __rl: true, mode: 'id', value: '={{ $json.voices }}' },
		}),
		items: withJson({ voices: ['Joanna', 'Matthew'] }),
		says: /a list/,
	},
	{
		operation: 'Create',
		field: 'Stability',
		what: 'null from an expression (would be sent as 0)',
		parameters: elevenLabs({ stability: '={{ null }}' }),
	},
	{
		operation: 'Create',
		field: 'Stability',
		what: 'NaN from an expression',
		parameters: elevenLabs({ stability: '={{ NaN }}' }),
		says: /"NaN"/,
	},
	{
		operation: 'Create',
		field: 'Similarity Boost',
		what: 'text "high"',
		parameters: elevenLabs({ similarityBoost: '={{ "high" }}' }),
	},
	{
		operation: 'Create',
		field: 'Rate',
		what: '"fast" (ElevenLabs takes numbers only)',
		parameters: elevenLabs({ rate: 'fast' }),
	},
	{
		operation: 'Create',
		field: 'Style Exaggeration',
		what: '-0.5',
		parameters: elevenLabs({ style: '-0.5' }),
	},
	// Audio.
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'user:password@ in it',
		parameters: create({ scriptType: 'audio', audioUrl: 'https://me:pw@x.com/a.mp3' }),
	},
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'a space inside',
		parameters: create({ scriptType: 'audio', audioUrl: 'https://x.com/my talk.mp3' }),
	},
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'http://',
		parameters: create({ scriptType: 'audio', audioUrl: 'http://x.com/a.mp3' }),
	},
	{
		operation: 'Create',
		field: 'Audio URL',
		what: 'a list from an expression',
		parameters: create({ scriptType: 'audio', audioUrl: '={{ $json.urls }}' }),
		items: withJson({ urls: ['https://x.com/a.mp3'] }),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'a 0-byte file',
		...audioFile(bytes(Buffer.alloc(0), 'audio/mpeg', 'a.mp3')),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'JSON labelled audio/mpeg',
		...audioFile(bytes(Buffer.from('{"error":"not found"}'), 'audio/mpeg', 'a.mp3')),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'a JPEG labelled audio/wav',
		...audioFile(bytes(JPEG, 'audio/wav', 'a.wav')),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'a photo (image/jpeg) as the audio',
		...audioFile(bytes(JPEG, 'image/jpeg', 'a.jpg')),
	},
	{
		operation: 'Create',
		field: 'Audio Binary Field',
		what: 'empty',
		parameters: create({
			scriptType: 'audio',
			audioSource: 'binary',
			audioBinaryProperty: '={{ "" }}',
		}),
	},
	// Driver.
	{
		operation: 'Create',
		field: 'Driver URL',
		what: 'user:password@ in it',
		parameters: create({ driver: 'custom', customDriverUrl: 'https://u:p@x.com/driver.mp4' }),
	},
	{
		operation: 'Create',
		field: 'Driver URL',
		what: 'a line break inside',
		parameters: create({
			driver: 'custom',
			customDriverUrl: '={{ "https://x.com/dr\\niver.mp4" }}',
		}),
	},
	{
		operation: 'Create',
		field: 'Bank Driver',
		what: 'a driver D-ID does not have (from an expression)',
		parameters: create({ driver: 'bank', bankDriver: '={{ "natural/driver-99" }}' }),
	},
	// Expressions.
	{
		operation: 'Create',
		field: 'Expressions → Intensity (#1)',
		what: '{{ undefined }}',
		parameters: create(expression('={{ undefined }}')),
	},
	{
		operation: 'Create',
		field: 'Expressions → Start Frame (#1)',
		what: '{{ undefined }}',
		parameters: create(expression(1, '={{ undefined }}')),
	},
	{
		operation: 'Create',
		field: 'Expressions → Expression (#1)',
		what: '{{ undefined }}',
		parameters: create(expression(1, 0, '={{ undefined }}')),
	},
	{
		operation: 'Create',
		field: 'Expressions → Intensity (#1)',
		what: 'NaN (shown as NaN, not null)',
		parameters: create(expression('={{ NaN }}')),
		says: /"NaN"/,
	},
	{
		operation: 'Create',
		field: 'Expressions → Intensity (#1)',
		what: 'text "strong"',
		parameters: create(expression('={{ "strong" }}')),
	},
	{
		operation: 'Create',
		field: 'Transition Frames',
		what: 'null from an expression',
		parameters: create({ ...expression(1), videoOptions: { transitionFrames: '={{ null }}' } }),
	},
	// Video options.
	{
		operation: 'Create',
		field: 'Pad Audio (Seconds)',
		what: '-1',
		parameters: create({ videoOptions: { padAudio: -1 } }),
	},
	{
		operation: 'Create',
		field: 'Pad Audio (Seconds)',
		what: 'null from an expression',
		parameters: create({ videoOptions: { padAudio: '={{ null }}' } }),
	},
	{
		operation: 'Create',
		field: 'Result Format',
		what: '"avi" from an expression',
		parameters: create({ videoOptions: { resultFormat: '={{ "avi" }}' } }),
	},
	{
		operation: 'Create',
		field: 'Logo URL',
		what: 'user:password@ in it',
		parameters: create({ videoOptions: { logoUrl: 'https://u:p@x.com/logo.png' } }),
	},
	{
		operation: 'Create',
		field: 'Logo URL',
		what: 'a space inside',
		parameters: create({ videoOptions: { logoUrl: 'https://x.com/my logo.png' } }),
	},
	{
		operation: 'Create',
		field: 'Logo Position',
		what: 'X beyond a 32-bit integer (2147483648)',
		parameters: logo({ logoX: 2147483648 }),
	},
	{
		operation: 'Create',
		field: 'Logo Position',
		what: 'Y below a 32-bit integer (-2147483649)',
		parameters: logo({ logoY: -2147483649 }),
	},
	{
		operation: 'Create',
		field: 'Logo Position',
		what: 'X is text "left"',
		parameters: logo({ logoX: '={{ "left" }}' }),
	},
	{
		operation: 'Create',
		field: 'Logo Position',
		what: 'set without a Logo URL',
		parameters: create({ videoOptions: { logoX: 10, logoY: 10 } }),
	},
	{
		operation: 'Create',
		field: 'Motion Factor',
		what: '-1 (legacy)',
		parameters: create({ legacyOptions: { motionFactor: -1 } }),
	},
	{
		operation: 'Create',
		field: 'Normalization Factor',
		what: 'null from an expression (legacy)',
		parameters: create({ legacyOptions: { normalizationFactor: '={{ null }}' } }),
	},
	// Other fields.
	{
		operation: 'Create',
		field: 'User Data',
		what: 'a line break inside (D-ID’s pattern refuses it)',
		parameters: create({ additionalFields: { userData: '={{ "order 1\\norder 2" }}' } }),
	},
	{
		operation: 'Create',
		field: 'User Data',
		what: 'pretty-printed JSON (line breaks)',
		parameters: create({
			additionalFields: { userData: '={{ JSON.stringify({ order: 1, customer: "a" }, null, 2) }}' },
		}),
	},
	{
		operation: 'Create',
		field: 'User Data',
		what: 'only spaces',
		parameters: create({ additionalFields: { userData: '={{ "    " }}' } }),
	},
	{
		operation: 'Create',
		field: 'Result URL',
		what: 'user:password@ in it',
		parameters: create({ additionalFields: { resultUrl: 'https://u:p@bucket.example.com/out/' } }),
	},
	{
		operation: 'Create',
		field: 'Result URL',
		what: 'a line break inside',
		parameters: create({
			additionalFields: { resultUrl: '={{ "https://bucket.example.com/o\\nut/" }}' },
		}),
	},
	{
		operation: 'Create',
		field: 'Webhook URL',
		what: 'user:password@ in it (real D-ID)',
		parameters: create({
			additionalFields: { webhookUrl: 'https://u:p@n8n.example.com/webhook/x' },
		}),
		realDId: true,
	},
	{
		operation: 'Create',
		field: 'Webhook URL',
		what: 'a space inside',
		parameters: create({
			additionalFields: { webhookUrl: 'http://127.0.0.1:5678/webhook/talk ended' },
		}),
	},
	// Waiting and concurrency.
	{
		operation: 'Create',
		field: 'Timeout (Minutes)',
		what: '1e12 (an invalid date)',
		parameters: create({ waitForCompletion: true, timeoutMinutes: 1e12 }),
	},
	{
		operation: 'Create',
		field: 'Timeout (Minutes)',
		what: '{{ undefined }}',
		parameters: create({ waitForCompletion: true, timeoutMinutes: '={{ undefined }}' }),
	},
	{
		operation: 'Create',
		field: 'Timeout (Minutes)',
		what: 'text "ten"',
		parameters: create({ waitForCompletion: true, timeoutMinutes: '={{ "ten" }}' }),
	},
	{
		operation: 'Create',
		field: 'Put Video in Field',
		what: 'an object from an expression',
		parameters: create({
			waitForCompletion: true,
			downloadVideo: true,
			binaryPropertyOutput: '={{ $json }}',
		}),
		items: withJson({ field: 'video' }),
	},
	{
		operation: 'Create',
		field: 'Max Concurrent Talks',
		what: '0 (was silently 10)',
		parameters: create({ options: { maxConcurrency: 0 } }),
	},
	{
		operation: 'Create',
		field: 'Max Concurrent Talks',
		what: '101',
		parameters: create({ options: { maxConcurrency: 101 } }),
	},
	{
		operation: 'Create',
		field: 'Max Concurrent Talks',
		what: '{{ undefined }}',
		parameters: create({ options: { maxConcurrency: '={{ undefined }}' } }),
	},
	{
		operation: 'Wait',
		field: 'Max Concurrent Talks',
		what: '2.5',
		parameters: talk('wait', 'tlk_123', { options: { maxConcurrency: 2.5 } }),
	},
	{
		operation: 'Wait',
		field: 'Max Concurrent Talks',
		what: '-1',
		parameters: talk('wait', 'tlk_123', { options: { maxConcurrency: -1 } }),
	},
	// Talk IDs: each becomes a path segment of /talks/{id}.
	{
		operation: 'Get',
		field: 'Talk ID',
		what: '"." (GET /talks/ would return the list as "the talk")',
		parameters: talk('get', '.'),
	},
	{ operation: 'Get', field: 'Talk ID', what: '".."', parameters: talk('get', '..') },
	{
		operation: 'Get',
		field: 'Talk ID',
		what: 'a number',
		parameters: talk('get', '={{ $json.row }}'),
		items: withJson({ row: 12345 }),
		says: /the number 12345.*\{\{ \$json\.id \}\}/,
	},
	{
		operation: 'Get',
		field: 'Talk ID',
		what: 'the whole item (an object)',
		parameters: talk('get', '={{ $json }}'),
		items: withJson({ id: 'tlk_abc', status: 'done' }),
		says: /an object.*\{\{ \$json\.id \}\}/,
	},
	{
		operation: 'Get',
		field: 'Talk ID',
		what: 'a list of IDs',
		parameters: talk('get', '={{ $json.ids }}'),
		items: withJson({ ids: ['tlk_a', 'tlk_b'] }),
		says: /a list/,
	},
	{
		operation: 'Get',
		field: 'Talk ID',
		what: 'with a query (tlk_1?limit=100)',
		parameters: talk('get', 'tlk_1?limit=100'),
	},
	{ operation: 'Wait', field: 'Talk ID', what: '"."', parameters: talk('wait', '.') },
	{
		operation: 'Wait',
		field: 'Talk ID',
		what: '".." (Wait would poll the list)',
		parameters: talk('wait', '..'),
	},
	{
		operation: 'Wait',
		field: 'Talk ID',
		what: 'a number',
		parameters: talk('wait', '={{ 42 }}'),
		says: /the number 42/,
	},
	{
		operation: 'Wait',
		field: 'Talk ID',
		what: 'a control character inside',
		parameters: talk('wait', 'tlk_1\u0000'),
	},
	{
		operation: 'Wait',
		field: 'Talk ID',
		what: 'percent-encoded path (tlk_1%2F..)',
		parameters: talk('wait', 'tlk_1%2F..'),
	},
	{
		operation: 'Wait',
		field: 'Timeout (Minutes)',
		what: '1e12 (an invalid date)',
		parameters: talk('wait', 'tlk_123', { timeoutMinutes: 1e12 }),
	},
	{
		operation: 'Wait',
		field: 'Timeout (Minutes)',
		what: 'null from an expression',
		parameters: talk('wait', 'tlk_123', { timeoutMinutes: '={{ null }}' }),
	},
	{
		operation: 'Wait',
		field: 'Put Video in Field',
		what: 'empty',
		parameters: talk('wait', 'tlk_123', { downloadVideo: true, binaryPropertyOutput: '={{ "" }}' }),
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: '"." (DELETE /talks/)',
		parameters: talk('delete', '.'),
	},
	{ operation: 'Delete', field: 'Talk ID', what: '".."', parameters: talk('delete', '..') },
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: 'the whole item (an object)',
		parameters: talk('delete', '={{ $json }}'),
		items: withJson({ id: 'tlk_abc' }),
		says: /an object/,
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: 'a number',
		parameters: talk('delete', '={{ 7 }}'),
		says: /the number 7/,
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: 'a path to another resource (../images/img_1)',
		parameters: talk('delete', '../images/img_1'),
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: 'a backslash inside',
		parameters: talk('delete', 'tlk\\..'),
	},
	{
		operation: 'Delete',
		field: 'Talk ID',
		what: '".." in the second item only (the first is not deleted either)',
		parameters: talk('delete', '={{ $json.id }}'),
		items: [{ json: { id: 'tlk_fine' } }, { json: { id: '..' } }],
		item: 2,
	},
	{
		operation: 'List',
		field: 'Limit',
		what: '-1',
		parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: -1 },
	},
	{
		operation: 'List',
		field: 'Limit',
		what: '2.5',
		parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: 2.5 },
	},
	{
		operation: 'List',
		field: 'Limit',
		what: 'text "all"',
		parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: '={{ "all" }}' },
	},
	{
		operation: 'List',
		field: 'Limit',
		what: 'null from an expression',
		parameters: { resource: 'talk', operation: 'list', returnAll: false, limit: '={{ null }}' },
	},
];

const { sandbox } = useSandbox();

const seen = new Map<Row, string>();

describe('bad input: refused before any request, naming the field and the item', () => {
	test('the table has at least 100 rows and covers every operation with input', () => {
		expect(ROWS.length).toBeGreaterThanOrEqual(100);
		expect(new Set(ROWS.map((r) => r.operation))).toEqual(
			new Set(['Create', 'Get', 'Wait', 'Delete', 'List']),
		);
	});

	test.each(ROWS.map((row) => [`${row.operation} → ${row.field}: ${row.what}`, row] as const))(
		'%s',
		async (_title, row) => {
			const before = totalRequests(sandbox);
			const credentials = {
				...(row.realDId
					? { apiKey: sandbox.apiKey, baseUrl: 'https://api.d-id.com' }
					: credentialsFor(sandbox)),
				elevenLabsApiKey: ELEVENLABS_KEY,
			};
			// The key is also in the input item (as an earlier node may leave it), so an error that
			// echoed the item, like one that echoed the credential, would show it.
			const { error } = await runNode(
				{ parameters: row.parameters },
				{ credentials, items: row.items ?? [{ json: { token: sandbox.apiKey } }] },
			);
			const item = row.item ?? 1;
			expect(error?.message).toMatch(
				new RegExp(`^Invalid "${row.field.replace(/[()]/g, '\\$&')}" in item ${item}: `),
			);
			expect(error?.context?.itemIndex).toBe(item - 1);
			expect(error?.description).toEqual(expect.any(String));
			if (row.says) expect(`${error?.message} ${error?.description}`).toMatch(row.says);
			expect(totalRequests(sandbox)).toBe(before);
			const [, secret] = sandbox.apiKey.split(':');
			const shown = JSON.stringify([error?.message, error?.description, error?.context]);
			for (const value of [secret, Buffer.from(sandbox.apiKey).toString('base64'), ELEVENLABS_KEY])
				expect(shown).not.toContain(value);
			seen.set(row, `${error!.message} — ${error!.description}`);
		},
	);

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
			...ROWS.map(
				(row, n) =>
					`| ${n + 1} | ${row.operation} | ${row.field} | ${row.what} | ${(seen.get(row) ?? '(not run)').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
			),
			'',
		];
		const doc = lines.join('\n');
		const target = path.join(ROOT, 'docs', 'BAD-INPUT.md');
		if (process.env.UPDATE_DOCS === '1') writeFileSync(target, doc);
		expect(readFileSync(target, 'utf8')).toBe(doc);
	});
});
