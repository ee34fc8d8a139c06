'use strict';
// The D-ID routes the sandbox answers, and the request pipeline in front of them: route lookup,
// request counters, fault injection (including a POST /talks that fails after D-ID acted), auth.
const crypto = require('node:crypto');
const { URL } = require('node:url');

const { DIdError, validationError } = require('./errors');
const { draw } = require('./prng');
const { parseMultipart, sniffMime } = require('./multipart');
const { MIME, resultStream, silentWav, audioDuration } = require('./media');
const { VOICES, PROVIDERS } = require('./voices');
const { MARKERS } = require('./create-talk');
const {
	authenticate,
	decodePathPart,
	readBody,
	readJson,
	s3Error,
	send,
	sendError,
	sendFault,
} = require('./http');
const { createTalk, iso, listed, liveTalk, newId, readTalk, sign, statusOf } = require('./talks');
const { control } = require('./control');

const UPLOAD_LIMIT = { image: 10 * 1024 * 1024, audio: 6 * 1024 * 1024 };
const MAX_AUDIO_SECONDS = 600;
const FILE_NAME = /^[A-Za-z0-9._-]{1,50}$/;

// ---------------------------------------------------------------- talks

async function postTalks(state, req) {
	const body = await readJson(req);
	if (body === undefined)
		throw validationError([{ path: 'body.script', message: 'is required' }], {});
	const talk = createTalk(state, body, req.headers);
	return {
		status: 201,
		body: {
			id: talk.id,
			object: 'talk',
			created_by: state.userId,
			created_at: iso(state, talk.createdAt),
			status: 'created',
		},
	};
}

function getTalk(state, req, params) {
	return { status: 200, body: readTalk(state, liveTalk(state, params[1])) };
}

function getTalks(state, req, params, url) {
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
	const all = listed(state, now);
	const page = all.slice(offset, offset + Math.floor(limit));
	const body = { talks: page.map((t) => readTalk(state, t, now)) };
	// endlessToken: a token on every page, the last (and the empty one after it) too.
	if (offset + page.length < all.length || state.options.endlessToken)
		body.token = Buffer.from(`o:${offset + page.length}`).toString('base64url');
	return { status: 200, body };
}

function deleteTalk(state, req, params) {
	const talk = liveTalk(state, params[1]);
	const status = statusOf(talk);
	if (status === 'created' || status === 'started') {
		throw new DIdError('NotReadyError', `talk ${talk.id} is still processing (status: ${status})`);
	}
	const body = readTalk(state, talk);
	talk.deleted = true;
	return { status: 200, body };
}

/**
 * A POST /talks that fails (connection dropped after it was received, 500/502/504) may still
 * make its talk: before the answer, after it (`lateCommitMs` later, as a backend still working
 * behind a gateway's 504 would), or never — per scripted fault (`commit`) or `commitOnFault`.
 */
async function failedCreate(state, req, res, decision) {
	const { stats, options } = state;
	const fault = decision.action === 'dropAfter' ? 'dropAfter' : String(decision.action.status);
	const commit = decision.commit ?? options.commitOnFault[fault] ?? 'never';
	stats.faults[`POST /talks ${fault} commit ${commit}`] =
		(stats.faults[`POST /talks ${fault} commit ${commit}`] ?? 0) + 1;
	if (commit !== 'never') {
		authenticate(state, req);
		const body = await readJson(req);
		const headers = req.headers;
		const make = () => {
			try {
				const talk = createTalk(state, body, headers);
				if (commit === 'late') state.stats.lateCommits += 1;
				state.log(`sandbox: ${commit} commit of ${talk.id} after a failed POST /talks (${fault})`);
			} catch {
				// A request D-ID would have refused makes no talk, whatever the answer said.
			}
		};
		if (commit === 'before') make();
		else state.schedule(Math.round(draw(state.random, options.lateCommitMs)), make);
	}
	if (fault === 'dropAfter') return req.socket.destroy();
	state.count(fault);
	return sendFault(state, res, Number(fault));
}

// ---------------------------------------------------------------- uploads, voices, credits

async function upload(state, req, kind) {
	const contentType = req.headers['content-type'] ?? '';
	if (!/^multipart\/form-data/i.test(contentType)) {
		await readBody(req, UPLOAD_LIMIT[kind] + 1024 * 1024).catch(() => undefined);
		throw new DIdError(
			'UnsupportedMimeTypeError',
			`expected multipart/form-data with a "${kind}" file`,
		);
	}
	const raw = await readBody(req, UPLOAD_LIMIT[kind] + 64 * 1024);
	const parts = parseMultipart(raw, contentType);
	if (!parts) throw new DIdError('BadRequestError', 'malformed multipart body');
	const file = parts.find((p) => p.name === kind);
	if (!file) throw validationError([{ path: kind, message: 'is required' }], {});
	if (file.data.length > UPLOAD_LIMIT[kind]) {
		throw new DIdError(
			'ValidationError',
			`${kind} file too large: ${file.data.length} bytes, the limit is ${UPLOAD_LIMIT[kind] / 1024 / 1024} MB`,
		);
	}
	if (file.filename !== undefined && file.filename !== '' && !FILE_NAME.test(file.filename)) {
		throw new DIdError(
			'ValidationError',
			'file name must be up to 50 characters of A-Z a-z 0-9 . _ -',
		);
	}
	const declared =
		file.contentType && file.contentType !== 'application/octet-stream'
			? file.contentType
			: undefined;
	const mime = declared ?? sniffMime(file.data);
	const accepted =
		kind === 'image'
			? mime === 'image/jpeg' || mime === 'image/png'
			: /^(audio|video)\//.test(mime ?? '');
	if (!accepted) {
		throw new DIdError(
			'UnsupportedMimeTypeError',
			`unsupported mime type ${mime ?? 'unknown'}: ${kind === 'image' ? 'image/jpeg or image/png' : 'audio/* or video/*'} expected`,
		);
	}
	const name = (file.filename || '').toLowerCase();
	if (kind === 'image' && name.includes(MARKERS.imageModeration)) {
		throw new DIdError(
			'ImageModerationError',
			'Automatic content moderation - contact support if you would like to submit for manual review',
		);
	}
	if (kind === 'audio' && name.includes(MARKERS.audioModeration)) {
		throw new DIdError(
			'AudioModerationError',
			'Automatic audio moderation - contact support if you would like to submit for manual review',
		);
	}
	const id = newId(kind === 'image' ? 'img_' : 'aud_');
	const ext = kind === 'image' ? (mime === 'image/png' ? 'png' : 'jpeg') : 'wav';
	const stored =
		kind === 'image' && /\.(jpe?g|png)$/i.test(file.filename ?? '')
			? file.filename
			: `${kind}.${ext}`;
	const url = `s3://d-id-${kind}s-prod/${state.userId}/${id}/${stored}`;
	const record = { id, kind, url, filename: file.filename, mime, size: file.data.length };
	if (kind === 'audio') {
		record.duration = audioDuration(file.data, mime);
		if (record.duration > MAX_AUDIO_SECONDS) {
			throw new DIdError(
				'ValidationError',
				`audio is ${record.duration} s long, the limit is ${MAX_AUDIO_SECONDS} s`,
			);
		}
	}
	state.uploads.set(url, record);
	state.uploadsById.set(id, record);
	const body = { id, url };
	if (kind === 'audio') body.duration = record.duration;
	else
		body.faces = name.includes(MARKERS.noFace)
			? []
			: [{ size: 512, top_left: [98, 119], overlap: 'NO', detect_confidence: 0.99 }];
	return { status: 201, body };
}

function deleteUpload(state, kind, id) {
	const record = state.uploadsById.get(decodePathPart(id));
	if (!record || record.kind !== kind)
		throw new DIdError('NotFoundError', `${kind} not found: ${id}`);
	state.uploadsById.delete(record.id);
	state.uploads.delete(record.url);
	return { status: 204 };
}

function getVoices(state, req, params, url) {
	const provider = url.searchParams.get('provider');
	const id = url.searchParams.get('id');
	if (provider !== null && !PROVIDERS.includes(provider)) {
		throw validationError(
			[{ path: 'query.provider', message: `must be one of: ${PROVIDERS.join(', ')}` }],
			{},
		);
	}
	const list = VOICES.filter(
		(v) => (provider === null || v.provider === provider) && (id === null || v.id === id),
	);
	return { status: 200, body: list };
}

function getCredits(state) {
	const now = iso(state, Date.now());
	const { credits, userId } = state;
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
					expire_at: iso(state, Date.now() + 30 * 24 * 3600 * 1000),
				},
			],
			remaining: credits.remaining,
			total: credits.total,
		},
	};
}

// ---------------------------------------------------------------- files (no auth, like S3)

// Result files behave like S3 pre-signed links: no auth header, an expiring signature.
function serveResult(state, req, params, url, res) {
	const id = decodePathPart(params[1]);
	const file = decodePathPart(params[2]);
	const talk = state.talks.get(id);
	const expires = Number(url.searchParams.get('Expires'));
	// The signature covers the talk ID and the file: a link cannot be moved to another talk.
	const given = Buffer.from(url.searchParams.get('Signature') ?? '', 'utf8');
	const expected = Buffer.from(sign(state, `${id}/${file}:${expires}`), 'utf8');
	const validSignature =
		given.length === expected.length && crypto.timingSafeEqual(given, expected);
	if (!talk || file !== `${talk.id}.${talk.format}` || statusOf(talk) !== 'done' || !validSignature)
		return s3Error(state, res, 403, 'AccessDenied', 'Access Denied');
	if (Date.now() / 1000 > expires)
		return s3Error(state, res, 403, 'AccessDenied', 'Request has expired');
	state.count(200);
	res.writeHead(200, {
		'content-type': MIME[talk.format],
		'content-length': talk.size,
		'accept-ranges': 'none',
	});
	if (req.method === 'HEAD') return res.end();
	const stream = resultStream(talk.format, talk.size, talk.id);
	stream.on('data', (chunk) => {
		state.stats.bytesServed += chunk.length;
	});
	stream.on('error', (error) => {
		state.log(`sandbox: result stream of ${talk.id} failed: ${error.message}`);
		res.destroy();
	});
	stream.pipe(res);
	res.on('close', () => stream.destroy());
}

function serveAudio(state, req, params, url, res) {
	const talk = state.talks.get(decodePathPart(params[1]));
	if (!talk || statusOf(talk) === 'created')
		return s3Error(state, res, 404, 'NoSuchKey', 'The specified key does not exist.');
	const wav = silentWav(Math.min(talk.seconds, 30));
	res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
	res.end(wav);
}

// ---------------------------------------------------------------- dispatch

const routes = [
	['POST', /^\/talks\/?$/, 'POST /talks', postTalks],
	['GET', /^\/talks\/?$/, 'GET /talks', getTalks],
	['GET', /^\/talks\/([^/]+)$/, 'GET /talks/{id}', getTalk],
	['DELETE', /^\/talks\/([^/]+)$/, 'DELETE /talks/{id}', deleteTalk],
	['POST', /^\/images\/?$/, 'POST /images', (state, req) => upload(state, req, 'image')],
	[
		'DELETE',
		/^\/images\/([^/]+)$/,
		'DELETE /images/{id}',
		(state, req, m) => deleteUpload(state, 'image', m[1]),
	],
	['POST', /^\/audios\/?$/, 'POST /audios', (state, req) => upload(state, req, 'audio')],
	[
		'DELETE',
		/^\/audios\/([^/]+)$/,
		'DELETE /audios/{id}',
		(state, req, m) => deleteUpload(state, 'audio', m[1]),
	],
	['GET', /^\/tts\/voices\/?$/, 'GET /tts/voices', getVoices],
	['GET', /^\/credits\/?$/, 'GET /credits', getCredits],
];
const fileRoutes = [
	['GET', /^\/results\/([^/]+)\/([^/]+)$/, 'GET /results/{id}/{file}', serveResult],
	['HEAD', /^\/results\/([^/]+)\/([^/]+)$/, 'GET /results/{id}/{file}', serveResult],
	['GET', /^\/audio\/([^/]+)\/([^/]+)$/, 'GET /audio/{id}/{file}', serveAudio],
];

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

/** Answers one request: the control API, or a D-ID route behind the fault injection. */
async function handle(state, api, req, res) {
	const url = new URL(req.url, 'http://sandbox');
	if (url.pathname.startsWith('/__sandbox/')) return control(state, api, req, res, url);

	const { stats } = state;
	const match = findRoute(req.method, url.pathname);
	// Unknown paths share one counter: a client cannot grow the counters without bound.
	const routeKey = match ? match.key : `${req.method} (unknown route)`;
	stats.requests[routeKey] = (stats.requests[routeKey] ?? 0) + 1;
	state.log(`${req.method} ${url.pathname}`);

	const decision = state.faults.decide(routeKey);
	if (decision.latencyMs) await new Promise((r) => state.schedule(decision.latencyMs, r));
	if (decision.action) {
		const fault = `${routeKey} ${decision.action.status ?? decision.action}`;
		state.stats.faults[fault] = (state.stats.faults[fault] ?? 0) + 1;
	}
	if (decision.action === 'dropBefore') return req.socket.destroy();
	if (
		routeKey === 'POST /talks' &&
		(decision.action === 'dropAfter' || [500, 502, 504].includes(decision.action?.status))
	) {
		return await failedCreate(state, req, res, decision);
	}
	if (decision.action?.status === 429) {
		return sendError(
			state,
			res,
			new DIdError('TooManyRequestsError', 'Too Many Requests', undefined, {
				'retry-after': String(decision.action.retryAfterSec),
			}),
		);
	}
	if (decision.action?.status) {
		const status = decision.action.status;
		state.count(status);
		return sendFault(state, res, status);
	}

	if (!match) throw new DIdError('NotFoundError', `route ${req.method} ${url.pathname} not found`);
	if (!match.file) authenticate(state, req);
	const result = await match.handler(state, req, match.params, url, res);
	if (decision.action === 'dropAfter') return req.socket.destroy();
	if (result) send(state, res, result.status, result.body, result.headers);
}

module.exports = { handle };
