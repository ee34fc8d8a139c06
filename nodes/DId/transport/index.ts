import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	IWebhookFunctions,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { dIdApiError, type DIdErrorBody } from '../helpers/errors';
import { abortableSleep } from '../helpers/sleep';

export type DIdContext = IExecuteFunctions | ILoadOptionsFunctions | IWebhookFunctions | IHookFunctions;

export const DEFAULT_BASE_URL = 'https://api.d-id.com';

/** A readable stream as n8n's binary helpers take it (without importing Node's stream module). */
export type ResultStream = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0] & { resume(): void };

export interface DIdRequest {
	qs?: IDataObject;
	body?: IDataObject | FormData;
	headers?: IDataObject;
	itemIndex?: number;
	signal?: AbortSignal;
	/** Shown in errors about one talk (404, 409, …). */
	talkId?: string;
	/**
	 * May a failure after the request was sent be retried? True for reads and deletes. False for
	 * POST /talks: a retry after a dropped connection could create (and bill) a second talk.
	 */
	idempotent?: boolean;
	/**
	 * For a request that is not idempotent: asked after a failure that may have come after D-ID
	 * acted on it (`failure`: the HTTP status or the connection error code). Returns what D-ID made
	 * of the request, or undefined when it made nothing (the request is then sent again).
	 */
	reconcile?: (failure: string) => Promise<IDataObject | undefined>;
	/** Called with the headers of the successful response (e.g. to read D-ID's clock from `Date`). */
	onHeaders?: (headers: IDataObject) => void;
}

const MAX_ATTEMPTS = 6;
const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8000;
const MAX_RETRY_AFTER_MS = 60_000;
// Connection failures where the request never reached D-ID: always safe to retry.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// Failures after the request may have been received: safe only for idempotent requests.
const MAYBE_SENT = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ESOCKETTIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

const baseUrls = new WeakMap<object, Promise<string>>();

/**
 * The credential's base URL without a trailing slash, read once per node run (each read makes n8n
 * load and decrypt the credential). The key itself is only applied by n8n.
 */
export async function baseUrlOf(this: DIdContext): Promise<string> {
	let baseUrl = baseUrls.get(this);
	if (!baseUrl) {
		baseUrl = this.getCredentials<{ baseUrl?: string }>('dIdApi').then((credentials) =>
			String(credentials.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, ''),
		);
		baseUrl.catch(() => baseUrls.delete(this));
		baseUrls.set(this, baseUrl);
	}
	return await baseUrl;
}

/** True when the credential points at a D-ID sandbox on this machine rather than at D-ID. */
export function isLoopback(url: string): boolean {
	try {
		const { hostname } = new URL(url);
		return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === 'localhost' || hostname === '[::1]';
	} catch {
		return false;
	}
}

function retryAfterMs(headers: IDataObject | undefined): number | undefined {
	const value = headers?.['retry-after'];
	if (value === undefined || value === null) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, seconds * 1000));
	const date = Date.parse(String(value));
	return Number.isFinite(date) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - Date.now())) : undefined;
}

function backoffMs(attempt: number): number {
	const ms = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
	return ms / 2 + Math.random() * (ms / 2);
}

function errorCode(error: unknown): string {
	// n8n wraps request failures in a NodeApiError that keeps the system code as httpCode.
	const e = error as { code?: string; httpCode?: string; cause?: { code?: string }; message?: string };
	const code = [e?.code, e?.cause?.code, e?.httpCode].find((c) => typeof c === 'string' && /^E[A-Z_]+$/.test(c));
	if (code) return code;
	return /socket hang up/i.test(e?.message ?? '') ? 'ECONNRESET' : '';
}

function parseBody(body: unknown): DIdErrorBody & IDataObject {
	if (typeof body === 'string') {
		try {
			return JSON.parse(body) as DIdErrorBody & IDataObject;
		} catch {
			return { description: body.slice(0, 300) };
		}
	}
	if (Buffer.isBuffer(body)) return parseBody(body.toString('utf8'));
	return (body ?? {}) as DIdErrorBody & IDataObject;
}

/**
 * The one way this package calls D-ID's API: authenticated by n8n with the dIdApi credential,
 * retried with backoff on 429 (honouring Retry-After), 5xx and dropped connections where a retry
 * cannot create a second talk, and failing with a NodeApiError that says what to do.
 */
export async function dIdApiRequest(
	this: DIdContext,
	method: IHttpRequestMethods,
	path: string,
	request: DIdRequest = {},
): Promise<IDataObject> {
	const baseUrl = await baseUrlOf.call(this);
	const idempotent = request.idempotent ?? method !== 'POST';
	const options: IHttpRequestOptions = {
		method,
		url: `${baseUrl}${path}`,
		qs: request.qs,
		headers: { accept: 'application/json', ...(request.headers ?? {}) },
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		abortSignal: request.signal,
		timeout: 120_000,
	};
	if (request.body instanceof FormData) {
		options.body = request.body;
	} else if (request.body !== undefined) {
		options.body = request.body;
		options.json = true;
	}

	for (let attempt = 0; ; attempt++) {
		const last = attempt >= MAX_ATTEMPTS - 1;
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(
				this,
				'dIdApi',
				options,
			)) as IN8nHttpFullResponse;
		} catch (error) {
			if (request.signal?.aborted) throw cancelled(this, request.itemIndex);
			const code = errorCode(error);
			if (!idempotent && MAYBE_SENT.has(code) && request.reconcile && !last) {
				const made = await request.reconcile(code);
				if (made) return made;
				await abortableSleep(backoffMs(attempt), request.signal);
				continue;
			}
			const retryable = NOT_SENT.has(code) || (idempotent && MAYBE_SENT.has(code));
			if (retryable && !last) {
				await abortableSleep(backoffMs(attempt), request.signal);
				continue;
			}
			throw connectionError(this, method, path, code, error, idempotent, request.itemIndex);
		}

		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			request.onHeaders?.((response.headers ?? {}) as IDataObject);
			return parseResponse(response.body) as IDataObject;
		}

		const body = parseBody(response.body);
		if (!idempotent && status >= 500 && status !== 503 && request.reconcile && !last) {
			const made = await request.reconcile(String(status));
			if (made) return made;
			await abortableSleep(backoffMs(attempt), request.signal);
			continue;
		}
		// 429 and 503 mean D-ID did not take the request; other 5xx may have been half-done.
		const retryable = status === 429 || status === 503 || (idempotent && status >= 500);
		if (retryable && !last) {
			const wait = retryAfterMs(response.headers as IDataObject) ?? backoffMs(attempt);
			await abortableSleep(wait, request.signal);
			if (request.signal?.aborted) throw cancelled(this, request.itemIndex);
			continue;
		}
		throw dIdApiError(this.getNode(), status, body, { itemIndex: request.itemIndex, talkId: request.talkId });
	}
}

function parseResponse(body: unknown): unknown {
	if (typeof body === 'string' && body.length) {
		try {
			return JSON.parse(body);
		} catch {
			return body;
		}
	}
	if (Buffer.isBuffer(body)) return parseResponse(body.toString('utf8'));
	return body ?? {};
}

const FAILURE_WORDS: Record<string, string> = {
	ECONNRESET: 'connection reset',
	ECONNREFUSED: 'connection refused',
	ETIMEDOUT: 'timed out',
	ECONNABORTED: 'connection aborted',
	ESOCKETTIMEDOUT: 'timed out',
	EPIPE: 'connection closed',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'DNS lookup failed',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
	ERR_STREAM_PREMATURE_CLOSE: 'connection closed early',
};

function cancelled(ctx: DIdContext, itemIndex?: number): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), 'The execution was cancelled', { itemIndex });
}

function connectionError(
	ctx: DIdContext,
	method: string,
	path: string,
	code: string,
	error: unknown,
	idempotent: boolean,
	itemIndex?: number,
): NodeApiError {
	// Not the raw code: NodeApiError swaps messages that contain one for a generic text.
	const reason = FAILURE_WORDS[code] ?? (code ? 'connection failed' : (error as Error)?.message || 'connection failed');
	const maybeCreated = !idempotent && MAYBE_SENT.has(code);
	return new NodeApiError(
		ctx.getNode(),
		{ failure: code || reason, request: `${method} ${path}` },
		{
			message: maybeCreated
				? `The connection to D-ID broke after the request was sent (${reason}); D-ID may have created the talk`
				: `Could not reach D-ID (${reason})`,
			description: maybeCreated
				? 'To avoid paying for a second talk the node did not send the request again. Use Talk → List to see whether the talk exists before running this item again.'
				: 'The node retried with backoff. Check the Base URL in the D-ID API credential and the network, then run again.',
			itemIndex,
		},
	);
}

const LIST_PAGE_LIMIT = 100;

/** A timestamp of D-ID's: one without a time zone (the spec's own example format) is UTC. */
export function didTime(value: unknown): number {
	if (typeof value !== 'string') return NaN;
	const zoned = /(?:Z|[+-]\d\d:?\d\d)$/i.test(value) || !/T\d\d:\d\d/.test(value);
	return Date.parse(zoned ? value : `${value}Z`);
}

export interface TalkList {
	talks: IDataObject[];
	/** False when `maxPages` ended the reading while D-ID still offered a next page. */
	complete: boolean;
	/** D-ID's clock (its `Date` header) when the first page was read, in ms; undefined without one. */
	serverNow?: number;
	/** This machine's clock at that moment. */
	localNow: number;
}

/**
 * D-ID's talk list, page by page. The spec promises no order, so nothing is concluded from the
 * dates on a page: reading stops when D-ID gives no token, repeats a token, or gives an empty
 * page, when `enough(talksSoFar)` holds, or after `maxPages` (then `complete` is false).
 */
export async function listTalks(
	this: DIdContext,
	options: { maxPages: number; itemIndex?: number; signal?: AbortSignal; enough?: (talks: IDataObject[]) => boolean },
): Promise<TalkList> {
	const list: TalkList = { talks: [], complete: false, localNow: Date.now() };
	const tokens = new Set<string>();
	let token: string | undefined;
	for (let page = 0; page < options.maxPages; page++) {
		const requestedAt = Date.now();
		const result = await dIdApiRequest.call(this, 'GET', '/talks', {
			qs: { limit: LIST_PAGE_LIMIT, ...(token ? { token } : {}) },
			itemIndex: options.itemIndex,
			signal: options.signal,
			onHeaders: (headers) => {
				if (page > 0) return;
				const date = Date.parse(String(headers.date ?? ''));
				list.localNow = requestedAt;
				if (Number.isFinite(date)) list.serverNow = date;
			},
		});
		const talks = (result.talks as IDataObject[] | undefined) ?? [];
		list.talks.push(...talks);
		token = typeof result.token === 'string' && result.token ? result.token : undefined;
		if (!token || talks.length === 0 || tokens.has(token)) {
			list.complete = true;
			break;
		}
		tokens.add(token);
		if (options.enough?.(list.talks)) break;
	}
	return list;
}

/** Uploads a file to POST /images or /audios and returns D-ID's answer ({ id, url: "s3://…" }). */
export async function uploadFile(
	this: DIdContext,
	kind: 'image' | 'audio',
	data: Buffer,
	fileName: string,
	mimeType: string,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<{ id: string; url: string; duration?: number }> {
	const form = new FormData();
	form.append(kind, new Blob([new Uint8Array(data)], { type: mimeType }), fileName);
	// The upload creates nothing billable; retrying it is safe.
	return (await dIdApiRequest.call(this, 'POST', kind === 'image' ? '/images' : '/audios', {
		body: form,
		itemIndex,
		signal,
		idempotent: true,
	})) as { id: string; url: string; duration?: number };
}

/**
 * Opens the talk's result video as a stream. result_url is a pre-signed link: it is fetched
 * without the D-ID credential (which must never be sent to a storage host).
 */
export async function openResultStream(
	this: IExecuteFunctions | IWebhookFunctions,
	url: string,
	talkId: string,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<{ stream: ResultStream; contentType?: string }> {
	for (let attempt = 0; ; attempt++) {
		const last = attempt >= MAX_ATTEMPTS - 1;
		let response: IN8nHttpFullResponse & { body: ResultStream };
		try {
			response = (await this.helpers.httpRequest({
				method: 'GET',
				url,
				encoding: 'stream',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				abortSignal: signal,
				timeout: 300_000,
			})) as IN8nHttpFullResponse & { body: ResultStream };
		} catch (error) {
			if (signal?.aborted) throw new NodeOperationError(this.getNode(), 'The execution was cancelled', { itemIndex });
			if (!last) {
				await abortableSleep(backoffMs(attempt), signal);
				continue;
			}
			const code = errorCode(error);
			throw new NodeApiError(
				this.getNode(),
				{ failure: code || 'connection failed', talkId },
				{
					message: `Could not download the video of talk ${talkId} (${FAILURE_WORDS[code] ?? 'connection failed'})`,
					description: 'The node retried with backoff. Run Talk → Wait with Download Video again; the talk is done and will not be re-rendered.',
					itemIndex,
				},
			);
		}
		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			return { stream: response.body, contentType: response.headers?.['content-type'] as string | undefined };
		}
		response.body.resume();
		if ((status === 429 || status >= 500) && !last) {
			await abortableSleep(retryAfterMs(response.headers as IDataObject) ?? backoffMs(attempt), signal);
			continue;
		}
		throw new NodeApiError(
			this.getNode(),
			{ httpCode: String(status), talkId },
			{
				message: `Could not download the video of talk ${talkId} (HTTP ${status})`,
				description:
					status === 403
						? 'The result_url link has expired or is not valid. Run Talk → Get for this talk to receive a fresh link, then download again.'
						: 'Try again; run Talk → Get for this talk to receive a fresh link.',
				itemIndex,
			},
		);
	}
}
