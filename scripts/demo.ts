/**
 * `npm run demo`: photo + text → talk → video file, run by n8n's execution engine with the D-ID
 * node. Uses the local D-ID sandbox, or the real D-ID API when D_ID_API_KEY is set (spends credits).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { binaryBuffer, runNode } from '../test/harness/engine';
import { ROOT, startSandbox } from '../test/harness/sandbox';

async function main() {
	const realKey = process.env.D_ID_API_KEY;
	const t0 = Date.now();
	const lap = (() => {
		let last = t0;
		return (label: string) => {
			const now = Date.now();
			console.log(`  ${label.padEnd(34)} ${((now - last) / 1000).toFixed(2)} s`);
			last = now;
		};
	})();

	const sandbox = realKey ? undefined : await startSandbox({ processing: { msPerSecond: 400, minMs: 1500 } });
	const credentials = realKey
		? { apiKey: realKey, baseUrl: process.env.D_ID_BASE_URL ?? 'https://api.d-id.com' }
		: { apiKey: sandbox!.apiKey, baseUrl: sandbox!.url };
	console.log(`D-ID demo against ${realKey ? credentials.baseUrl + ' (real D-ID: this spends credits)' : `the sandbox at ${credentials.baseUrl}`}`);
	lap('start');

	const imageUrl = process.env.D_ID_IMAGE_URL ?? 'https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg';
	const result = await runNode(
		{
			parameters: {
				resource: 'talk',
				operation: 'create',
				imageUrl,
				text: 'Hello! This video was made by an n8n workflow with the D-ID node.',
				waitForCompletion: true,
				downloadVideo: true,
			},
		},
		{ credentials },
	);
	if (result.error) {
		console.error(`The D-ID node failed: ${result.error.message}\n${result.error.description ?? ''}`);
		process.exitCode = 1;
	} else {
		lap('create + wait + download');
		const item = result.items[0];
		const video = await binaryBuffer(item);
		const outDir = path.join(ROOT, 'out');
		mkdirSync(outDir, { recursive: true });
		const file = path.join(outDir, item.binary!.data.fileName!);
		writeFileSync(file, video);
		lap('save');
		console.log(`Talk ${item.json.id} is ${item.json.status}; video (${video.length} bytes) saved to ${path.relative(process.cwd(), file)}`);
	}
	await sandbox?.stop();
	console.log(`Total ${((Date.now() - t0) / 1000).toFixed(2)} s`);
	process.exit();
}

void main();
