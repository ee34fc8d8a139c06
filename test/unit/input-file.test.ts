import { checkInputFile } from '../../nodes/DId/helpers/input-file';
import { executeContext } from './support/context';

const JPEG = Buffer.from([
	0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1,
]);
const PNG = Buffer.from([
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0,
]);
const WAV = Buffer.concat([
	Buffer.from('RIFF\u0024\u0000\u0000\u0000WAVEfmt ', 'latin1'),
	Buffer.alloc(40),
]);
const MP3 = Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.alloc(40)]);
const HTML = Buffer.from('<!DOCTYPE html><html><body>Not found</body></html>');
const PDF = Buffer.from('%PDF-1.7\n1 0 obj');

function item(data: Buffer, mimeType: string, fileName = 'file.bin') {
	return [{ json: {}, binary: { data: { data: data.toString('base64'), mimeType, fileName } } }];
}

async function check(
	data: Buffer,
	mimeType: string,
	kind: 'image' | 'audio',
	fileName?: string,
	maxBytes = 10 * 1024 * 1024,
) {
	const ctx = executeContext({}, item(data, mimeType, fileName));
	return await checkInputFile.call(
		ctx,
		0,
		'data',
		kind,
		kind === 'image' ? 'Image Binary Field' : 'Audio Binary Field',
		maxBytes,
	);
}

describe('checkInputFile: header sniffing before any upload', () => {
	test.each([
		[JPEG, 'image/jpeg', 'image/jpeg'],
		[JPEG, 'image/jpg', 'image/jpeg'],
		[JPEG, 'application/octet-stream', 'image/jpeg'],
		[PNG, '', 'image/png'],
		[PNG, 'image/png; charset=binary', 'image/png'],
	])('an image labelled %#: %s is sent as %s', async (data, label, sent) => {
		expect((await check(data, label, 'image')).mimeType).toBe(sent);
	});

	test.each([
		[PNG, 'image/jpeg', /labelled image\/jpeg but its content is a PNG image/],
		[HTML, 'image/png', /labelled image\/png but its content is HTML or XML text/],
		[
			PDF,
			'application/octet-stream',
			/labelled application\/octet-stream but its content is a PDF document/,
		],
		[JPEG, 'image/gif', /is image\/gif, not a JPEG or PNG image/],
		[Buffer.alloc(0), 'image/png', /an empty file \(0 bytes\)/],
	])('an image %#: refused', async (data, label, says) => {
		await expect(check(data, label, 'image')).rejects.toThrow(says);
	});

	test.each([
		[WAV, 'audio/wav', 'audio/wav'],
		[MP3, 'application/octet-stream', 'audio/mpeg'],
		[Buffer.from([1, 2, 3, 250, 251, 7, 0, 9]), 'audio/x-custom', 'audio/x-custom'],
	])('audio %#: sent as %s', async (data, label, sent) => {
		expect((await check(data, label, 'audio')).mimeType).toBe(sent);
	});

	test.each([
		[JPEG, 'audio/mpeg', /labelled audio\/mpeg but its content is a JPEG image/],
		[Buffer.from('{"error": "quota"}'), 'audio/mpeg', /but its content is JSON text/],
		[
			Buffer.from([1, 2, 3, 250, 251, 7, 0, 9]),
			'',
			/labelled with no type but its content is unknown binary data/,
		],
	])('audio %#: refused', async (data, label, says) => {
		await expect(check(data, label, 'audio')).rejects.toThrow(says);
	});

	test('a file over the limit is refused with its size', async () => {
		await expect(
			check(
				Buffer.concat([JPEG, Buffer.alloc(2 * 1024 * 1024)]),
				'image/jpeg',
				'image',
				'a.jpg',
				1024 * 1024,
			),
		).rejects.toThrow(/the file is 2\.0 MB; D-ID accepts at most 1 MB/);
	});

	test('the file name is made one D-ID accepts: A-Z a-z 0-9 . _ -, at most 50 characters, ending kept', async () => {
		expect((await check(JPEG, 'image/jpeg', 'image', 'my photo (1).jpg')).fileName).toBe(
			'my_photo__1_.jpg',
		);
		const long = (await check(JPEG, 'image/jpeg', 'image', `${'x'.repeat(80)}.jpeg`)).fileName;
		expect(long).toHaveLength(50);
		expect(long.endsWith('.jpeg')).toBe(true);
		expect((await check(PNG, 'image/png', 'image', '')).fileName).toBe('image.png');
	});

	test('a missing property names the ones the item has', async () => {
		const ctx = executeContext({}, [
			{ json: {}, binary: { photo: { data: '', mimeType: 'image/png' } } },
		]);
		await expect(
			checkInputFile.call(ctx, 0, 'data', 'image', 'Image Binary Field', 100),
		).rejects.toThrow(/no binary property "data"/);
	});

	test('read() frames the bytes between head and tail', async () => {
		const file = await check(JPEG, 'image/jpeg', 'image');
		const body = await file.read(Buffer.from('<'), Buffer.from('>'));
		expect(body).toEqual(Buffer.concat([Buffer.from('<'), JPEG, Buffer.from('>')]));
		expect(file.bytes).toBe(JPEG.length);
	});
});
