'use strict';
// Everything one sandbox holds, in one object that the talk store, the webhooks, the route
// handlers and the HTTP helpers are given: options, stores, counters, timers, the seeded random.
const crypto = require('node:crypto');

const { Faults } = require('./faults');
const { createRandom } = require('./prng');

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

function createState(options) {
	const random = createRandom(options.seed);
	const faults = new Faults(random);
	faults.set(options.faults);
	const userName = options.apiKey.split(':')[0] || 'sandbox';
	const state = {
		options,
		random,
		faults,
		// Signs result links (serveResult checks them).
		signingKey: crypto.randomBytes(32),
		userId: `sandbox|${userName}`,
		talks: new Map(), // id → talk record
		uploads: new Map(), // s3 url → { id, kind, url, filename, mime, duration, size }
		uploadsById: new Map(),
		timers: new Set(),
		sockets: new Set(),
		credits: { total: options.credits, remaining: options.credits },
		stats: emptyStats(),
		/** Where the sandbox listens (set by start()). */
		baseUrl: undefined,
		log:
			typeof options.log === 'function'
				? options.log
				: options.log
					? (line) => console.log(line)
					: () => {},
		/** Runs `fn` after `ms` (a timer stop() clears); an exception is logged, never thrown. */
		schedule(ms, fn) {
			const timer = setTimeout(
				() => {
					state.timers.delete(timer);
					try {
						fn();
					} catch (error) {
						state.log(`sandbox: ${error.stack}`);
					}
				},
				Math.max(0, ms),
			);
			state.timers.add(timer);
		},
		/** Counts one answer of `status` in the stats. */
		count(status) {
			state.stats.responses[status] = (state.stats.responses[status] ?? 0) + 1;
		},
	};
	return state;
}

module.exports = { createState, emptyStats };
