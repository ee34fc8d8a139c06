import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { Uploads } from '../../helpers/cleanup';
import { checkInputFile, type InputFile } from '../../helpers/input-file';
import {
	AMAZON_VOICES,
	AUDIO_URL,
	characters,
	documentedStyle,
	ELEVENLABS_RATE,
	ELEVENLABS_STYLE,
	hasVisibleText,
	INT32,
	invalid,
	LIMITS,
	notText,
	numberIn,
	numberOf,
	refuseNotText,
	shown,
	urlProblem,
} from '../../helpers/validation';
import { callbackUrl, signResumeUrl, type WaitSettings } from '../../waiting';
import { baseUrlOf, isLoopback } from '../../transport';
import { BANK_DRIVERS } from './create.fields';

/*
 * Create's UI fields → the POST /talks body, with D-ID's checks. Search this file for a D-ID
 * field's API name (source_url, script.input, provider.voice_config, config.stitch, user_data, …)
 * to find where it is read, checked and set. The field declarations are in create.fields.ts.
 */

const PROVIDERS_WITH_REQUIRED_VOICE = ['microsoft', 'amazon', 'azure-openai'];

// Ranges of number fields (see numberIn), shared by the fields of each kind.
const FRAMES = { min: 0, max: Number.MAX_SAFE_INTEGER, problem: 'is negative or not a number' };
const ZERO_TO_ONE = { min: 0, max: 1, problem: 'is not a number from 0 to 1' };

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
	refuseNotText(
		ctx,
		i,
		field,
		value,
		'an address',
		'Map the address itself, e.g. {{ $json.url }}.',
	);
	return text(value);
}

/** Create's binary inputs: the field naming the item's binary property, and the file's limit. */
const BINARY_INPUTS = {
	image: {
		name: 'imageBinaryProperty',
		field: 'Image Binary Field',
		what: 'photo',
		maxBytes: LIMITS.imageBytes,
	},
	audio: {
		name: 'audioBinaryProperty',
		field: 'Audio Binary Field',
		what: 'audio',
		maxBytes: LIMITS.audioBytes,
	},
};

/** The item's photo or audio binary: the field's value checked (text, not empty), then the file. */
async function binaryInput(
	ctx: IExecuteFunctions,
	i: number,
	kind: keyof typeof BINARY_INPUTS,
): Promise<InputFile> {
	const { name, field, what, maxBytes } = BINARY_INPUTS[kind];
	const value = param<unknown>(ctx, name, i, 'data');
	const property = notText(value) ? '' : text(value);
	if (!property) {
		throw invalid(
			ctx,
			i,
			field,
			value === '' || value === undefined || value === null
				? 'it is empty'
				: `${shown(value)} is not a field name`,
			`Name the input binary field holding the ${what}, e.g. data.`,
		);
	}
	return await checkInputFile.call(ctx, i, property, kind, field, maxBytes);
}

function text(value: unknown): string {
	if (value === undefined || value === null) return '';
	return typeof value === 'string'
		? value.trim()
		: typeof value === 'object'
			? JSON.stringify(value)
			: String(value);
}

/**
 * Reads the item's fields, checks each one as D-ID would, and builds the POST /talks body.
 * This is the one place where UI fields become D-ID fields; it sends no request. Waiting
 * (Wait for Completion) is read by the operation, which then calls useWaitWebhook.
 */
export async function buildCreateRequest(
	this: IExecuteFunctions,
	i: number,
): Promise<PreparedCreate> {
	const body: IDataObject = {};
	const headers: IDataObject = {};
	const prepared: PreparedCreate = { body, headers };

	// source_url
	if (param<string>(this, 'imageSource', i, 'url') === 'binary') {
		prepared.image = await binaryInput(this, i, 'image');
	} else {
		const imageUrl = urlField(this, i, 'imageUrl', 'Image URL');
		if (!imageUrl) {
			throw invalid(
				this,
				i,
				'Image URL',
				'no image given',
				'Enter the https:// address of a JPEG or PNG photo, or switch Image Source to Binary File.',
			);
		}
		const problem = urlProblem(imageUrl, ['https', 's3'], {
			pattern: /\.(jpe?g|png)$/i,
			names: '.jpg, .jpeg or .png',
		});
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
		refuseNotText(
			this,
			i,
			'Text',
			input,
			'text',
			'Map the text itself, e.g. {{ $json.text }}; to speak a list, join it first: {{ $json.lines.join(" ") }}.',
		);
		const length = characters(String(input ?? ''));
		if (length < LIMITS.textMin || length > LIMITS.textMax) {
			throw invalid(
				this,
				i,
				'Text',
				`it has ${length} characters; D-ID accepts ${LIMITS.textMin} to ${LIMITS.textMax.toLocaleString('en-US')}`,
				length < LIMITS.textMin
					? 'Enter what the presenter should say (an expression may have resolved to an empty value).'
					: 'Split the text into several talks.',
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
		prepared.audio = await binaryInput(this, i, 'audio');
	} else {
		const audioUrl = urlField(this, i, 'audioUrl', 'Audio URL');
		const problem = audioUrl ? urlProblem(audioUrl, ['https', 's3']) : undefined;
		if (problem || !AUDIO_URL.test(audioUrl)) {
			throw invalid(
				this,
				i,
				'Audio URL',
				problem ??
					(audioUrl
						? `${shown(audioUrl)} is not an https:// or s3:// address of an .mp3, .wav, .m4a, .flac or .mp4 file`
						: 'no audio given'),
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
			throw invalid(
				this,
				i,
				'Bank Driver',
				`${shown(bankDriver)} is not one of D-ID’s bank drivers`,
				`Pick one of: ${BANK_DRIVERS.join(', ')}.`,
			);
		}
		body.driver_url = `bank://${bankDriver}`;
	}
	if (driver === 'custom') {
		const driverUrl = urlField(this, i, 'customDriverUrl', 'Driver URL');
		const problem = driverUrl ? urlProblem(driverUrl, ['https', 's3']) : 'no driver URL given';
		if (problem)
			throw invalid(
				this,
				i,
				'Driver URL',
				problem,
				'Enter the https:// address of the driver video, or choose the Automatic driver.',
			);
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
				length < 1
					? 'it is empty'
					: `it has ${length} characters; D-ID accepts at most ${LIMITS.userDataMax}`,
				length < 1
					? 'Remove the field or give it a value.'
					: 'Keep only an ID in User Data and look the rest up later.',
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
		if (problem)
			throw invalid(
				this,
				i,
				'Result URL',
				problem,
				'Enter where D-ID should upload the video, or remove the field.',
			);
		body.result_url = resultUrl;
	}

	return prepared;
}

/** Wait Mode "Webhook": the talk's `webhook` is this execution's callback URL, so the item may not set its own. */
export function useWaitWebhook(ctx: IExecuteFunctions, i: number, body: IDataObject): void {
	if (body.webhook !== undefined) {
		throw invalid(
			ctx,
			i,
			'Webhook URL',
			'it is set while Wait Mode is Webhook, which needs the talk’s webhook for itself',
			'Remove the Webhook URL (D-ID calls this execution back), or set Wait Mode to Poll.',
		);
	}
	body.webhook = callbackUrl(ctx, i);
}

function buildProvider(
	ctx: IExecuteFunctions,
	i: number,
	headers: IDataObject,
): IDataObject | undefined {
	const type = param<string>(ctx, 'provider', i, 'microsoft');
	const voice = ctx.getNodeParameter('voice', i, '', { extractValue: true }) as unknown;
	refuseNotText(
		ctx,
		i,
		'Voice',
		voice,
		'a voice ID',
		'Map the voice ID text, e.g. {{ $json.voiceId }}, or pick a voice from the list.',
	);
	const voiceId = text(voice);
	const provider: IDataObject = { type };
	if (voiceId) provider.voice_id = voiceId;

	if (type === 'microsoft' || type === 'azure-openai') {
		const settings = param<IDataObject>(ctx, 'microsoftVoice', i, {});
		const voiceConfig: IDataObject = {};
		for (const key of ['style', 'rate', 'pitch']) {
			if (text(settings[key]) !== '') voiceConfig[key] = text(settings[key]);
		}
		if (voiceConfig.style !== undefined)
			voiceConfig.style = documentedStyle(voiceConfig.style as string);
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
			voiceConfig[key] = numberIn(ctx, i, settings[field], {
				...ZERO_TO_ONE,
				field: label,
				hint: `Set ${label} between 0 and 1, or remove it.`,
			});
		}
		// Text, checked against D-ID's patterns and sent as written.
		for (const [key, label, pattern, range, hint] of [
			[
				'rate',
				'Rate',
				ELEVENLABS_RATE,
				'between 0.7 and 1.2',
				'ElevenLabs accepts a rate from 0.7 to 1.2, written like 0.9.',
			],
			[
				'style',
				'Style Exaggeration',
				ELEVENLABS_STYLE,
				'between 0 and 1',
				'Write a number from 0 to 1, like 0.3.',
			],
		] as const) {
			if (settings[key] === undefined) continue;
			const value = text(settings[key]);
			if (!pattern.test(value))
				throw invalid(ctx, i, label, `${shown(value)} is not ${range}`, hint);
			voiceConfig[key] = value;
		}
		if (settings.useSpeakerBoost !== undefined)
			voiceConfig.use_speaker_boost = Boolean(settings.useSpeakerBoost);
		if (Object.keys(voiceConfig).length) provider.voice_config = voiceConfig;
		if (text(settings.modelId) !== '') provider.model_id = text(settings.modelId);
		if (text(settings.language) !== '') provider.language = text(settings.language);
		if (text(settings.externalApiKey) !== '')
			headers['x-api-key-external'] = JSON.stringify({ elevenlabs: text(settings.externalApiKey) });
	} else if (type === 'amazon') {
		const settings = param<IDataObject>(ctx, 'amazonVoice', i, {});
		if (text(settings.language) !== '') provider.language = text(settings.language);
		if (voiceId && !AMAZON_VOICES.includes(voiceId)) {
			throw invalid(
				ctx,
				i,
				'Voice',
				`${shown(voiceId)} is not an Amazon voice D-ID offers`,
				`Pick one of: ${AMAZON_VOICES.join(', ')}.`,
			);
		}
	}

	const onlyDefaults = type === 'microsoft' && Object.keys(provider).length === 1;
	if (onlyDefaults) return undefined; // D-ID's default voice: send no provider at all
	if (PROVIDERS_WITH_REQUIRED_VOICE.includes(type) && !voiceId) {
		throw invalid(
			ctx,
			i,
			'Voice',
			`no voice chosen for provider ${type}`,
			'Pick a voice from the list (or type its ID).',
		);
	}
	return provider;
}

function buildConfig(ctx: IExecuteFunctions, i: number, video: IDataObject): IDataObject {
	const config: IDataObject = {};
	if (video.stitch !== undefined) config.stitch = Boolean(video.stitch);
	if (video.fluent !== undefined) config.fluent = Boolean(video.fluent);
	if (video.padAudio !== undefined) {
		config.pad_audio = numberIn(ctx, i, video.padAudio, {
			field: 'Pad Audio (Seconds)',
			min: 0,
			max: LIMITS.padAudioMax,
			problem: 'is not a number from 0 to 60',
			hint: 'D-ID pads at most 60 seconds of silence.',
		});
	}
	if (video.resultFormat !== undefined) {
		if (video.resultFormat !== 'mp4' && video.resultFormat !== 'mov') {
			throw invalid(
				ctx,
				i,
				'Result Format',
				`${shown(video.resultFormat)} is not mp4 or mov`,
				'D-ID renders MP4 or MOV: pick one.',
			);
		}
		config.result_format = video.resultFormat;
	}
	const logoUrl = video.logoUrl === undefined ? '' : text(video.logoUrl);
	if (logoUrl !== '') {
		const problem = urlProblem(logoUrl, ['https', 's3']);
		if (problem)
			throw invalid(ctx, i, 'Logo URL', problem, 'Host the logo (a PNG or JPEG) over https.');
		const given = [video.logoX ?? 0, video.logoY ?? 0];
		const position = given.map(numberOf);
		// D-ID's logo position is a pair of 32-bit integers.
		if (!position.every((p) => Number.isInteger(p) && p >= INT32.min && p <= INT32.max)) {
			throw invalid(
				ctx,
				i,
				'Logo Position',
				`${shown(given)} are not whole pixels from -2,147,483,648 to 2,147,483,647`,
				'Use whole numbers of pixels for Logo Position X and Y (negative counts from the right or bottom).',
			);
		}
		config.logo = { url: logoUrl, position };
	} else if (video.logoX !== undefined || video.logoY !== undefined) {
		throw invalid(
			ctx,
			i,
			'Logo Position',
			'it is set but Logo URL is empty',
			'Add the Logo URL, or remove Logo Position X and Y.',
		);
	}

	const entries =
		(param<IDataObject>(ctx, 'expressions', i, {}).expression as IDataObject[] | undefined) ?? [];
	const expressions = entries.map((entry, n) => {
		const startFrame = numberIn(ctx, i, entry.startFrame, {
			...FRAMES,
			field: `Expressions → Start Frame (#${n + 1})`,
			hint: 'Frames count from 0.',
		});
		const intensity = numberIn(ctx, i, entry.intensity, {
			...ZERO_TO_ONE,
			field: `Expressions → Intensity (#${n + 1})`,
			hint: 'Use 0 (none) to 1 (strongest).',
		});
		if (!['neutral', 'happy', 'serious', 'surprise'].includes(String(entry.expression))) {
			throw invalid(
				ctx,
				i,
				`Expressions → Expression (#${n + 1})`,
				`${shown(entry.expression)} is not one of neutral, happy, serious, surprise`,
				'Pick one of the listed expressions.',
			);
		}
		return { start_frame: startFrame, expression: entry.expression, intensity };
	});
	if (video.transitionFrames !== undefined && !expressions.length) {
		throw invalid(
			ctx,
			i,
			'Transition Frames',
			'it is set but no expression is',
			'Add at least one expression, or remove Transition Frames.',
		);
	}
	if (expressions.length) {
		const driverExpressions: IDataObject = { expressions };
		if (video.transitionFrames !== undefined) {
			driverExpressions.transition_frames = numberIn(ctx, i, video.transitionFrames, {
				...FRAMES,
				field: 'Transition Frames',
				hint: 'Use 0 or more frames.',
			});
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
		config[key] = numberIn(ctx, i, legacy[field], {
			field: label,
			min,
			max: max as number,
			problem: 'is out of range',
			hint: max === 1 ? 'Use 0 to 1.' : 'Use 0 or more.',
		});
	}
	return config;
}
