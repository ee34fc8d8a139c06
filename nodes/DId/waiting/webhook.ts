import { randomBytes } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	baseUrlOf,
	cancelledError,
	credentialKey,
	getTalk,
	isLoopback,
	listTalks,
	type DIdContext,
} from '../transport';
import { deleteUploads, doneTalkItem, type Uploads } from '../helpers/cleanup';
import { errorJson, withItemIndex } from '../helpers/errors';
import { redactTalk } from '../helpers/redact';
import { FINAL_STATUSES, talkFailed, talkTimedOut, type Talk } from '../helpers/talk';
import { abortableSleep } from '../helpers/sleep';
import { runPool } from '../helpers/pool';
import { HTTP_URL, HTTPS_URL, invalid } from '../helpers/validation';
import { finishWaiting, type WaitSettings } from './settings';
import { checkToken, executionSecret, sameToken, talkToken, withQuery } from './webhook-token';
import { loadBatch, saveBatch, type BatchRecord } from './webhook-store';

/*
 * Wait Mode "Webhook": the execution waits (no worker held, no status polling) and D-ID's calls of
 * its resume URL end the wait. Nothing of the batch lives in process memory, so any n8n process
 * (main, a worker, a webhook process, one restarted meanwhile) can take any call:
 *
 * 1. execute() checks every item, makes sure n8n can reach its own resume URL, then creates the
 *    talks at once (each with the resume URL and a token as its webhook), writes the batch — each
 *    item's talk ID, uploads and any failure — into the execution's custom data, and puts the
 *    execution to wait. The custom data is saved with the waiting execution.
 * 2. Each call of the resume URL is checked (token; a talk of this batch) and then D-ID is asked,
 *    not memory: the call's own talk is confirmed, and the batch is complete when every item's talk
 *    has ended at D-ID. The call that finds it complete returns every item's result (in input order,
 *    paired, videos downloaded); every other call answers and leaves the execution waiting.
 * 3. Talks that end before the execution is saved as waiting get 409 from n8n for their call; the
 *    node's own "sweep" call, made once n8n accepts calls, looks at the batch then. A "timeout" call
 *    at the end of the Timeout checks each open talk once; any D-ID call after that does the same.
 *
 * What each part guarantees (and the n8n versions where two calls may both resume) is in the README.
 */

/** n8n's own timeout comes later than ours: ours checks the talks, n8n's would pass input through. */
const N8N_TIMEOUT_GRACE_MS = 5 * 60_000;
const DOWNLOAD_CONCURRENCY = 4;
/** Re-reads of a talk whose webhook said it ended while D-ID's read did not yet: 0.5 s doubling to 8 s. */
const RECHECK_FIRST_MS = 500;
const RECHECK_MAX_MS = 8_000;
const RECHECK_TOTAL_MS = 30_000;
/** A look at the batch reads at most this many list pages, then asks for the talks not seen one by one. */
const LIST_MAX_PAGES = 3;
/** The node's own calls: tried again while n8n answers 409 (the execution is not saved as waiting yet). */
const SELF_CALL_MAX_MS = 120_000;

/** What starting one item gives: its talk (created or read) to wait for. */
export interface Started {
	talk: Talk;
	/** What was uploaded for the item (deleted after the talk ends when asked). */
	uploads?: Uploads;
}
export type StartItem = (i: number, signal: AbortSignal) => Promise<Started>;

/** One node run's batch while execute() runs (it is gone when execute() returns). */
export interface Batch {
	id: string;
	resumeUrl: string;
	secret: Buffer;
	settings: WaitSettings;
	concurrency: number;
	continueOnFail: boolean;
}

/** Batches of the execute() calls running in this process, so Create can put the callback URL into each body. */
const open = new Map<string, Batch>();
/** Completions under way in this process (a duplicate call gets "completing", not a second resume). */
const completing = new Set<string>();
/** Timeout calls scheduled by this process (one per batch), so a restarted worker does not leave the batch without one. */
const timeoutsScheduled = new Set<string>();
/** Later looks scheduled by this process after a failed one (one series per batch). */
const sweepsScheduled = new Set<string>();

function keyOf(executionId: string | undefined, nodeName: string): string {
	return `${executionId ?? 'unknown'}\u0000${nodeName}`;
}

/** The execution's resume URL (with n8n's own token in 2.x), as n8n builds it in any process. */
function resumeUrlOf(ctx: IExecuteFunctions | IWebhookFunctions): string {
	return String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0) ?? '');
}

async function secretOf(ctx: DIdContext, executionId: string): Promise<Buffer> {
	return executionSecret(await credentialKey.call(ctx), executionId);
}

/**
 * Opens the batch of this node run before any item is prepared, so Create can put the callback URL
 * into each request. Fails (before any request) when D-ID could not reach n8n.
 */
export async function openBatch(
	ctx: IExecuteFunctions,
	settings: WaitSettings,
	concurrency: number,
): Promise<Batch> {
	const resumeUrl = resumeUrlOf(ctx);
	const sandbox = isLoopback(await baseUrlOf.call(ctx));
	if (!(sandbox ? HTTP_URL : HTTPS_URL).test(resumeUrl)) {
		throw invalid(
			ctx,
			0,
			'Wait Mode',
			`D-ID cannot call this n8n back at ${resumeUrl || 'an unknown address'}`,
			'Wait Mode "Webhook" needs n8n reachable by D-ID over https: set WEBHOOK_URL to n8n’s public https address, or use Wait Mode "Poll".',
		);
	}
	const executionId = String(ctx.getExecutionId() ?? '');
	const batch: Batch = {
		id: randomBytes(6).toString('hex'),
		resumeUrl,
		secret: await secretOf(ctx, executionId),
		settings,
		concurrency,
		continueOnFail: ctx.continueOnFail(),
	};
	open.set(keyOf(executionId, ctx.getNode().name), batch);
	return batch;
}

/**
 * The webhook URL of item `i`'s talk: the execution's resume URL with the execution's token, and
 * the batch and item, so every item's request differs (a lost create answer is then looked up
 * by its own URL: see create-ledger.ts).
 */
export function callbackUrl(ctx: IExecuteFunctions, i: number): string {
	const batch = open.get(keyOf(ctx.getExecutionId(), ctx.getNode().name));
	if (!batch)
		throw new NodeOperationError(ctx.getNode(), 'Wait Mode "Webhook": no open batch', {
			itemIndex: i,
		});
	return withQuery(batch.resumeUrl, {
		dIdBatch: batch.id,
		dIdItem: String(i),
		dIdToken: talkToken(batch.secret),
	});
}

/** Whether this node run waits with Wait Mode "Webhook" (its batch is open). */
export function webhookRun(ctx: IExecuteFunctions): boolean {
	return open.has(keyOf(ctx.getExecutionId(), ctx.getNode().name));
}

/**
 * A webhook URL given by the user that calls this execution back (`{{ $execution.resumeUrl }}`, for
 * Talk → Wait in Wait Mode "Webhook") gets the execution's token, so the waiting node believes it.
 */
export async function signResumeUrl(ctx: IExecuteFunctions, url: string): Promise<string> {
	const resumeUrl = resumeUrlOf(ctx);
	const base = (value: string) => {
		try {
			const parsed = new URL(value);
			return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
		} catch {
			return undefined;
		}
	};
	if (!resumeUrl || base(url) === undefined || base(url) !== base(resumeUrl)) return url;
	const secret = await secretOf(ctx, String(ctx.getExecutionId() ?? ''));
	return withQuery(url, { dIdToken: talkToken(secret) });
}

export function closeBatch(ctx: IExecuteFunctions): void {
	open.delete(keyOf(ctx.getExecutionId(), ctx.getNode().name));
}

/**
 * Every item was checked; `refused` holds the output of items refused under Continue On Fail.
 * Creates the talks, records the batch in the execution and puts the execution to wait.
 */
export async function runWebhookBatch(
	ctx: IExecuteFunctions,
	batch: Batch,
	count: number,
	refused: Map<number, INodeExecutionData[]>,
	start: StartItem,
): Promise<INodeExecutionData[][]> {
	const entries: Entry[] = Array.from({ length: count }, (_, index) => ({
		index,
		ready: refused.get(index),
	}));
	if (entries.every((e) => e.ready)) return [outputOf(entries)];

	// Before any talk: n8n's own calls (the sweep and the timeout) must reach it, or a talk ending
	// before the wait is saved would be heard of only at n8n's timeout, which passes input through.
	const unreachable = await selfUnreachable(ctx, batch);
	if (unreachable) {
		const error = new NodeOperationError(
			ctx.getNode(),
			`n8n cannot reach its own resume URL ${redactUrl(batch.resumeUrl)} (${unreachable}); no talk was created`,
			{
				description:
					'Wait Mode "Webhook" calls the execution’s resume URL itself to look at talks that ended before the wait began and at the timeout. Make WEBHOOK_URL reachable from the n8n processes too (a hairpin route to the public address, the proxy’s CA trusted via NODE_EXTRA_CA_CERTS), or use Wait Mode "Poll".',
				itemIndex: 0,
			},
		);
		if (!batch.continueOnFail) throw error;
		for (const entry of entries) entry.ready ??= [{ json: errorJson(error) }];
		return [outputOf(entries)];
	}

	await startItems(ctx, batch, entries, start);
	const endsAt = Date.now() + batch.settings.timeoutMs;
	const record = recordOf(batch, entries, endsAt);
	if (entries.every((e) => e.ready || (e.talk && FINAL_STATUSES.includes(e.talk.status)))) {
		return [await finish(ctx, record, entries)];
	}
	if (!saveBatch(ctx, record)) {
		// n8n's custom data is full (it holds 10 keys of 512 characters, shared with the workflow):
		// wait here instead, as Wait Mode "Poll" does, and say so on each item.
		return [await pollFallback(ctx, batch, entries)];
	}
	await ctx.putExecutionToWait(new Date(endsAt + N8N_TIMEOUT_GRACE_MS));
	void selfCalls(ctx, batch, endsAt);
	return [ctx.getInputData()];
}

interface Entry {
	index: number;
	ready?: INodeExecutionData[];
	talk?: Talk;
	uploads?: Uploads;
	/** Not ended at the timeout: the item's error. */
	timedOut?: Error;
}

/** Creates (Create) or reads (Wait) each item's talk, at most `concurrency` at a time. */
async function startItems(
	ctx: IExecuteFunctions,
	batch: Batch,
	entries: Entry[],
	start: StartItem,
): Promise<void> {
	const cancel = ctx.getExecutionCancelSignal?.();
	const keys = entries.filter((e) => !e.ready).map((e) => e.index);
	const run = await runPool(keys, async (i, signal) => await start(i, signal), {
		concurrency: batch.concurrency,
		keepGoing: batch.continueOnFail,
		signal: cancel,
	});
	// Without Continue On Fail the first failure ends the node, as in Poll mode.
	if (run.firstFailure) throw withItemIndex(ctx, run.firstFailure.error, run.firstFailure.key);
	if (cancel?.aborted) throw cancelledError(ctx);
	for (const [i, result] of run.results) {
		if (!result.ok) entries[i].ready = [{ json: errorJson(result.error as Error) }];
		else {
			entries[i].talk = result.value.talk;
			entries[i].uploads = result.value.uploads;
		}
	}
}

function recordOf(batch: Batch, entries: Entry[], endsAt: number): BatchRecord {
	return {
		batch: batch.id,
		endsAt,
		timeoutMs: batch.settings.timeoutMs,
		download: batch.settings.download,
		binaryProperty: batch.settings.binaryProperty,
		deleteUploads: batch.settings.deleteUploads,
		deleteTalk: batch.settings.deleteTalk,
		continueOnFail: batch.continueOnFail,
		items: entries.map((e) => ({
			talkId: e.talk?.id,
			uploads: batch.settings.deleteUploads ? e.uploads : undefined,
			failure: e.ready ? failureOf(e.ready) : undefined,
		})),
	};
}

function failureOf(ready: INodeExecutionData[]): IDataObject {
	const json = ready[0]?.json ?? {};
	return {
		error: json.error,
		...(json.description ? { description: json.description } : {}),
		...(json.kind ? { kind: json.kind } : {}),
	};
}

/** Poll-mode waiting for a batch whose record does not fit into the execution's custom data. */
async function pollFallback(
	ctx: IExecuteFunctions,
	batch: Batch,
	entries: Entry[],
): Promise<INodeExecutionData[]> {
	const note =
		'Wait Mode "Webhook" could not record this batch in the execution’s custom data (full: n8n keeps 10 keys of 512 characters), so this run waited as Wait Mode "Poll" does.';
	const settings: WaitSettings = { ...batch.settings, mode: 'poll' };
	const keys = entries.filter((e) => !e.ready).map((e) => e.index);
	const run = await runPool(
		keys,
		async (i, signal) =>
			await finishWaiting.call(
				ctx,
				entries[i].talk!.id,
				i,
				settings,
				signal,
				undefined,
				entries[i].uploads,
			),
		{
			concurrency: batch.concurrency,
			keepGoing: batch.continueOnFail,
			signal: ctx.getExecutionCancelSignal?.(),
		},
	);
	if (run.firstFailure) throw withItemIndex(ctx, run.firstFailure.error, run.firstFailure.key);
	for (const [i, result] of run.results) {
		entries[i].ready = result.ok
			? result.value.map((item) => ({ ...item, json: { ...item.json, wait_note: note } }))
			: [{ json: { ...errorJson(result.error as Error), wait_note: note } }];
	}
	return outputOf(entries);
}

/** The resume URL without n8n's own signature, for messages. */
function redactUrl(url: string): string {
	const parsed = new URL(url);
	if (parsed.searchParams.has('signature')) parsed.searchParams.set('signature', '[redacted]');
	return parsed.toString();
}

async function post(ctx: DIdContext, url: string): Promise<{ status: number; reason?: string }> {
	try {
		const response = (await ctx.helpers.httpRequest({
			method: 'POST',
			url,
			body: {},
			json: true,
			timeout: 30_000,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		})) as { statusCode: number };
		return { status: response.statusCode };
	} catch (error) {
		return { status: 0, reason: networkReason(error) };
	}
}

/**
 * Why a call got no answer, in words: n8n replaces a whole error message that names a network
 * error code (ECONNREFUSED, …) with a generic one, which would hide the resume URL and the advice.
 */
function networkReason(error: unknown): string {
	const { code, message } = error as { code?: string; message?: string };
	const words: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name not found',
		ETIMEDOUT: 'no answer in time',
		ECONNABORTED: 'no answer in time',
		ECONNRESET: 'connection reset',
		EHOSTUNREACH: 'host unreachable',
		ENETUNREACH: 'network unreachable',
		DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
		SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
		UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
		CERT_HAS_EXPIRED: 'TLS certificate expired',
		ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host',
	};
	if (code && words[code]) return words[code];
	return (
		String(message ?? 'no answer')
			.replace(/\b[A-Z][A-Z_]{4,}\b/g, '')
			.trim() || 'no answer'
	);
}

/** One call of the resume URL before the execution waits: any answer of n8n's proves the route. */
async function selfUnreachable(ctx: IExecuteFunctions, batch: Batch): Promise<string | undefined> {
	const { status, reason } = await post(
		ctx,
		withQuery(batch.resumeUrl, {
			dIdCheck: 'probe',
			dIdToken: checkToken(batch.secret, batch.id, 'probe'),
		}),
	);
	if (status === 0) return reason ?? 'no answer';
	if ([502, 503, 504].includes(status)) return `HTTP ${status} from a proxy`;
	return undefined;
}

/** The node's own calls: "sweep" once n8n accepts calls, "timeout" at the end of the Timeout. */
async function selfCalls(
	ctx: DIdContext,
	batch: { id: string; resumeUrl: string; secret: Buffer },
	endsAt: number,
): Promise<void> {
	await selfCall(ctx, batch, 'sweep');
	await abortableSleep(Math.max(0, endsAt - Date.now()));
	await selfCall(ctx, batch, 'timeout');
}

async function selfCall(
	ctx: DIdContext,
	batch: { id: string; resumeUrl: string; secret: Buffer },
	check: 'sweep' | 'timeout',
): Promise<void> {
	const url = withQuery(batch.resumeUrl, {
		dIdCheck: check,
		dIdToken: checkToken(batch.secret, batch.id, check),
	});
	// Until the execution is saved as waiting (a few milliseconds) n8n refuses the call (409, or
	// 500 while its data is written): try again shortly. 404 or 401: the execution is gone or done.
	let delay = 25;
	for (
		let waited = 0;
		waited < SELF_CALL_MAX_MS;
		waited += delay, delay = Math.min(delay * 2, 2000)
	) {
		const { status } = await post(ctx, url);
		if (status >= 200 && status < 500 && status !== 409) return;
		await abortableSleep(delay);
	}
}

/** Answers a call once (a later answer is dropped: the first one was sent). */
function replier(ctx: IWebhookFunctions) {
	let sent = false;
	return {
		send(status: number, body: IDataObject): IWebhookResponseData {
			if (!sent) {
				sent = true;
				ctx.getResponseObject().status(status).json(body);
			}
			return { noWebhookResponse: true };
		},
	};
}

/** Tries again after a failed look (the database or D-ID not answering for a moment): 1 s, then 2 s. */
const LOOK_RETRY_MS = [1000, 2000];
/** After a D-ID call whose look failed: this process looks again by its own calls, 5 s doubling to 80 s. */
const LATER_SWEEP_MS = [5_000, 10_000, 20_000, 40_000, 80_000];

/**
 * webhook() of the D-ID node: a call of the execution's resume URL. It resumes the execution only
 * when the batch is complete; anything else — a forged, stale or duplicate call, or a failure to
 * look (n8n's database or D-ID not answering: n8n would resume the execution with a thrown error)
 * — is answered and leaves the execution waiting.
 */
export async function onResumeCall(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const reply = replier(this);
	let complete: Complete | undefined;
	let later: (() => void) | undefined;
	try {
		const query = this.getQueryData() as IDataObject;
		const check = typeof query.dIdCheck === 'string' ? query.dIdCheck : undefined;
		if (check === 'probe') return reply.send(409, { received: true, note: 'nothing waits yet' });
		const executionId = String(
			this.getExecutionId?.() ??
				/\/webhook-waiting\/([^/?]+)/.exec(this.getRequestObject().url ?? '')?.[1] ??
				'',
		);
		const record = loadBatch(this);
		if (!record)
			return reply.send(200, {
				received: true,
				note: 'nothing of this node waits in this execution',
			});
		const secret = await secretOf(this, executionId);

		if (check) {
			if (!sameToken(query.dIdToken, checkToken(secret, record.batch, check)))
				return reply.send(401, { error: 'invalid token' });
			if (check !== 'sweep' && check !== 'timeout')
				return reply.send(400, { error: 'unknown check' });
			// Answered after the look: a failed look answers 503 and the node's own call comes again.
			complete = await lookWithRetries(this, record, {
				atTimeout: check === 'timeout' || Date.now() >= record.endsAt,
			});
			reply.send(200, { received: true });
		} else {
			// A call from D-ID: it must carry the execution's token and name a talk of this batch.
			if (!sameToken(query.dIdToken, talkToken(secret)))
				return reply.send(401, { error: 'invalid token' });
			const body = this.getBodyData() as IDataObject;
			const talkId = typeof body.id === 'string' ? body.id : '';
			const index = record.items.findIndex(
				(item) => item.talkId !== undefined && item.talkId === talkId,
			);
			if (index < 0)
				return reply.send(200, { received: true, note: 'not a talk of this execution' });
			if (!FINAL_STATUSES.includes(String(body.status)))
				return reply.send(200, { received: true, note: 'the talk has not ended' });
			reply.send(200, { received: true });
			later = () => sweepLater(this, record, secret);
			complete = await lookWithRetries(this, record, {
				atTimeout: Date.now() >= record.endsAt,
				ended: talkId,
			});
			if (!complete) keepTimeout(this, record, secret);
		}
	} catch {
		// Nothing of a failed look may resume the execution. D-ID does not call again, so this
		// process looks again later (by its own calls); the timeout call remains the last resort.
		later?.();
		return reply.send(503, { error: 'the batch could not be looked at now; call again' });
	}
	if (!complete) return { noWebhookResponse: true };
	// Complete: every item's result (a failed item without Continue On Fail fails the execution).
	try {
		return {
			noWebhookResponse: true,
			workflowData: [await finish(this, complete.record, complete.entries)],
		};
	} finally {
		// Kept a while: a duplicate call in this process while n8n resumes must not resume again.
		void abortableSleep(60_000).then(() => completing.delete(complete!.record.batch));
	}
}

/**
 * Runs `task` in the background of this process, once per batch at a time (`scheduled` holds the
 * batches with one under way), with the resume URL as n8n builds it here.
 */
function inBackground(
	ctx: IWebhookFunctions,
	scheduled: Set<string>,
	batch: string,
	task: (resumeUrl: string) => Promise<void>,
): void {
	const resumeUrl = resumeUrlOf(ctx);
	if (scheduled.has(batch) || !resumeUrl) return;
	scheduled.add(batch);
	void task(resumeUrl)
		.catch(() => undefined)
		.finally(() => scheduled.delete(batch));
}

/** This process keeps the batch's timeout too, should the worker that started the wait be gone. */
function keepTimeout(ctx: IWebhookFunctions, record: BatchRecord, secret: Buffer): void {
	inBackground(ctx, timeoutsScheduled, record.batch, async (resumeUrl) => {
		await abortableSleep(Math.max(0, record.endsAt - Date.now()));
		await selfCall(ctx, { id: record.batch, resumeUrl, secret }, 'timeout');
	});
}

/** After a failed look at D-ID's call: the node's own "sweep" calls, until one is taken. */
function sweepLater(ctx: IWebhookFunctions, record: BatchRecord, secret: Buffer): void {
	inBackground(ctx, sweepsScheduled, record.batch, async (resumeUrl) => {
		const url = withQuery(resumeUrl, {
			dIdCheck: 'sweep',
			dIdToken: checkToken(secret, record.batch, 'sweep'),
		});
		for (const delay of LATER_SWEEP_MS) {
			await abortableSleep(delay);
			const { status } = await post(ctx, url);
			// Taken (200), or nothing waits any more (n8n's 404/409 once resumed or finished).
			if (status !== 0 && status < 500 && status !== 401) return;
		}
	});
}

interface Complete {
	record: BatchRecord;
	entries: Entry[];
}

async function lookWithRetries(
	ctx: IWebhookFunctions,
	record: BatchRecord,
	how: { atTimeout: boolean; ended?: string },
): Promise<Complete | undefined> {
	for (let attempt = 0; ; attempt++) {
		try {
			return await lookAtBatch(ctx, record, { ...how, tolerant: false });
		} catch (error) {
			if (attempt < LOOK_RETRY_MS.length) {
				await abortableSleep(LOOK_RETRY_MS[attempt]);
				continue;
			}
			// At the timeout a talk that cannot be read is reported as such; otherwise try later.
			if (how.atTimeout) return await lookAtBatch(ctx, record, { ...how, tolerant: true });
			throw new NodeOperationError(ctx.getNode(), error as Error);
		}
	}
}

/**
 * Asks D-ID where the batch stands. Not at the timeout it stops at the first talk that has not
 * ended (the batch is not complete; that talk's own call will come); a talk read as not ended is
 * always read once more by ID, as the list may lag. `ended`: the talk this call reported ended,
 * read again (with backoff) until D-ID's read agrees. Returns the batch's entries once complete
 * (and marks it completing in this process), else undefined; throws when D-ID cannot be asked.
 */
async function lookAtBatch(
	ctx: IWebhookFunctions,
	record: BatchRecord,
	how: { atTimeout: boolean; ended?: string; tolerant: boolean },
): Promise<Complete | undefined> {
	if (completing.has(record.batch)) return undefined;
	const talks = new Map<string, Talk>();
	const wanted = new Set(
		record.items.map((item) => item.talkId).filter((id): id is string => id !== undefined),
	);
	const isEnded = (id: string) => FINAL_STATUSES.includes(String(talks.get(id)?.status));
	const get = async (id: string, index: number) => {
		try {
			talks.set(id, (await getTalk.call(ctx, id, { itemIndex: index })) as Talk);
		} catch (error) {
			if (!how.tolerant)
				throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex: index });
			talks.set(id, { id, status: 'started', lookupError: (error as Error).message } as Talk);
		}
	};
	try {
		// Enough once a talk of the batch still renders (incomplete) or every talk of it was seen.
		const enough = (seen: IDataObject[]) => {
			const ours = seen.filter((t) => wanted.has(String(t.id)));
			return (
				ours.some((t) => !FINAL_STATUSES.includes(String(t.status))) ||
				new Set(ours.map((t) => String(t.id))).size === wanted.size
			);
		};
		const list = await listTalks.call(ctx, { maxPages: LIST_MAX_PAGES, enough });
		for (const talk of list.talks)
			if (wanted.has(String(talk.id))) talks.set(String(talk.id), talk as Talk);
	} catch {
		// The list is only a shortcut: every talk is read by ID below.
	}
	if (how.ended) {
		const index = record.items.findIndex((item) => item.talkId === how.ended);
		const until = Date.now() + RECHECK_TOTAL_MS;
		for (
			let delay = RECHECK_FIRST_MS;
			!isEnded(how.ended);
			delay = Math.min(delay * 2, RECHECK_MAX_MS)
		) {
			await get(how.ended, index);
			if (isEnded(how.ended) || Date.now() + delay > until) break;
			await abortableSleep(delay);
		}
	}
	for (const [index, item] of record.items.entries()) {
		if (!item.talkId || isEnded(item.talkId)) continue;
		await get(item.talkId, index);
		if (!isEnded(item.talkId) && !how.atTimeout) return undefined;
	}
	if (completing.has(record.batch)) return undefined;
	completing.add(record.batch);
	const entries: Entry[] = record.items.map((item, index) => {
		if (item.failure) return { index, ready: [{ json: item.failure }] };
		const talk = talks.get(item.talkId!);
		if (talk && isEnded(talk.id)) return { index, talk, uploads: item.uploads };
		const status = talk
			? String(
					(talk as IDataObject).lookupError
						? `unknown (${String((talk as IDataObject).lookupError)})`
						: talk.status,
				)
			: 'unknown';
		const error = withItemIndex(
			ctx,
			talkTimedOut(
				ctx,
				item.talkId!,
				record.timeoutMs,
				status,
				index,
				'D-ID did not call back in time (its webhook may have been lost) and the talk was checked once. It keeps rendering at D-ID and nothing is lost: run Talk → Wait later with this talk ID.',
			),
			index,
		);
		// Without Continue On Fail the first such item fails the execution (in finish, in input order).
		return { index, timedOut: error };
	});
	return { record, entries };
}

function outputOf(entries: Entry[]): INodeExecutionData[] {
	const output: INodeExecutionData[] = [];
	for (const entry of entries) {
		for (const item of entry.ready ?? [])
			output.push({ ...item, json: redactTalk(item.json), pairedItem: { item: entry.index } });
	}
	return output;
}

/** Every item's result in input order, paired; downloads the videos when asked. */
async function finish(
	ctx: IExecuteFunctions | IWebhookFunctions,
	record: BatchRecord,
	entries: Entry[],
): Promise<INodeExecutionData[]> {
	const keys = entries.filter((e) => !e.ready).map((e) => e.index);
	const run = await runPool(
		keys,
		async (i) => (entries[i].ready = await resultOf(ctx, record, entries[i])),
		{
			concurrency: DOWNLOAD_CONCURRENCY,
		},
	);
	// resultOf throws only without Continue On Fail: the first failure fails the node.
	if (run.firstFailure) throw run.firstFailure.error;
	return outputOf(entries);
}

async function resultOf(
	ctx: IExecuteFunctions | IWebhookFunctions,
	record: BatchRecord,
	entry: Entry,
): Promise<INodeExecutionData[]> {
	try {
		if (entry.timedOut) throw entry.timedOut;
		const talk = entry.talk!;
		if (talk.status !== 'done') {
			// The talk ended without a video: its uploads are of no more use.
			if (record.deleteUploads) await deleteUploads(ctx, entry.uploads, entry.index);
			throw talkFailed(ctx, talk, entry.index);
		}
		return [await doneTalkItem(ctx, talk, record, entry.uploads, entry.index)];
	} catch (error) {
		if (!record.continueOnFail) throw withItemIndex(ctx, error, entry.index);
		return [{ json: errorJson(error as Error) }];
	}
}
