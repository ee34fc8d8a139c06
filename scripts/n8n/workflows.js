'use strict';
// Small workflows written in code (the examples/ are the user-facing ones): a Manual Trigger
// "Start" and the given nodes, each feeding the next.

/**
 * `nodes`: `{ name, type, typeVersion, parameters, credentials? }` in the order they run; each gets
 * an id ('b', 'c', …) and a place left to right.
 */
function manualChain(name, nodes) {
	const start = {
		name: 'Start',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		parameters: {},
	};
	const all = [start, ...nodes].map((node, i) => ({
		id: String.fromCharCode(97 + i),
		position: [200 * i, 0],
		...node,
	}));
	const connections = {};
	for (let i = 0; i + 1 < all.length; i++)
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	return { name, nodes: all, connections };
}

/** n8n's Read/Write Files node reading every file `fileSelector` matches, one item each. */
function readFilesNode(name, fileSelector) {
	return {
		name,
		type: 'n8n-nodes-base.readWriteFile',
		typeVersion: 1,
		parameters: { operation: 'read', fileSelector, options: {} },
	};
}

/** The D-ID node with `parameters` and a placeholder credential (importWorkflow puts the real one in). */
function dIdNode(name, parameters) {
	return {
		name,
		type: 'n8n-nodes-d-id.dId',
		typeVersion: 2,
		credentials: { dIdApi: { id: 'x', name: 'x' } },
		parameters,
	};
}

module.exports = { manualChain, readFilesNode, dIdNode };
