import type { IDataObject } from 'n8n-workflow';

/**
 * Credits: D-ID bills a talk by its video's length, one credit per started 15 seconds (at least
 * one). Before a batch starts, each item's length is estimated from what the node is about to
 * send; the estimate errs on the side of more credits (README "Credits and privacy").
 */
export const SECONDS_PER_CREDIT = 15;

/**
 * Speaking rate used for text: 130 words a minute. Conversational English and text-to-speech
 * voices at their default rate run at about 150–160 words a minute (the figure usually given for
 * conversational speech, e.g. by the National Center for Voice and Speech); 130 is slower on
 * purpose, so the estimate is longer than the video rather than shorter.
 */
export const WORDS_PER_MINUTE = 130;
/** For text with few spaces between words: 12 characters a second (130 wpm ≈ 14 characters a second in English). */
const CHARACTERS_PER_SECOND = 12;
/** Chinese, Japanese and Korean characters: about 4 a second when spoken; counted at 0.3 s each. */
const SECONDS_PER_CJK_CHARACTER = 0.3;
const CJK =
	/[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/g;
/** A `<break>` without a time: counted as one second. */
const DEFAULT_BREAK_SECONDS = 1;
/** D-ID takes audio of at most 10 minutes: an audio the node cannot measure is counted at that. */
export const MAX_AUDIO_SECONDS = 600;

export function creditsFor(seconds: number): number {
	return Math.max(1, Math.ceil(seconds / SECONDS_PER_CREDIT - 1e-9));
}

/** How much slower than normal a voice speaks (≥ 1 when slower, as the estimate needs it). */
function slowdown(rate: unknown): number {
	if (rate === undefined || rate === null || rate === '') return 1;
	const value = String(rate).trim().toLowerCase();
	const named: Record<string, number> = {
		'x-slow': 0.5,
		slow: 0.75,
		medium: 1,
		default: 1,
		fast: 1.25,
		'x-fast': 1.5,
	};
	let factor: number | undefined = named[value];
	if (factor === undefined && /^[+-]?\d+(\.\d+)?%$/.test(value))
		factor = 1 + Number(value.slice(0, -1)) / 100;
	if (factor === undefined && /^\d+(\.\d+)?$/.test(value)) factor = Number(value);
	if (factor === undefined || !Number.isFinite(factor) || factor <= 0) return 2; // unknown: assume half speed
	return factor < 1 ? 1 / factor : 1;
}

/** Seconds of speech a text script makes, estimated long. */
export function textSeconds(input: string, ssml: boolean, rate?: unknown): number {
	let text = input;
	let pauses = 0;
	if (ssml) {
		for (const match of input.matchAll(/<break\b[^>]*>/gi)) {
			const time = /time\s*=\s*["']?\s*(\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(match[0]);
			pauses += time
				? Number(time[1]) / (time[2].toLowerCase() === 'ms' ? 1000 : 1)
				: DEFAULT_BREAK_SECONDS;
		}
		text = input.replace(/<[^>]*>/g, ' ');
	}
	const cjk = (text.match(CJK) ?? []).length;
	const rest = text.replace(CJK, ' ');
	const words = rest.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
	const characters = rest.replace(/\s+/g, '').length;
	const speech =
		Math.max((words * 60) / WORDS_PER_MINUTE, characters / CHARACTERS_PER_SECOND) +
		cjk * SECONDS_PER_CJK_CHARACTER;
	return Math.max(1, speech * slowdown(rate)) + pauses;
}

const MP3_BITRATES: Record<string, number[]> = {
	// [version][layer] kbit/s by index; MPEG-1 layer III and MPEG-2/2.5 layer III (what speech files use)
	'1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
	'2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

/**
 * An audio file's length from its first bytes and its size: WAV from its header, MP3 from its
 * first frame (constant bit rate; a Xing/Info frame count when there is one). Undefined when the
 * header says nothing the node understands.
 */
export function audioSeconds(head: Buffer, totalBytes: number): number | undefined {
	if (
		head.length >= 44 &&
		head.toString('latin1', 0, 4) === 'RIFF' &&
		head.toString('latin1', 8, 12) === 'WAVE'
	) {
		const byteRate = head.readUInt32LE(28);
		const dataAt = head.indexOf('data', 12, 'latin1');
		const dataBytes =
			dataAt > 0 && dataAt + 8 <= head.length ? head.readUInt32LE(dataAt + 4) : totalBytes - 44;
		if (byteRate > 0) return Math.max(dataBytes, totalBytes - 44) / byteRate;
		return undefined;
	}
	let at = 0;
	if (head.toString('latin1', 0, 3) === 'ID3' && head.length >= 10) {
		at =
			10 +
			((head[6] & 0x7f) << 21) +
			((head[7] & 0x7f) << 14) +
			((head[8] & 0x7f) << 7) +
			(head[9] & 0x7f);
	}
	for (; at + 4 <= head.length; at++) {
		if (head[at] !== 0xff || (head[at + 1] & 0xe0) !== 0xe0) continue;
		const version = (head[at + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
		const layer = (head[at + 1] >> 1) & 3; // 1 = layer III
		const bitrateIndex = head[at + 2] >> 4;
		const sampleRateIndex = (head[at + 2] >> 2) & 3;
		if (
			layer !== 1 ||
			version === 1 ||
			bitrateIndex === 0 ||
			bitrateIndex === 15 ||
			sampleRateIndex === 3
		)
			continue;
		const kbps = MP3_BITRATES[version === 3 ? '1-3' : '2-3'][bitrateIndex];
		const sampleRate = [
			[11025, 12000, 8000],
			[0, 0, 0],
			[22050, 24000, 16000],
			[44100, 48000, 32000],
		][version][sampleRateIndex];
		const samplesPerFrame = version === 3 ? 1152 : 576;
		const xing = Math.max(head.indexOf('Xing', at, 'latin1'), head.indexOf('Info', at, 'latin1'));
		if (
			xing > 0 &&
			xing < at + 200 &&
			xing + 12 <= head.length &&
			head.readUInt32BE(xing + 4) & 1
		) {
			return (head.readUInt32BE(xing + 8) * samplesPerFrame) / sampleRate;
		}
		return ((totalBytes - at) * 8) / (kbps * 1000);
	}
	return undefined;
}

/** What the estimate of one item rests on, for the message when the batch does not fit. */
export interface Estimate {
	seconds: number;
	credits: number;
	basis: string;
}

/** Estimated length and credits of the talk `body` creates; `audio` is the head and size of an audio binary. */
export function estimateTalk(body: IDataObject, audio?: { head: Buffer; size: number }): Estimate {
	const script = (body.script ?? {}) as IDataObject;
	const config = (body.config ?? {}) as IDataObject;
	const pad = Number(config.pad_audio ?? 0) || 0;
	let seconds: number;
	let basis: string;
	if (script.type === 'text') {
		const provider = (script.provider ?? {}) as IDataObject;
		const rate = ((provider.voice_config ?? {}) as IDataObject).rate;
		seconds = textSeconds(String(script.input ?? ''), script.ssml === true, rate);
		basis = 'text';
	} else if (audio) {
		const measured = audioSeconds(audio.head, audio.size);
		// 5 % and a second more than the header says: containers and encoders round differently.
		seconds =
			measured === undefined ? MAX_AUDIO_SECONDS : Math.min(MAX_AUDIO_SECONDS, measured * 1.05 + 1);
		basis =
			measured === undefined
				? 'audio of unknown length, counted at D-ID’s 10-minute maximum'
				: 'audio file header';
	} else {
		seconds = MAX_AUDIO_SECONDS;
		basis = 'audio URL, counted at D-ID’s 10-minute maximum';
	}
	seconds += pad;
	return { seconds, credits: creditsFor(seconds), basis };
}

/** The credits a finished talk used, from the duration D-ID reports on it (null when it reports none). */
export function creditsUsed(talk: IDataObject): number | null {
	const duration = Number(talk.duration);
	return talk.duration !== undefined && Number.isFinite(duration) && duration >= 0
		? creditsFor(duration)
		: null;
}
