import type { IDataObject } from 'n8n-workflow';

import { prepare } from '../../nodes/DId/actions/talk/create.operation';
import { executionSecret, talkToken } from '../../nodes/DId/waiting/webhook-token';
import { executeContext } from './support/context';
import { VOICE_CONFIG_SENT } from '../fixtures/elevenlabs';

/** Talk → Create's mapping from UI fields to the POST /talks body, and its checks (no request is sent). */
const BASE: IDataObject = {
	imageUrl: 'https://example.com/face.jpg',
	text: 'Hello there',
	waitForCompletion: false,
};

async function body(parameters: IDataObject) {
	return (await prepare.call(executeContext({ ...BASE, ...parameters }), 0)).body;
}

async function refusal(parameters: IDataObject): Promise<string> {
	try {
		await prepare.call(executeContext({ ...BASE, ...parameters }), 0);
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error('the fields were accepted');
}

describe('Create: UI fields → POST /talks body', () => {
	test('the least: an image and a text with D-ID’s default voice (no provider sent)', async () => {
		expect(await body({})).toEqual({
			source_url: 'https://example.com/face.jpg',
			script: { type: 'text', input: 'Hello there' },
		});
	});

	test('a Microsoft voice with a lower-case style written as D-ID documents it', async () => {
		const { script } = await body({
			voice: 'en-US-JennyNeural',
			microsoftVoice: { style: 'cheerful', rate: '+10%', language: 'English' },
		});
		expect(script).toEqual({
			type: 'text',
			input: 'Hello there',
			provider: {
				type: 'microsoft',
				voice_id: 'en-US-JennyNeural',
				voice_config: { style: 'Cheerful', rate: '+10%' },
				language: 'English',
			},
		});
	});

	test('ElevenLabs settings become voice_config; the field key goes in x-api-key-external, not the body', async () => {
		const prepared = await prepare.call(
			executeContext({
				...BASE,
				provider: 'elevenlabs',
				voice: '21m00Tcm4TlvDq8ikWAM',
				elevenLabsVoice: {
					stability: '0.4',
					similarityBoost: 0.8,
					rate: '0.9',
					style: '0.2',
					useSpeakerBoost: false,
					modelId: 'eleven_turbo_v2_5',
					externalApiKey: 'el-key',
				},
			}),
			0,
		);
		expect((prepared.body.script as IDataObject).provider).toEqual({
			type: 'elevenlabs',
			voice_id: '21m00Tcm4TlvDq8ikWAM',
			voice_config: VOICE_CONFIG_SENT,
			model_id: 'eleven_turbo_v2_5',
		});
		expect(prepared.headers).toEqual({
			'x-api-key-external': JSON.stringify({ elevenlabs: 'el-key' }),
		});
		expect(JSON.stringify(prepared.body)).not.toContain('el-key');
	});

	test('an audio script, a bank driver, config and other fields', async () => {
		expect(
			await body({
				scriptType: 'audio',
				audioUrl: 'https://example.com/voice.mp3',
				driver: 'bank',
				bankDriver: 'lively/driver-03',
				videoOptions: {
					subtitles: true,
					stitch: true,
					fluent: false,
					padAudio: '1.5',
					resultFormat: 'mov',
					logoUrl: 'https://example.com/logo.png',
					logoX: 10,
					logoY: '-20',
				},
				expressions: { expression: [{ startFrame: 0, expression: 'happy', intensity: 0.5 }] },
				legacyOptions: { alignDriver: false, motionFactor: 2, persist: true },
				additionalFields: {
					name: ' promo ',
					userData: '{"id":7}',
					resultUrl: 's3://bucket/out.mp4',
				},
			}),
		).toEqual({
			source_url: 'https://example.com/face.jpg',
			script: { type: 'audio', audio_url: 'https://example.com/voice.mp3', subtitles: true },
			driver_url: 'bank://lively/driver-03',
			config: {
				stitch: true,
				fluent: false,
				pad_audio: 1.5,
				result_format: 'mov',
				logo: { url: 'https://example.com/logo.png', position: [10, -20] },
				driver_expressions: {
					expressions: [{ start_frame: 0, expression: 'happy', intensity: 0.5 }],
				},
				align_driver: false,
				motion_factor: 2,
			},
			persist: true,
			name: 'promo',
			user_data: '{"id":7}',
			result_url: 's3://bucket/out.mp4',
		});
	});

	test('a Webhook URL that calls this execution back carries the execution’s token; another is sent as given', async () => {
		const token = talkToken(executionSecret('user:secret', 'unit-1'));
		const own = await body({
			additionalFields: { webhookUrl: 'https://n8n.example/webhook-waiting/unit-1' },
		});
		expect(own.webhook).toBe(`https://n8n.example/webhook-waiting/unit-1?dIdToken=${token}`);
		const other = await body({
			additionalFields: { webhookUrl: 'https://n8n.example/webhook/talk-ended?secret=abc' },
		});
		expect(other.webhook).toBe('https://n8n.example/webhook/talk-ended?secret=abc');
	});

	test.each([
		[
			{ imageUrl: 'http://example.com/face.jpg' },
			/Invalid "Image URL" in item 1: .* is not an https:\/\/ or s3:\/\/ address/,
		],
		[{ text: 'hi' }, /Invalid "Text" in item 1: it has 2 characters; D-ID accepts 3 to 40,000/],
		[{ text: 'x'.repeat(40_001) }, /Invalid "Text" in item 1: it has 40001 characters/],
		[
			{ text: '\u200b\u200b\u200b ' },
			/Invalid "Text".*only spaces, line breaks or invisible characters/,
		],
		[{ text: ['a', 'b', 'c'] }, /Invalid "Text".*the expression gave a list/],
		[
			{ provider: 'amazon', voice: 'Nobody' },
			/Invalid "Voice".*is not an Amazon voice D-ID offers/,
		],
		[{ provider: 'azure-openai' }, /Invalid "Voice".*no voice chosen for provider azure-openai/],
		[
			{ provider: 'elevenlabs', elevenLabsVoice: { rate: '1.5' } },
			/Invalid "Rate".*is not between 0.7 and 1.2/,
		],
		[
			{ provider: 'elevenlabs', elevenLabsVoice: { stability: null } },
			/Invalid "Stability".*is not a number from 0 to 1/,
		],
		[{ scriptType: 'audio', audioUrl: 'https://example.com/voice.ogg' }, /Invalid "Audio URL"/],
		[{ driver: 'bank', bankDriver: 'lively/driver-9' }, /Invalid "Bank Driver"/],
		[{ driver: 'custom', customDriverUrl: '' }, /Invalid "Driver URL".*no driver URL given/],
		[
			{ videoOptions: { padAudio: 61 } },
			/Invalid "Pad Audio \(Seconds\)".*not a number from 0 to 60/,
		],
		[{ videoOptions: { padAudio: '' } }, /Invalid "Pad Audio \(Seconds\)"/],
		[{ videoOptions: { resultFormat: 'webm' } }, /Invalid "Result Format"/],
		[{ videoOptions: { logoX: 5 } }, /Invalid "Logo Position".*Logo URL is empty/],
		[
			{ videoOptions: { logoUrl: 'https://x.com/l.png', logoX: 2 ** 31 } },
			/Invalid "Logo Position"/,
		],
		[{ videoOptions: { transitionFrames: 3 } }, /Invalid "Transition Frames".*no expression is/],
		[
			{ expressions: { expression: [{ startFrame: -1, expression: 'happy', intensity: 1 }] } },
			/Start Frame \(#1\)/,
		],
		[
			{ expressions: { expression: [{ startFrame: 0, expression: 'angry', intensity: 1 }] } },
			/Expression \(#1\)/,
		],
		[{ legacyOptions: { alignExpandFactor: 2 } }, /Invalid "Align Expand Factor"/],
		[
			{ additionalFields: { userData: 'x'.repeat(1001) } },
			/Invalid "User Data".*1001 characters; D-ID accepts at most 1000/,
		],
		[{ additionalFields: { userData: 'a\nb' } }, /Invalid "User Data".*line break/],
		[{ additionalFields: { webhookUrl: 'http://n8n.example/webhook' } }, /Invalid "Webhook URL"/],
	])('refused before any request: %j', async (parameters, says) => {
		expect(await refusal(parameters)).toMatch(says);
	});
});
