'use strict';
// The talk store and each talk's lifecycle: created → started → done/error/rejected on timers,
// and how a talk reads (GET /talks/{id}, the list, webhooks) under the profile's settings.
const crypto = require('node:crypto');

const { DIdError } = require('./errors');
const { draw } = require('./prng');
const { resultSize } = require('./media');
const { checkCreateTalk, scriptSeconds, MARKERS } = require('./create-talk');
const { decodePathPart } = require('./http');
const { deliverWebhook } = require('./webhooks');
const spec = require('../openapi.talks.json');

// The fields D-ID's spec lists for a talk (GET /talks/{id}, and each item of GET /talks).
const TALK_SCHEMA =
	spec.paths['/talks/{id}'].get.responses['200'].content['application/json'].schema;
const SPEC_TALK_FIELDS = Object.keys(TALK_SCHEMA.properties);
const SPEC_CONFIG_FIELDS = Object.keys(TALK_SCHEMA.properties.config.properties);

const CONFIG_DEFAULTS = {
	stitch: false,
	pad_audio: 0,
	align_driver: true,
	sharpen: true,
	auto_match: true,
	normalization_factor: 1,
	logo: { url: 'ai', position: [0, 0] },
	motion_factor: 1,
	fluent: false,
	align_expand_factor: 0.3,
};

function newId(prefix) {
	return `${prefix}${crypto.randomBytes(12).toString('base64url').slice(0, 21)}`;
}

function processingMs(state, seconds) {
	const p = state.options.processing;
	if (p.rangeMs) return Math.round(draw(state.random, p.rangeMs));
	let ms = Math.max(p.minMs ?? 0, seconds * p.msPerSecond);
	if (p.jitter) ms *= 1 + (state.random() * 2 - 1) * p.jitter;
	return Math.max(1, Math.round(ms));
}

/** Checks a POST /talks body as D-ID would, charges its credits, stores it and starts its timer. */
function createTalk(state, body, headers) {
	const { options, uploads } = state;
	checkCreateTalk(body, {
		headers,
		plan: options.plan,
		allowHttpLoopbackWebhooks: options.allowHttpLoopbackWebhooks,
		uploads,
		legacy: options.legacy,
		lengthUnits: options.lengthUnits,
	});
	const seconds = scriptSeconds(body, uploads);
	const cost = Math.max(1, Math.ceil(seconds / 15));
	if (state.credits.remaining < cost)
		throw new DIdError('InsufficientCreditsError', 'not enough credits');
	state.credits.remaining -= cost;

	const now = Date.now();
	const total = processingMs(state, seconds);
	const image = `${body.source_url} ${uploads.get(body.source_url)?.filename ?? ''}`.toLowerCase();
	const format = body.config?.result_format ?? 'mp4';
	const talk = {
		id: newId('tlk_'),
		request: structuredClone(body),
		requestHeaders: redactHeaders(headers),
		createdAt: now,
		startAt: now + Math.min(Math.round(total * 0.25), 1000),
		doneAt: now + total,
		seconds,
		credits: cost,
		format,
		size: resultSize(format, options.resultSizeBytes),
		outcome: image.includes(MARKERS.noFace)
			? 'error'
			: image.includes(MARKERS.rejected)
				? 'rejected'
				: 'done',
		deleted: false,
		// Where the talk sits in a shuffled list: a stable place, so pages do not overlap.
		shuffleKey: state.random(),
		// Creation order, for talks made in the same millisecond.
		seq: (state.talkSeq = (state.talkSeq ?? 0) + 1),
	};
	state.talks.set(talk.id, talk);
	state.stats.talksCreated += 1;
	state.schedule(talk.doneAt - now, () => finishTalk(state, talk));
	return talk;
}

function finishTalk(state, talk) {
	talk.finished = true;
	if (talk.deleted) return;
	state.stats.talksFinished += 1;
	// The timer that ends a talk can fire a millisecond before Date.now() reaches doneAt: the
	// webhook describes the talk as finished, whatever the clocks say.
	if (talk.request.webhook)
		deliverWebhook(state, talk, () =>
			JSON.stringify(renderTalk(state, talk, Math.max(Date.now(), talk.doneAt))),
		);
}

function statusOf(talk, now = Date.now(), lagged = false) {
	// Once the talk's end has run (and its webhook gone out), it is over whatever the clocks say
	// (unless reads are lagging behind it).
	if (talk.finished && !lagged) return talk.outcome;
	if (now < talk.startAt) return 'created';
	if (now < talk.doneAt) return 'started';
	return talk.outcome;
}

/** A time on the sandbox's clock (`clockSkewMs` off the machine's), as D-ID writes it. */
function iso(state, ms) {
	const text = new Date(ms + state.options.clockSkewMs).toISOString();
	return state.options.createdAtFormat === 'no-z' ? text.slice(0, -1) : text;
}

/** The talk as a read (`GET /talks/{id}`, `GET /talks`, `DELETE`) shows it: `readLagMs` behind, only spec fields when asked. */
function readTalk(state, talk, now = Date.now()) {
	const lag = state.options.readLagMs;
	const out = renderTalk(state, talk, lag ? now - lag : now, lag > 0);
	if (state.options.fields !== 'spec') return out;
	const strict = {};
	for (const field of SPEC_TALK_FIELDS) if (out[field] !== undefined) strict[field] = out[field];
	if (strict.config) {
		const config = {};
		for (const field of SPEC_CONFIG_FIELDS)
			if (out.config[field] !== undefined) config[field] = out.config[field];
		if (typeof config.result_format === 'string')
			config.result_format = config.result_format.replace(/^\./, '');
		strict.config = config;
	}
	return strict;
}

/** The talk with every field the sandbox knows (fields of the Talks overview's example response); webhooks carry this. */
function renderTalk(state, talk, now = Date.now(), lagged = false) {
	const { userId, baseUrl } = state;
	const status = statusOf(talk, now, lagged);
	const body = talk.request;
	const config = { ...CONFIG_DEFAULTS, ...(body.config ?? {}) };
	config.result_format = `.${talk.format}`;
	const driverUrl = body.driver_url ?? 'bank://lively/';
	const out = {
		id: talk.id,
		user_id: userId,
		created_by: userId,
		created_at: iso(state, talk.createdAt),
		modified_at: iso(
			state,
			status === 'created'
				? talk.createdAt
				: Math.min(now, status === 'started' ? talk.startAt : talk.doneAt),
		),
		status,
		source_url: body.source_url,
		driver_url: driverUrl,
		config,
	};
	if (body.name !== undefined) out.name = body.name;
	if (body.user_data !== undefined) out.user_data = body.user_data;
	if (body.webhook !== undefined) out.webhook = body.webhook;
	if (status !== 'created') {
		out.started_at = iso(state, talk.startAt);
		out.audio_url =
			body.script.type === 'audio'
				? body.script.audio_url
				: `${baseUrl}/audio/${talk.id}/${body.script.provider?.type ?? 'microsoft'}.wav`;
	}
	if (status === 'done') {
		const frames = Math.round(talk.seconds * 25);
		out.metadata = {
			driver_url: driverUrl === 'bank://lively/' ? 'bank://lively/driver-02/flipped' : driverUrl,
			mouth_open: false,
			num_faces: 1,
			num_frames: frames,
			processing_fps: frames / Math.max(0.001, (talk.doneAt - talk.startAt) / 1000),
			resolution: [512, 512],
			size_kib: talk.size / 1024,
		};
		out.face = {
			mask_confidence: -1,
			detection: [224, 198, 484, 553],
			overlap: 'no',
			size: 512,
			top_left: [98, 119],
			face_id: 0,
			detect_confidence: 0.9998300075531006,
		};
		out.duration = talk.seconds;
		out.result_url = signedResultUrl(state, talk);
	}
	if (status === 'error') {
		out.error = { kind: 'FaceError', description: 'Failed to detect a face in the source image' };
	}
	if (status === 'rejected') {
		out.error = {
			kind: 'ContentModerationError',
			description: 'The talk was rejected by content moderation',
		};
	}
	return out;
}

function signedResultUrl(state, talk) {
	const expires = Math.floor(talk.doneAt / 1000) + state.options.resultUrlTtlSec;
	const file = `${talk.id}.${talk.format}`;
	return `${state.baseUrl}/results/${talk.id}/${file}?Expires=${expires}&Signature=${sign(state, `${talk.id}/${file}:${expires}`)}`;
}

function sign(state, value) {
	return crypto.createHmac('sha256', state.signingKey).update(value).digest('base64url');
}

/** A talk that exists and is not deleted, or 404. */
function liveTalk(state, id) {
	const talk = state.talks.get(decodePathPart(id));
	if (!talk || talk.deleted) throw new DIdError('NotFoundError', `talk not found: ${id}`);
	return talk;
}

// The order D-ID's spec does not promise: `listOrder`.
function listed(state, now) {
	const { options } = state;
	const visible = [...state.talks.values()].filter(
		(t) => !t.deleted && t.createdAt <= now - options.readLagMs,
	);
	const newestFirst = (a, b) => b.createdAt - a.createdAt || b.seq - a.seq;
	if (options.listOrder === 'oldest-first') return visible.sort((a, b) => -newestFirst(a, b));
	if (options.listOrder === 'shuffled') return visible.sort((a, b) => a.shuffleKey - b.shuffleKey);
	return visible.sort(newestFirst);
}

function redactHeaders(headers) {
	const copy = { ...headers };
	delete copy.authorization;
	if (copy['x-api-key-external']) copy['x-api-key-external'] = '<redacted>';
	return copy;
}

module.exports = { newId, createTalk, statusOf, iso, readTalk, renderTalk, sign, liveTalk, listed };
