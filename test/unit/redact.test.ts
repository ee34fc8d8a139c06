// The implementation in the transport (nodes/DId/helpers/redact re-exports it for the node's code).
import * as redact from '../../nodes/DId/transport/redact';

const { REDACTED, redactDeep, redactError, redactTalk, redactText, secretsInUrl } = redact;

const SECRET = 'trigger-secret-0123456789';

describe('redact: secrets D-ID hands back never leave the node', () => {
	test('secretsInUrl reads the secret and dIdToken query values of 8 characters or more', () => {
		expect(secretsInUrl(`https://n8n.example/webhook/x?secret=${SECRET}&other=1`)).toEqual([
			SECRET,
		]);
		expect(secretsInUrl('https://n8n.example/resume?dIdItem=0&dIdToken=abcdef0123')).toEqual([
			'abcdef0123',
		]);
		expect(secretsInUrl('https://n8n.example/webhook/x?secret=short')).toEqual([]);
		expect(secretsInUrl('not a url')).toEqual([]);
		expect(secretsInUrl(undefined)).toEqual([]);
	});

	test('redactText replaces secret query values, plain and percent-encoded', () => {
		expect(redactText(`see https://h/x?a=1&secret=${SECRET}#f`)).toBe(
			`see https://h/x?a=1&secret=${REDACTED}#f`,
		);
		const encoded = encodeURIComponent(`https://h/x?secret=${SECRET}`);
		expect(redactText(`u=${encoded}`)).not.toContain(SECRET);
	});

	test('redactText replaces given values as written, URL-encoded and base64', () => {
		const value = 'key with spaces/+';
		const text = `a ${value} b ${encodeURIComponent(value)} c ${Buffer.from(value).toString('base64')}`;
		expect(redactText(text, [value])).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
	});

	test('redactText leaves values shorter than 8 characters alone (they would match ordinary text)', () => {
		expect(redactText('the cat sat', ['cat'])).toBe('the cat sat');
	});

	test('a value that contains another is replaced whole', () => {
		expect(redactText('x abcdefghijkl x', ['abcdefgh', 'abcdefghijkl'])).toBe(`x ${REDACTED} x`);
	});

	test('redactTalk takes the secret of the talk’s own webhook out of every field, nested too', () => {
		const talk = {
			id: 'tlk_1',
			webhook: `https://n8n.example/webhook/x?secret=${SECRET}`,
			user_data: `copied ${SECRET}`,
			nested: { list: [`also ${SECRET}`] },
		};
		const out = redactTalk(talk);
		expect(JSON.stringify(out)).not.toContain(SECRET);
		expect(out.id).toBe('tlk_1');
		expect(talk.user_data).toContain(SECRET); // the original is not changed
	});

	test('redactDeep keeps non-string values', () => {
		expect(redactText('secret=abcdefghij')).toBe('secret=abcdefghij'); // only as a query parameter
		expect(redactDeep({ n: 1, b: true, z: null, s: 'u?secret=abcdefghij' })).toEqual({
			n: 1,
			b: true,
			z: null,
			s: `u?secret=${REDACTED}`,
		});
	});

	test('redactError redacts message, description and context in place', () => {
		const error = Object.assign(new Error(`failed with key ${SECRET}`), {
			description: `d ${SECRET}`,
			context: { body: `c ${SECRET}` },
		});
		expect(redactError(error, [SECRET])).toBe(error);
		expect(
			JSON.stringify({ m: error.message, d: error.description, c: error.context }),
		).not.toContain(SECRET);
	});
});
