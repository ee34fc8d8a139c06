import type { IDataObject } from 'n8n-workflow';

/**
 * Secrets that D-ID hands back to us: each talk's `webhook` URL is echoed in GET /talks/{id}, the
 * list and the webhook body, with the D-ID Trigger's `?secret=` (or Wait Mode Webhook's
 * `dIdToken`) in it. Nothing this package emits (items, errors, log lines) may carry them.
 */
export const REDACTED = '[redacted]';

// Query parameters that carry a secret, plain or percent-encoded (`secret%3D…` inside another URL).
const SECRET_PARAM = /((?:[?&]|%3F|%26)(?:secret|dIdToken)(?:=|%3D))[^&#\s"'\\<>]+/gi;
// Shorter values are not searched for elsewhere (they would match ordinary text).
const MIN_VALUE_LENGTH = 8;

/** The secret values in a URL's query (`secret`, `dIdToken`). */
export function secretsInUrl(url: unknown): string[] {
	if (typeof url !== 'string' || !url) return [];
	try {
		const query = new URL(url).searchParams;
		return ['secret', 'dIdToken']
			.flatMap((name) => query.getAll(name))
			.filter((value) => value.length >= MIN_VALUE_LENGTH);
	} catch {
		return [];
	}
}

/** The text with secret query parameters and each of `values` (plain, URL-encoded, base64) replaced. */
export function redactText(text: string, values: string[] = []): string {
	let out = text.replace(SECRET_PARAM, `$1${REDACTED}`);
	for (const value of variantsOf(values)) out = out.split(value).join(REDACTED);
	return out;
}

function variantsOf(values: string[]): string[] {
	const variants = new Set<string>();
	for (const value of values) {
		if (typeof value !== 'string' || value.length < MIN_VALUE_LENGTH) continue;
		variants.add(value);
		variants.add(encodeURIComponent(value));
		variants.add(Buffer.from(value, 'utf8').toString('base64'));
	}
	// Longest first, so a value that contains another is replaced whole.
	return [...variants].sort((a, b) => b.length - a.length);
}

/** A copy of any JSON value with every string redacted as by redactText. */
export function redactDeep<T>(value: T, values: string[] = []): T {
	if (typeof value === 'string') return redactText(value, values) as T;
	if (Array.isArray(value)) return value.map((entry) => redactDeep(entry, values)) as T;
	if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
		const out: IDataObject = {};
		for (const [key, entry] of Object.entries(value as IDataObject))
			out[key] = redactDeep(entry, values);
		return out as T;
	}
	return value;
}

/** A talk (or any item JSON) as it may be emitted: secrets of its own webhook URL and `values` removed. */
export function redactTalk<T extends IDataObject>(talk: T, values: string[] = []): T {
	return redactDeep(talk, [...values, ...secretsInUrl(talk.webhook)]);
}

/** Redacts an error's message, description and context in place (for errors built from responses). */
export function redactError<E>(error: E, values: string[] = []): E {
	const e = error as {
		message?: unknown;
		description?: unknown;
		context?: unknown;
		cause?: unknown;
	};
	if (!e || typeof e !== 'object') return error;
	if (typeof e.message === 'string') e.message = redactText(e.message, values);
	if (typeof e.description === 'string') e.description = redactText(e.description, values);
	if (e.context && typeof e.context === 'object')
		Object.assign(e.context, redactDeep(e.context, values));
	return error;
}
