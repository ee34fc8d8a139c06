// The package in n8n's editor, in headless Chromium (Debian's chromium driven by playwright-core):
// log in, open an example, open the D-ID node and the D-ID Trigger, check that their panels render
// their fields, and save screenshots under docs/ (shown in the README).
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { startStack, ROOT } = require('../../scripts/n8n/stack');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const VERSION = process.env.N8N_EDITOR_VERSION ?? 'latest';
const DOCS = path.join(ROOT, 'docs');
const example = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));

describe(`the D-ID nodes in n8n ${VERSION}'s editor (headless Chromium)`, () => {
	let stack;
	let browser;
	let page;

	beforeAll(async () => {
		stack = await startStack({ version: VERSION, sandbox: { processing: { msPerSecond: 10, minMs: 50 } } });
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
		await page.goto(`${stack.url}/signin`);
		await page.locator('input[type="email"], input[name="emailOrLdapLoginId"], input[name="email"]').first().fill(stack.owner.email);
		await page.locator('input[type="password"]').first().fill(stack.owner.password);
		await page.keyboard.press('Enter');
		await page.waitForURL((url) => !url.pathname.includes('signin'), { timeout: 60_000 });
		fs.mkdirSync(DOCS, { recursive: true });
	}, 900_000);

	afterAll(async () => {
		await browser?.close();
		await stack?.stop();
	});

	async function openWorkflow(file) {
		const id = await stack.importWorkflow(example(file), stack.credential);
		await page.goto(`${stack.url}/workflow/${id}`);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
		// Close whatever the editor shows a first-time user (tours, banners).
		await page.keyboard.press('Escape');
		return id;
	}

	async function openNode(name) {
		await page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"], [data-test-id="canvas-node"]:has-text("${name}")`).first().dblclick();
		const panel = page.locator('[data-test-id="ndv"], .ndv-wrapper').first();
		await panel.waitFor({ timeout: 30_000 });
		return panel;
	}

	async function expectFields(panel, labels) {
		for (const label of labels) {
			await panel.locator(`[data-test-id="parameter-input-field"], label, .parameter-item`).filter({ hasText: label }).first().waitFor({ timeout: 30_000 });
		}
	}

	test('the D-ID node’s panel shows its fields', async () => {
		await openWorkflow('01-default-call.json');
		await page.screenshot({ path: path.join(DOCS, 'editor-workflow.png') });
		const panel = await openNode('Make talking video');
		await expectFields(panel, ['Resource', 'Operation', 'Image Source', 'Image URL', 'Script Type', 'Text', 'Voice Provider', 'Wait for Completion', 'Download Video']);
		await page.screenshot({ path: path.join(DOCS, 'editor-d-id-node.png') });
		await page.keyboard.press('Escape');
	});

	test('the D-ID Trigger’s panel shows its fields and the URL to paste', async () => {
		await openWorkflow('10-webhook-trigger.json');
		const panel = await openNode('D-ID Trigger');
		await expectFields(panel, ['Secret', 'Events', 'Confirm with D-ID', 'Download Video']);
		await page.screenshot({ path: path.join(DOCS, 'editor-d-id-trigger.png') });
		await page.keyboard.press('Escape');
	});
});
