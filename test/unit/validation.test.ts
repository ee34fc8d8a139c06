import {
	AUDIO_URL,
	documentedStyle,
	ELEVENLABS_RATE,
	ELEVENLABS_STYLE,
	hasVisibleText,
	IMAGE_URL,
	inRange,
	notText,
	numberOf,
	shown,
	urlProblem,
} from '../../nodes/DId/helpers/validation';

const IMAGE = { pattern: /\.(jpe?g|png)$/i, names: '.jpg, .jpeg or .png' };

describe('urlProblem: the address checks made before any request', () => {
	test.each([
		['https://example.com/face.jpg', ['https', 's3'], IMAGE],
		['s3://bucket/face.PNG', ['https', 's3'], IMAGE],
		['https://example.com/face.jpeg?size=large#top', ['https', 's3'], IMAGE],
		['http://127.0.0.1:5678/webhook', ['https', 'http'], undefined],
	])('%s is accepted', (url, schemes, endings) => {
		expect(urlProblem(url, schemes, endings)).toBeUndefined();
	});

	test.each([
		['http://example.com/face.jpg', ['https', 's3'], /is not an https:\/\/ or s3:\/\/ address/],
		['ftp://example.com/face.jpg', ['https'], /is not an https:\/\/ address/],
		['not a url', ['https'], /line break, space or control character/],
		['https://example.com/face.jpg\n', ['https'], /line break, space or control character/],
		['https://exa\u200bmple.com/face.jpg', ['https'], /line break, space or control character/],
		['https:/example.com/face.jpg', ['https'], /is not an https:\/\/ address/],
		['https://user:pass@example.com/face.jpg', ['https'], /user name or password/],
		['https://example.com/face.gif', ['https'], /does not end in \.jpg, \.jpeg or \.png/],
		['https://example.com/face?name=x.jpg', ['https'], /what follows \? or # does not count/],
	])('%s is refused', (url, schemes, says) => {
		expect(urlProblem(url, schemes, IMAGE)).toMatch(says);
	});
});

describe("D-ID's URL patterns (CreateTalkRequest)", () => {
	test('IMAGE_URL: https or s3 and an image ending', () => {
		expect(IMAGE_URL.test('https://x.com/a.jpg')).toBe(true);
		expect(IMAGE_URL.test('s3://b/a.PNG')).toBe(true);
		expect(IMAGE_URL.test('http://x.com/a.jpg')).toBe(false);
		expect(IMAGE_URL.test('https://x.com/a.gif')).toBe(false);
	});

	test('AUDIO_URL: an audio ending, with an optional query or fragment', () => {
		expect(AUDIO_URL.test('https://x.com/a.mp3')).toBe(true);
		expect(AUDIO_URL.test('https://x.com/a.WAV?token=1&b=2')).toBe(true);
		expect(AUDIO_URL.test('https://x.com/a.ogg')).toBe(false);
		expect(AUDIO_URL.test('https://x.com/a.mp3 ')).toBe(false);
		expect(AUDIO_URL.test('http://x.com/a.mp3')).toBe(false);
	});

	test('ELEVENLABS_RATE takes 0.7 to 1.2 as written by D-ID', () => {
		for (const rate of ['', '0.7', '0.95', '1', '1.1', '1.2', '1.20'])
			expect(ELEVENLABS_RATE.test(rate)).toBe(true);
		for (const rate of ['0.6', '1.3', '1.21', '2', 'fast', '-1'])
			expect(ELEVENLABS_RATE.test(rate)).toBe(false);
	});

	test('ELEVENLABS_STYLE takes 0 to 1', () => {
		for (const style of ['', '0', '0.3', '1', '1.00'])
			expect(ELEVENLABS_STYLE.test(style)).toBe(true);
		for (const style of ['-0.5', '1.1', '3', 'x']) expect(ELEVENLABS_STYLE.test(style)).toBe(false);
	});
});

describe('value helpers', () => {
	test('documentedStyle capitalizes a lower-case style only', () => {
		expect(documentedStyle('cheerful')).toBe('Cheerful');
		expect(documentedStyle('customerService')).toBe('customerService');
		expect(documentedStyle('Sad')).toBe('Sad');
	});

	test('numberOf: numbers and numeric text; NaN for what is not a number', () => {
		expect(numberOf(3)).toBe(3);
		expect(numberOf(' 2.5 ')).toBe(2.5);
		for (const value of [null, undefined, '', '  ', true, {}, []])
			expect(numberOf(value)).toBeNaN();
	});

	test('inRange is inclusive and refuses NaN and infinities', () => {
		expect(inRange(0, 0, 1)).toBe(true);
		expect(inRange(1, 0, 1)).toBe(true);
		expect(inRange(1.0001, 0, 1)).toBe(false);
		expect(inRange(NaN, 0, 1)).toBe(false);
		expect(inRange(Infinity, 0, Infinity)).toBe(false);
	});

	test('notText names lists, objects and booleans; text and numbers pass', () => {
		expect(notText(['a'])).toBe('a list ("["a"]")');
		expect(notText({ a: 1 })).toBe('an object ("{"a":1}")');
		expect(notText(false)).toBe('false');
		expect(notText('text')).toBeUndefined();
		expect(notText(5)).toBeUndefined();
	});

	test('shown quotes, shortens and makes invisible characters visible', () => {
		expect(shown(undefined)).toBe('nothing (the expression gave undefined)');
		expect(shown(null)).toBe('null (an empty value)');
		expect(shown('a\nb\u200b')).toBe('"a\\nb\\u200b"');
		expect(shown(NaN)).toBe('"NaN"');
		const long = shown('x'.repeat(200));
		expect(long).toHaveLength(80);
		expect(long.endsWith('…"')).toBe(true);
	});

	test('hasVisibleText: spaces, zero-width characters and BOMs are not text', () => {
		expect(hasVisibleText(' \n\t\u200b\ufeff\u00ad')).toBe(false);
		expect(hasVisibleText(' \u200b a')).toBe(true);
	});
});
