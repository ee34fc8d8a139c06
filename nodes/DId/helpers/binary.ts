import type { IBinaryData, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import { openResultStream } from '../transport';
import type { Talk } from './polling';
import { invalid } from './validation';

export interface InputFile {
	data: Buffer;
	fileName: string;
	mimeType: string;
}

const ACCEPT = {
	image: { test: (mime: string) => mime === 'image/jpeg' || mime === 'image/png', what: 'a JPEG or PNG image' },
	audio: { test: (mime: string) => /^(audio|video)\//.test(mime), what: 'an audio file (or a video with sound)' },
};

// D-ID accepts upload file names of up to 50 characters of A-Z a-z 0-9 . _ -
function safeFileName(name: string | undefined, fallback: string): string {
	const cleaned = (name ?? '').replace(/[^A-Za-z0-9._-]/g, '_');
	if (!cleaned) return fallback;
	if (cleaned.length <= 50) return cleaned;
	const ext = /\.[A-Za-z0-9]{1,5}$/.exec(cleaned)?.[0] ?? '';
	return cleaned.slice(0, 50 - ext.length) + ext;
}

/** Reads and checks an input binary for upload: present, the right type, within D-ID's size limit. */
export async function readInputFile(
	this: IExecuteFunctions,
	itemIndex: number,
	property: string,
	kind: 'image' | 'audio',
	field: string,
	maxBytes: number,
): Promise<InputFile> {
	const item = this.getInputData()[itemIndex];
	const binary = item?.binary?.[property];
	if (!binary) {
		const available = Object.keys(item?.binary ?? {});
		throw invalid(
			this,
			itemIndex,
			field,
			`the item has no binary property "${property}"`,
			available.length
				? `This item's binary properties are: ${available.join(', ')}. Put one of them in "${field}".`
				: `This item has no binary data. Add a node before this one that reads the ${kind} (e.g. Read/Write Files from Disk or HTTP Request), or use a URL instead.`,
		);
	}
	const mimeType = (binary.mimeType ?? '').toLowerCase();
	if (!ACCEPT[kind].test(mimeType)) {
		throw invalid(
			this,
			itemIndex,
			field,
			`binary property "${property}" is ${mimeType || 'of unknown type'}, not ${ACCEPT[kind].what}`,
			kind === 'image' ? 'D-ID accepts JPEG and PNG photos. Convert the image first.' : 'D-ID accepts audio such as MP3, WAV, M4A or FLAC.',
		);
	}
	const tooLarge = (bytes: number) =>
		invalid(
			this,
			itemIndex,
			field,
			`the file is ${(bytes / 1024 / 1024).toFixed(1)} MB; D-ID accepts at most ${maxBytes / 1024 / 1024} MB`,
			kind === 'image' ? 'Resize or recompress the photo.' : 'Shorten or recompress the audio (D-ID also limits talks to 10 minutes).',
		);
	// Stored binaries know their size: refuse a huge file without loading it.
	if (binary.id) {
		const { fileSize } = await this.helpers.getBinaryMetadata(binary.id);
		if (fileSize > maxBytes) throw tooLarge(fileSize);
	}
	const data = await this.helpers.getBinaryDataBuffer(itemIndex, property);
	if (data.length > maxBytes) throw tooLarge(data.length);
	const fallback = kind === 'image' ? (mimeType === 'image/png' ? 'image.png' : 'image.jpg') : 'audio.mp3';
	return { data, mimeType, fileName: safeFileName(binary.fileName, fallback) };
}

/** The talk's result format ("mp4" or "mov"), from its config or its result URL. */
export function resultFormat(talk: Talk): 'mp4' | 'mov' {
	const configured = String((talk.config as { result_format?: string } | undefined)?.result_format ?? '').replace('.', '');
	if (configured === 'mov' || configured === 'mp4') return configured;
	return /\.mov(\?|$)/i.test(talk.result_url ?? '') ? 'mov' : 'mp4';
}

/** Streams the finished talk's video into n8n's binary storage (memory does not grow with its size). */
export async function downloadVideo(
	this: IExecuteFunctions | IWebhookFunctions,
	talk: Talk,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IBinaryData> {
	const format = resultFormat(talk);
	const { stream } = await openResultStream.call(this, talk.result_url as string, talk.id, itemIndex, signal);
	const mimeType = format === 'mov' ? 'video/quicktime' : 'video/mp4';
	return await this.helpers.prepareBinaryData(stream, `${talk.id}.${format}`, mimeType);
}
