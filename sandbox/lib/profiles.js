'use strict';
// The sandbox's settings: defaults, profiles (README "Profiles") and their checks.
const { DIdError } = require('./errors');

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

/** The largest --result-size: MP4 padding boxes take 64-bit sizes, but a result is still a file someone downloads. */
const MAX_RESULT_BYTES = 64 * 1024 ** 3;

/** The options of a new sandbox: defaults, then the profile's settings, then the caller's. */
function optionsOf(userOptions) {
	const profile = PROFILES[userOptions.profile ?? 'friendly'];
	if (!profile)
		throw new Error(
			`unknown sandbox profile "${userOptions.profile}" (use ${Object.keys(PROFILES).join(', ')})`,
		);
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
	return options;
}

function checkProfileSettings(o) {
	if (!['all', 'spec'].includes(o.fields))
		throw new Error(`fields: "${o.fields}" is not all or spec`);
	if (!LIST_ORDERS.includes(o.listOrder))
		throw new Error(`listOrder: "${o.listOrder}" is not one of ${LIST_ORDERS.join(', ')}`);
	if (!['z', 'no-z'].includes(o.createdAtFormat))
		throw new Error(`createdAtFormat: "${o.createdAtFormat}" is not z or no-z`);
	if (!['utf16', 'code-points'].includes(o.lengthUnits))
		throw new Error(`lengthUnits: "${o.lengthUnits}" is not utf16 or code-points`);
	if (![true, false, 'overview'].includes(o.legacy))
		throw new Error(`legacy: "${o.legacy}" is not true, false or overview`);
	for (const [fault, commit] of Object.entries(o.commitOnFault)) {
		if (!['dropAfter', '500', '502', '504'].includes(fault))
			throw new Error(`commitOnFault: no fault "${fault}" (use dropAfter, 500, 502, 504)`);
		if (!['before', 'late', 'never'].includes(commit))
			throw new Error(`commitOnFault.${fault}: "${commit}" is not before, late or never`);
	}
	for (const key of ['readLagMs', 'clockSkewMs'])
		if (!Number.isFinite(o[key])) throw new Error(`${key} must be a number`);
}

function checkResultSize(value) {
	if (value === undefined || value === null) return;
	if (!Number.isSafeInteger(value) || value < 0 || value > MAX_RESULT_BYTES) {
		throw new DIdError(
			'ValidationError',
			`resultSizeBytes must be a whole number of bytes from 0 to ${MAX_RESULT_BYTES} (64 GB)`,
		);
	}
}

/**
 * Changes settings at runtime (the control API's PATCH /config): credits, plan, processing,
 * resultSizeBytes, resultUrlTtlSec, allowHttpLoopbackWebhooks, profile (all its settings), and
 * each profile setting. The options change only when every setting is valid (credits at once).
 */
function configure(state, changes) {
	const { options } = state;
	const next = { ...options };
	for (const [key, value] of Object.entries(changes)) {
		if (key === 'credits') state.credits = { total: value, remaining: value };
		else if (key === 'plan' || key === 'processing' || key === 'commitOnFault')
			next[key] = { ...next[key], ...value };
		else if (key === 'profile') {
			if (!PROFILES[value])
				throw new DIdError('ValidationError', `unknown sandbox profile "${value}"`);
			Object.assign(next, structuredClone(PROFILES[value]), { profile: value });
		} else if (
			['resultSizeBytes', 'resultUrlTtlSec', 'allowHttpLoopbackWebhooks', ...PROFILE_KEYS].includes(
				key,
			)
		) {
			if (key === 'resultSizeBytes') checkResultSize(value);
			next[key] = value;
		} else throw new DIdError('ValidationError', `unknown sandbox setting "${key}"`);
	}
	try {
		checkProfileSettings(next);
	} catch (error) {
		throw new DIdError('ValidationError', error.message);
	}
	Object.assign(options, next);
}

/** The settings as GET /__sandbox/config shows them. */
function configOf(state) {
	const { options } = state;
	return {
		profile: options.profile,
		...Object.fromEntries(PROFILE_KEYS.map((key) => [key, options[key]])),
		plan: options.plan,
		processing: options.processing,
		resultSizeBytes: options.resultSizeBytes,
		resultUrlTtlSec: options.resultUrlTtlSec,
		allowHttpLoopbackWebhooks: options.allowHttpLoopbackWebhooks,
		credits: { ...state.credits },
	};
}

module.exports = { PROFILES, optionsOf, configure, configOf };
