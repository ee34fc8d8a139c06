'use strict';
// multipart/form-data parsing for the upload routes (their files are at most 10 MB, so a buffer is fine).

function boundaryOf(contentType) {
	const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
	return match ? (match[1] ?? match[2]).trim() : undefined;
}

/** Returns `[{ name, filename, contentType, data }]`, or undefined when the body is not valid multipart. */
function parseMultipart(body, contentType) {
	const boundary = boundaryOf(contentType);
	if (!boundary) return undefined;
	const delimiter = Buffer.from(`--${boundary}`);
	const parts = [];
	let position = body.indexOf(delimiter);
	if (position < 0) return undefined;
	for (;;) {
		position += delimiter.length;
		if (body.slice(position, position + 2).toString() === '--') return parts;
		position += 2; // CRLF after the delimiter
		const headerEnd = body.indexOf('\r\n\r\n', position);
		if (headerEnd < 0) return undefined;
		const headers = body.slice(position, headerEnd).toString('utf8');
		const next = body.indexOf(delimiter, headerEnd + 4);
		if (next < 0) return undefined;
		const data = body.slice(headerEnd + 4, next - 2); // strip the CRLF before the delimiter
		const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
		parts.push({
			name: /\bname="([^"]*)"/i.exec(disposition)?.[1],
			filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
			contentType: /content-type:\s*([^\r\n;]*)/i.exec(headers)?.[1]?.trim().toLowerCase(),
			data,
		});
		position = next;
	}
}

/** The MIME type a file's first bytes show, for the types D-ID's upload routes care about. */
function sniffMime(data) {
	const head = data.subarray(0, 16);
	if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
	if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
		return 'image/png';
	if (
		head.subarray(0, 4).toString('latin1') === 'RIFF' &&
		head.subarray(8, 12).toString('latin1') === 'WAVE'
	)
		return 'audio/wav';
	if (
		head.subarray(0, 3).toString('latin1') === 'ID3' ||
		(head[0] === 0xff && (head[1] & 0xe0) === 0xe0)
	)
		return 'audio/mpeg';
	if (head.subarray(0, 4).toString('latin1') === 'fLaC') return 'audio/flac';
	if (head.subarray(4, 8).toString('latin1') === 'ftyp') return 'video/mp4';
	return undefined;
}

module.exports = { parseMultipart, sniffMime };
