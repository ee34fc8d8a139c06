import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	IWebhookFunctions,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { randomBytes } from 'crypto';

import { cancelledError, dIdApiError, type DIdErrorBody } from './errors';
import { redactDeep, redactError } from './redact';
import { abortableSleep } from './sleep';

export type DIdContext =
	| IExecuteFunctions
	| ILoadOptionsFunctions
	| IWebhookFunctions
	| IHookFunctions;

export const DEFAULT_BASE_URL = 'https://api.d-id.com';

/** A readable stream as n8n's binary helpers take it (without importing Node's stream module). */
export type ResultStream = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0] & {
	resume(): void;
	pause(): void;
	on(event: 'data', listener: (chunk: { length: number }) => void): void;
	destroy(error?: Error): void;
};

export interface DIdRequest {
	qs?: IDataObject;
	/** JSON, or a multipart upload built by `multipartEnvelope` (its content type in `headers`). */
	body?: IDataObject | Buffer;
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
const MAYBE_SENT = new Set([
	'ECONNRESET',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'ESOCKETTIMEDOUT',
	'ERR_STREAM_PREMATURE_CLOSE',
]);

interface CredentialFacts {
	baseUrl: string;
	/** The API key, trimmed (for deriving Wait Mode Webhook's tokens; never sent anywhere else). */
	apiKey: string;
	elevenLabsApiKey?: string;
	/** What must never appear in a string built from a response: the key (as given and trimmed), the own ElevenLabs key. */
	secrets: string[];
	/**
	 * The credential as read once for this node run, handed to n8n with each request: without it
	 * n8n loads the credential from its database and decrypts it again for every request (in queue
	 * mode a PostgreSQL query per D-ID request, taken from a pool of a few connections).
	 */
	decrypted?: ICredentialsDecrypted;
}

function decryptedOf(
	ctx: DIdContext,
	data: ICredentialDataDecryptedObject,
): ICredentialsDecrypted | undefined {
	const details = ctx.getNode().credentials?.dIdApi;
	if (!details?.id) return undefined;
	return { id: details.id, name: details.name, type: 'dIdApi', data };
}

const credentialFacts = new WeakMap<object, Promise<CredentialFacts>>();

function factsOf(ctx: DIdContext): Promise<CredentialFacts> {
	let facts = credentialFacts.get(ctx);
	if (!facts) {
		facts = ctx
			.getCredentials<{ baseUrl?: string; apiKey?: string; elevenLabsApiKey?: string }>('dIdApi')
			.then((credentials) => ({
				decrypted: decryptedOf(ctx, credentials),
				baseUrl: String(credentials.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, ''),
				apiKey: String(credentials.apiKey ?? '').trim(),
				elevenLabsApiKey: credentials.elevenLabsApiKey?.trim() || undefined,
				secrets: [
					credentials.apiKey,
					credentials.apiKey?.trim(),
					credentials.elevenLabsApiKey,
					credentials.elevenLabsApiKey?.trim(),
				].filter((value): value is string => typeof value === 'string' && value.length > 0),
			}));
		facts.catch(() => credentialFacts.delete(ctx));
		credentialFacts.set(ctx, facts);
	}
	return facts;
}

/**
 * The credential's base URL without a trailing slash, read once per node run (each read makes n8n
 * load and decrypt the credential). The key itself is only applied by n8n.
 */
export async function baseUrlOf(this: DIdContext): Promise<string> {
	return (await factsOf(this)).baseUrl;
}

/** The credential's API key, trimmed, read once per node run or call (for deriving tokens, never sent anywhere). */
export async function credentialKey(this: DIdContext): Promise<string> {
	return (await factsOf(this)).apiKey;
}

/** The credential's secrets, for redacting strings built from responses (never sent anywhere). */
export async function credentialSecrets(this: DIdContext): Promise<string[]> {
	try {
		return (await factsOf(this)).secrets;
	} catch {
		return [];
	}
}

/** True when the credential points at a D-ID sandbox on this machine rather than at D-ID. */
export function isLoopback(url: string): boolean {
	try {
		const { hostname } = new URL(url);
		return (
			/^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === 'localhost' || hostname === '[::1]'
		);
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
	return Number.isFinite(date)
		? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - Date.now()))
		: undefined;
}

function backoffMs(attempt: number): number {
	const ms = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
	return ms / 2 + Math.random() * (ms / 2);
}

function errorCode(error: unknown): string {
	// n8n wraps request failures in a NodeApiError that keeps the system code as httpCode.
	const e = error as {
		code?: string;
		httpCode?: string;
		cause?: { code?: string };
		message?: string;
	};
	const code = [e?.code, e?.cause?.code, e?.httpCode].find(
		(c) => typeof c === 'string' && /^E[A-Z_]+$/.test(c),
	);
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
	try {
		return await sendToDId.call(this, method, path, request);
	} catch (error) {
		// A proxy or server may echo request headers (the key) in what the error was built from.
		throw redactError(error, await credentialSecrets.call(this));
	}
}

const MAX_REDIRECTS = 3;

async function sendToDId(
	this: DIdContext,
	method: IHttpRequestMethods,
	path: string,
	request: DIdRequest,
): Promise<IDataObject> {
	const { baseUrl, decrypted } = await factsOf(this);
	const idempotent = request.idempotent ?? method !== 'POST';
	const options: IHttpRequestOptions = {
		method,
		url: `${baseUrl}${path}`,
		qs: request.qs,
		headers: { accept: 'application/json', ...(request.headers ?? {}) },
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		// n8n re-sends Authorization on redirects to other hosts: redirects are followed here,
		// and only within the base URL's origin.
		disableFollowRedirect: true,
		abortSignal: request.signal,
		timeout: 120_000,
	};
	if (Buffer.isBuffer(request.body)) {
		options.body = request.body;
		// An upload is not re-sent to a redirect: following one keeps a copy of the whole file in
		// memory until D-ID answers (follow-redirects buffers the body to replay it).
		options.disableFollowRedirect = true;
	} else if (request.body !== undefined) {
		options.body = request.body;
		options.json = true;
	}
	await addElevenLabsKey.call(this, method, path, request.body, options.headers as IDataObject);

	for (let attempt = 0, redirects = 0; ; attempt++) {
		const last = attempt >= MAX_ATTEMPTS - 1;
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(
				this,
				'dIdApi',
				options,
				// A copy each time: n8n may add to the data it is given (pre-authentication).
				decrypted
					? { credentialsDecrypted: { ...decrypted, data: { ...decrypted.data } } }
					: undefined,
			)) as IN8nHttpFullResponse;
		} catch (error) {
			if (request.signal?.aborted) throw cancelledError(this, request.itemIndex);
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

		if (status >= 300 && status < 400 && response.headers?.location) {
			const target = redirectTarget(String(options.url), String(response.headers.location));
			if (
				!target ||
				new URL(target).origin !== new URL(baseUrl).origin ||
				++redirects > MAX_REDIRECTS
			) {
				throw new NodeApiError(
					this.getNode(),
					{ httpCode: String(status), request: `${method} ${path}` },
					{
						message: `D-ID's address answered with a redirect (HTTP ${status}) that the node does not follow`,
						description:
							'The node never sends the API key to another address, and does not re-send requests that could create a talk. Check the Base URL in the D-ID API credential (https://api.d-id.com, or your sandbox address).',
						httpCode: String(status),
						itemIndex: request.itemIndex,
					},
				);
			}
			options.url = target;
			// A 301/302/303 makes any request a GET without a body (as browsers and n8n do).
			if (method !== 'GET' && method !== 'HEAD') {
				throw new NodeApiError(
					this.getNode(),
					{ httpCode: String(status), request: `${method} ${path}` },
					{
						message: `D-ID's address redirected a ${method} request (HTTP ${status})`,
						description: 'Check the Base URL in the D-ID API credential.',
						itemIndex: request.itemIndex,
					},
				);
			}
			options.qs = undefined;
			attempt--;
			continue;
		}

		const body = redactDeep(parseBody(response.body), await credentialSecrets.call(this));
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
			if (request.signal?.aborted) throw cancelledError(this, request.itemIndex);
			continue;
		}
		throw dIdApiError(this.getNode(), status, body, {
			itemIndex: request.itemIndex,
			talkId: request.talkId,
		});
	}
}

/**
 * A talk with an ElevenLabs voice uses the user's own ElevenLabs key when the credential has one
 * (x-api-key-external). The Create field that once held it still wins when a saved workflow sets it.
 */
async function addElevenLabsKey(
	this: DIdContext,
	method: string,
	path: string,
	body: DIdRequest['body'],
	headers: IDataObject,
) {
	if (method !== 'POST' || path !== '/talks' || headers['x-api-key-external'] !== undefined) return;
	const provider = ((body as IDataObject | undefined)?.script as IDataObject | undefined)
		?.provider as IDataObject | undefined;
	if (provider?.type !== 'elevenlabs') return;
	const key = (await factsOf(this)).elevenLabsApiKey;
	if (key) headers['x-api-key-external'] = JSON.stringify({ elevenlabs: key });
}

function redirectTarget(from: string, location: string): string | undefined {
	try {
		return new URL(location, from).toString();
	} catch {
		return undefined;
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
	const reason =
		FAILURE_WORDS[code] ??
		(code ? 'connection failed' : (error as Error)?.message || 'connection failed');
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

export interface MultipartEnvelope {
	/** What goes before the file's bytes, and after them. */
	head: Buffer;
	tail: Buffer;
	contentType: string;
}

/**
 * The multipart/form-data parts around one file (field `image` or `audio`, as D-ID's /images and
 * /audios take it), so the body can be built around the file's bytes in a single buffer: a
 * FormData with a Blob copies the file twice more (into the Blob, then into the stream it sends).
 * `fileName` is already limited to A-Z a-z 0-9 . _ - (D-ID's rule), so it needs no quoting.
 */
export function multipartEnvelope(
	kind: 'image' | 'audio',
	fileName: string,
	mimeType: string,
): MultipartEnvelope {
	const boundary = `----n8n-d-id-${randomBytes(12).toString('hex')}`;
	return {
		head: Buffer.from(
			`--${boundary}\r\nContent-Disposition: form-data; name="${kind}"; filename="${fileName}"\r\nContent-Type: ${mimeType}\r\n\r\n`,
		),
		tail: Buffer.from(`\r\n--${boundary}--\r\n`),
		contentType: `multipart/form-data; boundary=${boundary}`,
	};
}

/** Uploads a file to POST /images or /audios and returns D-ID's answer ({ id, url: "s3://…" }). */
export async function uploadFile(
	this: DIdContext,
	kind: 'image' | 'audio',
	body: Buffer,
	contentType: string,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<{ id: string; url: string; duration?: number }> {
	// The upload creates nothing billable; retrying it is safe.
	return (await dIdApiRequest.call(this, 'POST', kind === 'image' ? '/images' : '/audios', {
		body,
		headers: { 'content-type': contentType },
		itemIndex,
		signal,
		idempotent: true,
	})) as { id: string; url: string; duration?: number };
}

/** The largest result video the node downloads (D-ID talks last at most 10 minutes). */
export const MAX_RESULT_BYTES = 2 * 1024 ** 3;

/**
 * Why the node will not download `url` as a talk's video, or undefined. The link comes from D-ID
 * (or from a webhook body): https only, and no address inside the network n8n runs in, except
 * the credential's own sandbox on this machine (which serves plain http). Host names are not
 * resolved here (nodes may not use DNS); names that are local by definition are refused.
 */
export function resultUrlProblem(
	url: string,
	sandboxBaseUrl: string | undefined,
): string | undefined {
	let target: URL;
	try {
		target = new URL(url);
	} catch {
		return 'it is not a valid URL';
	}
	let sandboxHost: string | undefined;
	if (sandboxBaseUrl && isLoopback(sandboxBaseUrl)) sandboxHost = new URL(sandboxBaseUrl).host;
	if (
		sandboxHost &&
		target.host === sandboxHost &&
		(target.protocol === 'http:' || target.protocol === 'https:')
	)
		return undefined;
	if (target.protocol !== 'https:') return `it is not an https address (${target.protocol})`;
	if (target.username || target.password) return 'it carries a user name or password';
	if (isInternalHost(target.hostname))
		return `${target.hostname} is a private, loopback or link-local address`;
	return undefined;
}

function isInternalHost(hostname: string): boolean {
	const host = hostname
		.toLowerCase()
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '');
	if (
		host === 'localhost' ||
		host.endsWith('.localhost') ||
		host.endsWith('.local') ||
		host.endsWith('.internal') ||
		(!host.includes('.') && !host.includes(':'))
	)
		return true;
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (v4) return isInternalV4(v4.slice(1).map(Number));
	if (host.includes(':')) {
		// IPv6: loopback, unspecified, unique local (fc00::/7), link-local (fe80::/10), IPv4-mapped.
		if (host === '::1' || host === '::') return true;
		if (/^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host)) return true;
		const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
		if (mapped) return isInternalV4(mapped[1].split('.').map(Number));
		const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
		if (mappedHex) {
			const [hi, lo] = [parseInt(mappedHex[1], 16), parseInt(mappedHex[2], 16)];
			return isInternalV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
		}
		return false;
	}
	// Any other all-numeric form (http://2130706433/, 0x7f.1) is an address in disguise.
	return /^[0-9.]+$|^0x/i.test(host);
}

function isInternalV4([a, b]: number[]): boolean {
	return (
		a === 0 ||
		a === 10 ||
		a === 127 ||
		(a === 100 && b >= 64 && b <= 127) ||
		(a === 169 && b === 254) ||
		(a === 172 && b >= 16 && b <= 31) ||
		(a === 192 && b === 168) ||
		(a === 198 && (b === 18 || b === 19)) ||
		a >= 224
	);
}

/**
 * Opens the talk's result video as a stream. result_url is a pre-signed link: it is fetched
 * without the D-ID credential (which must never be sent to a storage host), only from where
 * resultUrlProblem allows, following redirects only within its host, up to MAX_RESULT_BYTES.
 */
export async function openResultStream(
	this: IExecuteFunctions | IWebhookFunctions,
	url: string,
	talkId: string,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<{ stream: ResultStream; contentType?: string }> {
	const sandbox = await baseUrlOf.call(this).catch(() => undefined);
	const refused = (why: string) =>
		new NodeApiError(
			this.getNode(),
			{ failure: 'refused', talkId },
			{
				message: `The node did not download the video of talk ${talkId}: its link is not allowed (${why})`,
				description:
					'Videos are downloaded only over https from public addresses (or from the credential’s own sandbox). Run Talk → Get for this talk to see its result_url.',
				itemIndex,
			},
		);
	const problem = resultUrlProblem(url, sandbox);
	if (problem) throw refused(problem);
	let current = url;
	for (let attempt = 0, redirects = 0; ; attempt++) {
		const last = attempt >= MAX_ATTEMPTS - 1;
		let response: IN8nHttpFullResponse & { body: ResultStream };
		try {
			response = (await this.helpers.httpRequest({
				method: 'GET',
				url: current,
				encoding: 'stream',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				disableFollowRedirect: true,
				abortSignal: signal,
				timeout: 300_000,
			})) as IN8nHttpFullResponse & { body: ResultStream };
		} catch (error) {
			if (signal?.aborted) throw cancelledError(this, itemIndex);
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
					description:
						'The node retried with backoff. Run Talk → Wait with Download Video again; the talk is done and will not be re-rendered.',
					itemIndex,
				},
			);
		}
		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			const length = Number(response.headers?.['content-length']);
			if (Number.isFinite(length) && length > MAX_RESULT_BYTES) {
				response.body.destroy?.();
				throw refused(
					`it is ${(length / 1024 ** 3).toFixed(1)} GiB, more than the ${MAX_RESULT_BYTES / 1024 ** 3} GiB a talk's video can be`,
				);
			}
			return {
				stream: capped(response.body, MAX_RESULT_BYTES, () =>
					refused(`it sent more than ${MAX_RESULT_BYTES / 1024 ** 3} GiB`),
				),
				contentType: response.headers?.['content-type'] as string | undefined,
			};
		}
		response.body.resume();
		if (status >= 300 && status < 400 && response.headers?.location) {
			const target = redirectTarget(current, String(response.headers.location));
			if (
				!target ||
				new URL(target).host !== new URL(current).host ||
				new URL(target).protocol !== new URL(current).protocol
			) {
				throw refused(`it redirects to another address`);
			}
			if (++redirects > MAX_REDIRECTS) throw refused('it redirects too often');
			current = target;
			attempt--;
			continue;
		}
		if ((status === 429 || status >= 500) && !last) {
			await abortableSleep(
				retryAfterMs(response.headers as IDataObject) ?? backoffMs(attempt),
				signal,
			);
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

/**
 * The stream, ended with an error once more than `maxBytes` went through. The count is taken where
 * bytes enter the stream (its `push`), so it holds however the consumer reads it — pipe (n8n's
 * filesystem mode), 'data' listeners (its database mode, used in queue mode) or async iteration —
 * and the stream's flowing state is left to the consumer (a paused stream with a counting 'data'
 * listener never ends for a consumer that only adds its own 'data' listener).
 */
export function capped(
	stream: ResultStream,
	maxBytes: number,
	tooLarge: () => Error,
): ResultStream {
	let bytes = 0;
	const source = stream as unknown as {
		push(chunk: unknown, encoding?: string): boolean;
		destroy(error?: Error): void;
	};
	const push = source.push.bind(source);
	source.push = (chunk: unknown, encoding?: string) => {
		if (chunk !== null && chunk !== undefined) {
			bytes += (chunk as { length: number }).length;
			if (bytes > maxBytes) {
				source.destroy(tooLarge());
				return false;
			}
		}
		return push(chunk, encoding);
	};
	return stream;
}
