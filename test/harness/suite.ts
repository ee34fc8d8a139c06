/**
 * What the engine suites share: one sandbox per suite file, set back before each test, the Create
 * Talk node most tests start from, and waiting for what arrives over HTTP.
 */
import type { IDataObject } from 'n8n-workflow';

import { runNode, type InputItem, type NodeSpec, type RunOptions } from './engine';
import { credentialsFor, startSandbox, type Sandbox } from './sandbox';

export const IMAGE = 'https://myhost.com/image.jpg';

/** Create Talk from one image URL and one text, not waiting; `parameters` replace or add fields. */
export const createParameters = (parameters: IDataObject = {}): IDataObject => ({
	resource: 'talk',
	operation: 'create',
	imageUrl: IMAGE,
	text: 'Hello world!',
	waitForCompletion: false,
	...parameters,
});

/** A D-ID node doing Create Talk (see createParameters). */
export const createTalk = (
	parameters: IDataObject = {},
	extra: Partial<NodeSpec> = {},
): NodeSpec => ({
	parameters: createParameters(parameters),
	...extra,
});

/** Create Talk from the item's image and its audio (binary `voice`), waiting and downloading the video into `video`. */
export const FILES_IN_VIDEO_OUT: IDataObject = {
	imageSource: 'binary',
	scriptType: 'audio',
	audioSource: 'binary',
	audioBinaryProperty: 'voice',
	waitForCompletion: true,
	downloadVideo: true,
	binaryPropertyOutput: 'video',
};

/** The settings a test starts from where the suite asks for them: credits to spare, every plan feature, talks of ~50 ms. */
export const TEST_SETTINGS = {
	credits: 1000,
	plan: { stitch: true, subtitles: true },
	processing: { msPerSecond: 10, minMs: 50, rangeMs: undefined },
};

export interface SuiteOptions {
	/** The sandbox's start options (startSandbox's). */
	start?: Record<string, unknown>;
	/** Applied with sandbox.configure before each test, after its faults are cleared. */
	settings?: Record<string, unknown>;
	/** Zeroes the sandbox's counts before each test. */
	resetStats?: boolean;
}

/**
 * Starts a sandbox before the suite file's tests and stops it after them; before each test its
 * faults are cleared (and `settings`, `resetStats` applied). `sandbox` stands for the running one;
 * `run` runs a node spec in n8n's engine with the sandbox's credential unless given another.
 */
export function useSandbox(options: SuiteOptions = {}) {
	let running: Sandbox | undefined;
	beforeAll(async () => (running = await startSandbox(options.start)));
	afterAll(async () => running?.stop());
	beforeEach(() => {
		running!.setFaults({});
		if (options.settings) running!.configure(options.settings);
		if (options.resetStats) running!.resetStats();
	});
	const sandbox = new Proxy({} as Sandbox, {
		get(_target, key) {
			if (!running) throw new Error('the sandbox is started in beforeAll');
			const value = Reflect.get(running, key);
			return typeof value === 'function' ? value.bind(running) : value;
		},
	});
	const run = (
		spec: NodeSpec,
		items?: InputItem[],
		credentials: RunOptions['credentials'] = credentialsFor(sandbox),
	) => runNode(spec, { credentials, items });
	/** Creates one talk per image URL, each with `webhookUrl` as its webhook; returns their IDs. */
	async function createTalks(webhookUrl: string, images: string[] = [IMAGE], userData?: string) {
		const { items, error } = await run(
			createTalk({
				imageUrl: '={{ $json.image }}',
				additionalFields: { webhookUrl, ...(userData ? { userData } : {}) },
			}),
			images.map((image) => ({ json: { image } })),
		);
		expect(error).toBeUndefined();
		return items.map((item) => item.json.id as string);
	}
	return { sandbox, run, createTalks };
}

/** Talks made straight at the sandbox, as other workflows or tools of the same account would (25 at a time). */
export async function otherTalks(
	sandbox: Sandbox,
	count: number,
	image = 'https://other.example/someone.png',
	text = 'Other talk.',
) {
	const auth = { authorization: `Basic ${sandbox.apiKey}`, 'content-type': 'application/json' };
	for (let i = 0; i < count; i += 25) {
		await Promise.all(
			Array.from({ length: Math.min(25, count - i) }, () =>
				fetch(`${sandbox.url}/talks`, {
					method: 'POST',
					headers: auth,
					body: JSON.stringify({ source_url: image, script: { type: 'text', input: text } }),
				}),
			),
		);
	}
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, `ms` at most (the assertions after it say what was missing). */
export async function until(check: () => boolean, ms = 5000) {
	for (let waited = 0; waited < ms && !check(); waited += 25) await sleep(25);
}

/** POSTs `body` as JSON, as D-ID (or someone posing as it) calls a webhook. */
export const postJson = (url: string, body: unknown) =>
	fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
