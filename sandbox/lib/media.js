'use strict';
// The files the sandbox serves: a real, playable result video padded to any size, streamed with
// constant memory, and the talk's synthesized audio.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { Readable } = require('node:stream');

const ASSETS = path.join(__dirname, '..', 'assets');
const BASE_VIDEO = {
	mp4: fs.readFileSync(path.join(ASSETS, 'talk.mp4')),
	mov: fs.readFileSync(path.join(ASSETS, 'talk.mov')),
};
const MIME = { mp4: 'video/mp4', mov: 'video/quicktime' };
const CHUNK = 64 * 1024;

/** Total byte size of a talk's result for the configured size (never below the real video). */
function resultSize(format, requestedBytes) {
	const base = BASE_VIDEO[format].length;
	// A padding box needs at least its header (8 bytes; 16 with a 64-bit size beyond 4 GiB).
	return requestedBytes && requestedBytes >= base + 16 ? Math.floor(requestedBytes) : base;
}

/**
 * The result video: the real clip followed by an ISO-BMFF `free` box (ignored by players) that
 * brings it to `size` bytes. The padding repeats a block derived from the talk ID, so each talk's
 * bytes differ and can be reproduced by `resultDigest`.
 */
function resultStream(format, size, talkId) {
	const base = BASE_VIDEO[format];
	const padding = size - base.length;
	const chunk = padding > 0 ? paddingChunk(talkId) : undefined;
	let sent = 0;
	return new Readable({
		read() {
			if (sent === 0) {
				sent = base.length;
				const header = padding > 0 ? freeBoxHeader(padding) : Buffer.alloc(0);
				sent += header.length;
				this.push(Buffer.concat([base, header]));
				return;
			}
			if (sent >= size) {
				this.push(null);
				return;
			}
			const length = Math.min(CHUNK, size - sent);
			sent += length;
			this.push(length === CHUNK ? chunk : chunk.subarray(0, length));
		},
	});
}

// ISO-BMFF: a box of 4 GiB or more has size 1 and its real size in a 64-bit field after the type.
function freeBoxHeader(boxSize) {
	if (boxSize <= 0xffffffff) {
		const header = Buffer.alloc(8);
		header.writeUInt32BE(boxSize, 0);
		header.write('free', 4, 'latin1');
		return header;
	}
	const header = Buffer.alloc(16);
	header.writeUInt32BE(1, 0);
	header.write('free', 4, 'latin1');
	header.writeBigUInt64BE(BigInt(boxSize), 8);
	return header;
}

function paddingChunk(talkId) {
	const seed = crypto.createHash('sha256').update(String(talkId)).digest();
	const chunk = Buffer.alloc(CHUNK);
	for (let i = 0; i < CHUNK; i += seed.length) seed.copy(chunk, i);
	return chunk;
}

/** SHA-256 of what `resultStream` yields, computed by streaming it. */
async function resultDigest(format, size, talkId) {
	const hash = crypto.createHash('sha256');
	for await (const piece of resultStream(format, size, talkId)) hash.update(piece);
	return hash.digest('hex');
}

/** A silent 16 kHz mono WAV of the given length: the talk's "synthesized" audio. */
function silentWav(seconds) {
	const samples = Math.max(1, Math.round(seconds * 16000));
	const data = samples * 2;
	const wav = Buffer.alloc(44 + data);
	wav.write('RIFF', 0, 'latin1');
	wav.writeUInt32LE(36 + data, 4);
	wav.write('WAVEfmt ', 8, 'latin1');
	wav.writeUInt32LE(16, 16);
	wav.writeUInt16LE(1, 20);
	wav.writeUInt16LE(1, 22);
	wav.writeUInt32LE(16000, 24);
	wav.writeUInt32LE(32000, 28);
	wav.writeUInt16LE(2, 32);
	wav.writeUInt16LE(16, 34);
	wav.write('data', 36, 'latin1');
	wav.writeUInt32LE(data, 40);
	return wav;
}

/** Duration in seconds of an uploaded audio file: exact for WAV, estimated from size otherwise. */
function audioDuration(data, mime) {
	if (
		mime === 'audio/wav' &&
		data.length > 44 &&
		data.subarray(0, 4).toString('latin1') === 'RIFF'
	) {
		const byteRate = data.readUInt32LE(28);
		const dataIndex = data.indexOf('data', 12, 'latin1');
		const dataBytes = dataIndex > 0 ? data.readUInt32LE(dataIndex + 4) : data.length - 44;
		if (byteRate > 0) return Math.round((dataBytes / byteRate) * 1000) / 1000;
	}
	// Compressed audio: assume 128 kbit/s.
	return Math.round((data.length / 16000) * 1000) / 1000;
}

module.exports = { MIME, resultSize, resultStream, resultDigest, silentWav, audioDuration };
