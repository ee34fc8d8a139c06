import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

// Patterns from D-ID's OpenAPI (CreateTalkRequest), anchored at the start like D-ID's own checks.
export const IMAGE_URL = /^(https|s3):\/\/\S*\.(?:jpg|jpeg|png|JPG|JPEG|PNG)/;
export const AUDIO_URL = /^(https|s3):\/\/[\S]+\.(?:m4a|M4A|flac|FLAC|mp3|MP3|mp4|MP4|wav|WAV)([?#][\w./=&#%-]+)?$/;
export const REMOTE_URL = /^(https|s3):\/\/.+/;
export const HTTPS_URL = /^https:\/\/\S+$/;
export const HTTP_URL = /^https?:\/\/\S+$/;
export const ELEVENLABS_RATE = /^(|0\.[7-9][0-9]*|1(\.[0-1][0-9]*|\.2|\.20*)?)$/;
export const ELEVENLABS_STYLE = /^(|0(\.[0-9]+)?|1(\.0+)?)$/;
export const AMAZON_VOICES = [
	'Amy', 'Aria', 'Ayanda', 'Bianca', 'Brian', 'Camila', 'Emma', 'Gabrielle', 'Ivy', 'Joanna', 'Joey', 'Justin',
	'Kendra', 'Kevin', 'Kimberly', 'Léa', 'Lucia', 'Lupe', 'Matthew', 'Olivia', 'Salli', 'Seoyeon', 'Takumi', 'Vicki',
];
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
	return new NodeOperationError(ctx.getNode(), `Invalid "${field}" in item ${itemIndex + 1}: ${problem}`, {
		itemIndex,
		description: hint,
	});
}

/** A string's length as D-ID's validator counts it: in UTF-16 code units (an emoji counts 2). */
export function characters(text: string): number {
	return text.length;
}

export function inRange(value: number, min: number, max: number): boolean {
	return Number.isFinite(value) && value >= min && value <= max;
}

export function shown(value: unknown): string {
	const text = typeof value === 'string' ? value : JSON.stringify(value);
	return text.length > 80 ? `"${text.slice(0, 77)}…"` : `"${text}"`;
}
