import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import type { Uploads } from '../../helpers/cleanup';
import { estimateTalk, type Estimate } from '../../helpers/credits';
import { checkInputFile, type InputFile } from '../../helpers/input-file';
import type { Talk } from '../../helpers/polling';
import {
	AMAZON_VOICES,
	AUDIO_URL,
	characters,
	documentedStyle,
	ELEVENLABS_RATE,
	ELEVENLABS_STYLE,
	hasVisibleText,
	inRange,
	INT32,
	invalid,
	LIMITS,
	notText,
	numberOf,
	shown,
	urlProblem,
} from '../../helpers/validation';
import { baseUrlOf, dIdApiRequest, isLoopback, multipartEnvelope, uploadFile, type DIdContext } from '../../transport';
import { createTalkOnce } from '../../helpers/create-ledger';
import { callbackUrl, signResumeUrl, webhookRun, type Started } from '../../helpers/webhook-wait';
import { finishWaiting, readWaitSettings, type WaitSettings } from './wait.operation';
import { waitFields } from './wait.fields';

const BANK_DRIVERS = [
	...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `natural/driver-${n}`),
	...[1, 2, 3, 4, 5, 6].map((n) => `lively/driver-0${n}`),
	...[1, 2, 3, 4].map((n) => `subtle/driver-0${n}`),
];

const PROVIDERS_WITH_REQUIRED_VOICE = ['microsoft', 'amazon', 'azure-openai'];

const properties: INodeProperties[] = [
	// ---------------------------------------------------------------- image
	{
		displayName: 'Image Source',
		name: 'imageSource',
		type: 'options',
		options: [
			{ name: 'URL', value: 'url', description: 'An https:// or s3:// address of a JPEG or PNG photo' },
			{ name: 'Binary File', value: 'binary', description: 'A photo in a binary property of the input item (uploaded to D-ID first)' },
		],
		default: 'url',
	},
	{
		displayName: 'Image URL',
		name: 'imageUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/presenter.jpg',
		description: 'Photo of one face. D-ID requires https:// (or s3://) and a .jpg, .jpeg or .png ending.',
		displayOptions: { show: { imageSource: ['url'] } },
	},
	{
		displayName: 'Image Binary Field',
		name: 'imageBinaryProperty',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field holding the photo (JPEG or PNG, at most 10 MB)',
		displayOptions: { show: { imageSource: ['binary'] } },
	},
	// ---------------------------------------------------------------- script
	{
		displayName: 'Script Type',
		name: 'scriptType',
		type: 'options',
		options: [
			{ name: 'Text', value: 'text', description: 'Text spoken by a text-to-speech voice' },
			{ name: 'Audio', value: 'audio', description: 'A recording the face lip-syncs to' },
		],
		default: 'text',
	},
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		required: true,
		description: 'What the presenter says: 3 to 40,000 characters',
		displayOptions: { show: { scriptType: ['text'] } },
	},
	{
		displayName: 'SSML',
		name: 'ssml',
		type: 'boolean',
		default: false,
		description: 'Whether the text is SSML markup (for pauses, emphasis, pronunciation)',
		displayOptions: { show: { scriptType: ['text'] } },
	},
	{
		displayName: 'Voice Provider',
		name: 'provider',
		type: 'options',
		options: [
			{ name: 'Amazon', value: 'amazon' },
			{ name: 'Azure OpenAI', value: 'azure-openai' },
			{ name: 'ElevenLabs', value: 'elevenlabs' },
			{ name: 'Google', value: 'google' },
			{ name: 'Microsoft', value: 'microsoft' },
		],
		default: 'microsoft',
		description: 'Text-to-speech provider. Leave Microsoft with no voice to use D-ID’s default voice.',
		displayOptions: { show: { scriptType: ['text'] } },
	},
	{
		displayName: 'Voice',
		name: 'voice',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		description: 'The voice, loaded live from D-ID for the chosen provider',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchVoices', searchable: true, searchFilterRequired: false },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'en-US-JennyNeural',
			},
		],
		displayOptions: { show: { scriptType: ['text'] } },
	},
	{
		displayName: 'Voice Settings',
		name: 'microsoftVoice',
		type: 'collection',
		placeholder: 'Add Setting',
		default: {},
		displayOptions: { show: { scriptType: ['text'], provider: ['microsoft', 'azure-openai'] } },
		options: [
			{
				displayName: 'Language',
				name: 'language',
				type: 'string',
				default: '',
				placeholder: 'English (United States)',
				description: 'The language of the voice, as D-ID names it',
			},
			{
				displayName: 'Pitch',
				name: 'pitch',
				type: 'string',
				default: '',
				placeholder: '+2st',
				description: 'Absolute (e.g. 200Hz), relative (+10Hz, -2st) or x-low/low/medium/high/x-high',
			},
			{
				displayName: 'Rate',
				name: 'rate',
				type: 'string',
				default: '',
				placeholder: '0.9',
				description: 'Speed relative to 1 (0.5 is half speed), or x-slow/slow/medium/fast/x-fast',
			},
			{
				displayName: 'Style Name or ID',
				name: 'style',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getVoiceStyles', loadOptionsDependsOn: ['voice.value', 'provider'] },
				default: '',
				description:
					'Speaking style of the chosen voice (e.g. Cheerful; "cheerful" as GET /tts/voices lists it works too). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
		],
	},
	{
		displayName: 'Voice Settings',
		name: 'elevenLabsVoice',
		type: 'collection',
		placeholder: 'Add Setting',
		default: {},
		displayOptions: { show: { scriptType: ['text'], provider: ['elevenlabs'] } },
		options: [
			{
				displayName: 'Language',
				name: 'language',
				type: 'string',
				default: '',
				placeholder: 'English (United States)',
			},
			{
				displayName: 'Model',
				name: 'modelId',
				type: 'string',
				default: 'eleven_multilingual_v2',
				description: 'ElevenLabs model ID, e.g. eleven_multilingual_v2 or eleven_turbo_v2_5',
			},
			{
				displayName: 'Own ElevenLabs API Key (Deprecated)',
				name: 'externalApiKey',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				description:
					'Deprecated: a key here is saved in the workflow (exports, history). Put it in the D-ID API credential (Own ElevenLabs API Key) and leave this empty. When set, it is still sent (x-api-key-external) and wins over the credential.',
			},
			{
				displayName: 'Rate',
				name: 'rate',
				type: 'string',
				default: '1',
				description: 'Speed relative to 1, from 0.7 to 1.2',
			},
			{
				displayName: 'Similarity Boost',
				name: 'similarityBoost',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.75,
				description: 'How closely to follow the original voice, 0 to 1',
			},
			{
				displayName: 'Speaker Boost',
				name: 'useSpeakerBoost',
				type: 'boolean',
				default: true,
				description: 'Whether to boost similarity to the original speaker (slightly slower)',
			},
			{
				displayName: 'Stability',
				name: 'stability',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.5,
				description: 'Voice stability, 0 to 1 (with v3 models: 0, 0.5 or 1)',
			},
			{
				displayName: 'Style Exaggeration',
				name: 'style',
				type: 'string',
				default: '0',
				description: 'Style exaggeration, 0 to 1 (as text, e.g. 0.3)',
			},
		],
	},
	{
		displayName: 'Voice Settings',
		name: 'amazonVoice',
		type: 'collection',
		placeholder: 'Add Setting',
		default: {},
		displayOptions: { show: { scriptType: ['text'], provider: ['amazon'] } },
		options: [
			{
				displayName: 'Language',
				name: 'language',
				type: 'string',
				default: '',
				placeholder: 'English (United States)',
			},
		],
	},
	{
		displayName: 'Audio Source',
		name: 'audioSource',
		type: 'options',
		options: [
			{ name: 'URL', value: 'url', description: 'An https:// or s3:// address of an audio file' },
			{ name: 'Binary File', value: 'binary', description: 'Audio in a binary property of the input item (uploaded to D-ID first)' },
		],
		default: 'url',
		displayOptions: { show: { scriptType: ['audio'] } },
	},
	{
		displayName: 'Audio URL',
		name: 'audioUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/speech.mp3',
		description: 'Https:// or s3:// address ending in .mp3, .wav, .m4a, .flac or .mp4 (at most 15 MB, 10 minutes)',
		displayOptions: { show: { scriptType: ['audio'], audioSource: ['url'] } },
	},
	{
		displayName: 'Audio Binary Field',
		name: 'audioBinaryProperty',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field holding the audio (at most 6 MB)',
		displayOptions: { show: { scriptType: ['audio'], audioSource: ['binary'] } },
	},
	// ---------------------------------------------------------------- driver
	{
		displayName: 'Driver',
		name: 'driver',
		type: 'options',
		options: [
			{ name: 'Automatic (Recommended)', value: 'auto', description: 'D-ID picks the driver that best matches the photo' },
			{ name: 'From D-ID Driver Bank', value: 'bank', description: 'One of D-ID’s recorded head-movement drivers' },
			{ name: 'Custom URL', value: 'custom', description: 'Your own driver video' },
		],
		default: 'auto',
		description: 'The video of a real face whose head movements drive the talk (legacy field driver_url)',
	},
	{
		displayName: 'Bank Driver',
		name: 'bankDriver',
		type: 'options',
		options: BANK_DRIVERS.map((driver) => ({ name: driver, value: driver })),
		default: 'natural/driver-1',
		displayOptions: { show: { driver: ['bank'] } },
	},
	{
		displayName: 'Driver URL',
		name: 'customDriverUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/driver.mp4',
		displayOptions: { show: { driver: ['custom'] } },
	},
	// ---------------------------------------------------------------- expressions
	{
		displayName: 'Expressions',
		name: 'expressions',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Expression',
		default: {},
		description: 'Facial expressions over time; each one lasts until the next starts',
		options: [
			{
				displayName: 'Expression',
				name: 'expression',
				values: [
					{
						displayName: 'Start Frame',
						name: 'startFrame',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description: 'Frame where this expression starts (25 frames a second)',
					},
					{
						displayName: 'Expression',
						name: 'expression',
						type: 'options',
						options: [
							{ name: 'Happy', value: 'happy' },
							{ name: 'Neutral', value: 'neutral' },
							{ name: 'Serious', value: 'serious' },
							{ name: 'Surprise', value: 'surprise' },
						],
						default: 'happy',
					},
					{
						displayName: 'Intensity',
						name: 'intensity',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
						default: 1,
						description: 'From 0 (no expression) to 1 (strongest)',
					},
				],
			},
		],
	},
	// ---------------------------------------------------------------- video options
	{
		displayName: 'Video Options',
		name: 'videoOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Fluent',
				name: 'fluent',
				type: 'boolean',
				default: false,
				description: 'Whether to interpolate between the last and first frames of the driver (smooth loops)',
			},
			{
				displayName: 'Logo Position X',
				name: 'logoX',
				type: 'number',
				default: 0,
				description: 'Pixels from the left edge (negative: from the right)',
			},
			{
				displayName: 'Logo Position Y',
				name: 'logoY',
				type: 'number',
				default: 0,
				description: 'Pixels from the top edge (negative: from the bottom)',
			},
			{
				displayName: 'Logo URL',
				name: 'logoUrl',
				type: 'string',
				default: '',
				placeholder: 'https://example.com/logo.png',
				description: 'Https:// or s3:// address of a PNG/JPEG logo to overlay',
			},
			{
				displayName: 'Pad Audio (Seconds)',
				name: 'padAudio',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 60, numberPrecision: 1 },
				default: 0,
				description: 'Silence added at the end, 0 to 60 seconds (makes the video longer and costs credits)',
			},
			{
				displayName: 'Result Format',
				name: 'resultFormat',
				type: 'options',
				options: [
					{ name: 'MP4', value: 'mp4' },
					{ name: 'MOV', value: 'mov' },
				],
				default: 'mp4',
			},
			{
				displayName: 'Stitch',
				name: 'stitch',
				type: 'boolean',
				default: true,
				description: 'Whether to put the animated face back into the whole photo instead of a crop around the face',
			},
			{
				displayName: 'Subtitles',
				name: 'subtitles',
				type: 'boolean',
				default: true,
				description: 'Whether D-ID should create subtitles (needs a plan that includes them)',
			},
			{
				displayName: 'Transition Frames',
				name: 'transitionFrames',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'Frames used to blend from one expression into the next',
			},
		],
	},
	{
		displayName: 'Legacy Options',
		name: 'legacyOptions',
		type: 'collection',
		placeholder: 'Add Legacy Option',
		default: {},
		description:
			'Fields from D-ID’s original Talks overview that today’s API specification no longer lists. Each is sent only when added here; D-ID may ignore or refuse them.',
		options: [
			{ displayName: 'Align Driver', name: 'alignDriver', type: 'boolean', default: true, description: 'Whether to align the driver video to the face (legacy align_driver)' },
			{
				displayName: 'Align Expand Factor',
				name: 'alignExpandFactor',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.3,
				description: 'How much to expand the face crop, 0 to 1 (legacy align_expand_factor)',
			},
			{ displayName: 'Auto Match', name: 'autoMatch', type: 'boolean', default: true, description: 'Whether to match the driver to the photo automatically (legacy auto_match)' },
			{
				displayName: 'Motion Factor',
				name: 'motionFactor',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 2 },
				default: 1,
				description: 'Scale of head motion (legacy motion_factor)',
			},
			{
				displayName: 'Normalization Factor',
				name: 'normalizationFactor',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 2 },
				default: 1,
				description: 'Legacy normalization_factor',
			},
			{
				displayName: 'Persist',
				name: 'persist',
				type: 'boolean',
				default: true,
				description: 'Whether D-ID should keep the talk (legacy persist; today’s specification does not list it and the sandbox refuses it like the spec)',
			},
			{ displayName: 'Sharpen', name: 'sharpen', type: 'boolean', default: true, description: 'Whether to sharpen the result (legacy sharpen)' },
		],
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'A name for the talk video' },
			{
				displayName: 'Result URL',
				name: 'resultUrl',
				type: 'string',
				default: '',
				placeholder: 'https://bucket.example.com/videos/',
				description: 'Where D-ID should store the video (https:// or s3://) instead of its default storage',
			},
			{
				displayName: 'User Data',
				name: 'userData',
				type: 'string',
				default: '',
				description:
					'Up to 1,000 characters returned with the talk and its webhook, e.g. a CRM record ID or a JSON string; the D-ID Trigger parses JSON user data for routing',
			},
			{
				displayName: 'Webhook URL',
				name: 'webhookUrl',
				type: 'string',
				default: '',
				placeholder: 'https://n8n.example.com/webhook/…',
				description:
					'D-ID calls this https:// address with the talk when it ends. Paste the D-ID Trigger’s production URL here.',
			},
		],
	},
	// ---------------------------------------------------------------- waiting
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description: 'Whether to wait until the video is ready (and optionally download it) instead of returning right after D-ID accepted the talk',
	},
	...waitFields({ waitForCompletion: [true] }, { uploads: 'own' }),
];

export const description = updateDisplayOptions({ show: { resource: ['talk'], operation: ['create'] } }, properties);

export interface PreparedCreate {
	body: IDataObject;
	headers: IDataObject;
	image?: InputFile;
	audio?: InputFile;
	wait?: WaitSettings;
	/** What createTalk uploaded for this item (for Delete Uploaded Files After Completion). */
	uploads?: Uploads;
}

function param<T>(ctx: IExecuteFunctions, name: string, i: number, fallback: T): T {
	return ctx.getNodeParameter(name, i, fallback) as T;
}

/** An address field's value: text, or refused (an object or list from an expression is not an address). */
function urlField(ctx: IExecuteFunctions, i: number, name: string, field: string): string {
	const value = param<unknown>(ctx, name, i, '');
	const kind = notText(value);
	if (kind) throw invalid(ctx, i, field, `the expression gave ${kind}, not an address`, 'Map the address itself, e.g. {{ $json.url }}.');
	return text(value);
}

/** The name of an input binary field: text, not empty. */
function binaryField(ctx: IExecuteFunctions, i: number, name: string, field: string, what: string): string {
	const value = param<unknown>(ctx, name, i, 'data');
	const property = notText(value) ? '' : text(value);
	if (!property) {
		throw invalid(ctx, i, field, value === '' || value === undefined || value === null ? 'it is empty' : `${shown(value)} is not a field name`, `Name the input binary field holding the ${what}, e.g. data.`);
	}
	return property;
}

function text(value: unknown): string {
	if (value === undefined || value === null) return '';
	return typeof value === 'string' ? value.trim() : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Reads the item's fields, checks each one as D-ID would, and builds the POST /talks body.
 * This is the one place where UI fields become D-ID fields; it sends no request.
 */
export async function prepare(this: IExecuteFunctions, i: number): Promise<PreparedCreate> {
	const body: IDataObject = {};
	const headers: IDataObject = {};
	const prepared: PreparedCreate = { body, headers };

	// source_url
	if (param<string>(this, 'imageSource', i, 'url') === 'binary') {
		const property = binaryField(this, i, 'imageBinaryProperty', 'Image Binary Field', 'photo');
		prepared.image = await checkInputFile.call(this, i, property, 'image', 'Image Binary Field', LIMITS.imageBytes);
	} else {
		const imageUrl = urlField(this, i, 'imageUrl', 'Image URL');
		if (!imageUrl) {
			throw invalid(this, i, 'Image URL', 'no image given', 'Enter the https:// address of a JPEG or PNG photo, or switch Image Source to Binary File.');
		}
		const problem = urlProblem(imageUrl, ['https', 's3'], { pattern: /\.(jpe?g|png)$/i, names: '.jpg, .jpeg or .png' });
		if (problem) {
			throw invalid(
				this,
				i,
				'Image URL',
				problem,
				'D-ID fetches the photo itself, over https (or s3), from an address whose path ends in .jpg, .jpeg or .png. Host the photo at such an address, or pass it as a binary file (Image Source: Binary File).',
			);
		}
		body.source_url = imageUrl;
	}

	// script
	const scriptType = param<string>(this, 'scriptType', i, 'text');
	const script: IDataObject = { type: scriptType };
	if (scriptType === 'text') {
		const input = param<unknown>(this, 'text', i, '');
		const kind = notText(input);
		if (kind) {
			throw invalid(
				this,
				i,
				'Text',
				`the expression gave ${kind}, not text`,
				'Map the text itself, e.g. {{ $json.text }}; to speak a list, join it first: {{ $json.lines.join(" ") }}.',
			);
		}
		const length = characters(String(input ?? ''));
		if (length < LIMITS.textMin || length > LIMITS.textMax) {
			throw invalid(
				this,
				i,
				'Text',
				`it has ${length} characters; D-ID accepts ${LIMITS.textMin} to ${LIMITS.textMax.toLocaleString('en-US')}`,
				length < LIMITS.textMin ? 'Enter what the presenter should say (an expression may have resolved to an empty value).' : 'Split the text into several talks.',
			);
		}
		if (!hasVisibleText(String(input))) {
			throw invalid(
				this,
				i,
				'Text',
				`it has only spaces, line breaks or invisible characters (${shown(input)})`,
				'Enter what the presenter should say (an expression may have resolved to blank text).',
			);
		}
		script.input = String(input);
		if (param(this, 'ssml', i, false)) script.ssml = true;
		const provider = buildProvider(this, i, headers);
		if (provider) script.provider = provider;
	} else if (param<string>(this, 'audioSource', i, 'url') === 'binary') {
		const property = binaryField(this, i, 'audioBinaryProperty', 'Audio Binary Field', 'audio');
		prepared.audio = await checkInputFile.call(this, i, property, 'audio', 'Audio Binary Field', LIMITS.audioBytes);
	} else {
		const audioUrl = urlField(this, i, 'audioUrl', 'Audio URL');
		const problem = audioUrl ? urlProblem(audioUrl, ['https', 's3']) : undefined;
		if (problem || !AUDIO_URL.test(audioUrl)) {
			throw invalid(
				this,
				i,
				'Audio URL',
				problem ?? (audioUrl ? `${shown(audioUrl)} is not an https:// or s3:// address of an .mp3, .wav, .m4a, .flac or .mp4 file` : 'no audio given'),
				'D-ID fetches audio over https and needs the file ending in the address. Or pass the audio as a binary file (Audio Source: Binary File).',
			);
		}
		script.audio_url = audioUrl;
	}

	const video = param<IDataObject>(this, 'videoOptions', i, {});
	if (video.subtitles !== undefined) script.subtitles = Boolean(video.subtitles);
	body.script = script;

	// driver_url (legacy)
	const driver = param<string>(this, 'driver', i, 'auto');
	if (driver === 'bank') {
		const bankDriver = param<unknown>(this, 'bankDriver', i, 'natural/driver-1');
		if (typeof bankDriver !== 'string' || !BANK_DRIVERS.includes(bankDriver)) {
			throw invalid(this, i, 'Bank Driver', `${shown(bankDriver)} is not one of D-ID’s bank drivers`, `Pick one of: ${BANK_DRIVERS.join(', ')}.`);
		}
		body.driver_url = `bank://${bankDriver}`;
	}
	if (driver === 'custom') {
		const driverUrl = urlField(this, i, 'customDriverUrl', 'Driver URL');
		const problem = driverUrl ? urlProblem(driverUrl, ['https', 's3']) : 'no driver URL given';
		if (problem) throw invalid(this, i, 'Driver URL', problem, 'Enter the https:// address of the driver video, or choose the Automatic driver.');
		body.driver_url = driverUrl;
	}

	const config = buildConfig(this, i, video);
	if (Object.keys(config).length) body.config = config;

	const legacy = param<IDataObject>(this, 'legacyOptions', i, {});
	if (legacy.persist !== undefined) body.persist = Boolean(legacy.persist);

	// other fields
	const extra = param<IDataObject>(this, 'additionalFields', i, {});
	if (extra.name !== undefined && text(extra.name) !== '') body.name = text(extra.name);
	if (extra.userData !== undefined) {
		const userData = text(extra.userData);
		const length = characters(userData);
		if (length < 1 || length > LIMITS.userDataMax) {
			throw invalid(
				this,
				i,
				'User Data',
				length < 1 ? 'it is empty' : `it has ${length} characters; D-ID accepts at most ${LIMITS.userDataMax}`,
				length < 1 ? 'Remove the field or give it a value.' : 'Keep only an ID in User Data and look the rest up later.',
			);
		}
		// D-ID's pattern for user_data (^(?!\s*$).+$) matches a single line only.
		if (/[\n\r\u2028\u2029]/.test(userData)) {
			throw invalid(
				this,
				i,
				'User Data',
				`it contains a line break (${shown(userData)}); D-ID accepts one line only`,
				'Keep User Data on one line: for JSON use {{ JSON.stringify($json.meta) }} (no indentation), or replace line breaks with spaces.',
			);
		}
		body.user_data = userData;
	}
	if (extra.webhookUrl !== undefined && text(extra.webhookUrl) !== '') {
		const webhook = text(extra.webhookUrl);
		const sandbox = isLoopback(await baseUrlOf.call(this));
		const problem = urlProblem(webhook, sandbox ? ['https', 'http'] : ['https']);
		if (problem) {
			throw invalid(
				this,
				i,
				'Webhook URL',
				problem,
				sandbox
					? 'Paste the D-ID Trigger’s URL.'
					: 'D-ID only calls https webhooks: n8n must be reachable over https (set WEBHOOK_URL) and the D-ID Trigger’s production URL pasted here.',
			);
		}
		// A talk that calls this execution back (for Talk → Wait in Wait Mode "Webhook") carries its token.
		body.webhook = await signResumeUrl(this, webhook);
	}
	if (extra.resultUrl !== undefined && text(extra.resultUrl) !== '') {
		const resultUrl = text(extra.resultUrl);
		const problem = urlProblem(resultUrl, ['https', 's3']);
		if (problem) throw invalid(this, i, 'Result URL', problem, 'Enter where D-ID should upload the video, or remove the field.');
		body.result_url = resultUrl;
	}

	if (param(this, 'waitForCompletion', i, true)) prepared.wait = readWaitSettings(this, i);
	if (!prepared.wait && webhookRun(this)) {
		throw invalid(
			this,
			i,
			'Wait for Completion',
			'it is off for this item while the node waits with Wait Mode "Webhook" (as the first item says)',
			'Give every item the same Wait for Completion, or set Wait Mode to Poll.',
		);
	}
	if (prepared.wait?.mode === 'webhook') {
		if (body.webhook !== undefined) {
			throw invalid(
				this,
				i,
				'Webhook URL',
				'it is set while Wait Mode is Webhook, which needs the talk’s webhook for itself',
				'Remove the Webhook URL (D-ID calls this execution back), or set Wait Mode to Poll.',
			);
		}
		body.webhook = callbackUrl(this, i);
	}
	return prepared;
}

function buildProvider(ctx: IExecuteFunctions, i: number, headers: IDataObject): IDataObject | undefined {
	const type = param<string>(ctx, 'provider', i, 'microsoft');
	const voice = ctx.getNodeParameter('voice', i, '', { extractValue: true }) as unknown;
	const kind = notText(voice);
	if (kind) {
		throw invalid(ctx, i, 'Voice', `the expression gave ${kind}, not a voice ID`, 'Map the voice ID text, e.g. {{ $json.voiceId }}, or pick a voice from the list.');
	}
	const voiceId = text(voice);
	const provider: IDataObject = { type };
	if (voiceId) provider.voice_id = voiceId;

	if (type === 'microsoft' || type === 'azure-openai') {
		const settings = param<IDataObject>(ctx, 'microsoftVoice', i, {});
		const voiceConfig: IDataObject = {};
		for (const key of ['style', 'rate', 'pitch']) {
			if (text(settings[key]) !== '') voiceConfig[key] = text(settings[key]);
		}
		if (voiceConfig.style !== undefined) voiceConfig.style = documentedStyle(voiceConfig.style as string);
		if (Object.keys(voiceConfig).length) provider.voice_config = voiceConfig;
		if (text(settings.language) !== '') provider.language = text(settings.language);
	} else if (type === 'elevenlabs') {
		const settings = param<IDataObject>(ctx, 'elevenLabsVoice', i, {});
		const voiceConfig: IDataObject = {};
		for (const [field, key, label] of [
			['stability', 'stability', 'Stability'],
			['similarityBoost', 'similarity_boost', 'Similarity Boost'],
		] as const) {
			if (settings[field] === undefined) continue;
			const value = numberOf(settings[field]);
			if (!inRange(value, 0, 1)) throw invalid(ctx, i, label, `${shown(settings[field])} is not a number from 0 to 1`, `Set ${label} between 0 and 1, or remove it.`);
			voiceConfig[key] = value;
		}
		if (settings.rate !== undefined) {
			const rate = text(settings.rate);
			if (!ELEVENLABS_RATE.test(rate)) throw invalid(ctx, i, 'Rate', `${shown(rate)} is not between 0.7 and 1.2`, 'ElevenLabs accepts a rate from 0.7 to 1.2, written like 0.9.');
			voiceConfig.rate = rate;
		}
		if (settings.style !== undefined) {
			const style = text(settings.style);
			if (!ELEVENLABS_STYLE.test(style)) throw invalid(ctx, i, 'Style Exaggeration', `${shown(style)} is not between 0 and 1`, 'Write a number from 0 to 1, like 0.3.');
			voiceConfig.style = style;
		}
		if (settings.useSpeakerBoost !== undefined) voiceConfig.use_speaker_boost = Boolean(settings.useSpeakerBoost);
		if (Object.keys(voiceConfig).length) provider.voice_config = voiceConfig;
		if (text(settings.modelId) !== '') provider.model_id = text(settings.modelId);
		if (text(settings.language) !== '') provider.language = text(settings.language);
		if (text(settings.externalApiKey) !== '') headers['x-api-key-external'] = JSON.stringify({ elevenlabs: text(settings.externalApiKey) });
	} else if (type === 'amazon') {
		const settings = param<IDataObject>(ctx, 'amazonVoice', i, {});
		if (text(settings.language) !== '') provider.language = text(settings.language);
		if (voiceId && !AMAZON_VOICES.includes(voiceId)) {
			throw invalid(ctx, i, 'Voice', `${shown(voiceId)} is not an Amazon voice D-ID offers`, `Pick one of: ${AMAZON_VOICES.join(', ')}.`);
		}
	}

	const onlyDefaults = type === 'microsoft' && Object.keys(provider).length === 1;
	if (onlyDefaults) return undefined; // D-ID's default voice: send no provider at all
	if (PROVIDERS_WITH_REQUIRED_VOICE.includes(type) && !voiceId) {
		throw invalid(ctx, i, 'Voice', `no voice chosen for provider ${type}`, 'Pick a voice from the list (or type its ID).');
	}
	return provider;
}

function buildConfig(ctx: IExecuteFunctions, i: number, video: IDataObject): IDataObject {
	const config: IDataObject = {};
	if (video.stitch !== undefined) config.stitch = Boolean(video.stitch);
	if (video.fluent !== undefined) config.fluent = Boolean(video.fluent);
	if (video.padAudio !== undefined) {
		const pad = numberOf(video.padAudio);
		if (!inRange(pad, 0, LIMITS.padAudioMax)) throw invalid(ctx, i, 'Pad Audio (Seconds)', `${shown(video.padAudio)} is not a number from 0 to 60`, 'D-ID pads at most 60 seconds of silence.');
		config.pad_audio = pad;
	}
	if (video.resultFormat !== undefined) {
		if (video.resultFormat !== 'mp4' && video.resultFormat !== 'mov') {
			throw invalid(ctx, i, 'Result Format', `${shown(video.resultFormat)} is not mp4 or mov`, 'D-ID renders MP4 or MOV: pick one.');
		}
		config.result_format = video.resultFormat;
	}
	const logoUrl = video.logoUrl === undefined ? '' : text(video.logoUrl);
	if (logoUrl !== '') {
		const problem = urlProblem(logoUrl, ['https', 's3']);
		if (problem) throw invalid(ctx, i, 'Logo URL', problem, 'Host the logo (a PNG or JPEG) over https.');
		const given = [video.logoX ?? 0, video.logoY ?? 0];
		const position = given.map(numberOf);
		// D-ID's logo position is a pair of 32-bit integers.
		if (!position.every((p) => Number.isInteger(p) && p >= INT32.min && p <= INT32.max)) {
			throw invalid(ctx, i, 'Logo Position', `${shown(given)} are not whole pixels from -2,147,483,648 to 2,147,483,647`, 'Use whole numbers of pixels for Logo Position X and Y (negative counts from the right or bottom).');
		}
		config.logo = { url: logoUrl, position };
	} else if (video.logoX !== undefined || video.logoY !== undefined) {
		throw invalid(ctx, i, 'Logo Position', 'it is set but Logo URL is empty', 'Add the Logo URL, or remove Logo Position X and Y.');
	}

	const entries = (param<IDataObject>(ctx, 'expressions', i, {}).expression as IDataObject[] | undefined) ?? [];
	const expressions = entries.map((entry, n) => {
		const startFrame = numberOf(entry.startFrame);
		const intensity = numberOf(entry.intensity);
		if (!inRange(startFrame, 0, Number.MAX_SAFE_INTEGER)) {
			throw invalid(ctx, i, `Expressions → Start Frame (#${n + 1})`, `${shown(entry.startFrame)} is negative or not a number`, 'Frames count from 0.');
		}
		if (!inRange(intensity, 0, 1)) {
			throw invalid(ctx, i, `Expressions → Intensity (#${n + 1})`, `${shown(entry.intensity)} is not a number from 0 to 1`, 'Use 0 (none) to 1 (strongest).');
		}
		if (!['neutral', 'happy', 'serious', 'surprise'].includes(String(entry.expression))) {
			throw invalid(ctx, i, `Expressions → Expression (#${n + 1})`, `${shown(entry.expression)} is not one of neutral, happy, serious, surprise`, 'Pick one of the listed expressions.');
		}
		return { start_frame: startFrame, expression: entry.expression, intensity };
	});
	if (video.transitionFrames !== undefined && !expressions.length) {
		throw invalid(ctx, i, 'Transition Frames', 'it is set but no expression is', 'Add at least one expression, or remove Transition Frames.');
	}
	if (expressions.length) {
		const driverExpressions: IDataObject = { expressions };
		if (video.transitionFrames !== undefined) {
			const frames = numberOf(video.transitionFrames);
			if (!inRange(frames, 0, Number.MAX_SAFE_INTEGER)) throw invalid(ctx, i, 'Transition Frames', `${shown(video.transitionFrames)} is negative or not a number`, 'Use 0 or more frames.');
			driverExpressions.transition_frames = frames;
		}
		config.driver_expressions = driverExpressions;
	}

	const legacy = param<IDataObject>(ctx, 'legacyOptions', i, {});
	const flags: Array<[string, string, string, number?, number?]> = [
		['alignDriver', 'align_driver', 'Align Driver'],
		['autoMatch', 'auto_match', 'Auto Match'],
		['sharpen', 'sharpen', 'Sharpen'],
		['alignExpandFactor', 'align_expand_factor', 'Align Expand Factor', 0, 1],
		['motionFactor', 'motion_factor', 'Motion Factor', 0, Number.MAX_VALUE],
		['normalizationFactor', 'normalization_factor', 'Normalization Factor', 0, Number.MAX_VALUE],
	];
	for (const [field, key, label, min, max] of flags) {
		if (legacy[field] === undefined) continue;
		if (min === undefined) {
			config[key] = Boolean(legacy[field]);
			continue;
		}
		const value = numberOf(legacy[field]);
		if (!inRange(value, min, max as number)) throw invalid(ctx, i, label, `${shown(legacy[field])} is out of range`, max === 1 ? 'Use 0 to 1.' : 'Use 0 or more.');
		config[key] = value;
	}
	return config;
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	prepared: PreparedCreate,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const startedAt = Date.now();
	const created = await createTalk.call(this, i, prepared, signal);
	if (!prepared.wait) return [{ json: withUploads(created, prepared.uploads) }];
	return await finishWaiting.call(this, created.id, i, prepared.wait, signal, startedAt, prepared.uploads);
}

/** Wait Mode "Webhook": creates the talk (its webhook is this execution's resume URL) before the execution waits. */
export async function startForWebhook(this: DIdContext, i: number, prepared: PreparedCreate, signal: AbortSignal): Promise<Started> {
	const talk = await createTalk.call(this, i, prepared, signal);
	return { talk, uploads: prepared.uploads };
}

/** A created talk that is not waited for names what was uploaded for it, for Talk → Wait's clean-up. */
function withUploads(talk: Talk, uploads: Uploads | undefined): IDataObject {
	return uploads ? { ...talk, uploads: { ...uploads } } : talk;
}

/**
 * Uploads the item's files when it has any, then POST /talks (never retried after it may have been
 * received). Each file is read only now, when its item runs, and let go once it is uploaded.
 */
export async function createTalk(this: DIdContext, i: number, prepared: PreparedCreate, signal?: AbortSignal): Promise<Talk> {
	const { body } = prepared;
	if (prepared.image) {
		const upload = await uploadInput.call(this, 'image', prepared.image, i, signal);
		prepared.uploads = { ...prepared.uploads, image: upload.id };
		body.source_url = upload.url;
	}
	if (prepared.audio) {
		const upload = await uploadInput.call(this, 'audio', prepared.audio, i, signal);
		prepared.uploads = { ...prepared.uploads, audio: upload.id };
		(body.script as IDataObject).audio_url = upload.url;
	}
	return (await createTalkOnce(this, body, prepared.headers, i, signal)) as Talk;
}

/** Reads the file into its upload body and uploads it; the body is let go on return. */
async function uploadInput(this: DIdContext, kind: 'image' | 'audio', file: InputFile, i: number, signal?: AbortSignal): Promise<{ id: string; url: string }> {
	const { head, tail, contentType } = multipartEnvelope(kind, file.fileName, file.mimeType);
	return await uploadFile.call(this, kind, await file.read(head, tail), contentType, i, signal);
}

/** The estimate of one prepared item (its audio binary measured from its first bytes). */
export function estimateItem(prepared: PreparedCreate): Estimate {
	const audio = prepared.audio ? { head: prepared.audio.header, size: prepared.audio.bytes } : undefined;
	return estimateTalk(prepared.body, audio);
}

/**
 * Check Credits First: before any talk of the run is created, the batch's estimated credits are
 * compared with what D-ID says remains (GET /credits). A batch that cannot be paid for creates
 * nothing: the refusal is returned for the router to fail the run (or, under Continue On Fail, every
 * item). `prepared` holds undefined for items refused already.
 */
export async function beforeRun(this: IExecuteFunctions, prepared: Array<PreparedCreate | undefined>): Promise<NodeOperationError | undefined> {
	const mode = String(this.getNodeParameter('options.checkCredits', 0, 'auto'));
	const items = prepared.map((p, i) => ({ p, i })).filter((entry): entry is { p: PreparedCreate; i: number } => entry.p !== undefined);
	if (mode === 'never' || items.length === 0 || (mode === 'auto' && items.length < 2)) return undefined;
	const estimates = items.map(({ p, i }) => ({ i, ...estimateItem(p) }));
	const needed = estimates.reduce((sum, e) => sum + e.credits, 0);
	const credits = await dIdApiRequest.call(this, 'GET', '/credits', { itemIndex: items[0].i });
	const remaining = Number(credits.remaining);
	if (!Number.isFinite(remaining) || remaining >= needed) return undefined;
	const seconds = Math.round(estimates.reduce((sum, e) => sum + e.seconds, 0));
	const bases = [...new Set(estimates.map((e) => e.basis))].join('; ');
	const largest = estimates.reduce((a, b) => (b.credits > a.credits ? b : a));
	const fitting = Math.max(0, Math.floor(remaining / (needed / estimates.length)));
	return new NodeOperationError(
		this.getNode(),
		`Not enough D-ID credits for this run: it needs an estimated ${needed} credits for ${estimates.length} talks (about ${seconds} s of video), and D-ID reports ${remaining} remaining. No talk was created.`,
		{
			description:
				`Split the batch (about ${fitting} items of this kind fit now) or top up your D-ID credits, then run again. ` +
				`The estimate errs on the side of more credits (one credit per started 15 s of video; based on: ${bases}; the largest item, #${largest.i + 1}, needs ${largest.credits}). ` +
				'If you are sure the run fits, set Options → Check Credits First to Never.',
		},
	);
}
