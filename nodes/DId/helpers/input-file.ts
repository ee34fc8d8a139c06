import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

import { invalid } from './validation';

/**
 * An input binary checked for upload, not yet read: its bytes are read when its item runs
 * (`read()`), so a batch holds at most one file per running item in memory, whatever its size.
 */
export interface InputFile {
	fileName: string;
	/** The MIME type D-ID is told (image/jpg and image/pjpeg become image/jpeg). */
	mimeType: string;
	bytes: number;
	/** The file's first bytes: 16 for an image; up to 64 KiB for audio (its length is read from its header for Check Credits First). */
	header: Buffer;
	/**
	 * The upload's body: `head`, the file's bytes, `tail`, in one buffer filled straight from n8n's
	 * binary storage (no other copy of the file is made). Read anew on each call.
	 */
	read(head: Buffer, tail: Buffer): Promise<Buffer>;
}

type Kind = 'image' | 'audio';

// What the first bytes of a file say it is (12 are enough to tell these formats apart).
const HEADER_BYTES = 16;
// Audio: enough for a WAV header, an ID3 tag of usual size and the first MP3 frame with its Xing/Info frame count.
const AUDIO_HEADER_BYTES = 64 * 1024;
const SIGNATURES: Array<{
	what: string;
	kind: Kind | 'other';
	mime?: string;
	test: (b: Buffer) => boolean;
}> = [
	{
		what: 'a JPEG image',
		kind: 'image',
		mime: 'image/jpeg',
		test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
	},
	{
		what: 'a PNG image',
		kind: 'image',
		mime: 'image/png',
		test: (b) =>
			b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
	},
	{ what: 'a GIF image', kind: 'other', test: (b) => ascii(b, 0, 4) === 'GIF8' },
	{
		what: 'a WebP image',
		kind: 'other',
		test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP',
	},
	{ what: 'a PDF document', kind: 'other', test: (b) => ascii(b, 0, 5) === '%PDF-' },
	{
		what: 'a ZIP archive (or Office document)',
		kind: 'other',
		test: (b) => ascii(b, 0, 4) === 'PK\u0003\u0004',
	},
	{
		what: 'WAV audio',
		kind: 'audio',
		mime: 'audio/wav',
		test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WAVE',
	},
	{
		what: 'MP3 audio',
		kind: 'audio',
		mime: 'audio/mpeg',
		test: (b) => ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0),
	},
	{ what: 'FLAC audio', kind: 'audio', mime: 'audio/flac', test: (b) => ascii(b, 0, 4) === 'fLaC' },
	{ what: 'Ogg audio', kind: 'audio', mime: 'audio/ogg', test: (b) => ascii(b, 0, 4) === 'OggS' },
	{
		what: 'MP4/M4A media',
		kind: 'audio',
		mime: 'audio/mp4',
		test: (b) => ascii(b, 4, 8) === 'ftyp',
	},
	{
		what: 'WebM/Matroska media',
		kind: 'audio',
		mime: 'video/webm',
		test: (b) => b.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])),
	},
	{ what: 'AIFF audio', kind: 'audio', mime: 'audio/aiff', test: (b) => ascii(b, 0, 4) === 'FORM' },
	{ what: 'AMR audio', kind: 'audio', mime: 'audio/amr', test: (b) => ascii(b, 0, 5) === '#!AMR' },
];

function ascii(bytes: Buffer, start: number, end: number): string {
	return bytes.subarray(start, end).toString('latin1');
}

/** What the content looks like: a known format, text, or unknown binary data. */
function sniff(header: Buffer): { what: string; kind: Kind | 'other' | 'unknown'; mime?: string } {
	const known = SIGNATURES.find((s) => s.test(header));
	if (known) return known;
	const text =
		header.length > 0 &&
		[...header].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b !== 0x7f));
	if (text) {
		const start = header.toString('latin1').trimStart();
		const what = start.startsWith('<')
			? 'HTML or XML text'
			: start.startsWith('{') || start.startsWith('[')
				? 'JSON text'
				: 'text';
		return { what, kind: 'other' };
	}
	return { what: 'unknown binary data', kind: 'unknown' };
}

// Names other software gives the two image types D-ID takes.
const MIME_ALIASES: Record<string, string> = {
	'image/jpg': 'image/jpeg',
	'image/pjpeg': 'image/jpeg',
	'image/jpe': 'image/jpeg',
	'image/x-png': 'image/png',
};
// Labels that say nothing about the content: the content decides.
const UNLABELLED = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

// D-ID accepts upload file names of up to 50 characters of A-Z a-z 0-9 . _ -
function safeFileName(name: string | undefined, fallback: string): string {
	const cleaned = (name ?? '').replace(/[^A-Za-z0-9._-]/g, '_');
	if (!cleaned) return fallback;
	if (cleaned.length <= 50) return cleaned;
	const ext = /\.[A-Za-z0-9]{1,5}$/.exec(cleaned)?.[0] ?? '';
	return cleaned.slice(0, 50 - ext.length) + ext;
}

function megabytes(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Size and first bytes of a binary, from its metadata and a few bytes read, not the whole file. */
async function sizeAndHeader(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
	binary: IBinaryData,
	headerBytes: number,
): Promise<{ bytes: number; header: Buffer }> {
	if (binary.id) {
		const { fileSize } = await ctx.helpers.getBinaryMetadata(binary.id);
		if (typeof fileSize !== 'number' || !Number.isFinite(fileSize)) {
			// A storage that does not know the size: read the file once to learn it (then let it go).
			const data = await ctx.helpers.getBinaryDataBuffer(itemIndex, property);
			return { bytes: data.length, header: Buffer.from(data.subarray(0, headerBytes)) };
		}
		if (fileSize === 0) return { bytes: 0, header: Buffer.alloc(0) };
		const stream = await ctx.helpers.getBinaryStream(binary.id, headerBytes);
		const chunks: Buffer[] = [];
		let read = 0;
		// Leaving the loop early closes the stream: only the first chunk(s) are read from storage.
		for await (const chunk of stream as AsyncIterable<Buffer>) {
			chunks.push(chunk);
			read += chunk.length;
			if (read >= headerBytes) break;
		}
		return { bytes: fileSize, header: Buffer.concat(chunks).subarray(0, headerBytes) };
	}
	// Kept in the item itself (n8n 1.x "default" mode), base64-encoded.
	const base64 = (binary.data ?? '').replace(/\s/g, '');
	const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
	const bytes = Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
	return {
		bytes,
		header: Buffer.from(base64.slice(0, Math.ceil(headerBytes / 3) * 4 + 4), 'base64').subarray(
			0,
			headerBytes,
		),
	};
}

/**
 * Checks an input binary for upload without loading it: present, not empty, within D-ID's size
 * limit, labelled with a type D-ID takes, and with content (its first bytes) that matches the label.
 */
export async function checkInputFile(
	this: IExecuteFunctions,
	itemIndex: number,
	property: string,
	kind: Kind,
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
	const label = String(binary.mimeType ?? '')
		.toLowerCase()
		.split(';')[0]
		.trim();
	const labelled = MIME_ALIASES[label] ?? label;
	const accepts = (mime: string) =>
		kind === 'image'
			? mime === 'image/jpeg' || mime === 'image/png'
			: /^(audio|video)\//.test(mime);
	const wanted = kind === 'image' ? 'a JPEG or PNG image' : 'an audio file (or a video with sound)';
	if (!UNLABELLED.has(labelled) && !accepts(labelled)) {
		throw invalid(
			this,
			itemIndex,
			field,
			`binary property "${property}" is ${labelled}, not ${wanted}`,
			kind === 'image'
				? 'D-ID accepts JPEG and PNG photos. Convert the image first.'
				: 'D-ID accepts audio such as MP3, WAV, M4A or FLAC.',
		);
	}

	const { bytes, header } = await sizeAndHeader(
		this,
		itemIndex,
		property,
		binary,
		kind === 'audio' ? AUDIO_HEADER_BYTES : HEADER_BYTES,
	);
	if (bytes === 0) {
		throw invalid(
			this,
			itemIndex,
			field,
			`binary property "${property}" is an empty file (0 bytes)`,
			`The node that produced it read or downloaded nothing: check it, then run again.`,
		);
	}
	const tooLarge = (size: number) =>
		invalid(
			this,
			itemIndex,
			field,
			`the file is ${megabytes(size)}; D-ID accepts at most ${maxBytes / 1024 / 1024} MB`,
			kind === 'image'
				? 'Resize or recompress the photo.'
				: 'Shorten or recompress the audio (D-ID also limits talks to 10 minutes).',
		);
	if (bytes > maxBytes) throw tooLarge(bytes);

	const content = sniff(header.subarray(0, HEADER_BYTES));
	const mismatch = (claimed: string) =>
		invalid(
			this,
			itemIndex,
			field,
			`binary property "${property}" is labelled ${claimed} but its content is ${content.what}`,
			kind === 'image'
				? 'The file is not the image its type says. Check the node that produced it (an error page saved as a file is common), or convert the file to JPEG or PNG.'
				: 'The file is not the audio its type says. Check the node that produced it (an error page saved as a file is common), or convert the file to MP3 or WAV.',
		);
	let mimeType = labelled;
	if (kind === 'image') {
		// D-ID decodes the image by its content: the label and the content must agree.
		if (UNLABELLED.has(labelled)) {
			if (content.kind !== 'image') throw mismatch(labelled || 'with no type');
			mimeType = content.mime!;
		} else if (content.mime !== labelled) throw mismatch(labelled);
	} else if (
		content.kind === 'other' ||
		content.kind === 'image' ||
		(UNLABELLED.has(labelled) && content.kind !== 'audio')
	) {
		// Audio comes in many containers: refuse only what is recognisably not audio.
		throw mismatch(labelled || 'with no type');
	} else if (UNLABELLED.has(labelled)) {
		mimeType = content.mime!;
	}

	const fallback =
		kind === 'image' ? (mimeType === 'image/png' ? 'image.png' : 'image.jpg') : 'audio.mp3';
	return {
		fileName: safeFileName(binary.fileName, fallback),
		mimeType,
		bytes,
		header,
		read: async (head, tail) => {
			try {
				if (!binary.id)
					return Buffer.concat([
						head,
						await this.helpers.getBinaryDataBuffer(itemIndex, property),
						tail,
					]);
				const body = Buffer.allocUnsafe(head.length + bytes + tail.length);
				let offset = head.copy(body, 0);
				for await (const chunk of (await this.helpers.getBinaryStream(
					binary.id,
				)) as AsyncIterable<Buffer>) {
					if (offset + chunk.length > head.length + bytes)
						throw new Error('it is larger than its metadata says');
					offset += chunk.copy(body, offset);
				}
				if (offset !== head.length + bytes) throw new Error('it is smaller than its metadata says');
				tail.copy(body, offset);
				return body;
			} catch (error) {
				throw invalid(
					this,
					itemIndex,
					field,
					`binary property "${property}" could not be read from n8n's binary storage (${(error as Error).message})`,
					'The file was changed, moved or removed after the node started. Run the workflow again.',
				);
			}
		},
	};
}
