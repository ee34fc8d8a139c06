import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import {
	didTime,
	dIdApiRequest,
	isLoopback,
	multipartEnvelope,
	resultUrlProblem,
} from '../../nodes/DId/transport';
import { NODE } from './support/context';

/**
 * The retry rules of the transport, through dIdApiRequest with a scripted HTTP helper and jest's
 * fake clock: which answers and connection failures are sent again, after how long, and which are
 * not (a POST /talks that may have been received is never sent again without reconciling).
 */
type Answer = { statusCode: number; headers?: IDataObject; body?: unknown } | Error;

function context(answers: Answer[]) {
	const calls: Array<{ at: number; method: string; url: string }> = [];
	const request = jest.fn(async (_credential: string, options: { method: string; url: string }) => {
		calls.push({ at: Date.now(), method: options.method, url: options.url });
		const answer = answers.shift() ?? { statusCode: 200, body: { ok: true } };
		if (answer instanceof Error) throw answer;
		return { headers: {}, body: {}, ...answer };
	});
	const ctx = {
		getCredentials: async () => ({
			apiKey: 'user:key-secret-value',
			baseUrl: 'https://api.d-id.example',
		}),
		getNode: () => NODE,
		helpers: { httpRequestWithAuthentication: request },
	} as unknown as IExecuteFunctions;
	return { ctx, calls };
}

function failure(code: string): Error {
	return Object.assign(new Error(`request failed: ${code}`), { code });
}

/** Runs the fake clock until the promise settles; returns its outcome and the time it took. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
	const start = Date.now();
	let outcome: { value?: T; error?: Error } | undefined;
	promise.then(
		(value) => (outcome = { value }),
		(error: Error) => (outcome = { error }),
	);
	for (let i = 0; i < 10_000 && !outcome; i++) await jest.advanceTimersByTimeAsync(50);
	if (!outcome) throw new Error('the request never settled');
	return { ...outcome, ms: Date.now() - start };
}

const NOW = Date.parse('2026-01-01T00:00:00Z');

beforeEach(() => jest.useFakeTimers({ now: NOW }));
afterEach(() => jest.useRealTimers());

describe('Retry-After', () => {
	test('a 429 is sent again after the seconds Retry-After names', async () => {
		const { ctx, calls } = context([
			{ statusCode: 429, headers: { 'retry-after': '3' }, body: { kind: 'TooManyRequestsError' } },
		]);
		const { value } = await settle(dIdApiRequest.call(ctx, 'GET', '/credits'));
		expect(value).toEqual({ ok: true });
		expect(calls).toHaveLength(2);
		expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(3000);
		expect(calls[1].at - calls[0].at).toBeLessThan(3100);
	});

	test('an HTTP date in Retry-After is waited for', async () => {
		const date = new Date(NOW + 7000).toUTCString();
		const { ctx, calls } = context([{ statusCode: 503, headers: { 'retry-after': date } }]);
		await settle(dIdApiRequest.call(ctx, 'GET', '/talks/tlk_1'));
		expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(7000);
		expect(calls[1].at - calls[0].at).toBeLessThan(7100);
	});

	test('Retry-After is capped at 60 seconds', async () => {
		const { ctx, calls } = context([{ statusCode: 429, headers: { 'retry-after': '3600' } }]);
		await settle(dIdApiRequest.call(ctx, 'GET', '/credits'));
		expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(60_000);
		expect(calls[1].at - calls[0].at).toBeLessThan(60_100);
	});

	test('without Retry-After (or with one that is not a time) the backoff starts at a quarter to half a second', async () => {
		const { ctx, calls } = context([
			{ statusCode: 429 },
			{ statusCode: 429, headers: { 'retry-after': 'soon' } },
		]);
		await settle(dIdApiRequest.call(ctx, 'GET', '/credits'));
		expect(calls).toHaveLength(3);
		const first = calls[1].at - calls[0].at;
		expect(first).toBeGreaterThanOrEqual(250);
		expect(first).toBeLessThanOrEqual(550);
	});
});

describe('retry classification', () => {
	test.each([
		['GET', 500, 2],
		['GET', 502, 2],
		['DELETE', 504, 2],
		['POST', 429, 2],
		['POST', 503, 2],
		['POST', 500, 1],
		['POST', 502, 1],
		['POST', 504, 1],
		['GET', 400, 1],
		['GET', 401, 1],
		['GET', 404, 1],
		['GET', 409, 1],
	] as const)('%s answered %d: %d request(s)', async (method, status, requests) => {
		const { ctx, calls } = context([
			{ statusCode: status, body: { kind: 'SomeError', description: 'said' } },
		]);
		const { error } = await settle(
			dIdApiRequest.call(
				ctx,
				method,
				method === 'POST' ? '/talks' : '/talks/tlk_1',
				method === 'POST' ? { body: {} } : {},
			),
		);
		expect(calls).toHaveLength(requests);
		if (requests === 1) expect(error?.message).toBeDefined();
		else expect(error).toBeUndefined();
	});

	test.each([
		['GET', 'ECONNREFUSED', 2],
		['GET', 'ECONNRESET', 2],
		['GET', 'ETIMEDOUT', 2],
		['POST', 'ECONNREFUSED', 2],
		['POST', 'ENOTFOUND', 2],
		['POST', 'ECONNRESET', 1],
		['POST', 'ETIMEDOUT', 1],
		['POST', 'EPIPE', 1],
	] as const)('%s failed with %s: %d request(s)', async (method, code, requests) => {
		const { ctx, calls } = context([failure(code)]);
		const { error } = await settle(
			dIdApiRequest.call(ctx, method, '/talks', method === 'POST' ? { body: {} } : {}),
		);
		expect(calls).toHaveLength(requests);
		if (requests === 1) expect(error?.message).toMatch(/may have created the talk/);
		else expect(error).toBeUndefined();
	});

	test('"socket hang up" without a code counts as a reset connection', async () => {
		const { ctx, calls } = context([new Error('socket hang up')]);
		const { error } = await settle(dIdApiRequest.call(ctx, 'POST', '/talks', { body: {} }));
		expect(calls).toHaveLength(1);
		expect(error?.message).toMatch(/connection reset.*may have created the talk/);
	});

	test('a POST that may have been received is reconciled instead of sent again', async () => {
		const reconcile = jest.fn(async () => ({ id: 'tlk_found' }));
		const { ctx, calls } = context([{ statusCode: 502 }]);
		const { value } = await settle(
			dIdApiRequest.call(ctx, 'POST', '/talks', { body: {}, reconcile }),
		);
		expect(reconcile).toHaveBeenCalledWith('502');
		expect(value).toEqual({ id: 'tlk_found' });
		expect(calls).toHaveLength(1);
	});

	test('a POST reconciled to nothing is sent again', async () => {
		const reconcile = jest.fn(async () => undefined);
		const { ctx, calls } = context([failure('ECONNRESET')]);
		const { value } = await settle(
			dIdApiRequest.call(ctx, 'POST', '/talks', { body: {}, reconcile }),
		);
		expect(reconcile).toHaveBeenCalledWith('ECONNRESET');
		expect(calls).toHaveLength(2);
		expect(value).toEqual({ ok: true });
	});

	test('at most six attempts, then the error says what to do', async () => {
		const { ctx, calls } = context(Array.from({ length: 10 }, () => ({ statusCode: 500 })));
		const { error } = await settle(dIdApiRequest.call(ctx, 'GET', '/talks/tlk_1'));
		expect(calls).toHaveLength(6);
		expect(error?.message).toBe('D-ID had a server error (HTTP 500)');
	});

	test('the key never appears in an error built from an answer that echoes it', async () => {
		const { ctx } = context([
			{
				statusCode: 400,
				body: { kind: 'ValidationError', description: 'bad header Basic user:key-secret-value' },
			},
		]);
		const { error } = await settle(dIdApiRequest.call(ctx, 'GET', '/talks'));
		expect(
			JSON.stringify({ m: error?.message, d: (error as { description?: string }).description }),
		).not.toContain('key-secret-value');
		expect(error?.message).toContain('bad header');
	});
});

describe('pure transport helpers', () => {
	beforeEach(() => jest.useRealTimers());

	test('didTime reads a timestamp without a zone as UTC', () => {
		expect(didTime('2026-01-01T10:00:00.000')).toBe(Date.parse('2026-01-01T10:00:00.000Z'));
		expect(didTime('2026-01-01T10:00:00+02:00')).toBe(Date.parse('2026-01-01T08:00:00Z'));
		expect(didTime(5)).toBeNaN();
	});

	test('isLoopback: 127/8, localhost and [::1] only', () => {
		expect(isLoopback('http://127.0.0.1:9000')).toBe(true);
		expect(isLoopback('http://127.5.6.7')).toBe(true);
		expect(isLoopback('http://localhost:1')).toBe(true);
		expect(isLoopback('http://[::1]:1')).toBe(true);
		expect(isLoopback('https://api.d-id.com')).toBe(false);
		expect(isLoopback('http://127.0.0.1.evil.example')).toBe(false);
		expect(isLoopback('nonsense')).toBe(false);
	});

	test.each([
		['https://d-id-talks-prod.s3.amazonaws.com/a.mp4', undefined],
		['http://cdn.example/a.mp4', /not an https address/],
		['https://user:pw@cdn.example/a.mp4', /user name or password/],
		['https://10.0.0.5/a.mp4', /private, loopback or link-local/],
		['https://169.254.169.254/latest', /private, loopback or link-local/],
		['https://[::ffff:127.0.0.1]/a.mp4', /private, loopback or link-local/],
		['https://[fd00::1]/a.mp4', /private, loopback or link-local/],
		['https://2130706433/a.mp4', /private, loopback or link-local/],
		['https://metadata.internal/a.mp4', /private, loopback or link-local/],
		['https://intranet/a.mp4', /private, loopback or link-local/],
		['http://127.0.0.1:4000/results/a.mp4', /not an https address/],
	])('resultUrlProblem(%s)', (url, problem) => {
		if (problem) expect(resultUrlProblem(url, 'https://api.d-id.com')).toMatch(problem);
		else expect(resultUrlProblem(url, 'https://api.d-id.com')).toBeUndefined();
	});

	test("resultUrlProblem allows the credential's own loopback sandbox, and only its host", () => {
		expect(
			resultUrlProblem('http://127.0.0.1:4000/results/a.mp4', 'http://127.0.0.1:4000'),
		).toBeUndefined();
		expect(
			resultUrlProblem('http://127.0.0.1:4001/results/a.mp4', 'http://127.0.0.1:4000'),
		).toMatch(/not an https address/);
	});

	test('multipartEnvelope frames one file in the field D-ID expects', () => {
		const { head, tail, contentType } = multipartEnvelope('image', 'face.png', 'image/png');
		const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
		expect(boundary).toMatch(/^----n8n-d-id-[0-9a-f]{24}$/);
		expect(head.toString()).toBe(
			`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="face.png"\r\nContent-Type: image/png\r\n\r\n`,
		);
		expect(tail.toString()).toBe(`\r\n--${boundary}--\r\n`);
		expect(multipartEnvelope('image', 'a', 'b').contentType).not.toBe(contentType);
	});
});
