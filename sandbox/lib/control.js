'use strict';
// The control API (`/__sandbox/…`) that tests and benchmarks use: stats, faults, settings, the
// body a talk was created with. Loopback Host headers and JSON bodies only.
const { DIdError } = require('./errors');
const { decodePathPart, isLoopbackHostHeader, readJson, send } = require('./http');

async function control(state, api, req, res, url) {
	// A web page the user visits can send requests here: a rebound DNS name arrives with its own
	// Host header, and a "simple" cross-site POST cannot carry a JSON content type.
	if (!isLoopbackHostHeader(req.headers.host)) {
		throw new DIdError(
			'PermissionError',
			'the sandbox control API answers only requests addressed to a loopback host (127.0.0.1, localhost, [::1])',
		);
	}
	if (
		req.method !== 'GET' &&
		req.method !== 'HEAD' &&
		!/^application\/json\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))
	) {
		throw new DIdError(
			'UnsupportedMimeTypeError',
			'the sandbox control API takes only Content-Type: application/json',
		);
	}
	const { faults } = state;
	const path = url.pathname.slice('/__sandbox'.length);
	const key = `${req.method} ${path}`;
	const talkRequest = /^\/talks\/([^/]+)\/request$/.exec(path);
	if (key === 'GET /stats') return send(state, res, 200, api.stats());
	if (key === 'POST /stats/reset') return send(state, res, 200, api.resetStats());
	if (key === 'GET /faults') return send(state, res, 200, faults.get());
	if (key === 'PUT /faults') {
		api.setFaults((await readJson(req)) ?? {});
		return send(state, res, 200, faults.get());
	}
	if (key === 'POST /faults/script') {
		faults.addScripted([].concat((await readJson(req)) ?? []));
		return send(state, res, 200, faults.get());
	}
	if (key === 'GET /config') return send(state, res, 200, api.config());
	if (key === 'PATCH /config') {
		api.configure((await readJson(req)) ?? {});
		return send(state, res, 200, api.config());
	}
	if (req.method === 'GET' && talkRequest) {
		const talk = state.talks.get(decodePathPart(talkRequest[1]));
		if (!talk) throw new DIdError('NotFoundError', 'talk not found');
		return send(state, res, 200, { body: talk.request, headers: talk.requestHeaders });
	}
	throw new DIdError('NotFoundError', `no sandbox control route ${key}`);
}

module.exports = { control };
