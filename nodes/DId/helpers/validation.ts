import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

// Patterns from D-ID's OpenAPI (CreateTalkRequest), anchored at the start like D-ID's own checks.
export const IMAGE_URL = /^(https|s3):\/\/\S*\.(?:jpg|jpeg|png|JPG|JPEG|PNG)/;
export const AUDIO_URL =
	/^(https|s3):\/\/[\S]+\.(?:m4a|M4A|flac|FLAC|mp3|MP3|mp4|MP4|wav|WAV)([?#][\w./=&#%-]+)?$/;
export const REMOTE_URL = /^(https|s3):\/\/.+/;
export const HTTPS_URL = /^https:\/\/\S+$/;
export const HTTP_URL = /^https?:\/\/\S+$/;
export const ELEVENLABS_RATE = /^(|0\.[7-9][0-9]*|1(\.[0-1][0-9]*|\.2|\.20*)?)$/;
export const ELEVENLABS_STYLE = /^(|0(\.[0-9]+)?|1(\.0+)?)$/;
export const AMAZON_VOICES = [
	'Amy',
	'Aria',
	'Ayanda',
	'Bianca',
	'Brian',
	'Camila',
	'Emma',
	'Gabrielle',
	'Ivy',
	'Joanna',
	'Joey',
	'Justin',
	'Kendra',
	'Kevin',
	'Kimberly',
	'Léa',
	'Lucia',
	'Lupe',
	'Matthew',
	'Olivia',
	'Salli',
	'Seoyeon',
	'Takumi',
	'Vicki',
];

/**
 * A Microsoft speaking style as D-ID's Talks overview writes it ("Cheerful"). GET /tts/voices lists
 * styles in lower case ("cheerful"): a style written all in lower case gets a capital first letter;
 * any other spelling is the workflow builder's choice and is kept.
 */
export function documentedStyle(style: string): string {
	return style === style.toLowerCase() ? style.charAt(0).toUpperCase() + style.slice(1) : style;
}

export const LIMITS = {
	textMin: 3,
	textMax: 40_000,
	userDataMax: 1000,
	padAudioMax: 60,
	imageBytes: 10 * 1024 * 1024,
	audioBytes: 6 * 1024 * 1024,
};

/** An input error that names the field and the item, raised before any request is sent. */
export function invalid(
	ctx: IExecuteFunctions,
	itemIndex: number,
	field: string,
	problem: string,
	hint: string,
): NodeOperationError {
	return new NodeOperationError(
		ctx.getNode(),
		`Invalid "${field}" in item ${itemIndex + 1}: ${problem}`,
		{
			itemIndex,
			description: hint,
		},
	);
}

/** A string's length as D-ID's validator counts it: in UTF-16 code units (an emoji counts 2). */
export function characters(text: string): number {
	return text.length;
}

export function inRange(value: number, min: number, max: number): boolean {
	return Number.isFinite(value) && value >= min && value <= max;
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as the user gave it, quoted and short, with line breaks, control and invisible characters made visible. */
export function shown(value: unknown): string {
	if (value === undefined) return 'nothing (the expression gave undefined)';
	if (value === null) return 'null (an empty value)';
	let text: string;
	if (typeof value === 'string') text = value;
	else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
		text = String(value); // NaN stays NaN
	else {
		try {
			text = JSON.stringify(value) ?? String(value);
		} catch {
			text = String(value);
		}
	}
	text = text.replace(
		// eslint-disable-next-line no-control-regex
		/[\u0000-\u001f\u007f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g,
		(c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
	);
	return text.length > 80 ? `"${text.slice(0, 77)}…"` : `"${text}"`;
}

/**
 * A number field's value as a number: NaN for what is not one (null, '', true, an object), so a
 * field an expression left empty is refused instead of sent as 0.
 */
export function numberOf(value: unknown): number {
	if (typeof value === 'number') return value;
	if (typeof value === 'string' && value.trim() !== '') return Number(value);
	return NaN;
}

/** A number field's value, refused outside `min` to `max` (the error: the value as given, then `problem`). */
export function numberIn(
	ctx: IExecuteFunctions,
	itemIndex: number,
	given: unknown,
	check: { field: string; min: number; max: number; problem: string; hint: string },
): number {
	const value = numberOf(given);
	if (!inRange(value, check.min, check.max))
		throw invalid(ctx, itemIndex, check.field, `${shown(given)} ${check.problem}`, check.hint);
	return value;
}

/** For a field that wants text: what an expression gave instead (a list, an object, true or false), or undefined. */
export function notText(value: unknown): string | undefined {
	if (Array.isArray(value)) return `a list (${shown(value)})`;
	if (value !== null && typeof value === 'object') return `an object (${shown(value)})`;
	if (typeof value === 'boolean') return String(value);
	return undefined;
}

/** Refuses what an expression gave for a text field instead of text (see notText); `wanted` names the text, e.g. "a talk ID". */
export function refuseNotText(
	ctx: IExecuteFunctions,
	itemIndex: number,
	field: string,
	value: unknown,
	wanted: string,
	hint: string,
): void {
	const kind = notText(value);
	if (kind)
		throw invalid(ctx, itemIndex, field, `the expression gave ${kind}, not ${wanted}`, hint);
}

/** Spaces, line breaks and characters that show nothing (zero-width spaces and joiners, BOM, soft hyphen). */
const INVISIBLE = /[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]|\u034f/gu;

export function hasVisibleText(text: string): boolean {
	return text.replace(INVISIBLE, '') !== '';
}

// Line breaks, spaces and control characters: never part of a working address.
const URL_BREAKERS =
	// eslint-disable-next-line no-control-regex
	/[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2060\u3000\ufeff]/u;

/**
 * What is wrong with an address D-ID is to fetch or call, or undefined when nothing is:
 * allowed scheme, no spaces or control characters, no user name or password in it, and (for
 * files D-ID identifies by their ending) a path that ends in one of `endings`.
 */
export function urlProblem(
	url: string,
	schemes: string[],
	endings?: { pattern: RegExp; names: string },
): string | undefined {
	const written = schemes.map((s) => `${s}://`).join(' or ');
	if (URL_BREAKERS.test(url))
		return `${shown(url)} contains a line break, space or control character`;
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return `${shown(url)} is not an ${written} address`;
	}
	if (
		!schemes.includes(parsed.protocol.slice(0, -1)) ||
		!url.toLowerCase().startsWith(`${parsed.protocol}//`)
	) {
		return `${shown(url)} is not an ${written} address`;
	}
	if (parsed.username || parsed.password)
		return `${shown(url)} has a user name or password in it (user:password@)`;
	if (endings && !endings.pattern.test(parsed.pathname)) {
		return `the path of ${shown(url)} does not end in ${endings.names} (what follows ? or # does not count)`;
	}
	return undefined;
}

export const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
