'use strict';
// Memory while many input files are uploaded: ITEMS photos of PHOTO_MB each are read from disk by
// n8n's Read/Write Files node (streamed into n8n's binary storage) and given to the D-ID node
// (Image Source: Binary File, no waiting). Measured: the n8n process's peak RSS growth over the
// whole execution, at each Max Concurrent Talks; the bound is concurrency × file size + 64 MB.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { nodeOutput, ROOT } = require('../scripts/n8n/stack');
const { manualChain, readFilesNode, dIdNode } = require('../scripts/n8n/workflows');

const PHOTO_BYTES = 4 * 1024 * 1024;
const SLACK_MB = 64;

/** A folder of `count` different names for one 4 MB JPEG (hard links: 4 MB on disk, not 2 GB). */
function photoFolder(count) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-bench-photos-'));
	const jpeg = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'portrait.jpg'));
	const photo = Buffer.concat([jpeg, Buffer.alloc(PHOTO_BYTES - jpeg.length, 0)]);
	const first = path.join(dir, 'photo-0000.jpg');
	fs.writeFileSync(first, photo);
	for (let i = 1; i < count; i++)
		fs.linkSync(first, path.join(dir, `photo-${String(i).padStart(4, '0')}.jpg`));
	return dir;
}

function workflow(dir, concurrency) {
	return manualChain(`bench: photos from disk, ${concurrency} at a time`, [
		readFilesNode('Read photos', `${dir}/*.jpg`),
		dIdNode('D-ID', {
			resource: 'talk',
			operation: 'create',
			imageSource: 'binary',
			imageBinaryProperty: 'data',
			text: 'Hello from the memory benchmark.',
			waitForCompletion: false,
			options: { maxConcurrency: concurrency },
		}),
	]);
}

/**
 * Runs the scenario on a started stack (n8n must be allowed to read `dir`: N8N_RESTRICT_FILE_ACCESS_TO).
 * `peakGrowthMb(pid, work)` samples the process's RSS while `work` runs.
 */
async function inputFilesMemory(stack, { dir, items, concurrencies, runs = 2, peakGrowthMb }) {
	const rows = [];
	const ids = [];
	for (const concurrency of concurrencies)
		ids.push(await stack.importWorkflow(workflow(dir, concurrency), stack.credential));
	// Once to warm up (nodes loaded, code compiled, caches filled), as the other memory figure is.
	await stack.runWorkflow(ids[0], { timeoutMs: 30 * 60_000 });
	for (const [n, concurrency] of concurrencies.entries()) {
		const id = ids[n];
		// When garbage is collected varies from run to run: each figure is the larger of `runs` runs.
		const growths = [];
		let execution;
		let uploads = 0;
		for (let run = 0; run < runs; run++) {
			stack.sandbox.resetStats();
			growths.push(
				await peakGrowthMb(stack.pid, async () => {
					execution = await stack.runWorkflow(id, { timeoutMs: 30 * 60_000 });
				}),
			);
			if (execution.status !== 'success')
				throw new Error(
					`input files, ${concurrency} at a time: ${execution.status} ${JSON.stringify(execution.data.resultData.error)}`,
				);
			uploads = stack.sandbox.stats().requests['POST /images'] ?? 0;
		}
		const talks = nodeOutput(execution, 'D-ID').length;
		const seconds = (Date.parse(execution.stoppedAt) - Date.parse(execution.startedAt)) / 1000;
		const boundMb = (concurrency * PHOTO_BYTES) / 2 ** 20 + SLACK_MB;
		const row = {
			items,
			photoMb: PHOTO_BYTES / 2 ** 20,
			concurrency,
			talks,
			uploads,
			seconds: Math.round(seconds * 10) / 10,
			growthMb: Math.max(...growths),
			growthRunsMb: growths,
			boundMb,
		};
		console.log(`  ${JSON.stringify(row)}`);
		rows.push(row);
	}
	return rows;
}

module.exports = { photoFolder, inputFilesMemory, PHOTO_BYTES, SLACK_MB };
