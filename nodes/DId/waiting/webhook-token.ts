import { createHmac, timingSafeEqual } from 'crypto';

/*
 * Wait Mode "Webhook" — what a security reviewer reads: who may make a waiting execution do work.
 *
 * Every call of the resume URL that the node asks for carries `dIdToken`, an HMAC made from a
 * secret that no n8n process has to remember: it is derived from the credential's API key and the
 * execution ID, so any process (main, worker, webhook process, after a restart) can check it, and
 * nobody without the API key can make one. A call without a valid token is answered 401 before
 * any D-ID request. D-ID's own calls carry the token of the talk's webhook URL; the node's own
 * calls ("sweep" after the execution waits, "timeout") carry one bound to the batch and the check.
 */

const CONTEXT = 'n8n-nodes-d-id/webhook-wait/v2';

/** The execution's secret: HMAC(API key, execution ID). Never leaves the process, never logged. */
export function executionSecret(apiKey: string, executionId: string): Buffer {
	return createHmac('sha256', apiKey).update(`${CONTEXT}\u0000${executionId}`).digest();
}

export function sign(secret: Buffer, ...parts: string[]): string {
	return createHmac('sha256', secret).update(parts.join('\u0000')).digest('hex');
}

/** Constant-time comparison of two tokens (a wrong length is simply unequal). */
export function sameToken(given: unknown, expected: string): boolean {
	if (typeof given !== 'string') return false;
	const left = Buffer.from(given);
	const right = Buffer.from(expected);
	return left.length === right.length && timingSafeEqual(left, right);
}

/** The token of D-ID's calls for this execution (one for all its talks: the talk is named by D-ID's body). */
export function talkToken(secret: Buffer): string {
	return sign(secret, 'talk');
}

/** The token of the node's own call `check` ("sweep" or "timeout") for batch `batch`. */
export function checkToken(secret: Buffer, batch: string, check: string): string {
	return sign(secret, 'check', batch, check);
}

/** `url` with query parameters added (the resume URL may carry n8n's own `signature`). */
export function withQuery(url: string, params: Record<string, string>): string {
	const result = new URL(url);
	for (const [key, value] of Object.entries(params)) result.searchParams.set(key, value);
	return result.toString();
}
