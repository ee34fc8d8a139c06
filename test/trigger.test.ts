// The D-ID Trigger in n8n-core's real webhook context, called by the sandbox when talks end.
import { createHash } from 'node:crypto';

import { binaryBuffer } from './harness/engine';
import { credentialsFor } from './harness/sandbox';
import { IMAGE, postJson, sleep, until, useSandbox } from './harness/suite';
import { useTriggers } from './harness/trigger';

const SECRET = 's3cret-value-for-tests';
const { sandbox, createTalks } = useSandbox();
const startTrigger = useTriggers();

test('a talk created with the trigger URL fires the trigger once, with the talk confirmed from D-ID', async () => {
	const trigger = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: true, deduplicate: true },
		credentialsFor(sandbox),
	);
	const [id] = await createTalks(trigger.url(SECRET), [IMAGE], JSON.stringify({ crmId: 'C-42' }));
	await until(() => trigger.executions.length > 0);
	await sleep(200);
	expect(trigger.executions).toHaveLength(1);
	const json = trigger.executions[0][0].json;
	expect(json).toMatchObject({
		id,
		status: 'done',
		result_url: expect.stringContaining(id),
		user_data: '{"crmId":"C-42"}',
		user_data_json: { crmId: 'C-42' },
	});
	expect(sandbox.stats().requests['GET /talks/{id}']).toBeGreaterThanOrEqual(1);
});

test('wrong or missing secret → 401 and no execution', async () => {
	const trigger = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: false },
		credentialsFor(sandbox),
	);
	const talk = { id: 'tlk_forged', status: 'done', result_url: 'https://evil.example/video.mp4' };
	for (const url of [trigger.url(), trigger.url('wrong'), trigger.url('')]) {
		const res = await postJson(url, talk);
		expect(res.status).toBe(401);
	}
	expect(trigger.executions).toHaveLength(0);
});

test('a forged body with the right secret cannot inject a status or link: Confirm fetches the real talk', async () => {
	const trigger = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: true },
		credentialsFor(sandbox),
	);
	const unknown = await postJson(trigger.url(SECRET), { id: 'tlk_forged', status: 'done' });
	expect(unknown.status).toBe(404);
	expect(trigger.executions).toHaveLength(0);
});

test('duplicate and out-of-order deliveries → one execution per talk', async () => {
	sandbox.setFaults({ webhooks: { duplicateRate: 1, outOfOrderRate: 0.5 } });
	const trigger = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: true, deduplicate: true },
		credentialsFor(sandbox),
	);
	const ids = await createTalks(trigger.url(SECRET), [IMAGE, IMAGE, IMAGE, IMAGE, IMAGE]);
	await until(
		() => sandbox.stats().webhookDeliveries.filter((d) => ids.includes(d.talkId)).length >= 10,
	);
	await sleep(300);
	expect(sandbox.stats().webhookDeliveries.filter((d) => ids.includes(d.talkId))).toHaveLength(10);
	expect(trigger.executions.map((e) => e[0].json.id).sort()).toEqual([...ids].sort());
});

test('Emit Each Talk Once off → every delivery starts an execution', async () => {
	sandbox.setFaults({ webhooks: { duplicateRate: 1 } });
	const trigger = await startTrigger({
		secret: SECRET,
		events: ['done'],
		confirm: false,
		deduplicate: false,
	});
	await createTalks(trigger.url(SECRET), [IMAGE]);
	await until(() => trigger.executions.length >= 2);
	expect(trigger.executions).toHaveLength(2);
});

test('error events are filtered as configured', async () => {
	const onlyDone = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: true },
		credentialsFor(sandbox),
	);
	const withErrors = await startTrigger(
		{ secret: SECRET, events: ['done', 'error'], confirm: true },
		credentialsFor(sandbox),
	);
	const [a] = await createTalks(onlyDone.url(SECRET), ['https://x.com/no-face.jpg']);
	const [b] = await createTalks(withErrors.url(SECRET), ['https://x.com/no-face.jpg']);
	const deliveryOf = (id: string) => sandbox.stats().webhookDeliveries.find((d) => d.talkId === id);
	await until(
		() =>
			withErrors.executions.length > 0 &&
			deliveryOf(a) !== undefined &&
			deliveryOf(b) !== undefined,
	);
	await sleep(100);
	// Talk a's error reached the trigger that waits for done only, which answered it and started nothing.
	expect(onlyDone.executions).toHaveLength(0);
	expect(onlyDone.responses).toEqual([
		{ status: 200, body: expect.objectContaining({ note: 'ignored status error' }) },
	]);
	expect(deliveryOf(a)).toMatchObject({
		outcome: 'HTTP 200',
		answer: expect.stringContaining('ignored status error'),
	});
	// Talk b's error started exactly one execution, with that talk.
	expect(withErrors.executions).toHaveLength(1);
	expect(withErrors.executions[0]).toHaveLength(1);
	expect(withErrors.executions[0][0].json).toMatchObject({
		id: b,
		status: 'error',
		error: { kind: 'FaceError' },
	});
	expect(deliveryOf(b)).toMatchObject({ outcome: 'HTTP 200' });
});

test('Download Video gives the video bytes the sandbox served, stored as part of the execution the delivery started', async () => {
	const trigger = await startTrigger(
		{
			secret: SECRET,
			events: ['done'],
			confirm: true,
			downloadVideo: true,
			binaryPropertyOutput: 'video',
		},
		credentialsFor(sandbox),
	);
	const [id] = await createTalks(trigger.url(SECRET), [IMAGE]);
	await until(() => trigger.executions.length > 0);
	await trigger.settled();
	expect(trigger.failures).toEqual({});
	const item = trigger.executions[0][0];
	expect(item.binary!.video).toMatchObject({ fileName: `${id}.mp4`, mimeType: 'video/mp4' });
	const bytes = await binaryBuffer(item, 'video');
	expect(createHash('sha256').update(bytes).digest('hex')).toBe(await sandbox.resultDigest(id));
	// Stored under the execution's id, not n8n's temporary one: n8n serves it and deletes it with
	// the execution in every binary data mode (in queue mode's `database` mode nothing renames a
	// file a webhook() stored before the execution existed).
	expect(item.binary!.video.id).toContain(`/executions/${trigger.executionIds[0]}/`);
	expect(item.binary!.video.id).not.toContain('/executions/temp/');
});

test('Download Video that fails: the delivery is acknowledged and the execution fails with the talk and what to do; a repeated delivery starts nothing', async () => {
	const trigger = await startTrigger(
		{ secret: SECRET, events: ['done'], confirm: true, downloadVideo: true },
		credentialsFor(sandbox),
	);
	sandbox.setFaults({ script: [{ route: 'GET /results/{id}/{file}', fault: 502, count: 100 }] });
	const [id] = await createTalks(trigger.url(SECRET), [IMAGE]);
	await until(() => trigger.executions.length > 0);
	await trigger.settled();
	expect(trigger.responses[0]).toMatchObject({ status: 200, body: { received: true } });
	const failure = trigger.failures[trigger.executionIds[0]] as Error & { description?: string };
	expect(failure?.message).toContain(`Could not download the video of talk ${id}`);
	expect(failure?.description).toMatch(/run Talk → Get for this talk/);
	// The execution has the confirmed talk as its input: nothing is lost, and the talk is remembered.
	const again = await postJson(trigger.url(SECRET), { id, status: 'done' });
	expect(await again.json()).toEqual({ received: true, note: 'duplicate' });
	expect(trigger.executions).toHaveLength(1);
});

test('oversized bodies, malformed JSON, wrong method and non-talk bodies start nothing', async () => {
	const trigger = await startTrigger({ secret: SECRET, events: ['done'], confirm: false });
	const post = (body: string) =>
		fetch(trigger.url(SECRET), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body,
		});
	expect(
		(await post(JSON.stringify({ id: 'tlk_x', status: 'done', pad: 'x'.repeat(1024 * 1024 + 10) })))
			.status,
	).toBe(413);
	expect((await post('{"id": ')).status).toBe(400);
	expect((await post(JSON.stringify({ hello: 'world' }))).status).toBe(400);
	expect((await fetch(trigger.url(SECRET), { method: 'GET' })).status).toBe(404);
	expect(trigger.executions).toHaveLength(0);
});
