// Photos from binary files in real n8n, in both wait modes: each file is read when its item runs
// (in Wait Mode "Webhook" that is after the execution was saved as waiting), checked from its
// metadata and first bytes before any request.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../../scripts/n8n/stack');
const { manualChain, readFilesNode, dIdNode } = require('../../scripts/n8n/workflows');

const VERSIONS = (process.env.N8N_VERSIONS ?? 'compat,latest').split(',').filter(Boolean);
const PHOTOS = 3;

function workflow(dir, parameters) {
	return manualChain('photos from disk', [
		readFilesNode('Read photos', `${dir}/*.*`),
		dIdNode('D-ID', {
			resource: 'talk',
			operation: 'create',
			imageSource: 'binary',
			text: 'Hello from a photo on disk.',
			downloadVideo: false,
			...parameters,
		}),
	]);
}

describe.each(VERSIONS)('photos from binary files in real n8n %s', (version) => {
	let stack;
	let photos;
	let bad;

	beforeAll(async () => {
		photos = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-e2e-photos-'));
		bad = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-e2e-bad-'));
		const jpeg = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'portrait.jpg'));
		for (let i = 0; i < PHOTOS; i++)
			fs.writeFileSync(
				path.join(photos, `photo-${i}.jpg`),
				Buffer.concat([jpeg, Buffer.from(`photo ${i}`)]),
			);
		fs.writeFileSync(path.join(bad, 'error-page.jpg'), '<html><body>403 Forbidden</body></html>');
		stack = await startStack({
			version,
			sandbox: { processing: { msPerSecond: 10, minMs: 500 } },
			env: { N8N_RESTRICT_FILE_ACCESS_TO: `${photos};${bad}` },
		});
	}, 900_000);

	afterAll(async () => {
		await stack?.stop();
		for (const dir of [photos, bad]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	beforeEach(() => stack.sandbox.resetStats());

	test.each([
		['Poll', { waitMode: 'poll' }],
		['Webhook', { waitMode: 'webhook' }],
	])('Wait Mode %s: every photo is uploaded and made into a talk', async (_mode, parameters) => {
		const id = await stack.importWorkflow(
			workflow(photos, { waitForCompletion: true, options: { maxConcurrency: 2 }, ...parameters }),
			stack.credential,
		);
		const execution = await stack.runWorkflow(id, { timeoutMs: 120_000 });
		expect(execution.status).toBe('success');
		const items = nodeOutput(execution, 'D-ID');
		expect(items).toHaveLength(PHOTOS);
		for (const item of items)
			expect(item.json).toMatchObject({
				status: 'done',
				source_url: expect.stringMatching(/^s3:\/\//),
			});
		expect(stack.sandbox.stats().requests['POST /images']).toBe(PHOTOS);
	});

	test('a file whose content is not its type is refused before any request', async () => {
		const id = await stack.importWorkflow(
			workflow(bad, { waitForCompletion: false }),
			stack.credential,
		);
		const execution = await stack.runWorkflow(id, { timeoutMs: 60_000 });
		expect(execution.status).toBe('error');
		expect(JSON.stringify(execution.data.resultData.error)).toContain(
			'is labelled image/jpeg but its content is HTML or XML text',
		);
		const sent = Object.values(stack.sandbox.stats().requests).reduce((a, b) => a + b, 0);
		expect(sent).toBe(0);
	});
});
