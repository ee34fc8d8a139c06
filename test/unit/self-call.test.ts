import { checkUrl, selfCall } from '../../nodes/DId/waiting/webhook-batch';
import { checkToken } from '../../nodes/DId/waiting/webhook-token';
import type { DIdContext } from '../../nodes/DId/transport';

/** Wait Mode "Webhook": the node's own calls of the execution's resume URL ("sweep", "timeout"). */
const BATCH = {
	id: 'b1',
	resumeUrl: 'https://n8n.example/webhook-waiting/42',
	secret: Buffer.from('0123456789abcdef'),
};

/** A context whose calls of the resume URL get `statuses` in turn (the last one repeats; 0: no answer). */
function answering(...statuses: number[]) {
	const urls: string[] = [];
	const ctx = {
		helpers: {
			httpRequest: async (options: { url: string }) => {
				urls.push(options.url);
				const statusCode = statuses[Math.min(urls.length - 1, statuses.length - 1)];
				if (statusCode === 0) throw Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
				return { statusCode };
			},
		},
	} as unknown as DIdContext;
	return { ctx, urls };
}

test('the sweep is tried again while n8n answers 409 (the execution is not saved as waiting yet), and carries its check and token', async () => {
	const { ctx, urls } = answering(409, 409, 200);
	expect(await selfCall(ctx, BATCH, 'sweep')).toBe(200);
	expect(urls).toHaveLength(3);
	const url = new URL(urls[0]);
	// On the D-ID node's own restart webhook path, not the bare resume URL another waiting node takes.
	expect(url.origin + url.pathname).toBe(`${BATCH.resumeUrl}/d-id-check`);
	expect(url.searchParams.get('dIdCheck')).toBe('sweep');
	expect(url.searchParams.get('dIdToken')).toBe(checkToken(BATCH.secret, BATCH.id, 'sweep'));
});

test('the timeout call stops at n8n’s 409: at the end of the Timeout the execution is running or done', async () => {
	const { ctx, urls } = answering(409, 200);
	expect(await selfCall(ctx, BATCH, 'timeout')).toBe(409);
	expect(urls).toHaveLength(1);
	expect(new URL(urls[0]).searchParams.get('dIdCheck')).toBe('timeout');
});

test('either call is tried again after a server error or no answer, and stops at 404 (the execution is gone)', async () => {
	for (const check of ['sweep', 'timeout'] as const) {
		const { ctx, urls } = answering(500, 0, 404);
		expect(await selfCall(ctx, BATCH, check)).toBe(404);
		expect(urls).toHaveLength(3);
	}
});

test('n8n 2.x’s own token in the resume URL stays in the query; the check path goes after the execution ID', () => {
	const url = new URL(
		checkUrl(
			{ ...BATCH, resumeUrl: 'https://n8n.example/webhook-waiting/42?signature=abc' },
			'timeout',
		),
	);
	expect(url.pathname).toBe('/webhook-waiting/42/d-id-check');
	expect(url.searchParams.get('signature')).toBe('abc');
	expect(url.searchParams.get('dIdCheck')).toBe('timeout');
});
