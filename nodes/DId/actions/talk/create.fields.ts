import type { INodeProperties } from 'n8n-workflow';

import { waitFields } from './wait.fields';

/*
 * Create's field list as the editor shows it: declarations only. How each field becomes part of
 * the POST /talks body, and its checks, is in create.body.ts.
 */

export const BANK_DRIVERS = [
	...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `natural/driver-${n}`),
	...[1, 2, 3, 4, 5, 6].map((n) => `lively/driver-0${n}`),
	...[1, 2, 3, 4].map((n) => `subtle/driver-0${n}`),
];

export const properties: INodeProperties[] = [
	// ---------------------------------------------------------------- image
	{
		displayName: 'Image Source',
		name: 'imageSource',
		type: 'options',
		options: [
			{
				name: 'URL',
				value: 'url',
				description: 'An https:// or s3:// address of a JPEG or PNG photo',
			},
			{
				name: 'Binary File',
				value: 'binary',
				description: 'A photo in a binary property of the input item (uploaded to D-ID first)',
			},
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
		description:
			'Photo of one face. D-ID requires https:// (or s3://) and a .jpg, .jpeg or .png ending.',
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
		description:
			'Text-to-speech provider. Leave Microsoft with no voice to use D-ID’s default voice.',
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
				typeOptions: {
					searchListMethod: 'searchVoices',
					searchable: true,
					searchFilterRequired: false,
				},
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
				description:
					'Absolute (e.g. 200Hz), relative (+10Hz, -2st) or x-low/low/medium/high/x-high',
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
				typeOptions: {
					loadOptionsMethod: 'getVoiceStyles',
					loadOptionsDependsOn: ['voice.value', 'provider'],
				},
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
			{
				name: 'Binary File',
				value: 'binary',
				description: 'Audio in a binary property of the input item (uploaded to D-ID first)',
			},
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
		description:
			'Https:// or s3:// address ending in .mp3, .wav, .m4a, .flac or .mp4 (at most 15 MB, 10 minutes)',
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
			{
				name: 'Automatic (Recommended)',
				value: 'auto',
				description: 'D-ID picks the driver that best matches the photo',
			},
			{
				name: 'From D-ID Driver Bank',
				value: 'bank',
				description: 'One of D-ID’s recorded head-movement drivers',
			},
			{ name: 'Custom URL', value: 'custom', description: 'Your own driver video' },
		],
		default: 'auto',
		description:
			'The video of a real face whose head movements drive the talk (legacy field driver_url)',
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
				description:
					'Whether to interpolate between the last and first frames of the driver (smooth loops)',
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
				description:
					'Silence added at the end, 0 to 60 seconds (makes the video longer and costs credits)',
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
				description:
					'Whether to put the animated face back into the whole photo instead of a crop around the face',
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
			{
				displayName: 'Align Driver',
				name: 'alignDriver',
				type: 'boolean',
				default: true,
				description: 'Whether to align the driver video to the face (legacy align_driver)',
			},
			{
				displayName: 'Align Expand Factor',
				name: 'alignExpandFactor',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.3,
				description: 'How much to expand the face crop, 0 to 1 (legacy align_expand_factor)',
			},
			{
				displayName: 'Auto Match',
				name: 'autoMatch',
				type: 'boolean',
				default: true,
				description: 'Whether to match the driver to the photo automatically (legacy auto_match)',
			},
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
				description:
					'Whether D-ID should keep the talk (legacy persist; today’s specification does not list it and the sandbox refuses it like the spec)',
			},
			{
				displayName: 'Sharpen',
				name: 'sharpen',
				type: 'boolean',
				default: true,
				description: 'Whether to sharpen the result (legacy sharpen)',
			},
		],
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				description: 'A name for the talk video',
			},
			{
				displayName: 'Result URL',
				name: 'resultUrl',
				type: 'string',
				default: '',
				placeholder: 'https://bucket.example.com/videos/',
				description:
					'Where D-ID should store the video (https:// or s3://) instead of its default storage',
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
		description:
			'Whether to wait until the video is ready (and optionally download it) instead of returning right after D-ID accepted the talk',
	},
	...waitFields({ waitForCompletion: [true] }, { uploads: 'own' }),
];
