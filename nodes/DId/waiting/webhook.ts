import { randomBytes } from 'crypto';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { baseUrlOf, cancelledError, isLoopback, type DIdContext } from '../transport';
import type { Uploads } from '../helpers/cleanup';
import { errorJson, withItemIndex } from '../helpers/errors';
import { FINAL_STATUSES, type Talk } from '../helpers/talk';
import { abortableSleep } from '../helpers/sleep';
import { runPool } from '../helpers/pool';
import { HTTP_URL, HTTPS_URL, invalid } from '../helpers/validation';
import { finishWaiting, type WaitSettings } from './settings';
import { checkToken, talkToken, withQuery } from './webhook-token';
import { saveBatch, type BatchRecord } from './webhook-store';
import {
	checkOnce,
	finish,
	outputOf,
	post,
	resumeUrlOf,
	secretOf,
	selfCall,
	type Entry,
	type OwnCallTarget,
} from './webhook-batch';

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
 *    node's own "sweep" call, made once n8n accepts calls, looks at the batch then, and twice later
 *    (5 s and 30 s after), as D-ID's read may lag behind its calls. A "timeout" call at the end of
 *    the Timeout checks each open talk once; any D-ID call after that does the same.
 *
 * This file starts a batch (step 1, and schedules the node's own "sweep" and "timeout" calls);
 * webhook-resume.ts takes each call of the resume URL (steps 2 and 3); webhook-batch.ts holds what
 * both use (the resume URL and the node's own calls of it, a batch's entries and output).
 *
 * What each part guarantees (and the n8n versions where two calls may both resume) is in the README.
 */

/** n8n's own timeout comes later than ours: ours checks the talks, n8n's would pass input through. */
const N8N_TIMEOUT_GRACE_MS = 5 * 60_000;

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

function keyOf(executionId: string | undefined, nodeName: string): string {
	return `${executionId ?? 'unknown'}\u0000${nodeName}`;
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

/**
 * Later looks, after the first one, measured from it. A talk that ended just before the execution
 * was saved as waiting had its D-ID call refused by n8n (409), and D-ID's read may still show it
 * rendering when the first look reads it (the spec promises no read-after-webhook consistency);
 * if no other talk's call comes after, nothing else would look before the Timeout. A look costs a
 * list page and a talk read; none is made once n8n says nothing waits (the batch completed).
 */
const LATER_LOOKS_MS = [5_000, 30_000];

/**
 * The node's own calls: "sweep" once n8n accepts calls and again LATER_LOOKS_MS after it, "timeout"
 * at the end of the Timeout.
 */
async function selfCalls(ctx: DIdContext, batch: OwnCallTarget, endsAt: number): Promise<void> {
	const first = await selfCall(ctx, batch, 'sweep');
	const lookedAt = Date.now();
	if (first >= 200 && first < 300) {
		for (const after of LATER_LOOKS_MS) {
			const at = lookedAt + after;
			if (at >= endsAt) break;
			await abortableSleep(at - Date.now());
			const status = await checkOnce(ctx, batch, 'sweep');
			// 404, 409 or 401: nothing of this batch waits any more (it completed; the execution is
			// done, resumed, or waits at another node); the timeout's call then costs n8n's answer
			// only. Anything else (a proxy's 5xx or 429, no answer): the next look.
			if ([401, 404, 409].includes(status)) break;
		}
	}
	await abortableSleep(Math.max(0, endsAt - Date.now()));
	await selfCall(ctx, batch, 'timeout');
}
