import { callbackUrl, closeBatch, openBatch } from '../../nodes/DId/helpers/webhook-wait';
import { executeContext } from './support/context';

/** Wait Mode "Webhook": each item's callback carries its own token, signed with a secret of the batch. */
const SETTINGS = { timeoutMs: 60_000, download: false, binaryProperty: 'data', deleteUploads: false, deleteTalk: false };

function run(executionId: string, resumeUrl = 'https://n8n.example/webhook-waiting/77') {
	return executeContext({}, [{ json: {} }], {
		evaluateExpression: () => resumeUrl,
		getExecutionId: () => executionId,
		continueOnFail: () => false,
	});
}

describe('callback tokens', () => {
	test('each item gets the resume URL with its index and a 256-bit HMAC token', async () => {
		const ctx = run('77');
		await openBatch(ctx, SETTINGS, 2);
		try {
			const urls = [0, 1].map((i) => new URL(callbackUrl(ctx, i)));
			expect(urls.map((u) => `${u.origin}${u.pathname}`)).toEqual(['https://n8n.example/webhook-waiting/77', 'https://n8n.example/webhook-waiting/77']);
			expect(urls.map((u) => u.searchParams.get('dIdItem'))).toEqual(['0', '1']);
			const tokens = urls.map((u) => u.searchParams.get('dIdToken'));
			for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{64}$/);
			expect(tokens[0]).not.toEqual(tokens[1]);
			expect(new URL(callbackUrl(ctx, 0)).searchParams.get('dIdToken')).toBe(tokens[0]);
		} finally {
			closeBatch(ctx);
		}
	});

	test('a new batch signs with a new secret: an old token does not carry over', async () => {
		const ctx = run('78');
		await openBatch(ctx, SETTINGS, 1);
		const first = new URL(callbackUrl(ctx, 0)).searchParams.get('dIdToken');
		await openBatch(ctx, SETTINGS, 1);
		const second = new URL(callbackUrl(ctx, 0)).searchParams.get('dIdToken');
		closeBatch(ctx);
		expect(second).not.toBe(first);
		expect(() => callbackUrl(ctx, 0)).toThrow(/no open batch/);
	});

	test('a resume URL D-ID cannot reach is refused before any request', async () => {
		await expect(openBatch(run('79', 'http://localhost:5678/webhook-waiting/79'), SETTINGS, 1)).rejects.toThrow(/D-ID cannot call this n8n back/);
	});
});
