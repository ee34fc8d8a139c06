import { createHmac } from 'crypto';

import { callbackUrl, closeBatch, openBatch, signResumeUrl } from '../../nodes/DId/waiting/webhook';
import {
	checkToken,
	executionSecret,
	sameToken,
	sign,
	talkToken,
	withQuery,
} from '../../nodes/DId/waiting/webhook-token';
import { executeContext } from './support/context';

/** Wait Mode "Webhook": the tokens that let a call of the resume URL make the waiting execution work. */
const KEY = 'user:secret';
const SETTINGS = {
	mode: 'webhook' as const,
	timeoutMs: 60_000,
	download: false,
	binaryProperty: 'data',
	deleteUploads: false,
	deleteTalk: false,
};

function run(
	executionId: string,
	resumeUrl = `https://n8n.example/webhook-waiting/${executionId}`,
	apiKey = KEY,
) {
	return executeContext({}, [{ json: {} }], {
		evaluateExpression: () => resumeUrl,
		getExecutionId: () => executionId,
		continueOnFail: () => false,
		getCredentials: async () => ({ apiKey, baseUrl: 'https://api.d-id.com' }),
	});
}

describe('webhook-token: tokens derived from the API key and the execution', () => {
	test('the execution secret is HMAC(API key, context and execution ID): it depends on both', () => {
		const secret = executionSecret(KEY, '77');
		expect(secret).toEqual(
			createHmac('sha256', KEY).update('n8n-nodes-d-id/webhook-wait/v2\u000077').digest(),
		);
		expect(executionSecret(KEY, '78')).not.toEqual(secret);
		expect(executionSecret('user:other', '77')).not.toEqual(secret);
	});

	test('tokens are hex HMACs of their parts; a talk token and a check token never coincide', () => {
		const secret = executionSecret(KEY, '77');
		expect(talkToken(secret)).toMatch(/^[0-9a-f]{64}$/);
		expect(talkToken(secret)).toBe(sign(secret, 'talk'));
		expect(checkToken(secret, 'b1', 'sweep')).toBe(sign(secret, 'check', 'b1', 'sweep'));
		expect(checkToken(secret, 'b1', 'sweep')).not.toBe(checkToken(secret, 'b1', 'timeout'));
		expect(checkToken(secret, 'b1', 'sweep')).not.toBe(checkToken(secret, 'b2', 'sweep'));
		// Parts are separated: ("ab", "c") is not ("a", "bc").
		expect(sign(secret, 'ab', 'c')).not.toBe(sign(secret, 'a', 'bc'));
	});

	test('sameToken: equal strings only; other lengths and non-strings are unequal', () => {
		const token = talkToken(executionSecret(KEY, '77'));
		expect(sameToken(token, token)).toBe(true);
		expect(sameToken(`${token.slice(0, -1)}0`, token) && token.endsWith('0')).toBe(false);
		expect(sameToken(token.slice(1), token)).toBe(false);
		expect(sameToken(undefined, token)).toBe(false);
		expect(sameToken([token], token)).toBe(false);
	});

	test('withQuery adds parameters and keeps those of the resume URL (n8n’s own signature)', () => {
		expect(
			withQuery('https://n8n.example/webhook-waiting/7?signature=abc', {
				dIdToken: 't',
				dIdItem: '0',
			}),
		).toBe('https://n8n.example/webhook-waiting/7?signature=abc&dIdToken=t&dIdItem=0');
	});
});

describe('callback URLs', () => {
	test('each item gets the resume URL with the batch, its index and the execution’s talk token', async () => {
		const ctx = run('77');
		await openBatch(ctx, SETTINGS, 2);
		try {
			const urls = [0, 1].map((i) => new URL(callbackUrl(ctx, i)));
			for (const url of urls)
				expect(`${url.origin}${url.pathname}`).toBe('https://n8n.example/webhook-waiting/77');
			expect(urls.map((u) => u.searchParams.get('dIdItem'))).toEqual(['0', '1']);
			expect(urls[0].searchParams.get('dIdBatch')).toMatch(/^[0-9a-f]{12}$/);
			expect(urls[1].searchParams.get('dIdBatch')).toBe(urls[0].searchParams.get('dIdBatch'));
			const expected = talkToken(executionSecret(KEY, '77'));
			expect(urls.map((u) => u.searchParams.get('dIdToken'))).toEqual([expected, expected]);
		} finally {
			closeBatch(ctx);
		}
		expect(() => callbackUrl(ctx, 0)).toThrow(/no open batch/);
	});

	test('another execution, or another API key, gives another token', async () => {
		const tokenOf = async (ctx: ReturnType<typeof run>) => {
			await openBatch(ctx, SETTINGS, 1);
			const token = new URL(callbackUrl(ctx, 0)).searchParams.get('dIdToken');
			closeBatch(ctx);
			return token;
		};
		const first = await tokenOf(run('80'));
		expect(await tokenOf(run('81'))).not.toBe(first);
		expect(await tokenOf(run('80', undefined, 'user:other-key'))).not.toBe(first);
		expect(await tokenOf(run('80', undefined, ` ${KEY} `))).toBe(
			await tokenOf(run('80', undefined, KEY)),
		);
	});

	test('signResumeUrl signs only a URL that calls this execution back', async () => {
		const ctx = run('82');
		const token = talkToken(executionSecret(KEY, '82'));
		expect(
			new URL(await signResumeUrl(ctx, 'https://n8n.example/webhook-waiting/82')).searchParams.get(
				'dIdToken',
			),
		).toBe(token);
		expect(await signResumeUrl(ctx, 'https://n8n.example/webhook-waiting/83')).toBe(
			'https://n8n.example/webhook-waiting/83',
		);
		expect(await signResumeUrl(ctx, 'https://elsewhere.example/webhook-waiting/82')).toBe(
			'https://elsewhere.example/webhook-waiting/82',
		);
	});

	test('a resume URL D-ID cannot reach is refused before any request', async () => {
		await expect(
			openBatch(run('79', 'http://localhost:5678/webhook-waiting/79'), SETTINGS, 1),
		).rejects.toThrow(/D-ID cannot call this n8n back/);
	});
});
