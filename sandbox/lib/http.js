'use strict';
// HTTP plumbing of the sandbox: reading bodies, answering JSON, D-ID and S3 errors, authentication.
const { DIdError } = require('./errors');

const JSON_LIMIT = 1024 * 1024;

function isLoopbackHost(hostname) {
	return (
		/^127\.\d+\.\d+\.\d+$/.test(hostname) ||
		hostname === 'localhost' ||
		hostname === '[::1]' ||
		hostname === '::1'
	);
}

/** A Host header naming this machine (any port): what a web page's DNS-rebinding request does not send. */
function isLoopbackHostHeader(value) {
	const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(
		String(value ?? '')
			.trim()
			.toLowerCase(),
	);
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

function send(state, res, status, body, headers = {}) {
	if (res.destroyed || res.headersSent) return;
	const payload = body === undefined ? '' : JSON.stringify(body);
	state.count(status);
	res.writeHead(status, {
		...(payload
			? {
					'content-type': 'application/json; charset=utf-8',
					'content-length': Buffer.byteLength(payload),
				}
			: {}),
		...dateHeader(state),
		...headers,
	});
	res.end(payload);
}

// The HTTP Date header on the sandbox's clock (Node writes the machine's when none is given).
function dateHeader(state) {
	return state.options.clockSkewMs
		? { date: new Date(Date.now() + state.options.clockSkewMs).toUTCString() }
		: {};
}

function sendError(state, res, error) {
	const headers = error.headers ?? {};
	send(state, res, error.status, error.toJSON(), headers);
}

/** A 5xx as D-ID's gateway answers it (not counted here: the caller counts it). */
function sendFault(state, res, status) {
	const description = {
		500: 'Internal Server Error',
		502: 'Bad Gateway',
		503: 'Service Unavailable',
		504: 'Gateway Timeout',
	}[status];
	const payload = JSON.stringify({ kind: 'InternalServerError', description });
	res.writeHead(status, {
		'content-type': 'application/json; charset=utf-8',
		...dateHeader(state),
	});
	return res.end(payload);
}

/** An error as S3 answers it (result and audio files). */
function s3Error(state, res, status, code, message) {
	state.count(status);
	res.writeHead(status, { 'content-type': 'application/xml' });
	res.end(
		`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
	);
}

function readBody(req, limit) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on('data', (chunk) => {
			size += chunk.length;
			if (size > limit) {
				reject(
					new DIdError(
						'ValidationError',
						`payload too large: the limit is ${Math.round(limit / 1024 / 1024)} MB`,
					),
				);
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

/** Basic with the key as given or base64-encoded, or Bearer with the key; else 401. */
function authenticate(state, req) {
	const header = req.headers.authorization ?? '';
	const [scheme, ...rest] = header.split(' ');
	const token = rest.join(' ').trim();
	const key = state.options.apiKey;
	const ok =
		token.length > 0 &&
		((/^basic$/i.test(scheme) &&
			(token === key || token === Buffer.from(key).toString('base64'))) ||
			(/^bearer$/i.test(scheme) && token === key));
	if (!ok) throw new DIdError('AuthorizationError', 'user unauthenticated');
}

module.exports = {
	isLoopbackHost,
	isLoopbackHostHeader,
	decodePathPart,
	send,
	dateHeader,
	sendError,
	sendFault,
	s3Error,
	readBody,
	readJson,
	authenticate,
};
