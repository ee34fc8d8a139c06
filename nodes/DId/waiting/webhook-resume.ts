import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { getTalk, listTalks } from '../transport';
import { withItemIndex } from '../helpers/errors';
import { FINAL_STATUSES, talkTimedOut, type Talk } from '../helpers/talk';
import { abortableSleep } from '../helpers/sleep';
import { checkToken, sameToken, talkToken } from './webhook-token';
import { loadBatch, type BatchRecord } from './webhook-store';
import { checkOnce, finish, resumeUrlOf, secretOf, selfCall, type Entry } from './webhook-batch';

/*
 * Wait Mode "Webhook", the webhook side: a call of the execution's resume URL (D-ID's, or the
 * node's own "sweep" and "timeout"), the look at the batch it leads to, and the batch's
 * completion. How a batch starts and what each part guarantees: webhook.ts.
 */

/** Completions under way in this process (a duplicate call gets "completing", not a second resume). */
const completing = new Set<string>();
/** Timeout calls scheduled by this process (one per batch), so a restarted worker does not leave the batch without one. */
const timeoutsScheduled = new Set<string>();
/** Later looks scheduled by this process after a failed one (one series per batch). */
const sweepsScheduled = new Set<string>();

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
 * batches with one under way), with the resume URL as n8n builds it here. The URL is an expression
 * (`$execution.resumeUrl`), evaluated only when a task starts: in n8n 2.x each evaluation in a
 * call may cost n8n a new expression isolate (~0.1 s of CPU), and most calls start nothing.
 */
function inBackground(
	ctx: IWebhookFunctions,
	scheduled: Set<string>,
	batch: string,
	task: (resumeUrl: string) => Promise<void>,
): void {
	if (scheduled.has(batch)) return;
	const resumeUrl = resumeUrlOf(ctx);
	if (!resumeUrl) return;
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
		for (const delay of LATER_SWEEP_MS) {
			await abortableSleep(delay);
			const status = await checkOnce(ctx, { id: record.batch, resumeUrl, secret }, 'sweep');
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

/** Re-reads of a talk whose webhook said it ended while D-ID's read did not yet: 0.5 s doubling to 8 s. */
const RECHECK_FIRST_MS = 500;
const RECHECK_MAX_MS = 8_000;
const RECHECK_TOTAL_MS = 30_000;
/**
 * A look at the batch reads at most this many list pages (100 talks each), then asks for the talks
 * not seen one by one. In a busy account (other batches, other executions, other tools) the
 * batch's talks are not on the first pages; each one read by ID instead costs a request per call
 * for every talk that ended before the first one still rendering.
 */
const LIST_MAX_PAGES = 10;

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
