import type {
	IDataObject,
	INodeProperties,
	INodePropertyCollection,
	INodePropertyOptions,
} from 'n8n-workflow';

import { DId } from '../../nodes/DId/DId.node';
import { DIdTrigger } from '../../nodes/DIdTrigger/DIdTrigger.node';
import { prepare } from '../../nodes/DId/actions/talk/create.operation';
import { FINAL_STATUSES } from '../../nodes/DId/helpers/talk';
import {
	AMAZON_VOICES,
	AUDIO_URL,
	ELEVENLABS_RATE,
	ELEVENLABS_STYLE,
	HTTPS_URL,
	IMAGE_URL,
	LIMITS,
	REMOTE_URL,
} from '../../nodes/DId/helpers/validation';
import spec from '../../sandbox/openapi.talks.json';
import { executeContext } from './support/context';

/**
 * The node's copies of D-ID's limits, enums and patterns against openapi.talks.json (the contract).
 * Where the node differs on purpose, the difference is listed here with its reason
 * (../shared/d-id/API-NOTES.md; README "Talk → Create").
 */
type Schema = IDataObject & {
	properties?: Record<string, Schema>;
	anyOf?: Schema[];
	items?: Schema;
	enum?: string[];
};

const request = spec.paths['/talks'].post.requestBody.content['application/json']
	.schema as unknown as Schema;
const talk = spec.paths['/talks/{id}'].get.responses['200'].content['application/json']
	.schema as unknown as Schema;
const props = (schema: Schema) => schema.properties as Record<string, Schema>;
const branch = (schema: Schema, type: string) =>
	schema.anyOf!.find((s) => props(s).type.enum?.includes(type))!;
const textScript = branch(props(request).script, 'text');
const audioScript = branch(props(request).script, 'audio');
const providers = props(textScript).provider;
const config = props(props(request).config);
const expression = props(props(config.driver_expressions).expressions.items as Schema);
const elevenLabsConfig = props(props(branch(providers, 'elevenlabs')).voice_config);

const nodeProperties = new DId().description.properties;

/** A field of the node by its path of names (a collection's option, a fixed collection's value). */
function field(...path: string[]): INodeProperties {
	let list: Array<INodeProperties | INodePropertyCollection | INodePropertyOptions> =
		nodeProperties;
	let found: INodeProperties | INodePropertyCollection | undefined;
	for (const name of path) {
		found = list.find((p) => p.name === name && ('type' in p || 'values' in p)) as
			| INodeProperties
			| INodePropertyCollection
			| undefined;
		if (!found) throw new Error(`no field ${path.join(' → ')}`);
		list = 'values' in found ? found.values : ((found as INodeProperties).options ?? []);
	}
	return found as INodeProperties;
}

const optionValues = (property: INodeProperties) =>
	(property.options as INodePropertyOptions[]).map((o) => o.value).sort();
const sorted = (values: unknown[] | undefined) => [...(values ?? [])].sort();

describe('spec parity: enums', () => {
	test('talk statuses: the final ones the node waits for, plus created and started, are the spec’s TalkStatus', () => {
		expect(sorted([...FINAL_STATUSES, 'created', 'started'])).toEqual(
			sorted(props(talk).status.enum),
		);
	});

	test('the trigger’s Events are the final statuses', () => {
		const events = new DIdTrigger().description.properties.find((p) => p.name === 'events')!;
		expect(optionValues(events)).toEqual(sorted(FINAL_STATUSES));
	});

	test('Result Format offers result_format’s enum', () => {
		expect(optionValues(field('videoOptions', 'resultFormat'))).toEqual(
			sorted(config.result_format.enum),
		);
	});

	test('Expression offers driver_expressions’ expression enum', () => {
		expect(optionValues(field('expressions', 'expression', 'expression'))).toEqual(
			sorted(expression.expression.enum),
		);
	});

	test('Voice Provider offers every text-to-speech provider of the spec (request and GET /tts/voices)', () => {
		const fromRequest = providers.anyOf!.flatMap((p) => props(p).type.enum as string[]);
		const voicesQuery = (
			spec.paths['/tts/voices'].get.parameters as Array<{ name: string; schema: Schema }>
		).find((p) => p.name === 'provider')!;
		expect(optionValues(field('provider'))).toEqual(sorted(fromRequest));
		expect(optionValues(field('provider'))).toEqual(sorted(voicesQuery.schema.enum));
	});

	test('the Amazon voices are the spec’s VoiceIdsAmazon', () => {
		expect(sorted(AMAZON_VOICES)).toEqual(sorted(props(branch(providers, 'amazon')).voice_id.enum));
	});
});

describe('spec parity: limits', () => {
	test('text input: 3 to 40,000 characters', () => {
		expect([LIMITS.textMin, LIMITS.textMax]).toEqual([
			props(textScript).input.minLength,
			props(textScript).input.maxLength,
		]);
	});

	test('user_data: 1 to 1,000 characters', () => {
		expect(props(request).user_data.minLength).toBe(1);
		expect(LIMITS.userDataMax).toBe(props(request).user_data.maxLength);
	});

	test('pad_audio: the field and the check take the spec’s 0 to 60', () => {
		const { minValue, maxValue } = field('videoOptions', 'padAudio').typeOptions!;
		expect([minValue, maxValue]).toEqual([config.pad_audio.minimum, config.pad_audio.maximum]);
		expect(LIMITS.padAudioMax).toBe(config.pad_audio.maximum);
	});

	test('expressions: start_frame ≥ 0, intensity 0 to 1, transition_frames ≥ 0', () => {
		expect(field('expressions', 'expression', 'startFrame').typeOptions?.minValue).toBe(
			expression.start_frame.minimum,
		);
		const intensity = field('expressions', 'expression', 'intensity').typeOptions!;
		expect([intensity.minValue, intensity.maxValue]).toEqual([
			expression.intensity.minimum,
			expression.intensity.maximum,
		]);
		expect(field('videoOptions', 'transitionFrames').typeOptions?.minValue).toBe(
			props(config.driver_expressions).transition_frames.minimum,
		);
	});

	test('ElevenLabs stability and similarity_boost: 0 to 1', () => {
		for (const [name, key] of [
			['stability', 'stability'],
			['similarityBoost', 'similarity_boost'],
		]) {
			const { minValue, maxValue } = field('elevenLabsVoice', name).typeOptions!;
			expect([minValue, maxValue]).toEqual([
				elevenLabsConfig[key].minimum,
				elevenLabsConfig[key].maximum,
			]);
		}
	});

	test('logo position: a pair', () => {
		const logo = props(config.logo.anyOf![0]).position;
		expect([logo.minItems, logo.maxItems]).toEqual([2, 2]);
		// The node sends [Logo Position X, Logo Position Y]: two fields.
		expect(field('videoOptions', 'logoX').type).toBe('number');
		expect(field('videoOptions', 'logoY').type).toBe('number');
	});

	test('audio uploads: at most 6 MB, as POST /audios says', () => {
		const audioUpload = JSON.stringify(spec.paths['/audios'].post);
		expect(audioUpload).toMatch(/must not exceed 6MB/);
		expect(LIMITS.audioBytes).toBe(6 * 1024 * 1024);
	});
});

/** Addresses on which the node's patterns and the spec's must agree, unless listed as a deliberate difference. */
const URLS = [
	'https://example.com/a.jpg',
	's3://bucket/a.PNG',
	'https://example.com/a.jpeg?x=1',
	'http://example.com/a.jpg',
	'https://example.com/a.gif',
	'https://example.com/a.mp3',
	'https://example.com/a.WAV?token=abc&x=1',
	'https://example.com/a.m4a#t=1',
	'https://example.com/a.ogg',
	'https://example.com/a.mp3?x=a b',
	'ftp://example.com/a.mp3',
	'https://n8n.example/webhook/x?secret=1',
	'see https://example.com/a.jpg',
	'https://',
	'https://x',
	'',
];

// The spec's source_url, result_url and logo url patterns are not anchored: they find an address
// anywhere in the text. D-ID's own checks read it from the start (API-NOTES, source_url), and the
// node refuses before any request what D-ID would refuse, so its copies are anchored with ^.
const UNANCHORED = {
	'see https://example.com/a.jpg': 'the spec’s pattern is not anchored; the node’s is (^)',
};

function agreement(pattern: string, ours: RegExp, deliberate: Record<string, string> = {}) {
	const theirs = new RegExp(pattern, 'u');
	for (const url of URLS) {
		const expected = url in deliberate ? !theirs.test(url) : theirs.test(url);
		expect([url, ours.test(url)]).toEqual([url, expected]);
	}
}

describe('spec parity: patterns', () => {
	test('ElevenLabs rate and style are the spec’s patterns, as written', () => {
		expect(ELEVENLABS_RATE.source).toBe(elevenLabsConfig.rate.pattern);
		expect(ELEVENLABS_STYLE.source).toBe(elevenLabsConfig.style.pattern);
	});

	test('audio_url: the same answers as the spec’s pattern', () => {
		agreement(props(audioScript).audio_url.pattern as string, AUDIO_URL);
	});

	test('webhook: https only, the same answers as the spec’s pattern', () => {
		agreement(props(request).webhook.pattern as string, HTTPS_URL);
	});

	test('source_url: the spec’s pattern, anchored at the start', () => {
		agreement(props(request).source_url.pattern as string, IMAGE_URL, UNANCHORED);
	});

	test('result_url and logo url: https or s3, anchored at the start', () => {
		agreement(props(request).result_url.pattern as string, REMOTE_URL, UNANCHORED);
		agreement(props(config.logo.anyOf![0]).url.pattern as string, REMOTE_URL, UNANCHORED);
	});
});

/**
 * Fields the node may send that today's spec does not list (CreateTalkRequest forbids unknown
 * properties): D-ID's Talks overview offered them, the user asked for them, the node sends each
 * only when set under Legacy Options or Driver (API-NOTES "Where the overview and the current spec
 * disagree").
 */
const LEGACY = [
	'driver_url',
	'persist',
	'config.align_driver',
	'config.align_expand_factor',
	'config.auto_match',
	'config.motion_factor',
	'config.normalization_factor',
	'config.sharpen',
];

function unknownFields(value: unknown, schema: Schema, path: string, out: string[]): string[] {
	if (value === null || typeof value !== 'object') return out;
	if (schema.anyOf) {
		const type = String((value as IDataObject).type);
		const chosen =
			schema.anyOf.find((s) => s.properties?.type?.enum?.includes(type)) ?? schema.anyOf[0];
		return unknownFields(value, chosen, path, out);
	}
	if (Array.isArray(value)) {
		for (const entry of value) unknownFields(entry, schema.items ?? {}, path, out);
		return out;
	}
	for (const [key, child] of Object.entries(value as IDataObject)) {
		const name = path ? `${path}.${key}` : key;
		const childSchema = schema.properties?.[key];
		if (!childSchema) out.push(name);
		else unknownFields(child, childSchema, name, out);
	}
	return out;
}

describe('spec parity: the body the node sends', () => {
	test('every field of a body with every option set is in CreateTalkRequest, except the legacy fields', async () => {
		const all = {
			imageUrl: 'https://example.com/face.jpg',
			text: 'Hello there',
			ssml: true,
			waitForCompletion: false,
			driver: 'custom',
			customDriverUrl: 'https://example.com/driver.mp4',
			videoOptions: {
				subtitles: true,
				stitch: true,
				fluent: true,
				padAudio: 1,
				resultFormat: 'mov',
				logoUrl: 'https://example.com/logo.png',
				logoX: 1,
				logoY: 2,
				transitionFrames: 3,
			},
			expressions: { expression: [{ startFrame: 0, expression: 'happy', intensity: 1 }] },
			legacyOptions: {
				alignDriver: true,
				autoMatch: true,
				sharpen: true,
				alignExpandFactor: 0.3,
				motionFactor: 1,
				normalizationFactor: 1,
				persist: true,
			},
			additionalFields: {
				name: 'n',
				userData: 'u',
				webhookUrl: 'https://n8n.example/webhook/x',
				resultUrl: 's3://bucket/out.mp4',
			},
		};
		const bodies: IDataObject[] = [];
		for (const provider of [
			{
				provider: 'microsoft',
				voice: 'en-US-JennyNeural',
				microsoftVoice: { style: 'cheerful', rate: '1', pitch: '+1st', language: 'English' },
			},
			{
				provider: 'azure-openai',
				voice: 'alloy',
				microsoftVoice: { style: 'x', rate: '1', pitch: 'low', language: 'English' },
			},
			{
				provider: 'elevenlabs',
				voice: 'v',
				elevenLabsVoice: {
					stability: 0.5,
					similarityBoost: 0.5,
					rate: '1',
					style: '0',
					useSpeakerBoost: true,
					modelId: 'm',
					language: 'English',
				},
			},
			{ provider: 'amazon', voice: 'Joanna', amazonVoice: { language: 'English' } },
			{ provider: 'google', voice: 'en-US-Wavenet-A' },
		]) {
			bodies.push((await prepare.call(executeContext({ ...all, ...provider }), 0)).body);
		}
		bodies.push(
			(
				await prepare.call(
					executeContext({ ...all, scriptType: 'audio', audioUrl: 'https://example.com/a.mp3' }),
					0,
				)
			).body,
		);
		const unknown = new Set(bodies.flatMap((body) => unknownFields(body, request, '', [])));
		expect([...unknown].sort()).toEqual([...LEGACY].sort());
	});
});
