'use strict';
// `npm run demo`: photo + text → talk → video file, through a real n8n with this package loaded.
// Against the local D-ID sandbox, or the real D-ID API when D_ID_API_KEY is set (spends credits).
// The video is saved under out/; each step's time is printed.
const fs = require('node:fs');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('./n8n/stack');
const { ensureN8n, isInstalled, resolveVersion, CACHE } = require('./n8n/install');

async function main() {
	const realKey = process.env.D_ID_API_KEY;
	const t0 = Date.now();
	let last = t0;
	const lap = (label) => {
		const now = Date.now();
		console.log(`  ${label.padEnd(44)} ${((now - last) / 1000).toFixed(2)} s`);
		last = now;
	};

	console.log(
		`D-ID demo in real n8n, against ${realKey ? 'the real D-ID API (this spends credits)' : 'the local D-ID sandbox'}`,
	);
	const version = process.env.N8N_VERSION ?? 'latest';
	if (!isInstalled(version)) {
		console.log(
			`  first run: installing n8n ${resolveVersion(version)} into ${CACHE} (about 5 minutes: npm install, a native build, one start to prove it; progress below). Later runs reuse it.`,
		);
	}
	await ensureN8n(version);
	lap(`n8n ${resolveVersion(version)} ready in the cache`);
	const stack = await startStack({
		version,
		// The sandbox renders at about real speed here: a 4-second script takes a few seconds.
		sandbox: realKey ? false : { processing: { msPerSecond: 400, minMs: 1500 } },
	});
	try {
		lap(`start n8n ${stack.version} (+ sandbox)`);
		const credential = realKey
			? await stack.createCredential(
					{ apiKey: realKey, baseUrl: process.env.D_ID_BASE_URL ?? 'https://api.d-id.com' },
					'D-ID',
				)
			: stack.credential;
		const workflow = JSON.parse(
			fs.readFileSync(path.join(ROOT, 'examples', '01-default-call.json'), 'utf8'),
		);
		const node = workflow.nodes.find((n) => n.type.endsWith('.dId'));
		if (process.env.D_ID_IMAGE_URL) node.parameters.imageUrl = process.env.D_ID_IMAGE_URL;
		node.parameters.text = 'Hello! This video was made by an n8n workflow with the D-ID node.';
		const workflowId = await stack.importWorkflow(workflow, credential);
		lap('import workflow "01-default-call"');

		const execution = await stack.runWorkflow(workflowId);
		if (execution.status !== 'success') {
			const error = execution.data.resultData.error ?? {};
			throw new Error(
				`the workflow ended ${execution.status}: ${error.message ?? ''}\n${error.description ?? ''}`,
			);
		}
		const [item] = nodeOutput(execution, node.name);
		const run = execution.data.resultData.runData[node.name][0];
		lap(`execute: create + wait + download (node ${(run.executionTime / 1000).toFixed(2)} s)`);

		const video = await stack.binary(item.binary.data.id);
		const outDir = path.join(ROOT, 'out');
		fs.mkdirSync(outDir, { recursive: true });
		const file = path.join(outDir, item.binary.data.fileName);
		fs.writeFileSync(file, video);
		lap('save the video');
		console.log(
			`Talk ${item.json.id} is ${item.json.status}; video (${video.length} bytes) saved to ${path.relative(process.cwd(), file)}`,
		);
	} finally {
		await stack.stop();
	}
	console.log(`Total ${((Date.now() - t0) / 1000).toFixed(2)} s`);
}

main().catch((error) => {
	console.error(`Demo failed: ${error.message}`);
	process.exit(1);
});
