'use strict';
// Webhook delivery: D-ID POSTs the finished talk to its `webhook` URL (loopback only here), with
// the fault plan's drops, duplicates and delays; every delivery is recorded in the stats.
const http = require('node:http');
const https = require('node:https');
const { URL } = require('node:url');

const { draw } = require('./prng');
const { isLoopbackHost } = require('./http');

/** Delivers `payload()` (the talk as JSON) to the talk's webhook, as the fault plan says. */
function deliverWebhook(state, talk, payload) {
	const plan = state.faults.webhookPlan();
	if (plan.drop) {
		state.stats.webhooksDropped += 1;
		record(state, talk, 'dropped (fault injection)');
		return;
	}
	const body = payload();
	state.schedule(plan.delayMs, () => postWebhook(state, talk, body, false));
	if (plan.duplicate)
		state.schedule(plan.delayMs + draw(state.random, [20, 300]), () =>
			postWebhook(state, talk, body, true),
		);
}

function record(state, talk, outcome, duplicate = false, answer = undefined) {
	const deliveries = state.stats.webhookDeliveries;
	deliveries.push({
		talkId: talk.id,
		url: redactUrl(talk.request.webhook),
		outcome,
		duplicate,
		at: Date.now(),
		...(answer ? { answer } : {}),
	});
	if (deliveries.length > 5000) deliveries.shift();
}

function postWebhook(state, talk, payload, duplicate) {
	let target;
	try {
		target = new URL(talk.request.webhook);
	} catch {
		return record(state, talk, 'invalid url', duplicate);
	}
	// The sandbox only ever calls this machine.
	if (!isLoopbackHost(target.hostname)) {
		state.stats.webhooksFailed += 1;
		return record(
			state,
			talk,
			'not sent: the sandbox only delivers webhooks to loopback addresses',
			duplicate,
		);
	}
	const client = target.protocol === 'https:' ? https : http;
	const req = client.request(
		target,
		{
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'content-length': Buffer.byteLength(payload),
				'user-agent': 'd-id-sandbox-webhook',
			},
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
				if (res.statusCode < 400) state.stats.webhooksSent += 1;
				else state.stats.webhooksFailed += 1;
				record(state, talk, `HTTP ${res.statusCode}`, duplicate, answer);
			});
		},
	);
	req.on('timeout', () => req.destroy(new Error('timeout')));
	req.on('error', (error) => {
		state.stats.webhooksFailed += 1;
		record(state, talk, `failed: ${error.message}`, duplicate);
	});
	req.end(payload);
}

function redactUrl(value) {
	return String(value).replace(
		/([?&][^=]*(?:secret|token|key|signature)[^=]*=)[^&]*/gi,
		'$1<redacted>',
	);
}

module.exports = { deliverWebhook };
