import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	abortableSleep,
	cancelledError,
	dIdApiRequest,
	didTime,
	listTalks,
	type DIdContext,
	type TalkList,
} from '../transport';

/*
 * Exactly one talk per item, also when the connection breaks after POST /talks was sent (or D-ID
 * answers 500/502/504, which may come before, or even after, the talk was made). D-ID has no
 * idempotency key, so a blind retry could create (and bill) a second talk, and no retry could leave
 * the item without one. Instead the node asks D-ID, and relies only on what D-ID's spec promises:
 *
 * - Recognising the request: a talk in GET /talks carries only the fields the spec lists for a list
 *   item. Of those, what the node sent and D-ID keeps is `source_url`, `webhook` and `config`; those
 *   must match. `user_data` and `name` are not listed: they narrow the match when D-ID does echo
 *   them and are ignored when it does not. In Wait Mode "Webhook" each item's webhook URL is its
 *   own (it carries the item and a per-run token), so the talk of every item is recognisable.
 *   Requests that share image, webhook and config cannot be told apart by their talks: while a
 *   lookup decides on candidates, no other of this process is sent, and a talk that could be
 *   either of two open lookups is nobody's guess (the item fails naming it).
 * - Talks this process received an answer for are claimed (remembered), so they are no candidate.
 *   Talks an item's error named are disputed: no other item takes one of them for its own.
 * - No list order: every lookup reads the whole list up to MAX_PAGES pages.
 * - No clocks: the window starts WINDOW_SLACK_MS before the request on D-ID's own clock (its `Date`
 *   header), and `created_at` without a zone is UTC.
 * - No read-after-write: a talk may be committed after the failed answer, and listed later still.
 *   The node keeps looking for LOOK_FOR_MS. Found: that is the item's talk. Still nothing: after a
 *   reset or a 500/502 the request is taken as never made and sent again; after a 504 or the node's
 *   own timeout (D-ID was still working on it) the item fails ("may have been created").
 */

/** How long to look again for a talk D-ID may commit after the failed answer (the waits add up to it). */
const LOOK_AGAIN_MS = [1_000, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000];
export const LOOK_FOR_MS = LOOK_AGAIN_MS.reduce((a, b) => a + b, 0);
/** Talks created this long before the request (on D-ID's clock) are still looked at. */
const WINDOW_SLACK_MS = 30_000;
/** Without a `Date` header the window rests on this machine's clock, with a wider margin. */
const WINDOW_SLACK_NO_DATE_MS = 5 * 60_000;
const MAX_PAGES = 20;
/** Candidates named in an error (the rest are counted). */
const MAX_NAMED = 10;
/** Failures after which D-ID is known to have been still working on the request. */
const STILL_WORKING = new Set(['504', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED']);
const CONFIG_FIELDS = [
	'stitch',
	'result_format',
	'fluent',
	'pad_audio',
	'logo',
	'driver_expressions',
];
/** Talks this process received from POST /talks are remembered this long (longer than any lookup window). */
const CLAIM_MEMORY_MS = 15 * 60_000;

interface Lookup {
	body: IDataObject;
}
interface Group {
	/** POST /talks of the group sent and not yet answered (or failed). */
	inFlight: number;
	/** Lookups deciding about candidates: until they are done no new POST /talks of the group goes out. */
	settling: number;
	/** Lookups under way (their requests' answers were lost). */
	waiting: Lookup[];
}

/**
 * One ledger for the n8n process: talks made by other runs of this process are not claimable
 * either. Requests are grouped by what their talks show (image, webhook, config).
 */
const ledger = {
	claimed: new Map<string, number>(),
	disputed: new Map<string, number>(),
	groups: new Map<string, Group>(),
};

function remember(memory: Map<string, number>, id: string): void {
	const now = Date.now();
	memory.set(id, now);
	if (memory.size % 100 === 0) {
		for (const [talkId, at] of memory) if (now - at > CLAIM_MEMORY_MS) memory.delete(talkId);
	}
}
const claim = (id: string) => remember(ledger.claimed, id);
const dispute = (id: string) => remember(ledger.disputed, id);

function configOf(body: IDataObject): IDataObject {
	const config = (body.config ?? {}) as IDataObject;
	const sent: IDataObject = {};
	for (const field of CONFIG_FIELDS) if (config[field] !== undefined) sent[field] = config[field];
	return sent;
}

function groupKey(body: IDataObject): string {
	return JSON.stringify([body.source_url ?? null, body.webhook ?? null, configOf(body)]);
}

function groupOf(key: string): Group {
	let group = ledger.groups.get(key);
	if (!group) {
		group = { inFlight: 0, settling: 0, waiting: [] };
		ledger.groups.set(key, group);
	}
	return group;
}

function release(key: string, group: Group): void {
	if (
		group.inFlight === 0 &&
		group.settling === 0 &&
		group.waiting.length === 0 &&
		ledger.groups.get(key) === group
	)
		ledger.groups.delete(key);
}

function same(a: unknown, b: unknown): boolean {
	if (typeof a === 'string' && typeof b === 'string')
		return a.replace(/^\./, '') === b.replace(/^\./, '');
	return JSON.stringify(a) === JSON.stringify(b);
}

/** Could `talk` (as GET /talks lists it) be what D-ID made of `body`? Fields D-ID left out are unknown, not different. */
export function couldBe(talk: IDataObject, body: IDataObject): boolean {
	if (talk.source_url !== undefined && talk.source_url !== body.source_url) return false;
	if (talk.webhook !== undefined ? talk.webhook !== body.webhook : false) return false;
	const config = (talk.config ?? {}) as IDataObject;
	for (const [field, value] of Object.entries(configOf(body))) {
		if (config[field] !== undefined && !same(config[field], value)) return false;
	}
	for (const field of ['user_data', 'name']) {
		if (talk[field] !== undefined && talk[field] !== body[field]) return false;
	}
	return true;
}

/** POST /talks for one item: exactly one talk, or a clear error. */
export async function createTalkOnce(
	ctx: DIdContext,
	body: IDataObject,
	headers: IDataObject,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IDataObject> {
	const key = groupKey(body);
	let group = groupOf(key);
	// A lookup of this group is deciding, counting on no new talks of it appearing.
	while (group.settling > 0) {
		await abortableSleep(50, signal);
		if (signal?.aborted) throw cancelledError(ctx, itemIndex);
		group = groupOf(key);
	}
	group.inFlight++;
	let counted = true;
	const sentAt = Date.now();
	try {
		const talk = await dIdApiRequest.call(ctx, 'POST', '/talks', {
			body,
			headers,
			itemIndex,
			signal,
			idempotent: false,
			reconcile: async (failure) => {
				if (counted) {
					group.inFlight--;
					counted = false;
				}
				// Sent again when D-ID made nothing: in flight again before the lookup lets others go.
				const resend = () => {
					group.inFlight++;
					counted = true;
				};
				try {
					return await lookUp(ctx, group, body, sentAt, failure, itemIndex, resend, signal);
				} finally {
					release(key, group);
				}
			},
		});
		if (typeof talk.id === 'string') claim(talk.id);
		return talk;
	} finally {
		if (counted) group.inFlight--;
		release(key, group);
	}
}

/*
 * Looking does not hold up other items: only when a look finds candidates does the group settle
 * (no new POST /talks of it, those in flight answered and claimed, or failed and looking up too),
 * and the list is read once more to decide on a still picture.
 */
async function lookUp(
	ctx: DIdContext,
	group: Group,
	body: IDataObject,
	sentAt: number,
	failure: string,
	itemIndex: number,
	resend: () => void,
	signal?: AbortSignal,
): Promise<IDataObject | undefined> {
	const self: Lookup = { body };
	group.waiting.push(self);
	const cancelled = () => cancelledError(ctx, itemIndex);
	let since: number | undefined;
	let complete = true;
	const look = async (): Promise<IDataObject[]> => {
		const list = await listTalks.call(ctx, { maxPages: MAX_PAGES, itemIndex, signal });
		since ??= windowStart(list, sentAt);
		complete = list.complete;
		return unique(list.talks).filter(
			(talk) =>
				!(didTime(talk.created_at) < since!) &&
				!ledger.claimed.has(String(talk.id)) &&
				couldBe(talk, body),
		);
	};
	try {
		for (let attempt = 0; attempt <= LOOK_AGAIN_MS.length; attempt++) {
			if (attempt > 0) await abortableSleep(LOOK_AGAIN_MS[attempt - 1], signal);
			if (signal?.aborted) throw cancelled();
			if ((await look()).length === 0) continue;
			group.settling++;
			try {
				while (group.inFlight > 0 && !signal?.aborted) await abortableSleep(50, signal);
				if (signal?.aborted) throw cancelled();
				const candidates = await look();
				if (candidates.length === 0) continue;
				const others = group.waiting.filter((lookup) => lookup !== self);
				const onlyMine = candidates.filter(
					(talk) => !others.some((other) => couldBe(talk, other.body)),
				);
				const disputed = candidates.some((talk) => ledger.disputed.has(String(talk.id)));
				if (candidates.length === 1 && onlyMine.length === 1 && !disputed) {
					claim(String(candidates[0].id));
					return candidates[0];
				}
				// Named in this item's error: another item whose lookup sees one of them fails too, rather
				// than take it for its own (it may be this item's) or send again (it may be its own).
				for (const talk of candidates) dispute(String(talk.id));
				throw mayHaveBeenCreated(
					ctx,
					itemIndex,
					candidates,
					others.length > 0 ? 'twins' : 'several',
				);
			} finally {
				group.settling--;
			}
		}
		if (!complete) throw mayHaveBeenCreated(ctx, itemIndex, [], 'unread');
		if (STILL_WORKING.has(failure)) throw mayHaveBeenCreated(ctx, itemIndex, [], 'late');
		resend();
		return undefined; // never created: safe to send again
	} finally {
		group.waiting.splice(group.waiting.indexOf(self), 1);
	}
}

function unique(talks: IDataObject[]): IDataObject[] {
	const byId = new Map<string, IDataObject>();
	for (const talk of talks) byId.set(String(talk.id), talk);
	return [...byId.values()];
}

/** The earliest `created_at` the item's talk can have, on D-ID's clock when it gave one. */
function windowStart(list: TalkList, sentAt: number): number {
	if (list.serverNow === undefined) return sentAt - WINDOW_SLACK_NO_DATE_MS;
	return list.serverNow - (list.localNow - sentAt) - WINDOW_SLACK_MS;
}

const WHY = {
	twins:
		'Another item of this run was sent with the same image, webhook and options and its answer was lost too; D-ID lists neither item’s User Data, so the node did not guess which talk is whose, and did not create another.',
	several:
		'More than one talk D-ID made in those seconds matches what this item sent (another workflow or tool may use the same image), so the node did not guess, and did not create another.',
	unread:
		'D-ID’s talk list is too long to read to its end, so the node cannot rule out that D-ID made this talk, and did not create another.',
	late: 'D-ID was still working on the request when the answer failed and has not listed a talk for it since; it may still make one, so the node did not create another.',
};

function mayHaveBeenCreated(
	ctx: DIdContext,
	itemIndex: number,
	candidates: IDataObject[],
	why: keyof typeof WHY,
): NodeOperationError {
	const ids =
		candidates
			.slice(0, MAX_NAMED)
			.map((talk) => talk.id)
			.join(', ') +
		(candidates.length > MAX_NAMED ? ` and ${candidates.length - MAX_NAMED} more` : '');
	const message = candidates.length
		? `The answer of D-ID to this item’s request was lost; the talk may have been created: ${ids}`
		: `The answer of D-ID to this item’s request was lost; the talk may have been created (none listed after ${LOOK_FOR_MS / 1000} s)`;
	return new NodeOperationError(ctx.getNode(), message, {
		itemIndex,
		description: `${WHY[why]} ${candidates.length ? 'Wait for it with Talk → Wait (one of these IDs)' : 'Check Talk → List in a minute, and wait for it with Talk → Wait'} before running this item again. In Wait Mode "Webhook" every item is recognisable by its own webhook URL.`,
	});
}
