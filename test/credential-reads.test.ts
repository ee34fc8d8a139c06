// n8n loads a credential from its database and decrypts it each time a node asks for it; a node
// that asks once per request makes one database query per D-ID request (in queue mode taken from a
// PostgreSQL pool of a few connections shared with the execution's own work). The node reads its
// credential once per node run and hands it to n8n with each request.
import { runNode } from './harness/engine';
import { credentialsFor, startSandbox, totalRequests, type Sandbox } from './harness/sandbox';

let sandbox: Sandbox;
beforeAll(async () => (sandbox = await startSandbox()));
afterAll(async () => sandbox.stop());

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ json: { n: i + 1 } }));

test('Create and wait for 20 talks: many D-ID requests, the credential read once', async () => {
	sandbox.configure({ processing: { msPerSecond: 10, minMs: 300, rangeMs: undefined } });
	const before = totalRequests(sandbox);
	const result = await runNode(
		{
			parameters: {
				resource: 'talk',
				operation: 'create',
				imageUrl: 'https://myhost.com/image.jpg',
				text: '=Hello number {{ $json.n }}',
				waitForCompletion: true,
			},
		},
		{ credentials: credentialsFor(sandbox), items: items(20) },
	);
	expect(result.error).toBeUndefined();
	expect(result.items).toHaveLength(20);
	expect(result.items.every((item) => item.json.status === 'done')).toBe(true);
	// 20 creates and the status reads of the wait.
	expect(totalRequests(sandbox) - before).toBeGreaterThan(20);
	expect(result.credentialReads).toBe(1);
});

test('List with several pages and Get: one credential read per node run', async () => {
	for (const operation of [
		{ operation: 'list', returnAll: true },
		{ operation: 'get', talkId: sandbox.talks().at(-1)!.id },
	]) {
		const before = totalRequests(sandbox);
		const result = await runNode(
			{ parameters: { resource: 'talk', ...operation } },
			{ credentials: credentialsFor(sandbox), items: items(3) },
		);
		expect(result.error).toBeUndefined();
		expect(totalRequests(sandbox) - before).toBeGreaterThanOrEqual(3);
		expect(result.credentialReads).toBe(1);
	}
});
