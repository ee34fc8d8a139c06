import type { IDataObject } from 'n8n-workflow';

import { listTalks, talkPages, type DIdContext } from '../../nodes/DId/transport';

// The one GET /talks paging loop (List, the poller, the create ledger). A server that repeats a
// token is something the sandbox never does, so a stand-in context answers the pages here.
type Page = { talks: IDataObject[]; token?: string; date?: string };

function contextServing(pages: Page[]) {
	const requests: IDataObject[] = [];
	const ctx = {
		getNode: () => ({
			name: 'D-ID',
			type: 'dId',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		}),
		getCredentials: async () => ({
			apiKey: 'a-key-for-the-unit-test',
			baseUrl: 'https://api.d-id.test',
		}),
		helpers: {
			httpRequestWithAuthentication: async (_credential: string, options: { qs: IDataObject }) => {
				requests.push({ ...options.qs });
				if (requests.length > 20) throw new Error('the node kept paging');
				const page = pages[Math.min(requests.length - 1, pages.length - 1)];
				return {
					statusCode: 200,
					headers: page.date ? { date: page.date } : {},
					body: { talks: page.talks, token: page.token },
				};
			},
		},
	};
	return { ctx: ctx as unknown as DIdContext, requests };
}

const talks = (from: number, n: number) =>
	Array.from({ length: n }, (_, k) => ({ id: `tlk_${from + k}` }));

async function readAll(ctx: DIdContext, options: Parameters<typeof talkPages>[0] = {}) {
	const seen = [];
	for await (const page of talkPages.call(ctx, options)) seen.push(page);
	return seen;
}

describe('talkPages', () => {
	test('follows the token until a page comes without one, sending each token once', async () => {
		const { ctx, requests } = contextServing([
			{ talks: talks(0, 2), token: 'a' },
			{ talks: talks(2, 2), token: 'b' },
			{ talks: talks(4, 1) },
		]);
		const pages = await readAll(ctx);
		expect(pages.map((p) => [p.talks.length, p.last])).toEqual([
			[2, false],
			[2, false],
			[1, true],
		]);
		expect(requests).toEqual([
			{ limit: 100 },
			{ limit: 100, token: 'a' },
			{ limit: 100, token: 'b' },
		]);
	});

	test('ends when D-ID hands out a token it gave before (a server that repeats itself cannot keep the node paging)', async () => {
		const { ctx, requests } = contextServing([
			{ talks: talks(0, 1), token: 'a' },
			{ talks: talks(1, 1), token: 'b' },
			{ talks: talks(2, 1), token: 'a' },
		]);
		const pages = await readAll(ctx);
		expect(pages.map((p) => p.last)).toEqual([false, false, true]);
		expect(requests).toHaveLength(3);
	});

	test('ends on an empty page even with a token', async () => {
		const { ctx, requests } = contextServing([
			{ talks: talks(0, 1), token: 'a' },
			{ talks: [], token: 'b' },
		]);
		expect((await readAll(ctx)).map((p) => p.last)).toEqual([false, true]);
		expect(requests).toHaveLength(2);
	});

	test('asks pageSize for each page with the talks listed so far, at most 100', async () => {
		const { ctx, requests } = contextServing([
			{ talks: talks(0, 100), token: 'a' },
			{ talks: talks(100, 30), token: 'b' },
			{ talks: talks(130, 5) },
		]);
		await readAll(ctx, { pageSize: (listed) => 230 - listed });
		expect(requests.map((qs) => qs.limit)).toEqual([100, 100, 100]);
		const small = contextServing([{ talks: talks(0, 40), token: 'a' }, { talks: talks(40, 10) }]);
		await readAll(small.ctx, { pageSize: (listed) => 50 - listed });
		expect(small.requests.map((qs) => qs.limit)).toEqual([50, 10]);
	});
});

describe('listTalks', () => {
	test('stops after maxPages and says the list is not complete; D-ID’s clock comes from the first page', async () => {
		const { ctx, requests } = contextServing([
			{ talks: talks(0, 1), token: 'a', date: 'Wed, 25 Nov 2026 12:00:00 GMT' },
			{ talks: talks(1, 1), token: 'b', date: 'Wed, 25 Nov 2026 12:00:05 GMT' },
			{ talks: talks(2, 1), token: 'c' },
		]);
		const list = await listTalks.call(ctx, { maxPages: 2 });
		expect(list.complete).toBe(false);
		expect(list.talks.map((t) => t.id)).toEqual(['tlk_0', 'tlk_1']);
		expect(list.serverNow).toBe(Date.parse('Wed, 25 Nov 2026 12:00:00 GMT'));
		expect(requests).toHaveLength(2);
	});

	test('is complete at the last page, and stops early once enough is listed', async () => {
		const pages = [
			{ talks: talks(0, 2), token: 'a' },
			{ talks: talks(2, 2), token: 'b' },
			{ talks: talks(4, 2) },
		];
		const whole = await listTalks.call(contextServing(pages).ctx, { maxPages: 5 });
		expect(whole.complete).toBe(true);
		expect(whole.serverNow).toBeUndefined();
		expect(whole.talks).toHaveLength(6);
		const early = contextServing(pages);
		const some = await listTalks.call(early.ctx, {
			maxPages: 5,
			enough: (listed) => listed.length >= 3,
		});
		expect(some.talks).toHaveLength(4);
		expect(some.complete).toBe(false);
		expect(early.requests).toHaveLength(2);
	});
});
