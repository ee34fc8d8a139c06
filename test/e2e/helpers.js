// What the end-to-end suites share: the examples as workflows, changed by parameter, and the check
// of a finished talk item against the bytes the sandbox served.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { ROOT } = require('../../scripts/n8n/stack');

/** The n8n versions to run on (N8N_VERSIONS, default "compat,latest": see scripts/n8n/install.js). */
const VERSIONS = (process.env.N8N_VERSIONS ?? 'compat,latest').split(',').filter(Boolean);

const sha256 = (buffer) => crypto.createHash('sha256').update(buffer).digest('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh copy of examples/<file>. */
function example(file) {
	return JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
}

/** A copy of `workflow` with `patch` merged into the parameters of node `nodeName`. */
function withParameters(workflow, nodeName, patch) {
	const copy = JSON.parse(JSON.stringify(workflow));
	const node = copy.nodes.find((n) => n.name === nodeName);
	if (!node) throw new Error(`no node "${nodeName}" in ${workflow.name}`);
	Object.assign(node.parameters, patch);
	return copy;
}

/**
 * A copy of a batch example (09, 11: a Set node making `customers`, split into one item each) with
 * `count` customers `{ id, name }`, numbered from 1 as the example numbers them. The Set node's
 * output is given as data, so the copy does not depend on how the example writes its expression.
 */
function withItems(workflow, count) {
	const sets = workflow.nodes.filter((n) => n.type === 'n8n-nodes-base.set');
	const split = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.splitOut');
	if (sets.length !== 1 || split?.parameters.fieldToSplitOut !== 'customers') {
		throw new Error(
			`${workflow.name} is not a batch example (one Set node whose customers are split into items)`,
		);
	}
	const customers = Array.from({ length: count }, (_, i) => ({
		id: i + 1,
		name: `Customer ${i + 1}`,
	}));
	return withParameters(workflow, sets[0].name, {
		mode: 'raw',
		jsonOutput: JSON.stringify({ customers }),
	});
}

/** Checks one finished talk item: done, paired with input `index`, its video the bytes the sandbox served. */
async function expectVideo(stack, item, index, extension = 'mp4') {
	expect(item.json.status).toBe('done');
	expect(item.pairedItem).toEqual({ item: index });
	const binary = item.binary.data;
	expect(binary.fileName).toBe(`${item.json.id}.${extension}`);
	expect(binary.mimeType).toBe(extension === 'mp4' ? 'video/mp4' : 'video/quicktime');
	expect(sha256(await stack.binary(binary.id))).toBe(
		await stack.sandbox.resultDigest(item.json.id),
	);
}

/** Creates a talk at the sandbox directly, as any D-ID client would, with `webhook`; returns its id. */
async function createTalk(sandbox, { input, webhook, userData }) {
	const res = await fetch(`${sandbox.url}/talks`, {
		method: 'POST',
		headers: {
			authorization: `Basic ${Buffer.from(sandbox.apiKey).toString('base64')}`,
			'content-type': 'application/json',
		},
		body: JSON.stringify({
			source_url: 'https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg',
			script: { type: 'text', input },
			webhook,
			user_data: userData,
		}),
	});
	expect(res.status).toBe(201);
	return (await res.json()).id;
}

module.exports = {
	VERSIONS,
	sha256,
	sleep,
	example,
	withParameters,
	withItems,
	expectVideo,
	createTalk,
};
