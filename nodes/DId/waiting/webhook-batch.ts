import type { IExecuteFunctions, INodeExecutionData, IWebhookFunctions } from 'n8n-workflow';

import { credentialKey, type DIdContext } from '../transport';
import { deleteUploads, doneTalkItem, type Uploads } from '../helpers/cleanup';
import { errorJson, withItemIndex } from '../helpers/errors';
import { redactTalk } from '../helpers/redact';
import { talkFailed, type Talk } from '../helpers/talk';
import { abortableSleep } from '../helpers/sleep';
import { runPool } from '../helpers/pool';
import { checkToken, executionSecret, withQuery } from './webhook-token';
import type { BatchRecord } from './webhook-store';

/*
 * What both sides of Wait Mode "Webhook" use (webhook.ts starts a batch, webhook-resume.ts takes the
 * calls of the resume URL): the resume URL and the node's own calls of it, the execution's secret,
 * and a batch's entries and how they become the node's output.
 */

/** The execution's resume URL (with n8n's own token in 2.x), as n8n builds it in any process. */
export function resumeUrlOf(ctx: IExecuteFunctions | IWebhookFunctions): string {
	return String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0) ?? '');
}

export async function secretOf(ctx: DIdContext, executionId: string): Promise<Buffer> {
	return executionSecret(await credentialKey.call(ctx), executionId);
}

export interface Entry {
	index: number;
	ready?: INodeExecutionData[];
	talk?: Talk;
	uploads?: Uploads;
	/** Not ended at the timeout: the item's error. */
	timedOut?: Error;
}

export async function post(
	ctx: DIdContext,
	url: string,
): Promise<{ status: number; reason?: string }> {
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

/** What the node's own calls of the resume URL are for: the batch, the resume URL, the execution's secret. */
export interface OwnCallTarget {
	id: string;
	resumeUrl: string;
	secret: Buffer;
}

/** The node's own calls: tried again while n8n answers 409 to a sweep (the execution is not saved as waiting yet) or 5xx. */
const SELF_CALL_MAX_MS = 120_000;

export async function selfCall(
	ctx: DIdContext,
	batch: OwnCallTarget,
	check: 'sweep' | 'timeout',
): Promise<number> {
	const url = checkUrl(batch, check);
	// Until the execution is saved as waiting (a few milliseconds) n8n refuses the call (409, or
	// 500 while its data is written): the sweep tries again shortly. At the timeout the execution
	// has long waited, so a 409 means it is running or done: nothing to check. 404 or 401: the
	// execution is gone or done.
	let delay = 25;
	let status = 0;
	for (
		let waited = 0;
		waited < SELF_CALL_MAX_MS;
		waited += delay, delay = Math.min(delay * 2, 2000)
	) {
		status = (await post(ctx, url)).status;
		if (status >= 200 && status < 500 && (status !== 409 || check === 'timeout')) return status;
		await abortableSleep(delay);
	}
	return status;
}

/** One of the node's own calls, made once (no retry): n8n's answer, 0 when none came. */
export async function checkOnce(
	ctx: DIdContext,
	batch: OwnCallTarget,
	check: 'sweep' | 'timeout',
): Promise<number> {
	return (await post(ctx, checkUrl(batch, check))).status;
}

/**
 * The path (after the resume URL) of the node's own calls: a restart webhook of the D-ID node only
 * (DId.node.ts), so a call made after the batch completed reaches no other waiting node.
 */
export const CHECK_PATH = 'd-id-check';

/** The URL of one of the node's own calls: the resume URL + CHECK_PATH, signed for the batch and the check. */
export function checkUrl(batch: OwnCallTarget, check: 'sweep' | 'timeout'): string {
	const url = new URL(batch.resumeUrl);
	url.pathname = `${url.pathname.replace(/\/+$/, '')}/${CHECK_PATH}`;
	return withQuery(url.toString(), {
		dIdCheck: check,
		dIdToken: checkToken(batch.secret, batch.id, check),
	});
}

const DOWNLOAD_CONCURRENCY = 4;

export function outputOf(entries: Entry[]): INodeExecutionData[] {
	const output: INodeExecutionData[] = [];
	for (const entry of entries) {
		for (const item of entry.ready ?? [])
			output.push({ ...item, json: redactTalk(item.json), pairedItem: { item: entry.index } });
	}
	return output;
}

/** Every item's result in input order, paired; downloads the videos when asked. */
export async function finish(
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
