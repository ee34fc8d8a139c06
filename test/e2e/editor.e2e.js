// The package in n8n's editor, in headless Chromium (Debian's chromium driven by playwright-core):
// log in, open every example and every node panel in it (no parameter may show n8n's red issue
// warning, no dropdown may fail to load), pick a voice from the live list and run Execute step,
// and save screenshots under docs/ (shown in the README).
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { startStack, ROOT } = require('../../scripts/n8n/stack');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const VERSION = process.env.N8N_EDITOR_VERSION ?? 'latest';
const DOCS = path.join(ROOT, 'docs');
const example = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
const EXAMPLES = fs
	.readdirSync(path.join(ROOT, 'examples'))
	.filter((file) => file.endsWith('.json'))
	.sort();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`the D-ID nodes in n8n ${VERSION}'s editor (headless Chromium)`, () => {
	let stack;
	let browser;
	let page;
	let pendingOptions = 0;
	let openAiCredential;
	let postgresCredential;

	beforeAll(async () => {
		stack = await startStack({
			version: VERSION,
			sandbox: { processing: { msPerSecond: 10, minMs: 50 } },
		});
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
		});
		page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
		// Dropdowns and lists fill from /rest/dynamic-node-parameters/…: a panel is settled once
		// none of those is in flight.
		const isOptions = (request) => request.url().includes('/rest/dynamic-node-parameters/');
		page.on('request', (request) => isOptions(request) && pendingOptions++);
		page.on('requestfinished', (request) => isOptions(request) && pendingOptions--);
		page.on('requestfailed', (request) => isOptions(request) && pendingOptions--);
		const openAi = await stack.rest('POST', '/rest/credentials', {
			name: 'OpenAI account',
			type: 'openAiApi',
			data: { apiKey: 'sk-unused', url: 'http://127.0.0.1:9/v1' },
		});
		openAiCredential = { id: openAi.id, name: openAi.name };
		// Example 13's claim table: a Postgres credential to select (the panels only render, nothing connects).
		const postgres = await stack.rest('POST', '/rest/credentials', {
			name: 'Postgres account',
			type: 'postgres',
			data: { host: '127.0.0.1', port: 5432, database: 'n8n', user: 'n8n', password: '' },
		});
		postgresCredential = { id: postgres.id, name: postgres.name };
		await page.goto(`${stack.url}/signin`);
		await page
			.locator('input[type="email"], input[name="emailOrLdapLoginId"], input[name="email"]')
			.first()
			.fill(stack.owner.email);
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
		const workflow = example(file);
		for (const node of workflow.nodes)
			if (node.credentials?.openAiApi) node.credentials.openAiApi = openAiCredential;
		for (const node of workflow.nodes)
			if (node.credentials?.postgres) node.credentials.postgres = postgresCredential;
		const id = await stack.importWorkflow(workflow, stack.credential);
		await page.goto(`${stack.url}/workflow/${id}`);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
		// Close whatever the editor shows a first-time user (tours, banners).
		await page.keyboard.press('Escape');
		return id;
	}

	async function openNode(name) {
		await page
			.locator(
				`[data-test-id="canvas-node"][data-node-name="${name}"], [data-test-id="canvas-node"]:has-text("${name}")`,
			)
			.first()
			.dblclick();
		const panel = page.locator('[data-test-id="ndv"], .ndv-wrapper').first();
		await panel.waitFor({ timeout: 30_000 });
		return panel;
	}

	async function expectFields(panel, labels) {
		for (const label of labels) {
			await panel
				.locator(`[data-test-id="parameter-input-field"], label, .parameter-item`)
				.filter({ hasText: label })
				.first()
				.waitFor({ timeout: 30_000 });
		}
	}

	/** Waits until the panel has asked for all its dropdowns and lists, and they have come back. */
	async function settle() {
		for (let quiet = 0, i = 0; quiet < 4 && i < 100; i++) {
			quiet = pendingOptions === 0 ? quiet + 1 : 0;
			await sleep(250);
		}
	}

	/** The labels of the panel's parameters that show n8n's issue warning, and any load error. */
	async function problemsIn(panel) {
		const problems = [];
		for (const issue of await panel.locator('[data-test-id="parameter-issues"]').all()) {
			await issue.hover();
			const tooltip = await page
				.locator('.n8n-tooltip:visible, [role="tooltip"]:visible')
				.last()
				.innerText({ timeout: 2000 })
				.catch(() => '');
			const item = issue.locator(
				'xpath=ancestor::*[@data-test-id="parameter-item" or contains(@class, "parameter-item")][1]',
			);
			const label = (await item.count()) ? (await item.innerText()).split('\n')[0] : '?';
			const said = tooltip.replace(/\s+/g, ' ').trim();
			problems.push(`issue on "${label}"${said ? `: ${said}` : ''}`);
		}
		for (const error of await panel
			.locator('[data-test-id="rlc-error-container"], [data-test-id="rlc-error-message"]')
			.all()) {
			if (await error.isVisible())
				problems.push(`list failed: ${(await error.innerText()).trim()}`);
		}
		const text = await panel.innerText();
		for (const phrase of ['Error fetching options', 'Could not load', 'Issues:']) {
			if (text.includes(phrase)) problems.push(`panel says "${phrase}"`);
		}
		return problems;
	}

	async function closePanel() {
		await page.keyboard.press('Escape');
		await page
			.locator('[data-test-id="ndv"]')
			.first()
			.waitFor({ state: 'hidden', timeout: 10_000 })
			.catch(() => {});
	}

	test.each(EXAMPLES)(
		'%s: every node panel renders, no parameter shows a warning',
		async (file) => {
			await openWorkflow(file);
			const names = example(file)
				.nodes.filter((node) => node.type !== 'n8n-nodes-base.stickyNote')
				.map((node) => node.name);
			const problems = [];
			for (const name of names) {
				const panel = await openNode(name);
				await settle();
				for (const problem of await problemsIn(panel)) problems.push(`${name}: ${problem}`);
				if (file === '12-ai-agent-tool.json' && name === 'Make talking video') {
					await page.screenshot({ path: path.join(DOCS, 'editor-d-id-tool.png') });
				}
				await closePanel();
			}
			expect(problems).toEqual([]);
			expect(await page.locator('[data-test-id="node-issues"]').count()).toBe(0);
		},
	);

	test('04-voice-style.json: pick a voice from the live list, Execute step, the video binary is shown', async () => {
		await openWorkflow('04-voice-style.json');
		const panel = await openNode('Make talking video');
		await settle();
		const voice = panel
			.locator('[data-test-id="resource-locator"], .resource-locator')
			.filter({ has: page.locator('[data-test-id="rlc-mode-selector"]') })
			.first();
		await voice.locator('[data-test-id="rlc-mode-selector"]').click();
		await page
			.locator('.el-select-dropdown__item:visible, [role="option"]:visible')
			.filter({ hasText: 'From List' })
			.first()
			.click();
		await voice.locator('[data-test-id="rlc-input"]').click();
		await page
			.locator('[data-test-id="rlc-search"] input, [data-test-id="rlc-search"]')
			.first()
			.fill('Guy');
		await page.locator('[data-test-id="rlc-item"]').filter({ hasText: 'Guy' }).first().click();
		await settle();
		expect(await problemsIn(panel)).toEqual([]);
		stack.sandbox.resetStats();
		await panel.locator('[data-test-id="node-execute-button"]').first().click();
		const output = page
			.locator('[data-test-id="output-panel"], [data-test-id="ndv-output-panel"]')
			.first();
		await output
			.locator('[data-test-id="ndv-run-data-display-mode"]')
			.first()
			.waitFor({ timeout: 60_000 })
			.catch(() => {});
		// The output's binary: n8n shows it under a "Binary" tab or with a view button.
		const binaryTab = output.getByText('Binary', { exact: true });
		if (await binaryTab.count()) await binaryTab.first().click();
		await output
			.locator('[data-test-id="ndv-view-binary-data"], [data-test-id="ndv-download-binary-data"]')
			.first()
			.waitFor({ timeout: 60_000 });
		await page.screenshot({ path: path.join(DOCS, 'editor-execute-step.png') });
		expect(await output.innerText()).toMatch(/video\/mp4/);
		expect(stack.sandbox.stats().talksCreated).toBe(1);
		const talk = stack.sandbox.talks().at(-1);
		expect(talk.request.script.provider).toEqual({
			type: 'microsoft',
			voice_id: 'en-US-GuyNeural',
			voice_config: { style: 'Cheerful' },
		});
		await closePanel();
	});

	test('the D-ID node’s panel shows its fields', async () => {
		await openWorkflow('01-default-call.json');
		await page.screenshot({ path: path.join(DOCS, 'editor-workflow.png') });
		const panel = await openNode('Make talking video');
		await expectFields(panel, [
			'Resource',
			'Operation',
			'Image Source',
			'Image URL',
			'Script Type',
			'Text',
			'Voice Provider',
			'Wait for Completion',
			'Download Video',
		]);
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
