'use strict';
// How D-ID checks a `POST /talks` body: its OpenAPI schema (with the overview's legacy fields
// added), then the checks the schema cannot express. Throws DIdError; returns nothing.
const spec = require('../openapi.talks.json');
const { validate } = require('./schema');
const { DIdError, validationError } = require('./errors');

const DRIVER_BANK = {
	natural: [
		'driver-1',
		'driver-2',
		'driver-3',
		'driver-4',
		'driver-5',
		'driver-6',
		'driver-7',
		'driver-8',
	],
	lively: ['driver-01', 'driver-02', 'driver-03', 'driver-04', 'driver-05', 'driver-06'],
	subtle: ['driver-01', 'driver-02', 'driver-03', 'driver-04'],
};

/** Markers that make the sandbox behave like D-ID does on content it refuses. */
const MARKERS = {
	noFace: 'no-face', // in an image URL or upload file name: the talk ends in status "error"
	rejected: 'rejected-image', // in an image URL: the talk ends in status "rejected"
	imageModeration: 'nsfw', // in an image URL or file name: 451 ImageModerationError
	celebrity: 'celebrity', // in an image URL or file name: 451 CelebrityRecognizedError
	textModeration: '[moderate-me]', // in a text script: 451 TextModerationError
	audioModeration: 'moderate-me', // in an audio URL or file name: 451 AudioModerationError
};

/**
 * The POST /talks body schema for a `legacy` setting: false → today's spec exactly (driver_url, the
 * old config flags and persist are unknown properties, refused); 'overview' → plus the Talks
 * overview's driver_url and config flags (the service accepted them when the overview was
 * written); true → those and `persist` too.
 */
function createTalkSchema(legacy = 'overview') {
	const schema = structuredClone(
		spec.paths['/talks'].post.requestBody.content['application/json'].schema,
	);
	if (!legacy) return schema;
	if (legacy === true) schema.properties.persist = { type: 'boolean' };
	// Legacy fields from the Talks overview that the service accepted and today's spec omits.
	schema.properties.driver_url = { type: 'string', pattern: '^(bank|https|s3):\\/\\/\\S+$' };
	Object.assign(schema.properties.config.properties, {
		align_driver: { type: 'boolean' },
		align_expand_factor: { type: 'number', minimum: 0, maximum: 1 },
		auto_match: { type: 'boolean' },
		motion_factor: { type: 'number', minimum: 0 },
		normalization_factor: { type: 'number', minimum: 0 },
		sharpen: { type: 'boolean' },
	});
	return schema;
}

const SCHEMA = createTalkSchema('overview');
const SCHEMAS = new Map([
	['overview', SCHEMA],
	[true, createTalkSchema(true)],
	[false, createTalkSchema(false)],
]);
const LOOPBACK_HTTP = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/\S*)?$/i;

/**
 * @param body the parsed JSON body
 * @param ctx { headers, plan: {stitch, subtitles}, allowHttpLoopbackWebhooks, uploads: Map(url → upload),
 *   legacy: 'overview' | true | false, lengthUnits: 'utf16' | 'code-points' }
 */
function checkCreateTalk(body, ctx) {
	if (body === null || typeof body !== 'object' || Array.isArray(body)) {
		throw validationError([{ path: 'body', message: 'must be of type object' }], body);
	}
	let problems = validate(SCHEMAS.get(ctx.legacy ?? 'overview') ?? SCHEMA, body, 'body', {
		lengthUnits: ctx.lengthUnits,
	});
	// D-ID demands https webhooks; the sandbox also delivers to http on loopback (see README).
	if (
		ctx.allowHttpLoopbackWebhooks &&
		typeof body.webhook === 'string' &&
		LOOPBACK_HTTP.test(body.webhook)
	) {
		problems = problems.filter((p) => p.path !== 'body.webhook');
	}
	if (body.source_url === undefined)
		problems.push({ path: 'body.source_url', message: 'is required' });
	if (problems.length) throw validationError(problems, body);

	checkDriver(body.driver_url);
	checkExternalKey(ctx.headers['x-api-key-external']);
	checkUploads(body, ctx.uploads);

	const { script, config = {} } = body;
	if (config.stitch && !ctx.plan.stitch)
		throw new DIdError('PermissionError', 'user has no permission for stitch');
	if (script.subtitles && !ctx.plan.subtitles)
		throw new DIdError('PermissionError', 'user has no permission for subtitles');

	const image = imageName(body.source_url, ctx.uploads);
	if (image.includes(MARKERS.imageModeration)) {
		throw new DIdError(
			'ImageModerationError',
			'Automatic content moderation - contact support if you would like to submit for manual review',
		);
	}
	if (image.includes(MARKERS.celebrity)) {
		throw new DIdError(
			'CelebrityRecognizedError',
			'Celebrity recognized - contact support if you would like to submit for manual review',
		);
	}
	if (script.type === 'text' && script.input.toLowerCase().includes(MARKERS.textModeration)) {
		throw new DIdError(
			'TextModerationError',
			'Automatic text moderation - contact support if you would like to submit for manual review',
		);
	}
	if (
		script.type === 'audio' &&
		imageName(script.audio_url, ctx.uploads).includes(MARKERS.audioModeration)
	) {
		throw new DIdError(
			'AudioModerationError',
			'Automatic audio moderation - contact support if you would like to submit for manual review',
		);
	}
}

function checkDriver(driverUrl) {
	if (driverUrl === undefined || !driverUrl.startsWith('bank://')) return;
	const [group, name, ...rest] = driverUrl.slice('bank://'.length).split('/');
	const known = DRIVER_BANK[group];
	const nameOk = name === undefined || name === '' || known?.includes(name);
	const restOk = rest.length === 0 || (rest.length === 1 && rest[0] === 'flipped');
	if (!known || !nameOk || !restOk) {
		throw new DIdError('BadRequestError', `invalid driver url: ${driverUrl}`);
	}
}

function checkExternalKey(header) {
	if (header === undefined) return;
	let parsed;
	try {
		parsed = JSON.parse(header);
	} catch {
		throw new DIdError(
			'BadRequestError',
			'x-api-key-external must be a JSON object such as {"elevenlabs": "KEY"}',
		);
	}
	if (
		!parsed ||
		typeof parsed !== 'object' ||
		Array.isArray(parsed) ||
		Object.values(parsed).some((v) => typeof v !== 'string')
	) {
		throw new DIdError(
			'BadRequestError',
			'x-api-key-external must be a JSON object such as {"elevenlabs": "KEY"}',
		);
	}
}

// s3:// URLs are D-ID's own storage: only those handed out by POST /images and /audios exist.
function checkUploads(body, uploads) {
	if (body.source_url.startsWith('s3://') && !uploads.has(body.source_url)) {
		throw new DIdError('BadRequestError', 'invalid actor url');
	}
	const audioUrl = body.script.audio_url;
	if (typeof audioUrl === 'string' && audioUrl.startsWith('s3://') && !uploads.has(audioUrl)) {
		throw new DIdError('BadRequestError', 'invalid audio url');
	}
}

function imageName(url, uploads) {
	const upload = uploads.get(url);
	return `${url} ${upload?.filename ?? ''}`.toLowerCase();
}

/** Seconds of speech a script makes: text at ~150 words a minute, audio by its duration. */
function scriptSeconds(body, uploads) {
	const { script, config = {} } = body;
	let seconds;
	if (script.type === 'text') {
		const text = script.ssml ? script.input.replace(/<[^>]+>/g, ' ') : script.input;
		const words = text.trim().split(/\s+/).filter(Boolean).length;
		seconds = Math.max(1, words / 2.5);
	} else {
		seconds = uploads.get(script.audio_url)?.duration ?? 3;
	}
	return Math.round((seconds + (config.pad_audio ?? 0)) * 100) / 100;
}

module.exports = { checkCreateTalk, scriptSeconds, MARKERS, DRIVER_BANK, SCHEMA };
