'use strict';
// `npm run dev`: n8n's editor with this package loaded, the D-ID sandbox running, a credential
// "D-ID sandbox" pointing at it and every workflow of examples/ imported. Ctrl-C stops it all.
//   N8N_PORT (default 5678 when free), SANDBOX_PORT (default 8765 when free), N8N_VERSION.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { startStack, ROOT } = require('./n8n/stack');

const isFree = (port) =>
	new Promise((resolve) => {
		const server = net.createServer().once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});

async function main() {
	const n8nPort = Number(process.env.N8N_PORT ?? 5678);
	const sandboxPort = Number(process.env.SANDBOX_PORT ?? 8765);
	const stack = await startStack({
		version: process.env.N8N_VERSION ?? 'latest',
		port: (await isFree(n8nPort)) ? n8nPort : undefined,
		sandbox: {
			port: (await isFree(sandboxPort)) ? sandboxPort : 0,
			processing: { msPerSecond: 400, minMs: 1500 },
			log: true,
		},
	});
	const dir = path.join(ROOT, 'examples');
	const imported = [];
	for (const file of fs
		.readdirSync(dir)
		.filter((f) => f.endsWith('.json'))
		.sort()) {
		const workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
		await stack.importWorkflow(workflow, stack.credential);
		imported.push(file);
	}
	console.log(`
n8n ${stack.version} with n8n-nodes-d-id:  ${stack.url}
  login:     ${stack.owner.email} / ${stack.owner.password}
  sandbox:   ${stack.sandbox.url}  (API key ${stack.sandbox.apiKey.split(':')[0]}:…, credential "D-ID sandbox")
  workflows: ${imported.join(', ')}
  n8n log:   ${stack.logFile}
Ctrl-C stops n8n and the sandbox.`);
	const stop = async () => {
		await stack.stop();
		process.exit(0);
	};
	process.removeAllListeners('SIGINT');
	process.removeAllListeners('SIGTERM');
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error) => {
	console.error(`dev failed: ${error.message}`);
	process.exit(1);
});
