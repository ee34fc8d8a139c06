import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { abortableSleep, cancelledError, getTalk, listTalks } from '../transport';
import { talkFailed, talkTimedOut, type Talk } from '../helpers/talk';

// The talk model lives in helpers/talk.ts; these stay importable from here.
export { FINAL_STATUSES, talkFailed, talkTimedOut, type Talk } from '../helpers/talk';

const FIRST_CHECK_MS = 1000;
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 5000;
const INTERVAL_SHARE = 0.2;
/**
 * With several talks waiting, one list request looks at all of them, so it can come more often:
 * every 5 s divided by the number of talks, at least every second (5 or more talks: every second),
 * and the batch keeps that pace to its last talk (which is then read with GET /talks/{id}).
 */
const LIST_INTERVAL_BUDGET_MS = 5000;
/** The spec promises no list order: a look reads up to this many pages for the batch's talks. */
const LIST_MAX_PAGES = 5;

/**
 * When to look next: early checks are cheap to miss, so the interval grows with the time already
 * spent (a fifth of it), between 1 and 5 seconds. See bench/ for what this costs and saves.
 */
export function nextPollDelay(elapsedMs: number, checks: number): number {
	if (checks === 0) return FIRST_CHECK_MS;
	return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, elapsedMs * INTERVAL_SHARE));
}

interface Waiter {
	talkId: string;
	itemIndex: number;
	startedAt: number;
	deadline: number;
	timeoutMs: number;
	signal?: AbortSignal;
	lastStatus: string;
	resolve(talk: Talk): void;
	reject(error: Error): void;
}

interface Poller {
	waiters: Map<string, Waiter>;
	checks: number;
	running: boolean;
	/** The most talks waited for at once in this run: a batch keeps its pace to the last talk. */
	peak: number;
}

/** One poller per node run (the execute context is shared by all items of a run). */
const pollers = new WeakMap<object, Poller>();

/**
 * Waits until the talk is done, failed, rejected, or the timeout passes. All talks a node run
 * waits for share one poller: one talk is checked with GET /talks/{id}; several are looked at
 * together with one GET /talks (D-ID's list, in whatever order it gives it, up to a few pages),
 * so the cost does not grow with the number of items, and the list can be read every second. A
 * talk the list did not show is read with GET /talks/{id}.
 */
export async function waitForTalk(
	this: IExecuteFunctions,
	talkId: string,
	options: { timeoutMs: number; itemIndex: number; signal?: AbortSignal; startedAt?: number },
): Promise<Talk> {
	let poller = pollers.get(this);
	if (!poller) {
		poller = { waiters: new Map(), checks: 0, running: false, peak: 0 };
		pollers.set(this, poller);
	}
	const startedAt = options.startedAt ?? Date.now();
	const talk = new Promise<Talk>((resolve, reject) => {
		poller.waiters.set(talkId, {
			talkId,
			itemIndex: options.itemIndex,
			startedAt,
			deadline: startedAt + options.timeoutMs,
			timeoutMs: options.timeoutMs,
			signal: options.signal,
			lastStatus: 'created',
			resolve,
			reject,
		});
	});
	if (!poller.running) void runPoller(this, poller);
	return await talk;
}

async function runPoller(ctx: IExecuteFunctions, poller: Poller): Promise<void> {
	poller.running = true;
	let lastCheck = 0;
	try {
		while (poller.waiters.size) {
			const waiters = [...poller.waiters.values()];
			const now = Date.now();
			const oldest = Math.min(...waiters.map((w) => w.startedAt));
			// A newcomer gets its first look after FIRST_CHECK_MS, like a single talk would.
			let delay = nextPollDelay(now - oldest, poller.checks);
			poller.peak = Math.max(poller.peak, waiters.length);
			if (poller.peak > 1)
				delay = Math.min(delay, Math.max(MIN_INTERVAL_MS, LIST_INTERVAL_BUDGET_MS / poller.peak));
			let due = (lastCheck || oldest) + delay;
			// A talk that joined since the last look gets its first look after FIRST_CHECK_MS.
			const newcomers = waiters.filter((w) => lastCheck && w.startedAt >= lastCheck);
			if (newcomers.length)
				due = Math.min(due, Math.min(...newcomers.map((w) => w.startedAt)) + FIRST_CHECK_MS);
			const nearestDeadline = Math.min(...waiters.map((w) => w.deadline));
			await abortableSleep(Math.max(0, Math.min(due, nearestDeadline) - now), oneSignal(waiters));
			for (const waiter of [...poller.waiters.values()]) {
				if (waiter.signal?.aborted) {
					poller.waiters.delete(waiter.talkId);
					waiter.reject(cancelledError(ctx, waiter.itemIndex));
				}
			}
			if (!poller.waiters.size) break;
			lastCheck = Date.now();
			poller.checks++;
			await checkAll(ctx, poller);
		}
	} finally {
		poller.running = false;
	}
}

/** A signal that aborts when any waiter's does (the items of a run usually share one). */
function oneSignal(waiters: Waiter[]): AbortSignal | undefined {
	const signals = [
		...new Set(waiters.map((w) => w.signal).filter((s): s is AbortSignal => s !== undefined)),
	];
	if (signals.length <= 1) return signals[0];
	const controller = new AbortController();
	for (const signal of signals) {
		if (signal.aborted) controller.abort();
		else signal.addEventListener('abort', () => controller.abort(), { once: true });
	}
	return controller.signal;
}

async function checkAll(ctx: IExecuteFunctions, poller: Poller): Promise<void> {
	const waiters = [...poller.waiters.values()];
	const seen = new Map<string, Talk>();
	try {
		if (waiters.length > 1) {
			const waiting = (talk: IDataObject) => poller.waiters.has(String(talk.id));
			const { talks } = await listTalks.call(ctx, {
				maxPages: LIST_MAX_PAGES,
				itemIndex: waiters[0].itemIndex,
				signal: waiters[0].signal,
				enough: (listed) => listed.filter(waiting).length >= waiters.length,
			});
			for (const talk of talks.filter(waiting) as Talk[]) seen.set(talk.id, talk);
		}
		// A single talk, one the list did not show, or a finished one the list gave without its link.
		for (const waiter of waiters) {
			const listed = seen.get(waiter.talkId);
			if (listed && !(listed.status === 'done' && !listed.result_url)) continue;
			const talk = (await getTalk.call(ctx, waiter.talkId, {
				itemIndex: waiter.itemIndex,
				signal: waiter.signal,
			})) as Talk;
			seen.set(waiter.talkId, talk);
		}
	} catch (error) {
		// The transport already retried; what it could not get fails every item still waiting.
		for (const waiter of waiters) {
			if (!poller.waiters.delete(waiter.talkId)) continue;
			waiter.reject(
				waiter.signal?.aborted ? cancelledError(ctx, waiter.itemIndex) : (error as Error),
			);
		}
		return;
	}
	const now = Date.now();
	for (const waiter of waiters) {
		const talk = seen.get(waiter.talkId);
		if (talk) waiter.lastStatus = talk.status;
		if (talk?.status === 'done' && talk.result_url) {
			poller.waiters.delete(waiter.talkId);
			waiter.resolve(talk);
		} else if (talk && (talk.status === 'error' || talk.status === 'rejected')) {
			poller.waiters.delete(waiter.talkId);
			waiter.reject(talkFailed(ctx, talk, waiter.itemIndex));
		} else if (now >= waiter.deadline) {
			poller.waiters.delete(waiter.talkId);
			waiter.reject(
				talkTimedOut(
					ctx,
					waiter.talkId,
					waiter.timeoutMs,
					waiter.lastStatus,
					waiter.itemIndex,
					'The talk keeps rendering at D-ID and nothing is lost: raise the Timeout, or run Talk → Wait later with this talk ID.',
				),
			);
		}
	}
}
