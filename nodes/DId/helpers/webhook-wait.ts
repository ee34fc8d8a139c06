import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { baseUrlOf, dIdApiRequest, isLoopback, type DIdContext } from '../transport';
import { deleteUploads, doneTalkItem, type Uploads } from './cleanup';
import { errorJson, withItemIndex } from './errors';
import { redactTalk } from './redact';
import { FINAL_STATUSES, talkFailed, talkTimedOut, type Talk } from './polling';
import { abortableSleep } from './sleep';
import { HTTP_URL, HTTPS_URL, invalid } from './validation';

/*
 * Wait Mode "Webhook": the node gives D-ID n8n's resume URL as each talk's webhook, puts the
 * execution to wait (no worker held, no status requests) and is resumed by D-ID's calls.
 *
 * n8n resumes a waiting execution with the output of the node's webhook() for ONE call; a call
 * whose webhook() returns no workflowData leaves the execution waiting. So each D-ID call is
 * checked (token, talk of this batch, confirmed with one GET /talks/{id}) and recorded, and only
 * the call that completes the batch returns every item's result: the execution resumes once.
 *
 * Order matters: n8n refuses (409) calls of the resume URL until the execution is saved as
 * waiting, so a talk that ended before that would never be heard of. The node therefore checks
 * every item first, puts the execution to wait, and only then creates the talks, in a call of
 * the resume URL it makes itself ("start"). The timeout is such a call too: each talk still open
 * is checked once. The batch's state lives in this n8n process (n8n keeps no node state across
 * webhook calls of a waiting execution).
 */

/** n8n's own timeout comes later than ours: ours checks the talks, n8n's only passes items through. */
const N8N_TIMEOUT_GRACE_MS = 5 * 60_000;
const DOWNLOAD_CONCURRENCY = 4;
/** Re-reads of a talk whose webhook said it ended while GET /talks/{id} did not yet: 0.5 s doubling to 15 s. */
const RECHECK_FIRST_MS = 500;
const RECHECK_MAX_MS = 15_000;

export type WaitMode = 'poll' | 'webhook';

/** What starting one item gives: a talk to wait for, or an output that needs no waiting. */
export interface Started {
	talk?: Talk;
	ready?: INodeExecutionData[];
	/** What was uploaded for the item (deleted after the talk ends when asked). */
	uploads?: Uploads;
}
export type StartItem = (ctx: DIdContext, i: number, signal: AbortSignal) => Promise<Started>;

interface Entry {
	index: number;
	talkId?: string;
	/** Output already known (a failure under Continue On Fail, or a talk that is not waited for). */
	ready?: INodeExecutionData[];
	/** The talk as confirmed by GET /talks/{id} once it ended. */
	talk?: Talk;
	timedOut?: { status: string };
	/**
	 * A talk D-ID said ended before the item's create returned (its answer was lost and the
	 * create was still finding the talk D-ID made): confirmed once the create names it.
	 */
	endedEarly?: string;
	uploads?: Uploads;
}

interface Batch {
	key: string;
	secret: Buffer;
	resumeUrl: string;
	timeoutMs: number;
	download: boolean;
	binaryProperty: string;
	deleteUploads: boolean;
	deleteTalk: boolean;
	continueOnFail: boolean;
	concurrency: number;
	start?: StartItem;
	entries: Entry[];
	waitStartedAt: number;
	started: boolean;
	finishing: boolean;
	timers: AbortController;
}

const batches = new Map<string, Batch>();

function keyOf(executionId: string | undefined, nodeName: string): string {
	return `${executionId ?? 'unknown'}\u0000${nodeName}`;
}

function sign(secret: Buffer, value: string): string {
	return createHmac('sha256', secret).update(value).digest('hex');
}

function sameToken(a: string, b: string): boolean {
	const left = Buffer.from(a);
	const right = Buffer.from(b);
	return left.length === right.length && timingSafeEqual(left, right);
}

/** Wait Mode of the node (the same for every item: the execution waits as a whole). */
export function waitModeOf(ctx: IExecuteFunctions): WaitMode {
	return ctx.getNodeParameter('waitMode', 0, 'poll') === 'webhook' ? 'webhook' : 'poll';
}

/**
 * Opens the batch of this node run before any item is prepared, so Create can put each item's
 * callback URL into its request. Fails (before any request) when D-ID could not reach n8n.
 */
export async function openBatch(
	ctx: IExecuteFunctions,
	settings: { timeoutMs: number; download: boolean; binaryProperty: string; deleteUploads: boolean; deleteTalk: boolean },
	concurrency: number,
): Promise<Batch> {
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0) ?? '');
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
	const batch: Batch = {
		key: keyOf(ctx.getExecutionId(), ctx.getNode().name),
		secret: randomBytes(32),
		resumeUrl,
		...settings,
		continueOnFail: ctx.continueOnFail(),
		concurrency,
		entries: [],
		waitStartedAt: 0,
		started: false,
		finishing: false,
		timers: new AbortController(),
	};
	batches.get(batch.key)?.timers.abort();
	batches.set(batch.key, batch);
	return batch;
}

/** The webhook URL for item `i`'s talk: the execution's resume URL with the item and its token. */
export function callbackUrl(ctx: IExecuteFunctions, i: number): string {
	const batch = batches.get(keyOf(ctx.getExecutionId(), ctx.getNode().name));
	if (!batch) throw new NodeOperationError(ctx.getNode(), 'Wait Mode "Webhook": no open batch', { itemIndex: i });
	const url = new URL(batch.resumeUrl);
	url.searchParams.set('dIdItem', String(i));
	url.searchParams.set('dIdToken', sign(batch.secret, `item:${i}`));
	return url.toString();
}

export function isWaiting(batch: Batch): boolean {
	return batch.waitStartedAt > 0 && batches.get(batch.key) === batch;
}

export function closeBatch(ctx: IExecuteFunctions): void {
	const key = keyOf(ctx.getExecutionId(), ctx.getNode().name);
	batches.get(key)?.timers.abort();
	batches.delete(key);
}

/**
 * Every item was checked; `refused` holds the output of items refused under Continue On Fail.
 * Puts the execution to wait; the talks are created by the "start" call once n8n accepts calls.
 */
export async function startWaiting(
	ctx: IExecuteFunctions,
	batch: Batch,
	count: number,
	refused: Map<number, INodeExecutionData[]>,
	start: StartItem,
): Promise<INodeExecutionData[][]> {
	batch.start = start;
	batch.entries = Array.from({ length: count }, (_, index) => ({ index, ready: refused.get(index) }));
	if (batch.entries.every(ended)) return [await finish(ctx, batch)];
	batch.waitStartedAt = Date.now();
	await ctx.putExecutionToWait(new Date(batch.waitStartedAt + batch.timeoutMs + N8N_TIMEOUT_GRACE_MS));
	void runTimers(ctx, batch);
	return [ctx.getInputData()];
}

function ended(entry: Entry): boolean {
	return entry.ready !== undefined || entry.talk !== undefined || entry.timedOut !== undefined;
}

/** The start and the timeout, as calls of the resume URL (so they run in webhook()). */
async function runTimers(ctx: IExecuteFunctions, batch: Batch): Promise<void> {
	const signal = batch.timers.signal;
	await callSelf(ctx, batch, 'start');
	const left = batch.waitStartedAt + batch.timeoutMs - Date.now();
	await abortableSleep(Math.max(0, left), signal);
	if (!signal.aborted) await callSelf(ctx, batch, 'timeout');
	// An execution cancelled or deleted while waiting never completes its batch: forget it.
	if (batches.get(batch.key) === batch && !batch.finishing) {
		batch.timers.abort();
		batches.delete(batch.key);
	}
}

async function callSelf(ctx: IExecuteFunctions, batch: Batch, check: 'start' | 'timeout'): Promise<void> {
	const url = new URL(batch.resumeUrl);
	url.searchParams.set('dIdCheck', check);
	url.searchParams.set('dIdToken', sign(batch.secret, `check:${check}`));
	// Until the execution is saved as waiting (a few milliseconds) n8n refuses the call (409, or
	// 500 while the execution's data is being written): try again shortly, until webhook() took it.
	const taken = () => (check === 'start' ? batch.started : batch.finishing || batches.get(batch.key) !== batch);
	let delay = 25;
	for (let waited = 0; waited < 120_000 && !batch.timers.signal.aborted; waited += delay, delay = waited < 1000 ? 25 : Math.min(delay * 2, 2000)) {
		let status = 0;
		try {
			const response = await ctx.helpers.httpRequest({
				method: 'POST',
				url: url.toString(),
				body: {},
				json: true,
				timeout: 30 * 60_000,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			});
			status = (response as { statusCode: number }).statusCode;
		} catch {
			status = 0; // n8n not answering (yet): try again
		}
		if ((status >= 200 && status < 300) || taken()) return;
		await abortableSleep(delay, batch.timers.signal);
	}
}

/** webhook() of the D-ID node: a call of the execution's resume URL. */
export async function onResumeCall(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const executionId = this.getExecutionId?.() ?? /\/webhook-waiting\/([^/?]+)/.exec(this.getRequestObject().url ?? '')?.[1];
	const batch = batches.get(keyOf(executionId, this.getNode().name));
	const query = this.getQueryData() as IDataObject;
	const respond = (status: number, body: IDataObject): IWebhookResponseData => {
		this.getResponseObject().status(status).json(body);
		return { noWebhookResponse: true };
	};
	if (!batch) {
		throw new NodeOperationError(this.getNode(), 'D-ID called back, but this n8n process no longer knows the talks this execution waited for', {
			description:
				'Wait Mode "Webhook" keeps its list of talks in the n8n process that started the wait; n8n was restarted (or runs in queue mode) since. The talks are not lost at D-ID: run Talk → Wait with Wait Mode "Poll" on their IDs.',
		});
	}
	if (batch.finishing) return respond(200, { received: true, note: 'already complete' });

	const check = typeof query.dIdCheck === 'string' ? query.dIdCheck : undefined;
	const token = typeof query.dIdToken === 'string' ? query.dIdToken : '';
	if (check) {
		if (!sameToken(token, sign(batch.secret, `check:${check}`))) return respond(401, { error: 'invalid token' });
		if (check === 'start') {
			if (!batch.started) {
				batch.started = true;
				await startItems(this, batch);
			}
		} else {
			const open = batch.entries.filter((e) => !ended(e));
			await Promise.all(open.map(async (entry) => await confirm(this, entry, true)));
		}
		return await completeIfDone(this, batch, { received: true });
	}

	// A call from D-ID: the talk must be one of this batch (and carry its item's token when it was
	// created by this node), and is believed only after GET /talks/{id} confirms it ended.
	const item = query.dIdItem === undefined ? undefined : String(query.dIdItem);
	if ((item !== undefined || token) && !sameToken(token, sign(batch.secret, `item:${item}`))) {
		return respond(401, { error: 'invalid token' });
	}
	const body = this.getBodyData() as IDataObject;
	const talkId = typeof body.id === 'string' ? body.id : '';
	const entry = batch.entries.find((e) => e.talkId !== undefined && e.talkId === talkId);
	const early = item !== undefined && !entry ? batch.entries.find((e) => String(e.index) === item && e.talkId === undefined) : undefined;
	if (early && talkId && FINAL_STATUSES.includes(String(body.status))) {
		early.endedEarly = talkId;
		return respond(200, { received: true, note: 'the item’s talk is being looked up' });
	}
	if (!entry || (item !== undefined && item !== String(entry.index))) {
		return respond(200, { received: true, note: 'not a talk of this execution' });
	}
	this.getResponseObject().status(200).json({ received: true });
	if (!ended(entry)) {
		if (FINAL_STATUSES.includes(String(body.status))) await confirmEnded(this, batch, entry);
		else await confirm(this, entry, false);
	}
	return await completeIfDone(this, batch);
}

/** The "start" call: creates the talks (or reads them, for Talk → Wait), at most `concurrency` at a time. */
async function startItems(ctx: IWebhookFunctions, batch: Batch): Promise<void> {
	const stop = new AbortController();
	let failure: Error | undefined;
	const queue = batch.entries.filter((e) => !ended(e));
	const worker = async () => {
		for (let entry = queue.shift(); entry && !stop.signal.aborted; entry = queue.shift()) {
			try {
				const started = await batch.start!(ctx, entry.index, stop.signal);
				if (started.ready) entry.ready = started.ready;
				else if (started.talk) {
					entry.talkId = started.talk.id;
					entry.uploads = started.uploads;
					if (FINAL_STATUSES.includes(started.talk.status) && !ended(entry)) entry.talk = started.talk;
					else if (entry.endedEarly === entry.talkId) await confirmEnded(ctx, batch, entry);
				}
			} catch (error) {
				if (batch.continueOnFail) entry.ready = [{ json: errorJson(error as Error) }];
				else if (!failure) {
					failure = withItemIndex(ctx, error, entry.index);
					stop.abort();
				}
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(batch.concurrency, queue.length) }, worker));
	if (failure) {
		// Without Continue On Fail the first failure ends the node, as in Poll mode.
		batch.finishing = true;
		batch.timers.abort();
		batches.delete(batch.key);
		throw failure;
	}
}

/**
 * D-ID said the talk ended; its read API is a separate system and may still say it is rendering
 * (the spec promises no read-after-webhook consistency). Reads again with backoff until the read
 * agrees, the batch completes, or the timeout (whose own check then takes over).
 */
async function confirmEnded(ctx: IWebhookFunctions, batch: Batch, entry: Entry): Promise<void> {
	const deadline = batch.waitStartedAt + batch.timeoutMs;
	for (let delay = RECHECK_FIRST_MS; ; delay = Math.min(delay * 2, RECHECK_MAX_MS)) {
		await confirm(ctx, entry, false);
		if (ended(entry) || batch.finishing || batch.timers.signal.aborted) return;
		const left = deadline - Date.now();
		if (left <= 0) return;
		await abortableSleep(Math.min(delay, left), batch.timers.signal);
	}
}

/** One GET /talks/{id}: records the talk when it ended (or, at the timeout, that it did not). */
async function confirm(ctx: IWebhookFunctions, entry: Entry, atTimeout: boolean): Promise<void> {
	if (!entry.talkId) {
		if (atTimeout) entry.timedOut = { status: 'not created' };
		return;
	}
	try {
		const talk = (await dIdApiRequest.call(ctx, 'GET', `/talks/${encodeURIComponent(entry.talkId!)}`, {
			itemIndex: entry.index,
			talkId: entry.talkId,
		})) as Talk;
		if (FINAL_STATUSES.includes(talk.status) && !ended(entry)) entry.talk = talk;
		else if (atTimeout && !ended(entry)) entry.timedOut = { status: talk.status };
	} catch (error) {
		if (atTimeout && !ended(entry)) entry.timedOut = { status: `unknown (${(error as Error).message})` };
	}
}

async function completeIfDone(ctx: IWebhookFunctions, batch: Batch, answer?: IDataObject): Promise<IWebhookResponseData> {
	if (batch.finishing || !batch.entries.every(ended)) {
		if (answer) ctx.getResponseObject().status(200).json(answer);
		return { noWebhookResponse: true };
	}
	if (answer) ctx.getResponseObject().status(200).json(answer);
	batch.finishing = true;
	batch.timers.abort();
	batches.delete(batch.key);
	return { noWebhookResponse: true, workflowData: [await finish(ctx, batch)] };
}

/** Every item's result in input order, paired; downloads the videos when asked. */
async function finish(ctx: IExecuteFunctions | IWebhookFunctions, batch: Batch): Promise<INodeExecutionData[]> {
	const results: INodeExecutionData[][] = new Array(batch.entries.length);
	let next = 0;
	const worker = async () => {
		while (next < batch.entries.length) {
			const entry = batch.entries[next++];
			results[entry.index] = await resultOf(ctx, batch, entry);
		}
	};
	await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, batch.entries.length) }, worker));
	const output: INodeExecutionData[] = [];
	for (const entry of batch.entries) {
		for (const item of results[entry.index] ?? []) output.push({ ...item, json: redactTalk(item.json), pairedItem: { item: entry.index } });
	}
	return output;
}

async function resultOf(ctx: IExecuteFunctions | IWebhookFunctions, batch: Batch, entry: Entry): Promise<INodeExecutionData[]> {
	if (entry.ready) return entry.ready;
	try {
		if (entry.timedOut && !entry.talkId) {
			throw new NodeOperationError(ctx.getNode(), `The item was not sent to D-ID before the timeout`, {
				itemIndex: entry.index,
				description: 'n8n did not accept the node’s own call to start the talks in time. Run the workflow again.',
			});
		}
		if (entry.timedOut) {
			throw talkTimedOut(
				ctx,
				entry.talkId!,
				batch.timeoutMs,
				entry.timedOut.status,
				entry.index,
				'D-ID did not call back in time (its webhook may have been lost) and the talk was checked once. It keeps rendering at D-ID and nothing is lost: run Talk → Wait later with this talk ID.',
			);
		}
		const talk = entry.talk!;
		if (talk.status !== 'done') {
			// The talk ended without a video: its uploads are of no more use.
			if (batch.deleteUploads) await deleteUploads(ctx, entry.uploads, entry.index);
			throw talkFailed(ctx, talk, entry.index);
		}
		return [await doneTalkItem(ctx, talk, batch, entry.uploads, entry.index)];
	} catch (error) {
		if (!batch.continueOnFail) throw withItemIndex(ctx, error, entry.index);
		return [{ json: errorJson(error as Error) }];
	}
}
