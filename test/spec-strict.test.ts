// The D-ID node and trigger in n8n's real engine against a sandbox that behaves as D-ID's spec
// allows and no more (README "Profiles"): list items without user_data or name, no list order,
// talks committed after the failed answer, reads behind webhooks, another clock, created_at
// without a zone, and n8n in a time zone east of UTC. Each test fails on the node before issue 12.
import type { IDataObject } from 'n8n-workflow';

import type { InputItem } from './harness/engine';
import { credentialsFor, totalRequests } from './harness/sandbox';
import { createTalk, otherTalks, sleep, TEST_SETTINGS, until, useSandbox } from './harness/suite';
import { useTriggers } from './harness/trigger';

const TZ = process.env.TZ;
// created_at without a Z read as local time would be 9 h off
beforeAll(() => (process.env.TZ = 'Asia/Tokyo'));
afterAll(() => {
	if (TZ === undefined) delete process.env.TZ;
	else process.env.TZ = TZ;
});
const { sandbox, run } = useSandbox({
	start: { profile: 'spec-strict', seed: 12 },
	settings: {
		...TEST_SETTINGS,
		credits: 100_000,
		profile: 'spec-strict',
		lateCommitMs: [1500, 2500],
	},
});
const startTrigger = useTriggers();
const talksOf = (image: string) => sandbox.talks().filter((t) => t.request.source_url === image);

/** The answer to POST /talks is lost after D-ID made the talk: the item's talk is found, none is made twice. */
async function expectFoundOnce(image: string, userData: string) {
	sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter', commit: 'before' });
	const { items, error } = await run(
		createTalk({ imageUrl: image, additionalFields: { userData } }),
	);
	expect(error).toBeUndefined();
	expect(talksOf(image)).toHaveLength(1);
	expect(items[0].json.id).toBe(talksOf(image)[0].id);
}

/**
 * Two items whose POST /talks answers are both lost, the talks committed late (Continue On Fail):
 * once the late commits are in, exactly two talks exist; the run's output items.
 */
async function twoAnswersLost(image: string, additionalFields: IDataObject, inputs: InputItem[]) {
	sandbox.addScriptedFaults([
		{ route: 'POST /talks', fault: 'dropAfter', commit: 'late' },
		{ route: 'POST /talks', fault: 'dropAfter', commit: 'late' },
	]);
	const { items } = await run(
		createTalk({ imageUrl: image, additionalFields }, { continueOnFail: true }),
		inputs,
	);
	await sleep(3000);
	expect(talksOf(image)).toHaveLength(2);
	return items;
}

describe('exactly one talk per item (issue 12, cases 1–4)', () => {
	test('1: list items without user_data/name and a connection dropped after POST /talks: the talk is found, none is made twice', async () => {
		const image = 'https://myhost.com/case-1.jpg';
		sandbox.addScriptedFaults({ route: 'POST /talks', fault: 'dropAfter' });
		const { items, error } = await run(
			createTalk({ imageUrl: image, additionalFields: { userData: 'crm-1', name: 'one' } }),
		);
		expect(error).toBeUndefined();
		await sleep(3000); // a late commit of a first talk, had a second been sent, would be there by now
		expect(talksOf(image)).toHaveLength(1);
		expect(items[0].json.id).toBe(talksOf(image)[0].id);
	});

	test('2: a 504 while D-ID is still creating the talk, and a reset whose talk appears seconds later: one talk each', async () => {
		for (const fault of ['504', 'dropAfter']) {
			const image = `https://myhost.com/case-2-${fault}.jpg`;
			sandbox.addScriptedFaults({ route: 'POST /talks', fault, commit: 'late' });
			const { items, error } = await run(createTalk({ imageUrl: image }));
			expect(error).toBeUndefined();
			await sleep(3000); // a second talk, had one been sent, would be there by now
			expect(talksOf(image)).toHaveLength(1);
			expect(items[0].json.id).toBe(talksOf(image)[0].id);
		}
		expect(sandbox.stats().lateCommits).toBeGreaterThanOrEqual(2);
	}, 60_000);

	test('2: a 504 after which D-ID lists no talk: the item fails saying the talk may have been created, and none is sent again', async () => {
		const image = 'https://myhost.com/case-2-never.jpg';
		sandbox.addScriptedFaults({ route: 'POST /talks', fault: '504', commit: 'never' });
		const { items } = await run(createTalk({ imageUrl: image }, { continueOnFail: true }));
		expect(talksOf(image)).toHaveLength(0);
		expect(String(items[0].json.error)).toMatch(
			/may have been created \(none listed after \d+ s\)/,
		);
		expect(String(items[0].json.description)).toMatch(/Talk → Wait/);
	}, 90_000);

	test('3: D-ID’s clock 3 s behind, created_at without Z, n8n east of UTC: the talk is found, none is made twice', async () => {
		const image = 'https://myhost.com/case-3.jpg';
		// Every field echoed and an immediate commit: only the clocks can go wrong here.
		sandbox.configure({
			fields: 'all',
			listOrder: 'newest-first',
			readLagMs: 0,
			clockSkewMs: -3000,
			createdAtFormat: 'no-z',
		});
		await expectFoundOnce(image, 'crm-3');
	});

	test('4: the list oldest first, the item’s talk on a later page: the talk is found, none is made twice', async () => {
		const image = 'https://myhost.com/case-4.jpg';
		sandbox.configure({ fields: 'all', listOrder: 'oldest-first', readLagMs: 0 });
		await otherTalks(sandbox, 150);
		await expectFoundOnce(image, 'crm-4');
	});

	test('items with their own webhook URL (Wait Mode "Webhook" gives each item one) are told apart, also with the same image', async () => {
		// Two items, same image, both answers lost: the talks differ by webhook, so each is found.
		const image = 'https://myhost.com/twins.jpg';
		const items = await twoAnswersLost(
			image,
			{ webhookUrl: '={{ "https://hooks.example/" + $json.n }}' },
			[{ json: { n: 'a' } }, { json: { n: 'b' } }],
		);
		expect(items.map((item) => item.json.error)).toEqual([undefined, undefined]);
		expect(new Set(items.map((item) => item.json.id)).size).toBe(2);
	}, 60_000);

	test('two items the list cannot tell apart, both answers lost: no guess, no second talk, the candidates named', async () => {
		const image = 'https://myhost.com/same.jpg';
		const items = await twoAnswersLost(image, { userData: '={{ $json.crm }}' }, [
			{ json: { crm: 'a' } },
			{ json: { crm: 'b' } },
		]);
		// Neither item can tell which talk is its own: both fail, each naming what it saw of the two.
		const made = talksOf(image).map((talk) => talk.id);
		expect(items).toHaveLength(2);
		for (const item of items) {
			expect(item.json.id).toBeUndefined();
			const named = String(item.json.error).match(/tlk_[\w-]+/g) ?? [];
			expect(String(item.json.error)).toMatch(/may have been created: tlk_/);
			expect(named.length).toBeGreaterThanOrEqual(1);
			for (const id of named) expect(made).toContain(id);
		}
	}, 90_000);
});

test('two items the list cannot tell apart, one answer lost after D-ID made the talk, one before: no item takes the other’s talk', async () => {
	const image = 'https://myhost.com/one-of-two.jpg';
	sandbox.configure({ readLagMs: 0 });
	sandbox.addScriptedFaults([
		{ route: 'POST /talks', fault: 'dropAfter', commit: 'before' },
		{ route: 'POST /talks', fault: 'dropBefore' },
	]);
	const texts = ['The first item speaks.', 'The second item speaks.'];
	const { items } = await run(
		createTalk({ imageUrl: image, text: '={{ $json.text }}' }, { continueOnFail: true }),
		texts.map((text) => ({ json: { text } })),
	);
	expect(talksOf(image)).toHaveLength(1);
	items.forEach((item, index) => {
		if (item.json.id)
			expect(sandbox.talk(String(item.json.id)).request.script).toMatchObject({
				input: texts[index],
			});
	});
	expect(
		items.filter((item) => /may have been created: tlk_/.test(String(item.json.error))).length,
	).toBeGreaterThanOrEqual(1);
}, 90_000);

describe('waiting and listing without a promised order (cases 4 and 5)', () => {
	test('4: several talks waited for while the list runs oldest first: found on later pages, not read one by one', async () => {
		sandbox.configure({
			listOrder: 'oldest-first',
			readLagMs: 0,
			processing: { msPerSecond: 1000, minMs: 2500 },
		});
		await otherTalks(sandbox, 150);
		sandbox.resetStats();
		const texts = ['One two three four.', 'Five six seven eight.', 'Nine ten eleven twelve.'];
		const { items, error } = await run(
			createTalk({ text: '={{ $json.text }}', waitForCompletion: true, downloadVideo: false }),
			texts.map((text) => ({ json: { text } })),
		);
		expect(error).toBeUndefined();
		expect(items.map((item) => item.json.status)).toEqual(['done', 'done', 'done']);
		expect(sandbox.stats().requests['GET /talks/{id}'] ?? 0).toBe(0);
	}, 60_000);

	test('5: List → Return All ends when D-ID keeps handing out a token', async () => {
		sandbox.configure({ endlessToken: true, readLagMs: 0 });
		await otherTalks(sandbox, 120);
		const listed = await run({
			parameters: { resource: 'talk', operation: 'list', returnAll: true },
		});
		expect(listed.error).toBeUndefined();
		expect(listed.items.length).toBe(sandbox.talks().filter((t) => !t.deleted).length);
	}, 30_000);
});

/**
 * A talk made with a D-ID Trigger (Confirm on) as its webhook: the talk's ID and the item the
 * trigger emitted, after checking that the node succeeded and the trigger started one execution.
 */
async function talkToTrigger(secret: string, additionalFields: IDataObject = {}, ms = 5000) {
	const trigger = await startTrigger(
		{ secret, events: ['done'], confirm: true, deduplicate: true },
		credentialsFor(sandbox),
	);
	const { items, error } = await run(
		createTalk({ additionalFields: { webhookUrl: trigger.url(secret), ...additionalFields } }),
	);
	expect(error).toBeUndefined();
	await until(() => trigger.executions.length > 0, ms);
	expect(trigger.executions).toHaveLength(1);
	return { id: items[0].json.id, emitted: trigger.executions[0][0].json };
}

test('6: the trigger with Confirm keeps the delivery’s user_data when GET /talks/{id} has none', async () => {
	sandbox.configure({ readLagMs: 0 });
	const { id, emitted } = await talkToTrigger('a-secret-for-case-6', {
		userData: JSON.stringify({ crmId: 'C-6' }),
	});
	expect(emitted).toMatchObject({ id, status: 'done', user_data_json: { crmId: 'C-6' } });
});

test('8: the trigger with Confirm, reads 1.5 s behind the webhook: the talk is re-read until it agrees, and emitted once', async () => {
	sandbox.configure({ readLagMs: 1500 });
	const { id, emitted } = await talkToTrigger('a-secret-for-case-8', {}, 10_000);
	expect(emitted).toMatchObject({ id, status: 'done' });
}, 30_000);

test('7: text is counted in UTF-16 units as D-ID counts it: 20,001 emoji are refused before any request', async () => {
	sandbox.resetStats();
	const { error } = await run(createTalk({ text: '😀'.repeat(20_001) }));
	expect(error?.message).toMatch(/Invalid "Text" in item 1: it has 40002 characters/);
	expect(totalRequests(sandbox)).toBe(0);
});
