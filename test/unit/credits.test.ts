import {
	audioSeconds,
	creditsFor,
	creditsUsed,
	estimateTalk,
	MAX_AUDIO_SECONDS,
	textSeconds,
} from '../../nodes/DId/helpers/credits';

function wav(seconds: number, byteRate = 16000): Buffer {
	const data = Math.round(seconds * byteRate);
	const header = Buffer.alloc(44);
	header.write('RIFF', 0, 'latin1');
	header.writeUInt32LE(36 + data, 4);
	header.write('WAVE', 8, 'latin1');
	header.write('fmt ', 12, 'latin1');
	header.writeUInt32LE(byteRate, 28);
	header.write('data', 36, 'latin1');
	header.writeUInt32LE(data, 40);
	return header;
}

/** An MPEG-1 layer III frame header: 128 kbit/s, 44.1 kHz. */
const MP3_FRAME = Buffer.from([0xff, 0xfb, 0x90, 0x00]);

describe('credits: the estimate made before a batch starts', () => {
	test('one credit per started 15 seconds, at least one', () => {
		expect(creditsFor(0)).toBe(1);
		expect(creditsFor(15)).toBe(1);
		expect(creditsFor(15.01)).toBe(2);
		expect(creditsFor(45)).toBe(3);
	});

	test('text is counted at 130 words a minute', () => {
		const words = Array.from({ length: 130 }, () => 'word').join(' ');
		expect(textSeconds(words, false)).toBeCloseTo(60, 5);
	});

	test('SSML tags are not spoken; breaks add their time (1 s without one)', () => {
		const plain = textSeconds('hello there my friend', false);
		expect(
			textSeconds(
				'<speak>hello there <break time="2s"/> my friend <break time="500ms"/><break/></speak>',
				true,
			),
		).toBeCloseTo(plain + 3.5, 5);
	});

	test('a slow rate makes the estimate longer; a fast one does not shorten it', () => {
		const normal = textSeconds('one two three four five six seven eight nine ten', false);
		expect(
			textSeconds('one two three four five six seven eight nine ten', false, 'x-slow'),
		).toBeCloseTo(normal * 2, 5);
		expect(
			textSeconds('one two three four five six seven eight nine ten', false, '-50%'),
		).toBeCloseTo(normal * 2, 5);
		expect(
			textSeconds('one two three four five six seven eight nine ten', false, 'fast'),
		).toBeCloseTo(normal, 5);
		expect(
			textSeconds('one two three four five six seven eight nine ten', false, 'whatever'),
		).toBeCloseTo(normal * 2, 5);
	});

	test('Chinese, Japanese and Korean characters count 0.3 s each', () => {
		expect(textSeconds('你好世界你好世界你好', false)).toBeCloseTo(3, 5);
	});

	test('WAV length from its header', () => {
		const header = wav(30);
		expect(audioSeconds(header, 44 + 30 * 16000)).toBeCloseTo(30, 5);
	});

	test('MP3 length from its first frame (constant bit rate)', () => {
		const head = Buffer.concat([MP3_FRAME, Buffer.alloc(400)]);
		// 128 kbit/s = 16,000 bytes a second
		expect(audioSeconds(head, 160_000)).toBeCloseTo(10, 5);
	});

	test('an ID3 tag is skipped before the first frame', () => {
		const tag = Buffer.concat([
			Buffer.from('ID3', 'latin1'),
			Buffer.from([4, 0, 0, 0, 0, 0, 0x10]),
			Buffer.alloc(16),
		]);
		const head = Buffer.concat([tag, MP3_FRAME, Buffer.alloc(400)]);
		expect(audioSeconds(head, tag.length + 160_000)).toBeCloseTo(10, 5);
	});

	test('an unknown header gives no length', () => {
		expect(audioSeconds(Buffer.from('not audio at all, just text'), 1000)).toBeUndefined();
	});

	test('estimateTalk: text plus pad_audio', () => {
		const estimate = estimateTalk({
			script: { type: 'text', input: Array.from({ length: 65 }, () => 'w').join(' ') },
			config: { pad_audio: 10 },
		});
		expect(estimate.seconds).toBeCloseTo(40, 5);
		expect(estimate.credits).toBe(3);
		expect(estimate.basis).toBe('text');
	});

	test('estimateTalk: audio by its header, 5 % and a second more', () => {
		const estimate = estimateTalk(
			{ script: { type: 'audio' } },
			{ head: wav(20), size: 44 + 20 * 16000 },
		);
		expect(estimate.seconds).toBeCloseTo(22, 5);
		expect(estimate.basis).toBe('audio file header');
	});

	test('estimateTalk: audio it cannot measure counts at D-ID’s 10-minute maximum', () => {
		expect(estimateTalk({ script: { type: 'audio', audio_url: 'https://x/a.mp3' } }).seconds).toBe(
			MAX_AUDIO_SECONDS,
		);
		expect(
			estimateTalk({ script: { type: 'audio' } }, { head: Buffer.from('????'), size: 10 }).credits,
		).toBe(40);
	});

	test('creditsUsed reads the duration D-ID reports, null without one', () => {
		expect(creditsUsed({ duration: 16 })).toBe(2);
		expect(creditsUsed({})).toBeNull();
		expect(creditsUsed({ duration: 'n/a' })).toBeNull();
		expect(creditsUsed({ duration: -1 })).toBeNull();
	});
});
