'use strict';
// A local server that behaves like D-ID's Talks API (see README "The sandbox"). Node built-ins only.
// The parts, each given the one `state` object (lib/state.js): lib/talks.js (talk store and
// lifecycle), lib/webhooks.js (delivery), lib/routes.js (D-ID's routes and the fault pipeline),
// lib/control.js (the /__sandbox control API), lib/http.js (bodies, answers, errors, auth),
// lib/profiles.js (settings and profiles).
const http = require('node:http');

const { DIdError } = require('./lib/errors');
const { resultDigest } = require('./lib/media');
const { MARKERS } = require('./lib/create-talk');
const { configOf, configure, optionsOf } = require('./lib/profiles');
const { createState, emptyStats } = require('./lib/state');
const { isLoopbackHost, sendError } = require('./lib/http');
const { renderTalk } = require('./lib/talks');
const { handle } = require('./lib/routes');

function createSandbox(userOptions = {}) {
	const options = optionsOf(userOptions);
	const state = createState(options);
	const { talks, faults } = state;

	const server = http.createServer((req, res) => {
		handle(state, api, req, res).catch((error) => {
			if (error instanceof DIdError) return sendError(state, res, error);
			state.log(`sandbox: internal error ${error.stack}`);
			sendError(state, res, new DIdError('InternalServerError', 'Internal Server Error'));
		});
	});
	server.keepAliveTimeout = 5000;
	server.on('connection', (socket) => {
		state.sockets.add(socket);
		socket.on('close', () => state.sockets.delete(socket));
	});
	server.on('clientError', (error, socket) => {
		if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
	});

	const api = {
		server,
		get url() {
			return state.baseUrl;
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
			state.baseUrl =
				options.publicUrl ??
				`http://${String(options.host).includes(':') ? `[${options.host}]` : options.host}:${port}`;
			return api;
		},
		async stop() {
			for (const timer of state.timers) clearTimeout(timer);
			state.timers.clear();
			for (const socket of state.sockets) socket.destroy();
			await new Promise((resolve) => server.close(() => resolve()));
		},
		stats() {
			return { ...structuredClone(state.stats), credits: { ...state.credits } };
		},
		resetStats() {
			state.stats = emptyStats();
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
			configure(state, changes);
		},
		config() {
			return configOf(state);
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
			return [...state.uploadsById.values()].map(({ id, kind, url }) => ({ id, kind, url }));
		},
		renderTalk(id) {
			return renderTalk(state, talks.get(id));
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
