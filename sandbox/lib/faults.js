'use strict';
// Fault injection: random per route (seeded), scripted one-offs, a rate limit, and webhook mischief.
const { draw } = require('./prng');

const FAULT_KEYS = [
	'latencyMs',
	'spikeRate',
	'spikeMs',
	'rate429',
	'retryAfterSec',
	'rate5xx',
	'rate504',
	'dropBeforeRate',
	'dropAfterRate',
];
const SCRIPTED = ['429', '500', '502', '503', '504', 'dropBefore', 'dropAfter', 'latency'];
// What a fault on POST /talks does to the talk (see README "Fault injection"); undefined: the profile's default.
const COMMITS = [undefined, 'before', 'late', 'never'];

function emptyConfig() {
	return { global: {}, routes: {}, webhooks: {}, rateLimit: undefined, script: [] };
}

class Faults {
	constructor(random) {
		this.random = random;
		this.config = emptyConfig();
		this.bucket = undefined;
	}

	/** Replaces the whole configuration (unknown keys are refused so typos do not pass silently). */
	set(config = {}) {
		const next = emptyConfig();
		for (const [key, value] of Object.entries(config)) {
			if (!(key in next)) throw new Error(`unknown fault setting "${key}"`);
			next[key] = value;
		}
		for (const spec of [next.global, ...Object.values(next.routes)]) {
			for (const key of Object.keys(spec)) {
				if (!FAULT_KEYS.includes(key))
					throw new Error(`unknown fault "${key}" (use ${FAULT_KEYS.join(', ')})`);
			}
		}
		next.script = (next.script ?? []).map((entry) => {
			if (!SCRIPTED.includes(String(entry.fault))) {
				throw new Error(`unknown scripted fault "${entry.fault}" (use ${SCRIPTED.join(', ')})`);
			}
			if (!COMMITS.includes(entry.commit))
				throw new Error(`unknown commit "${entry.commit}" (use before, late, never)`);
			return { route: '*', count: 1, ...entry, fault: String(entry.fault) };
		});
		this.config = next;
		this.bucket = next.rateLimit
			? { tokens: next.rateLimit.burst ?? next.rateLimit.perSecond, at: Date.now() }
			: undefined;
	}

	/** Adds one-off faults to the end of the script. */
	addScripted(entries) {
		const current = { ...this.config, script: [...this.config.script, ...entries] };
		this.set(current);
	}

	get() {
		return this.config;
	}

	/**
	 * What happens to a request on `route` ("POST /talks", "GET /talks/{id}", …):
	 * `{ latencyMs, action, commit? }` where action is undefined, `{ status, retryAfterSec? }`, `'dropBefore'` or
	 * `'dropAfter'`, and commit (scripted faults only) says whether POST /talks makes its talk.
	 */
	decide(route) {
		const scripted = this.takeScripted(route);
		const spec = { ...this.config.global, ...(this.config.routes[route] ?? {}) };
		let latencyMs = draw(this.random, spec.latencyMs ?? 0);
		if (spec.spikeRate && this.random() < spec.spikeRate)
			latencyMs += draw(this.random, spec.spikeMs ?? [200, 2000]);

		if (scripted) {
			if (scripted.fault === 'latency') return { latencyMs: latencyMs + (scripted.ms ?? 1000) };
			if (scripted.fault === 'dropBefore' || scripted.fault === 'dropAfter')
				return { latencyMs, action: scripted.fault, commit: scripted.commit };
			return {
				latencyMs,
				action: { status: Number(scripted.fault), retryAfterSec: scripted.retryAfterSec ?? 1 },
				commit: scripted.commit,
			};
		}
		const limited = this.rateLimited();
		if (limited) return { latencyMs, action: { status: 429, retryAfterSec: limited } };
		if (spec.rate429 && this.random() < spec.rate429) {
			return { latencyMs, action: { status: 429, retryAfterSec: spec.retryAfterSec ?? 1 } };
		}
		if (spec.rate5xx && this.random() < spec.rate5xx) {
			return { latencyMs, action: { status: [500, 502, 503][Math.floor(this.random() * 3)] } };
		}
		if (spec.rate504 && this.random() < spec.rate504) return { latencyMs, action: { status: 504 } };
		if (spec.dropBeforeRate && this.random() < spec.dropBeforeRate)
			return { latencyMs, action: 'dropBefore' };
		if (spec.dropAfterRate && this.random() < spec.dropAfterRate)
			return { latencyMs, action: 'dropAfter' };
		return { latencyMs };
	}

	takeScripted(route) {
		const entry = this.config.script.find(
			(e) => e.count > 0 && (e.route === '*' || e.route === route),
		);
		if (!entry) return undefined;
		entry.count -= 1;
		return entry;
	}

	// Token bucket; returns the seconds to wait when empty.
	rateLimited() {
		const limit = this.config.rateLimit;
		if (!limit || !this.bucket) return 0;
		const now = Date.now();
		const capacity = limit.burst ?? limit.perSecond;
		this.bucket.tokens = Math.min(
			capacity,
			this.bucket.tokens + ((now - this.bucket.at) / 1000) * limit.perSecond,
		);
		this.bucket.at = now;
		if (this.bucket.tokens >= 1) {
			this.bucket.tokens -= 1;
			return 0;
		}
		return Math.max(1, Math.ceil((1 - this.bucket.tokens) / limit.perSecond));
	}

	/** How one webhook delivery goes: dropped, sent twice, delayed (which reorders deliveries). */
	webhookPlan() {
		const w = this.config.webhooks ?? {};
		let delayMs = draw(this.random, w.delayMs ?? 0);
		if (w.outOfOrderRate && this.random() < w.outOfOrderRate)
			delayMs += draw(this.random, w.outOfOrderDelayMs ?? [200, 800]);
		return {
			drop: Boolean(w.dropRate && this.random() < w.dropRate),
			duplicate: Boolean(w.duplicateRate && this.random() < w.duplicateRate),
			delayMs,
		};
	}
}

module.exports = { Faults };
