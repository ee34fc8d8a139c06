import type { IDataObject } from 'n8n-workflow';

import { dIdApiRequest, type DIdContext } from './request';

/** Talk-level calls: one talk by its ID, and D-ID's talk list page by page. */

interface TalkCall {
	itemIndex?: number;
	signal?: AbortSignal;
}

/** GET /talks/{id}; errors name the talk. */
export async function getTalk(
	this: DIdContext,
	talkId: string,
	call?: TalkCall,
): Promise<IDataObject> {
	return await oneTalk.call(this, 'GET', talkId, call);
}

/** DELETE /talks/{id} (retried as reads are: deleting twice deletes nothing more); errors name the talk. */
export async function deleteTalk(
	this: DIdContext,
	talkId: string,
	call?: TalkCall,
): Promise<IDataObject> {
	return await oneTalk.call(this, 'DELETE', talkId, call);
}

async function oneTalk(
	this: DIdContext,
	method: 'GET' | 'DELETE',
	talkId: string,
	{ itemIndex, signal }: TalkCall = {},
): Promise<IDataObject> {
	return await dIdApiRequest.call(this, method, `/talks/${encodeURIComponent(talkId)}`, {
		itemIndex,
		signal,
		talkId,
	});
}

const LIST_PAGE_LIMIT = 100;

export interface TalkPage {
	talks: IDataObject[];
	/** True when D-ID gave no next page: no token, an empty page, or a token it gave before. */
	last: boolean;
	/** D-ID's `Date` header for this page, in ms (NaN without one). */
	serverDate: number;
	/** This machine's clock when the page was requested. */
	requestedAt: number;
}

/**
 * GET /talks, page by page, following D-ID's `token`: the one paging loop of the package (List,
 * the poller, the create ledger). The spec promises no order, so a page says nothing about the
 * next one. Paging ends at the last page (a server that keeps handing out the same token must not
 * keep the node paging forever) or when the caller stops iterating. `pageSize` is asked before
 * each request with the number of talks listed so far (at most 100 a page).
 */
export async function* talkPages(
	this: DIdContext,
	options: TalkCall & { pageSize?: (listedSoFar: number) => number } = {},
): AsyncGenerator<TalkPage> {
	const tokens = new Set<string>();
	let token: string | undefined;
	let listed = 0;
	for (;;) {
		const requestedAt = Date.now();
		let serverDate = NaN;
		const qs: IDataObject = {
			limit: Math.min(LIST_PAGE_LIMIT, options.pageSize?.(listed) ?? LIST_PAGE_LIMIT),
		};
		if (token) qs.token = token;
		const result = await dIdApiRequest.call(this, 'GET', '/talks', {
			qs,
			itemIndex: options.itemIndex,
			signal: options.signal,
			onHeaders: (headers) => {
				serverDate = Date.parse(String(headers.date ?? ''));
			},
		});
		const talks = (result.talks as IDataObject[] | undefined) ?? [];
		listed += talks.length;
		token = typeof result.token === 'string' && result.token ? result.token : undefined;
		const last = !token || talks.length === 0 || tokens.has(token);
		if (token) tokens.add(token);
		yield { talks, last, serverDate, requestedAt };
		if (last) return;
	}
}

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
 * D-ID's talk list for a lookup: pages are read until the last one, until `enough(talksSoFar)`
 * holds, or for `maxPages` pages (then `complete` is false). Nothing is concluded from the
 * dates on a page (no order is promised).
 */
export async function listTalks(
	this: DIdContext,
	options: {
		maxPages: number;
		itemIndex?: number;
		signal?: AbortSignal;
		enough?: (talks: IDataObject[]) => boolean;
	},
): Promise<TalkList> {
	const list: TalkList = { talks: [], complete: false, localNow: Date.now() };
	if (options.maxPages < 1) return list;
	let pages = 0;
	for await (const page of talkPages.call(this, {
		itemIndex: options.itemIndex,
		signal: options.signal,
	})) {
		if (pages++ === 0) {
			list.localNow = page.requestedAt;
			if (Number.isFinite(page.serverDate)) list.serverNow = page.serverDate;
		}
		list.talks.push(...page.talks);
		if (page.last) {
			list.complete = true;
			break;
		}
		if (options.enough?.(list.talks) || pages >= options.maxPages) break;
	}
	return list;
}
