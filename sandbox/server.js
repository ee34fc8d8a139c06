'use strict';
// A local server that behaves like D-ID's Talks API (see README "The sandbox"). Node built-ins only.
const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const { URL } = require('node:url');

const { DIdError, validationError } = require('./lib/errors');
const { Faults } = require('./lib/faults');
const { createRandom, draw } = require('./lib/prng');
const { parseMultipart, sniffMime } = require('./lib/multipart');
const { MIME, resultSize, resultStream, resultDigest, silentWav, audioDuration } = require('./lib/media');
const { VOICES, PROVIDERS } = require('./lib/voices');
const { checkCreateTalk, scriptSeconds, MARKERS } = require('./lib/create-talk');
const spec = require('./openapi.talks.json');

/**
 * How close to D-ID's published contract the sandbox behaves (README "Profiles"). "friendly" is
 * what D-ID is observed to do and what the node can count on least cleverly; "spec-strict" does
 * what the OpenAPI allows and no more: only the fields it lists, no promised list order, reads
 * behind webhooks, talks committed after a failed answer, another clock, timestamps without a zone.
 */
const PROFILES = {
	friendly: {
		fields: 'all',
		listOrder: 'newest-first',
		readLagMs: 0,
		lateCommitMs: [200, 2000],
		commitOnFault: { dropAfter: 'before', 500: 'never', 502: 'never', 504: 'before' },
		clockSkewMs: 0,
		createdAtFormat: 'z',
		lengthUnits: 'utf16',
		legacy: 'overview',
		endlessToken: false,
	},
	'spec-strict': {
		fields: 'spec',
		listOrder: 'shuffled',
		readLagMs: 1000,
		lateCommitMs: [500, 5000],
		commitOnFault: { dropAfter: 'late', 500: 'late', 502: 'late', 504: 'late' },
		clockSkewMs: -3000,
		createdAtFormat: 'no-z',
		lengthUnits: 'utf16',
		legacy: false,
		endlessToken: true,
	},
};
const PROFILE_KEYS = Object.keys(PROFILES.friendly);
const LIST_ORDERS = ['newest-first', 'oldest-first', 'shuffled'];
// The fields D-ID's spec lists for a talk (GET /talks/{id}, and each item of GET /talks).
const TALK_SCHEMA = spec.paths['/talks/{id}'].get.responses['200'].content['application/json'].schema;
const SPEC_TALK_FIELDS = Object.keys(TALK_SCHEMA.properties);
const SPEC_CONFIG_FIELDS = Object.keys(TALK_SCHEMA.properties.config.properties);

const DEFAULTS = {
	host: '127.0.0.1',
	port: 0,
	apiKey: 'sandbox-user:sandbox-secret',
	credits: 100,
	plan: { stitch: true, subtitles: true },
	// Processing time: script seconds × msPerSecond (at least minMs), ± jitter (a fraction);
	// `rangeMs: [min, max]` draws it uniformly instead.
	processing: { msPerSecond: 1000, minMs: 500, jitter: 0, rangeMs: undefined },
	resultSizeBytes: 0,
	resultUrlTtlSec: 24 * 3600,
	allowHttpLoopbackWebhooks: true,
	seed: undefined,
	faults: {},
	log: undefined,
	publicUrl: undefined,
	profile: 'friendly',
};

const JSON_LIMIT = 1024 * 1024;
const UPLOAD_LIMIT = { image: 10 * 1024 * 1024, audio: 6 * 1024 * 1024 };
const MAX_AUDIO_SECONDS = 600;
const FILE_NAME = /^[A-Za-z0-9._-]{1,50}$/;
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

function isLoopbackHost(hostname) {
	return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}

function checkProfileSettings(o) {
	if (!['all', 'spec'].includes(o.fields)) throw new Error(`fields: "${o.fields}" is not all or spec`);
	if (!LIST_ORDERS.includes(o.listOrder)) throw new Error(`listOrder: "${o.listOrder}" is not one of ${LIST_ORDERS.join(', ')}`);
	if (!['z', 'no-z'].includes(o.createdAtFormat)) throw new Error(`createdAtFormat: "${o.createdAtFormat}" is not z or no-z`);
	if (!['utf16', 'code-points'].includes(o.lengthUnits)) throw new Error(`lengthUnits: "${o.lengthUnits}" is not utf16 or code-points`);
	if (![true, false, 'overview'].includes(o.legacy)) throw new Error(`legacy: "${o.legacy}" is not true, false or overview`);
	for (const [fault, commit] of Object.entries(o.commitOnFault)) {
		if (!['dropAfter', '500', '502', '504'].includes(fault)) throw new Error(`commitOnFault: no fault "${fault}" (use dropAfter, 500, 502, 504)`);
		if (!['before', 'late', 'never'].includes(commit)) throw new Error(`commitOnFault.${fault}: "${commit}" is not before, late or never`);
	}
	for (const key of ['readLagMs', 'clockSkewMs']) if (!Number.isFinite(o[key])) throw new Error(`${key} must be a number`);
}

/** A Host header naming this machine (any port): what a web page's DNS-rebinding request does not send. */
function isLoopbackHostHeader(value) {
	const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(String(value ?? '').trim().toLowerCase());
	return Boolean(match) && isLoopbackHost(match[1]);
}

/** decodeURIComponent that answers a malformed escape with a D-ID-style 400 instead of a crash. */
function decodePathPart(value) {
	try {
		return decodeURIComponent(value);
	} catch {
		throw new DIdError('BadRequestError', `malformed URL escape in "${value}"`);
	}
}

/** The largest --result-size: MP4 padding boxes take 64-bit sizes, but a result is still a file someone downloads. */
const MAX_RESULT_BYTES = 64 * 1024 ** 3;

function checkResultSize(value) {
	if (value === undefined || value === null) return;
	if (!Number.isSafeInteger(value) || value < 0 || value > MAX_RESULT_BYTES) {
		throw new DIdError('ValidationError', `resultSizeBytes must be a whole number of bytes from 0 to ${MAX_RESULT_BYTES} (64 GB)`);
	}
}

function createSandbox(userOptions = {}) {
	const profile = PROFILES[userOptions.profile ?? 'friendly'];
	if (!profile) throw new Error(`unknown sandbox profile "${userOptions.profile}" (use ${Object.keys(PROFILES).join(', ')})`);
	const options = {
		...DEFAULTS,
		...structuredClone(profile),
		...Object.fromEntries(Object.entries(userOptions).filter(([, value]) => value !== undefined)),
		plan: { ...DEFAULTS.plan, ...(userOptions.plan ?? {}) },
		processing: { ...DEFAULTS.processing, ...(userOptions.processing ?? {}) },
		commitOnFault: { ...profile.commitOnFault, ...(userOptions.commitOnFault ?? {}) },
	};
	checkProfileSettings(options);
	checkResultSize(options.resultSizeBytes);
	const random = createRandom(options.seed);
	const faults = new Faults(random);
	faults.set(options.faults);
	const signingKey = crypto.randomBytes(32);
	const userName = options.apiKey.split(':')[0] || 'sandbox';
	const userId = `sandbox|${userName}`;

	const talks = new Map(); // id → talk record
	const uploads = new Map(); // s3 url → { id, kind, filename, mime, duration, size }
	const uploadsById = new Map();
	const timers = new Set();
	const sockets = new Set();
	let credits = { total: options.credits, remaining: options.credits };
	let stats = emptyStats();
	let baseUrl;

	function emptyStats() {
		return {
			requests: {},
			responses: {},
			faults: {},
			talksCreated: 0,
			lateCommits: 0,
			talksFinished: 0,
			webhooksSent: 0,
			webhooksFailed: 0,
			webhooksDropped: 0,
			webhookDeliveries: [],
			bytesServed: 0,
		};
	}

	const log = typeof options.log === 'function' ? options.log : options.log ? (line) => console.log(line) : () => {};

	// ---------------------------------------------------------------- talks

	function processingMs(seconds) {
		const p = options.processing;
		if (p.rangeMs) return Math.round(draw(random, p.rangeMs));
		let ms = Math.max(p.minMs ?? 0, seconds * p.msPerSecond);
		if (p.jitter) ms *= 1 + (random() * 2 - 1) * p.jitter;
		return Math.max(1, Math.round(ms));
	}

	function createTalk(body, headers) {
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
		if (credits.remaining < cost) throw new DIdError('InsufficientCreditsError', 'not enough credits');
		credits.remaining -= cost;

		const now = Date.now();
		const total = processingMs(seconds);
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
			outcome: image.includes(MARKERS.noFace) ? 'error' : image.includes(MARKERS.rejected) ? 'rejected' : 'done',
			deleted: false,
			// Where the talk sits in a shuffled list: a stable place, so pages do not overlap.
			shuffleKey: random(),
		};
		talks.set(talk.id, talk);
		stats.talksCreated += 1;
		schedule(talk.doneAt - now, () => finishTalk(talk));
		return talk;
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
	function iso(ms) {
		const text = new Date(ms + options.clockSkewMs).toISOString();
		return options.createdAtFormat === 'no-z' ? text.slice(0, -1) : text;
	}

	/** The talk as a read (`GET /talks/{id}`, `GET /talks`, `DELETE`) shows it: `readLagMs` behind, only spec fields when asked. */
	function readTalk(talk, now = Date.now()) {
		const lag = options.readLagMs;
		const out = renderTalk(talk, lag ? now - lag : now, lag > 0);
		if (options.fields !== 'spec') return out;
		const strict = {};
		for (const field of SPEC_TALK_FIELDS) if (out[field] !== undefined) strict[field] = out[field];
		if (strict.config) {
			const config = {};
			for (const field of SPEC_CONFIG_FIELDS) if (out.config[field] !== undefined) config[field] = out.config[field];
			if (typeof config.result_format === 'string') config.result_format = config.result_format.replace(/^\./, '');
			strict.config = config;
		}
		return strict;
	}

	/** The talk with every field the sandbox knows (fields of the Talks overview's example response); webhooks carry this. */
	function renderTalk(talk, now = Date.now(), lagged = false) {
		const status = statusOf(talk, now, lagged);
		const body = talk.request;
		const config = { ...CONFIG_DEFAULTS, ...(body.config ?? {}) };
		config.result_format = `.${talk.format}`;
		const driverUrl = body.driver_url ?? 'bank://lively/';
		const out = {
			id: talk.id,
			user_id: userId,
			created_by: userId,
			created_at: iso(talk.createdAt),
			modified_at: iso(status === 'created' ? talk.createdAt : Math.min(now, status === 'started' ? talk.startAt : talk.doneAt)),
			status,
			source_url: body.source_url,
			driver_url: driverUrl,
			config,
		};
		if (body.name !== undefined) out.name = body.name;
		if (body.user_data !== undefined) out.user_data = body.user_data;
		if (body.webhook !== undefined) out.webhook = body.webhook;
		if (status !== 'created') {
			out.started_at = iso(talk.startAt);
			out.audio_url = body.script.type === 'audio' ? body.script.audio_url : `${baseUrl}/audio/${talk.id}/${body.script.provider?.type ?? 'microsoft'}.wav`;
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
			out.result_url = signedResultUrl(talk);
		}
		if (status === 'error') {
			out.error = { kind: 'FaceError', description: 'Failed to detect a face in the source image' };
		}
		if (status === 'rejected') {
			out.error = { kind: 'ContentModerationError', description: 'The talk was rejected by content moderation' };
		}
		return out;
	}

	function signedResultUrl(talk) {
		const expires = Math.floor(talk.doneAt / 1000) + options.resultUrlTtlSec;
		const file = `${talk.id}.${talk.format}`;
		return `${baseUrl}/results/${talk.id}/${file}?Expires=${expires}&Signature=${sign(`${talk.id}/${file}:${expires}`)}`;
	}

	function sign(value) {
		return crypto.createHmac('sha256', signingKey).update(value).digest('base64url');
	}

	function finishTalk(talk) {
		talk.finished = true;
		if (talk.deleted) return;
		stats.talksFinished += 1;
		if (talk.request.webhook) deliverWebhook(talk);
	}

	// ---------------------------------------------------------------- webhooks

	function deliverWebhook(talk) {
		const plan = faults.webhookPlan();
		if (plan.drop) {
			stats.webhooksDropped += 1;
			record(talk, 'dropped (fault injection)');
			return;
		}
		// The timer that ends a talk can fire a millisecond before Date.now() reaches doneAt: the
		// webhook describes the talk as finished, whatever the clocks say.
		const payload = JSON.stringify(renderTalk(talk, Math.max(Date.now(), talk.doneAt)));
		schedule(plan.delayMs, () => postWebhook(talk, payload, false));
		if (plan.duplicate) schedule(plan.delayMs + draw(random, [20, 300]), () => postWebhook(talk, payload, true));
	}

	function record(talk, outcome, duplicate = false, answer = undefined) {
		stats.webhookDeliveries.push({ talkId: talk.id, url: redactUrl(talk.request.webhook), outcome, duplicate, at: Date.now(), ...(answer ? { answer } : {}) });
		if (stats.webhookDeliveries.length > 5000) stats.webhookDeliveries.shift();
	}

	function postWebhook(talk, payload, duplicate) {
		let target;
		try {
			target = new URL(talk.request.webhook);
		} catch {
			return record(talk, 'invalid url', duplicate);
		}
		// The sandbox only ever calls this machine.
		if (!isLoopbackHost(target.hostname)) {
			stats.webhooksFailed += 1;
			return record(talk, 'not sent: the sandbox only delivers webhooks to loopback addresses', duplicate);
		}
		const client = target.protocol === 'https:' ? https : http;
		const req = client.request(
			target,
			{
				method: 'POST',
				headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'd-id-sandbox-webhook' },
				timeout: 15000,
				rejectUnauthorized: false,
			},
			(res) => {
				// The start of the receiver's answer, kept for debugging (e.g. {"received":true,"note":…}).
				let answer = '';
				res.setEncoding('utf8');
				res.on('data', (chunk) => {
					if (answer.length < 200) answer += chunk.slice(0, 200 - answer.length);
				});
				res.on('end', () => {
					if (res.statusCode < 400) stats.webhooksSent += 1;
					else stats.webhooksFailed += 1;
					record(talk, `HTTP ${res.statusCode}`, duplicate, answer);
				});
			},
		);
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (error) => {
			stats.webhooksFailed += 1;
			record(talk, `failed: ${error.message}`, duplicate);
		});
		req.end(payload);
	}

	function schedule(ms, fn) {
		const timer = setTimeout(() => {
			timers.delete(timer);
			try {
				fn();
			} catch (error) {
				log(`sandbox: ${error.stack}`);
			}
		}, Math.max(0, ms));
		timers.add(timer);
	}

	// ---------------------------------------------------------------- HTTP plumbing

	function send(res, status, body, headers = {}) {
		if (res.destroyed || res.headersSent) return;
		const payload = body === undefined ? '' : JSON.stringify(body);
		stats.responses[status] = (stats.responses[status] ?? 0) + 1;
		res.writeHead(status, {
			...(payload ? { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) } : {}),
			...dateHeader(),
			...headers,
		});
		res.end(payload);
	}

	// The HTTP Date header on the sandbox's clock (Node writes the machine's when none is given).
	function dateHeader() {
		return options.clockSkewMs ? { date: new Date(Date.now() + options.clockSkewMs).toUTCString() } : {};
	}

	function sendError(res, error) {
		const headers = error.headers ?? {};
		send(res, error.status, error.toJSON(), headers);
	}

	function readBody(req, limit) {
		return new Promise((resolve, reject) => {
			const chunks = [];
			let size = 0;
			req.on('data', (chunk) => {
				size += chunk.length;
				if (size > limit) {
					reject(new DIdError('ValidationError', `payload too large: the limit is ${Math.round(limit / 1024 / 1024)} MB`));
					req.removeAllListeners('data');
					req.resume();
					return;
				}
				chunks.push(chunk);
			});
			req.on('end', () => resolve(Buffer.concat(chunks)));
			req.on('error', reject);
		});
	}

	async function readJson(req) {
		const raw = await readBody(req, JSON_LIMIT);
		if (raw.length === 0) return undefined;
		try {
			return JSON.parse(raw.toString('utf8'));
		} catch (error) {
			throw new DIdError('BadRequestError', `Invalid JSON body: ${error.message}`);
		}
	}

	function authenticate(req) {
		const header = req.headers.authorization ?? '';
		const [scheme, ...rest] = header.split(' ');
		const token = rest.join(' ').trim();
		const key = options.apiKey;
		const ok =
			token.length > 0 &&
			((/^basic$/i.test(scheme) && (token === key || token === Buffer.from(key).toString('base64'))) ||
				(/^bearer$/i.test(scheme) && token === key));
		if (!ok) throw new DIdError('AuthorizationError', 'user unauthenticated');
	}

	const routes = [
		['POST', /^\/talks\/?$/, 'POST /talks', postTalks],
		['GET', /^\/talks\/?$/, 'GET /talks', getTalks],
		['GET', /^\/talks\/([^/]+)$/, 'GET /talks/{id}', getTalk],
		['DELETE', /^\/talks\/([^/]+)$/, 'DELETE /talks/{id}', deleteTalk],
		['POST', /^\/images\/?$/, 'POST /images', (req) => upload(req, 'image')],
		['DELETE', /^\/images\/([^/]+)$/, 'DELETE /images/{id}', (req, m) => deleteUpload('image', m[1])],
		['POST', /^\/audios\/?$/, 'POST /audios', (req) => upload(req, 'audio')],
		['DELETE', /^\/audios\/([^/]+)$/, 'DELETE /audios/{id}', (req, m) => deleteUpload('audio', m[1])],
		['GET', /^\/tts\/voices\/?$/, 'GET /tts/voices', getVoices],
		['GET', /^\/credits\/?$/, 'GET /credits', getCredits],
	];
	const fileRoutes = [
		['GET', /^\/results\/([^/]+)\/([^/]+)$/, 'GET /results/{id}/{file}', serveResult],
		['HEAD', /^\/results\/([^/]+)\/([^/]+)$/, 'GET /results/{id}/{file}', serveResult],
		['GET', /^\/audio\/([^/]+)\/([^/]+)$/, 'GET /audio/{id}/{file}', serveAudio],
	];

	async function handle(req, res) {
		const url = new URL(req.url, 'http://sandbox');
		if (url.pathname.startsWith('/__sandbox/')) return control(req, res, url);

		const match = findRoute(req.method, url.pathname);
		// Unknown paths share one counter: a client cannot grow the counters without bound.
		const routeKey = match ? match.key : `${req.method} (unknown route)`;
		stats.requests[routeKey] = (stats.requests[routeKey] ?? 0) + 1;
		log(`${req.method} ${url.pathname}`);

		const decision = faults.decide(routeKey);
		if (decision.latencyMs) await new Promise((r) => schedule(decision.latencyMs, r));
		if (decision.action) {
			const fault = `${routeKey} ${decision.action.status ?? decision.action}`;
			stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
		}
		if (decision.action === 'dropBefore') return req.socket.destroy();
		if (routeKey === 'POST /talks' && (decision.action === 'dropAfter' || [500, 502, 504].includes(decision.action?.status))) {
			return await failedCreate(req, res, decision);
		}
		if (decision.action?.status === 429) {
			return sendError(res, new DIdError('TooManyRequestsError', 'Too Many Requests', undefined, { 'retry-after': String(decision.action.retryAfterSec) }));
		}
		if (decision.action?.status) {
			const status = decision.action.status;
			stats.responses[status] = (stats.responses[status] ?? 0) + 1;
			return sendFault(res, status);
		}

		if (!match) throw new DIdError('NotFoundError', `route ${req.method} ${url.pathname} not found`);
		if (!match.file) authenticate(req);
		const result = await match.handler(req, match.params, url, res);
		if (decision.action === 'dropAfter') return req.socket.destroy();
		if (result) send(res, result.status, result.body, result.headers);
	}

	function sendFault(res, status) {
		const description = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[status];
		const payload = JSON.stringify({ kind: 'InternalServerError', description });
		res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...dateHeader() });
		return res.end(payload);
	}

	/**
	 * A POST /talks that fails (connection dropped after it was received, 500/502/504) may still
	 * make its talk: before the answer, after it (`lateCommitMs` later, as a backend still working
	 * behind a gateway's 504 would), or never — per scripted fault (`commit`) or `commitOnFault`.
	 */
	async function failedCreate(req, res, decision) {
		const fault = decision.action === 'dropAfter' ? 'dropAfter' : String(decision.action.status);
		const commit = decision.commit ?? options.commitOnFault[fault] ?? 'never';
		stats.faults[`POST /talks ${fault} commit ${commit}`] = (stats.faults[`POST /talks ${fault} commit ${commit}`] ?? 0) + 1;
		if (commit !== 'never') {
			authenticate(req);
			const body = await readJson(req);
			const headers = req.headers;
			const make = () => {
				try {
					const talk = createTalk(body, headers);
					if (commit === 'late') stats.lateCommits += 1;
					log(`sandbox: ${commit} commit of ${talk.id} after a failed POST /talks (${fault})`);
				} catch {
					// A request D-ID would have refused makes no talk, whatever the answer said.
				}
			};
			if (commit === 'before') make();
			else schedule(Math.round(draw(random, options.lateCommitMs)), make);
		}
		if (fault === 'dropAfter') return req.socket.destroy();
		stats.responses[fault] = (stats.responses[fault] ?? 0) + 1;
		return sendFault(res, Number(fault));
	}

	function findRoute(method, pathname) {
		for (const [m, pattern, key, handler] of routes) {
			const params = pattern.exec(pathname);
			if (params && m === method) return { key, handler, params, file: false };
		}
		for (const [m, pattern, key, handler] of fileRoutes) {
			const params = pattern.exec(pathname);
			if (params && m === method) return { key, handler, params, file: true };
		}
		return undefined;
	}

	async function postTalks(req) {
		const body = await readJson(req);
		if (body === undefined) throw validationError([{ path: 'body.script', message: 'is required' }], {});
		const talk = createTalk(body, req.headers);
		return {
			status: 201,
			body: { id: talk.id, object: 'talk', created_by: userId, created_at: iso(talk.createdAt), status: 'created' },
		};
	}

	function liveTalk(id) {
		const talk = talks.get(decodePathPart(id));
		if (!talk || talk.deleted) throw new DIdError('NotFoundError', `talk not found: ${id}`);
		return talk;
	}

	function getTalk(req, params) {
		return { status: 200, body: readTalk(liveTalk(params[1])) };
	}

	// The order D-ID's spec does not promise: `listOrder`.
	function listed(now) {
		const visible = [...talks.values()].filter((t) => !t.deleted && t.createdAt <= now - options.readLagMs);
		const newestFirst = (a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);
		if (options.listOrder === 'oldest-first') return visible.sort((a, b) => -newestFirst(a, b));
		if (options.listOrder === 'shuffled') return visible.sort((a, b) => a.shuffleKey - b.shuffleKey);
		return visible.sort(newestFirst);
	}

	function getTalks(req, params, url) {
		const limitParam = url.searchParams.get('limit');
		const limit = limitParam === null ? 100 : Number(limitParam);
		if (!Number.isFinite(limit) || limit < 1) {
			throw validationError([{ path: 'query.limit', message: 'must be a positive number' }], {});
		}
		const token = url.searchParams.get('token');
		let offset = 0;
		if (token) {
			const decoded = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
			if (!decoded) throw new DIdError('BadRequestError', 'invalid pagination token');
			offset = Number(decoded[1]);
		}
		const now = Date.now();
		const all = listed(now);
		const page = all.slice(offset, offset + Math.floor(limit));
		const body = { talks: page.map((t) => readTalk(t, now)) };
		// endlessToken: a token on every page, the last (and the empty one after it) too.
		if (offset + page.length < all.length || options.endlessToken) body.token = Buffer.from(`o:${offset + page.length}`).toString('base64url');
		return { status: 200, body };
	}

	function deleteTalk(req, params) {
		const talk = liveTalk(params[1]);
		const status = statusOf(talk);
		if (status === 'created' || status === 'started') {
			throw new DIdError('NotReadyError', `talk ${talk.id} is still processing (status: ${status})`);
		}
		const body = readTalk(talk);
		talk.deleted = true;
		return { status: 200, body };
	}

	async function upload(req, kind) {
		const contentType = req.headers['content-type'] ?? '';
		if (!/^multipart\/form-data/i.test(contentType)) {
			await readBody(req, UPLOAD_LIMIT[kind] + 1024 * 1024).catch(() => undefined);
			throw new DIdError('UnsupportedMimeTypeError', `expected multipart/form-data with a "${kind}" file`);
		}
		const raw = await readBody(req, UPLOAD_LIMIT[kind] + 64 * 1024);
		const parts = parseMultipart(raw, contentType);
		if (!parts) throw new DIdError('BadRequestError', 'malformed multipart body');
		const file = parts.find((p) => p.name === kind);
		if (!file) throw validationError([{ path: kind, message: 'is required' }], {});
		if (file.data.length > UPLOAD_LIMIT[kind]) {
			throw new DIdError('ValidationError', `${kind} file too large: ${file.data.length} bytes, the limit is ${UPLOAD_LIMIT[kind] / 1024 / 1024} MB`);
		}
		if (file.filename !== undefined && file.filename !== '' && !FILE_NAME.test(file.filename)) {
			throw new DIdError('ValidationError', 'file name must be up to 50 characters of A-Z a-z 0-9 . _ -');
		}
		const declared = file.contentType && file.contentType !== 'application/octet-stream' ? file.contentType : undefined;
		const mime = declared ?? sniffMime(file.data);
		const accepted = kind === 'image' ? mime === 'image/jpeg' || mime === 'image/png' : /^(audio|video)\//.test(mime ?? '');
		if (!accepted) {
			throw new DIdError('UnsupportedMimeTypeError', `unsupported mime type ${mime ?? 'unknown'}: ${kind === 'image' ? 'image/jpeg or image/png' : 'audio/* or video/*'} expected`);
		}
		const name = (file.filename || '').toLowerCase();
		if (kind === 'image' && name.includes(MARKERS.imageModeration)) {
			throw new DIdError('ImageModerationError', 'Automatic content moderation - contact support if you would like to submit for manual review');
		}
		if (kind === 'audio' && name.includes(MARKERS.audioModeration)) {
			throw new DIdError('AudioModerationError', 'Automatic audio moderation - contact support if you would like to submit for manual review');
		}
		const id = newId(kind === 'image' ? 'img_' : 'aud_');
		const ext = kind === 'image' ? (mime === 'image/png' ? 'png' : 'jpeg') : 'wav';
		const stored = kind === 'image' && /\.(jpe?g|png)$/i.test(file.filename ?? '') ? file.filename : `${kind}.${ext}`;
		const url = `s3://d-id-${kind}s-prod/${userId}/${id}/${stored}`;
		const record = { id, kind, url, filename: file.filename, mime, size: file.data.length };
		if (kind === 'audio') {
			record.duration = audioDuration(file.data, mime);
			if (record.duration > MAX_AUDIO_SECONDS) {
				throw new DIdError('ValidationError', `audio is ${record.duration} s long, the limit is ${MAX_AUDIO_SECONDS} s`);
			}
		}
		uploads.set(url, record);
		uploadsById.set(id, record);
		const body = { id, url };
		if (kind === 'audio') body.duration = record.duration;
		else body.faces = name.includes(MARKERS.noFace) ? [] : [{ size: 512, top_left: [98, 119], overlap: 'NO', detect_confidence: 0.99 }];
		return { status: 201, body };
	}

	function deleteUpload(kind, id) {
		const record = uploadsById.get(decodePathPart(id));
		if (!record || record.kind !== kind) throw new DIdError('NotFoundError', `${kind} not found: ${id}`);
		uploadsById.delete(record.id);
		uploads.delete(record.url);
		return { status: 204 };
	}

	function getVoices(req, params, url) {
		const provider = url.searchParams.get('provider');
		const id = url.searchParams.get('id');
		if (provider !== null && !PROVIDERS.includes(provider)) {
			throw validationError([{ path: 'query.provider', message: `must be one of: ${PROVIDERS.join(', ')}` }], {});
		}
		const list = VOICES.filter((v) => (provider === null || v.provider === provider) && (id === null || v.id === id));
		return { status: 200, body: list };
	}

	function getCredits() {
		const now = iso(Date.now());
		return {
			status: 200,
			body: {
				credits: [
					{
						owner_id: userId,
						created_at: now,
						modified_at: now,
						remaining: credits.remaining,
						total: credits.total,
						expire_at: iso(Date.now() + 30 * 24 * 3600 * 1000),
					},
				],
				remaining: credits.remaining,
				total: credits.total,
			},
		};
	}

	// Result files behave like S3 pre-signed links: no auth header, an expiring signature.
	function serveResult(req, params, url, res) {
		const id = decodePathPart(params[1]);
		const file = decodePathPart(params[2]);
		const talk = talks.get(id);
		const expires = Number(url.searchParams.get('Expires'));
		// The signature covers the talk ID and the file: a link cannot be moved to another talk.
		const given = Buffer.from(url.searchParams.get('Signature') ?? '', 'utf8');
		const expected = Buffer.from(sign(`${id}/${file}:${expires}`), 'utf8');
		const validSignature = given.length === expected.length && crypto.timingSafeEqual(given, expected);
		if (!talk || file !== `${talk.id}.${talk.format}` || statusOf(talk) !== 'done' || !validSignature) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
		if (Date.now() / 1000 > expires) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
		stats.responses[200] = (stats.responses[200] ?? 0) + 1;
		res.writeHead(200, { 'content-type': MIME[talk.format], 'content-length': talk.size, 'accept-ranges': 'none' });
		if (req.method === 'HEAD') return res.end();
		const stream = resultStream(talk.format, talk.size, talk.id);
		stream.on('data', (chunk) => {
			stats.bytesServed += chunk.length;
		});
		stream.on('error', (error) => {
			log(`sandbox: result stream of ${talk.id} failed: ${error.message}`);
			res.destroy();
		});
		stream.pipe(res);
		res.on('close', () => stream.destroy());
	}

	function serveAudio(req, params, url, res) {
		const talk = talks.get(decodePathPart(params[1]));
		if (!talk || statusOf(talk) === 'created') return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		const wav = silentWav(Math.min(talk.seconds, 30));
		res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
		res.end(wav);
	}

	function s3Error(res, status, code, message) {
		stats.responses[status] = (stats.responses[status] ?? 0) + 1;
		res.writeHead(status, { 'content-type': 'application/xml' });
		res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
	}

	// ---------------------------------------------------------------- control API (tests, benchmarks)

	async function control(req, res, url) {
		// A web page the user visits can send requests here: a rebound DNS name arrives with its own
		// Host header, and a "simple" cross-site POST cannot carry a JSON content type.
		if (!isLoopbackHostHeader(req.headers.host)) {
			throw new DIdError('PermissionError', 'the sandbox control API answers only requests addressed to a loopback host (127.0.0.1, localhost, [::1])');
		}
		if (req.method !== 'GET' && req.method !== 'HEAD' && !/^application\/json\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))) {
			throw new DIdError('UnsupportedMimeTypeError', 'the sandbox control API takes only Content-Type: application/json');
		}
		const path = url.pathname.slice('/__sandbox'.length);
		const key = `${req.method} ${path}`;
		const talkRequest = /^\/talks\/([^/]+)\/request$/.exec(path);
		if (key === 'GET /stats') return send(res, 200, api.stats());
		if (key === 'POST /stats/reset') return send(res, 200, api.resetStats());
		if (key === 'GET /faults') return send(res, 200, faults.get());
		if (key === 'PUT /faults') {
			api.setFaults((await readJson(req)) ?? {});
			return send(res, 200, faults.get());
		}
		if (key === 'POST /faults/script') {
			faults.addScripted([].concat((await readJson(req)) ?? []));
			return send(res, 200, faults.get());
		}
		if (key === 'GET /config') return send(res, 200, api.config());
		if (key === 'PATCH /config') {
			api.configure((await readJson(req)) ?? {});
			return send(res, 200, api.config());
		}
		if (req.method === 'GET' && talkRequest) {
			const talk = talks.get(decodePathPart(talkRequest[1]));
			if (!talk) throw new DIdError('NotFoundError', 'talk not found');
			return send(res, 200, { body: talk.request, headers: talk.requestHeaders });
		}
		throw new DIdError('NotFoundError', `no sandbox control route ${key}`);
	}

	function redactHeaders(headers) {
		const copy = { ...headers };
		delete copy.authorization;
		if (copy['x-api-key-external']) copy['x-api-key-external'] = '<redacted>';
		return copy;
	}

	function redactUrl(value) {
		return String(value).replace(/([?&][^=]*(?:secret|token|key|signature)[^=]*=)[^&]*/gi, '$1<redacted>');
	}

	// ---------------------------------------------------------------- lifecycle

	const server = http.createServer((req, res) => {
		handle(req, res).catch((error) => {
			if (error instanceof DIdError) return sendError(res, error);
			log(`sandbox: internal error ${error.stack}`);
			sendError(res, new DIdError('InternalServerError', 'Internal Server Error'));
		});
	});
	server.keepAliveTimeout = 5000;
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.on('clientError', (error, socket) => {
		if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
	});

	const api = {
		server,
		get url() {
			return baseUrl;
		},
		get apiKey() {
			return options.apiKey;
		},
		async start() {
			if (!isLoopbackHost(String(options.host)) && !options.unsafeListenPublic) {
				throw new Error(
					`refusing to listen on ${options.host}: the sandbox has no real authentication and its control API changes its behaviour; listen on a loopback address (127.0.0.1, ::1), or pass --unsafe-listen-public if you really mean to expose it`,
				);
			}
			await new Promise((resolve, reject) => {
				server.once('error', reject);
				server.listen(options.port, options.host, resolve);
			});
			const { port } = server.address();
			baseUrl = options.publicUrl ?? `http://${String(options.host).includes(':') ? `[${options.host}]` : options.host}:${port}`;
			return api;
		},
		async stop() {
			for (const timer of timers) clearTimeout(timer);
			timers.clear();
			for (const socket of sockets) socket.destroy();
			await new Promise((resolve) => server.close(() => resolve()));
		},
		stats() {
			return { ...structuredClone(stats), credits: { ...credits } };
		},
		resetStats() {
			stats = emptyStats();
			return api.stats();
		},
		setFaults(config) {
			try {
				faults.set(config);
			} catch (error) {
				throw new DIdError('ValidationError', error.message);
			}
		},
		addScriptedFaults(entries) {
			faults.addScripted([].concat(entries));
		},
		/**
		 * Changes settings at runtime: credits, plan, processing, resultSizeBytes, resultUrlTtlSec,
		 * allowHttpLoopbackWebhooks, profile (all its settings), and each profile setting.
		 */
		configure(changes) {
			const next = { ...options };
			for (const [key, value] of Object.entries(changes)) {
				if (key === 'credits') credits = { total: value, remaining: value };
				else if (key === 'plan' || key === 'processing' || key === 'commitOnFault') next[key] = { ...next[key], ...value };
				else if (key === 'profile') {
					if (!PROFILES[value]) throw new DIdError('ValidationError', `unknown sandbox profile "${value}"`);
					Object.assign(next, structuredClone(PROFILES[value]), { profile: value });
				} else if (['resultSizeBytes', 'resultUrlTtlSec', 'allowHttpLoopbackWebhooks', ...PROFILE_KEYS].includes(key)) {
					if (key === 'resultSizeBytes') checkResultSize(value);
					next[key] = value;
				}
				else throw new DIdError('ValidationError', `unknown sandbox setting "${key}"`);
			}
			try {
				checkProfileSettings(next);
			} catch (error) {
				throw new DIdError('ValidationError', error.message);
			}
			Object.assign(options, next);
		},
		config() {
			return {
				profile: options.profile,
				...Object.fromEntries(PROFILE_KEYS.map((key) => [key, options[key]])),
				plan: options.plan,
				processing: options.processing,
				resultSizeBytes: options.resultSizeBytes,
				resultUrlTtlSec: options.resultUrlTtlSec,
				allowHttpLoopbackWebhooks: options.allowHttpLoopbackWebhooks,
				credits: { ...credits },
			};
		},
		/** The stored record of a talk, including the exact body the sandbox received. */
		talk(id) {
			return talks.get(id);
		},
		talks() {
			return [...talks.values()];
		},
		/** The uploads (POST /images, POST /audios) the sandbox still holds. */
		uploads() {
			return [...uploadsById.values()].map(({ id, kind, url }) => ({ id, kind, url }));
		},
		renderTalk(id) {
			return renderTalk(talks.get(id));
		},
		/** SHA-256 of the bytes the sandbox serves as this talk's video. */
		resultDigest(id) {
			const talk = talks.get(id);
			return resultDigest(talk.format, talk.size, talk.id);
		},
	};
	return api;
}

module.exports = { createSandbox, MARKERS };
