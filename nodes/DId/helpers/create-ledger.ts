import type { IDataObject } from 'n8n-workflow';

import { NodeOperationError, sleep } from 'n8n-workflow';

import { dIdApiRequest, listTalksSince, type DIdContext } from '../transport';

/*
 * Exactly one talk per item, also when the connection breaks after POST /talks was sent (or D-ID
 * answers 500/502/504, which may come after the talk was made). D-ID has no idempotency key, so a
 * blind retry could create (and bill) a second talk, and no retry could leave the item without one.
 * Instead the node asks D-ID: it lists the talks created since the request and looks for one
 * that matches what it sent (source_url, user_data, name, webhook) and that no other item of this
 * run has claimed. Found: that is the item's talk. None: the request never took effect, and is
 * sent again. More than one, or another item waiting with the same fields: the item fails with
 * the candidates named, rather than guess.
 *
 * To make "not claimed" mean something, a lookup waits until no other POST /talks of this n8n
 * process is in flight (new ones wait for it), and lookups run one at a time. Talks created in
 * the same seconds with the same fields by another n8n instance cannot be told apart: give items
 * their own User Data.
 */

const CLOCK_SKEW_MS = 2_000;
const MAX_PAGES = 10;
const SIGNATURE_FIELDS = ['source_url', 'user_data', 'name', 'webhook'];
/** Talks this process received from POST /talks are remembered this long (longer than any lookup window). */
const CLAIM_MEMORY_MS = 15 * 60_000;

/** One ledger for the n8n process: talks made by other runs of this process are not claimable either. */
const ledger = {
	claimed: new Map<string, number>(),
	inFlight: 0,
	lookups: Promise.resolve(),
	lookingUp: 0,
	waiting: [] as string[],
};
type Ledger = typeof ledger;

function claim(id: string): void {
	const now = Date.now();
	ledger.claimed.set(id, now);
	if (ledger.claimed.size % 100 === 0) {
		for (const [talkId, at] of ledger.claimed) if (now - at > CLAIM_MEMORY_MS) ledger.claimed.delete(talkId);
	}
}

function signatureOf(body: IDataObject): string {
	return JSON.stringify(SIGNATURE_FIELDS.map((field) => body[field] ?? null));
}

/** POST /talks for one item: exactly one talk, or a clear error. */
export async function createTalkOnce(
	ctx: DIdContext,
	body: IDataObject,
	headers: IDataObject,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IDataObject> {
	while (ledger.lookingUp > 0) await sleep(50); // a lookup is counting on no new talks appearing
	ledger.inFlight++;
	let counted = true;
	const sentAt = Date.now();
	const signature = signatureOf(body);
	try {
		const talk = await dIdApiRequest.call(ctx, 'POST', '/talks', {
			body,
			headers,
			itemIndex,
			signal,
			idempotent: false,
			reconcile: async () => {
				if (counted) {
					ledger.inFlight--;
					counted = false;
				}
				return await lookUp(ctx, ledger, signature, sentAt, itemIndex, signal);
			},
		});
		if (typeof talk.id === 'string') claim(talk.id);
		return talk;
	} finally {
		if (counted) ledger.inFlight--;
	}
}

async function lookUp(
	ctx: DIdContext,
	ledger: Ledger,
	signature: string,
	sentAt: number,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IDataObject | undefined> {
	ledger.waiting.push(signature);
	ledger.lookingUp++;
	const previous = ledger.lookups;
	let release!: () => void;
	ledger.lookups = new Promise<void>((resolve) => (release = resolve));
	try {
		await previous;
		while (ledger.inFlight > 0 && !signal?.aborted) await sleep(50);
		const since = sentAt - CLOCK_SKEW_MS;
		const talks = await listTalksSince.call(ctx, since, { maxPages: MAX_PAGES, itemIndex, signal });
		const candidates = talks.filter(
			(talk) => Date.parse(String(talk.created_at)) >= since && !ledger.claimed.has(String(talk.id)) && signatureOf(talk) === signature,
		);
		const twins = ledger.waiting.filter((s) => s === signature).length - 1;
		if (candidates.length === 0) return undefined; // never created: safe to send again
		if (candidates.length === 1 && twins === 0) {
			claim(String(candidates[0].id));
			return candidates[0];
		}
		throw new NodeOperationError(
			ctx.getNode(),
			`The connection to D-ID broke after the request was sent, and D-ID has ${candidates.length} talk(s) that could be this item’s: ${candidates.map((talk) => talk.id).join(', ')}`,
			{
				itemIndex,
				description:
					'Other items of this run were sent with the same image, user data, name and webhook, so the node did not guess which talk is whose, and did not create another. Give each item its own User Data to make this unambiguous; wait for these talks with Talk → Wait.',
			},
		);
	} finally {
		ledger.waiting.splice(ledger.waiting.indexOf(signature), 1);
		ledger.lookingUp--;
		release();
	}
}
