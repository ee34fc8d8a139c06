'use strict';
// A real n8n with this package loaded, next to the D-ID sandbox, on free loopback ports.
//
//   const stack = await startStack({ version: 'latest' });
//   const id = await stack.importWorkflow(require('../../examples/01-default-call.json'));
//   const execution = await stack.runWorkflow(id);
//   await stack.stop();
//
// Everything started here is stopped by stop(), and also when this process exits or is interrupted.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { createCleanups } = require('./cleanups');
const { ensureN8n, freePort } = require('./install');

const ROOT = path.resolve(__dirname, '..', '..');
const { createSandbox } = require(path.join(ROOT, 'sandbox', 'server'));

const OWNER = {
	email: 'owner@example.com',
	password: 'Sandbox-Owner-1',
	firstName: 'Sandbox',
	lastName: 'Owner',
};
const BROWSER_ID = 'n8n-nodes-d-id-e2e';
const PACKAGE_PREFIX = 'n8n-nodes-d-id.';

function log(message) {
	if (process.env.N8N_STACK_QUIET !== '1') process.stderr.write(`[stack] ${message}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Copies the built package (package.json + dist) next to n8n's own node_modules, so that the
 * package's `require('n8n-workflow')` finds the n8n-workflow this n8n runs with, as it would when
 * installed from npm.
 */
function stagePackage(n8nDir) {
	const dist = path.join(ROOT, 'dist');
	if (!fs.existsSync(path.join(dist, 'nodes', 'DId', 'DId.node.js'))) {
		throw new Error('dist/ is missing: run `npm run build` first');
	}
	const stage = fs.mkdtempSync(path.join(n8nDir, 'ext-'));
	const target = path.join(stage, 'n8n-nodes-d-id');
	fs.mkdirSync(target);
	fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(target, 'package.json'));
	fs.cpSync(dist, path.join(target, 'dist'), { recursive: true });
	return stage;
}

/**
 * Workflows are written as a user imports them after installing the package from npm
 * (`n8n-nodes-d-id.dId`); a package loaded from N8N_CUSTOM_EXTENSIONS is `CUSTOM.dId` instead.
 */
function forCustomExtension(workflow) {
	const copy = JSON.parse(JSON.stringify(workflow));
	for (const node of copy.nodes) {
		if (node.type.startsWith(PACKAGE_PREFIX))
			node.type = `CUSTOM.${node.type.slice(PACKAGE_PREFIX.length)}`;
	}
	return copy;
}

/** Settings every n8n process of a test stack gets: quiet, loopback only, logs to the console. */
function quietEnv(installed, options = {}) {
	return {
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_PUBLIC_API_DISABLED: 'true',
		N8N_LOG_LEVEL: options.logLevel ?? 'info',
		N8N_LOG_OUTPUT: 'console',
		EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS: 'true',
		// Only loopback: n8n's own calls home stay off.
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		...(fs.existsSync(
			path.join(installed.dir, 'node_modules', 'n8n', 'dist', 'modules', 'mcp-registry'),
		)
			? { N8N_DISABLED_MODULES: 'mcp-registry' }
			: {}),
		...installed.env,
	};
}

/** Takes out of `env` what a test runner sets for itself (jest's NODE_ENV=test is n8n's test mode), unless options.env sets it. */
function withoutRunnerEnv(env, options) {
	for (const name of ['NODE_OPTIONS', 'NODE_ENV', 'JEST_WORKER_ID'])
		if (!options.env?.[name]) delete env[name];
	return env;
}

/** The D-ID sandbox for a stack (`options.sandbox`: createSandbox options, or false for none), stopped by `cleanups`. */
async function startSandbox(options, cleanups) {
	if (options.sandbox === false) return undefined;
	const sandbox = createSandbox({ port: 0, ...(options.sandbox ?? {}) });
	await sandbox.start();
	cleanups.add(() => sandbox.stop());
	return sandbox;
}

/** What every stack offers through n8n's REST API. */
function clientMethods(client, installed) {
	return {
		rest: client.request,
		binary: client.binary,
		createCredential: (data, name = 'D-ID sandbox') => client.createCredential(name, data),
		importWorkflow: (workflow, credential) =>
			client.importWorkflow(forCustomExtension(workflow), credential),
		runWorkflow: (id, runOptions) => client.runWorkflow(id, installed, runOptions),
		startWorkflow: (id) => client.startWorkflow(id, installed),
		getExecution: (id) => client.getExecution(id, installed),
		waitForExecution: (id, waitOptions) => client.waitForExecution(id, installed, waitOptions),
		listExecutions: (workflowId) => client.listExecutions(workflowId),
		activateWorkflow: (id) => client.activateWorkflow(id, installed),
		stopExecution: (id) => client.request('POST', `/rest/executions/${id}/stop`, {}),
	};
}

/** The credential of the stack's sandbox (`stack.credential`), when it has one. */
async function addSandboxCredential(stack) {
	if (stack.sandbox)
		stack.credential = await stack.createCredential({
			apiKey: stack.sandbox.apiKey,
			baseUrl: stack.sandbox.url,
		});
}

async function startStack(options = {}) {
	const started = Date.now();
	const installed = await ensureN8n(options.version ?? process.env.N8N_VERSION ?? 'latest');
	// A crash or Ctrl-C must not leave n8n running.
	const cleanups = createCleanups(log);
	const stop = cleanups.stop;

	try {
		const sandbox = await startSandbox(options, cleanups);

		const stage = stagePackage(installed.dir);
		const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-d-id-'));
		cleanups.remove(stage, ...(options.keepUserFolder ? [] : [userFolder]));

		const port = options.port ?? (await freePort());
		const brokerPort = await freePort();
		const url = `http://127.0.0.1:${port}`;
		const logFile = path.join(userFolder, 'n8n.log');
		const env = {
			...process.env,
			N8N_USER_FOLDER: userFolder,
			N8N_PORT: String(port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			WEBHOOK_URL: `${url}/`,
			N8N_WEBHOOK_URL: `${url}/`,
			N8N_EDITOR_BASE_URL: `${url}/`,
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_CUSTOM_EXTENSIONS: stage,
			N8N_ENCRYPTION_KEY: options.encryptionKey ?? crypto.randomBytes(24).toString('hex'),
			...quietEnv(installed, options),
			N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
			DB_SQLITE_POOL_SIZE: '2',
			...(options.env ?? {}),
		};
		withoutRunnerEnv(env, options);
		log(
			`starting n8n ${installed.version} on ${url} (node ${path.basename(path.dirname(path.dirname(installed.node)))})`,
		);
		// One n8n process at a time; restart() stops it (SIGTERM, as a service manager does) and
		// starts another on the same port, user folder and database.
		let current;
		const launch = async () => {
			const out = fs.openSync(logFile, 'a');
			const child = spawn(installed.node, [installed.n8n, 'start'], {
				cwd: userFolder,
				env,
				stdio: ['ignore', out, out],
				detached: true,
			});
			fs.closeSync(out);
			const proc = { child, exited: null };
			proc.exitPromise = new Promise((resolve) =>
				child.on('exit', (code, signal) => resolve((proc.exited = { code, signal }))),
			);
			current = proc;
			const deadline = Date.now() + (options.startTimeoutMs ?? 240_000);
			for (;;) {
				if (proc.exited)
					throw new Error(
						`n8n exited while starting (${JSON.stringify(proc.exited)}):\n${readLog().slice(-3000)}`,
					);
				if (Date.now() > deadline)
					throw new Error(`n8n did not answer /healthz in time:\n${readLog().slice(-3000)}`);
				try {
					// /healthz answers before the REST routes exist (n8n 1.x); wait for both.
					const health = await fetch(`${url}/healthz/readiness`);
					const settings = health.ok ? await fetch(`${url}/rest/settings`) : undefined;
					if (settings?.ok) break;
				} catch {
					/* not listening yet */
				}
				await sleep(500);
			}
		};
		const killGroup = (signal) => {
			try {
				process.kill(-current.child.pid, signal);
			} catch {
				/* already gone */
			}
		};
		const stopN8n = async () => {
			if (!current || current.exited) return;
			killGroup('SIGTERM');
			const done = await Promise.race([current.exitPromise, sleep(15_000).then(() => null)]);
			if (!done) killGroup('SIGKILL');
		};
		stopN8n.sync = () => current && killGroup('SIGKILL');
		cleanups.add(stopN8n);

		const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
		await launch();

		const client = createRestClient(url);
		await client.setupOwner();
		const stack = {
			url,
			version: installed.version,
			n8nDir: installed.dir,
			userFolder,
			logFile,
			get pid() {
				return current.child.pid;
			},
			sandbox,
			owner: OWNER,
			readLog,
			stop,
			...clientMethods(client, installed),
			waitForWebhook: (pathname) => waitForWebhook(url, pathname),
			/** Stops n8n (SIGTERM: its graceful shutdown) and starts it again with the same port, folder and database. */
			restartN8n: async () => {
				await stopN8n();
				await launch();
			},
		};
		await addSandboxCredential(stack);
		log(`n8n ${installed.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		return stack;
	} catch (error) {
		await stop();
		throw error;
	}
}

/**
 * n8n registers an activated workflow's webhooks a moment after the activation call returns:
 * wait until `pathname` stops answering 404. (An empty POST; a trigger refuses it without running.)
 */
async function waitForWebhook(url, pathname, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const res = await fetch(`${url}${pathname}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		await res.arrayBuffer();
		if (res.status !== 404) return;
		if (Date.now() > deadline)
			throw new Error(`webhook ${pathname} not registered after ${timeoutMs} ms`);
		await sleep(250);
	}
}

function majorOf(version) {
	return Number(version.split('.')[0]);
}

/** n8n's internal REST API, as the editor uses it (cookie auth). */
function createRestClient(url) {
	let cookie = '';
	async function request(method, pathname, body) {
		const res = await fetch(`${url}${pathname}`, {
			method,
			headers: {
				'content-type': 'application/json',
				'browser-id': BROWSER_ID,
				...(cookie ? { cookie } : {}),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const setCookie = res.headers.get('set-cookie');
		if (setCookie) {
			const auth = /n8n-auth=[^;]*/.exec(setCookie);
			if (auth) cookie = auth[0];
		}
		const text = await res.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		if (!res.ok) {
			const error = new Error(`${method} ${pathname} → ${res.status}: ${text.slice(0, 500)}`);
			error.status = res.status;
			error.body = json ?? text;
			throw error;
		}
		return json?.data ?? json;
	}

	/** The bytes of a binary stored by n8n (filesystem mode), as the editor's download button gets them. */
	async function binary(id) {
		const res = await fetch(
			`${url}/rest/binary-data?id=${encodeURIComponent(id)}&action=download`,
			{
				headers: { 'browser-id': BROWSER_ID, cookie },
			},
		);
		if (!res.ok) throw new Error(`binary ${id} → ${res.status}`);
		return Buffer.from(await res.arrayBuffer());
	}

	async function setupOwner() {
		await request('POST', '/rest/owner/setup', OWNER);
		await request('POST', '/rest/login', {
			emailOrLdapLoginId: OWNER.email,
			password: OWNER.password,
		});
	}

	async function createCredential(name, data) {
		const created = await request('POST', '/rest/credentials', { name, type: 'dIdApi', data });
		return { id: created.id, name: created.name };
	}

	async function importWorkflow(workflow, credential) {
		const nodes = workflow.nodes.map((node) =>
			credential && node.credentials?.dIdApi
				? { ...node, credentials: { dIdApi: credential } }
				: node,
		);
		const created = await request('POST', '/rest/workflows', {
			name: workflow.name,
			active: false,
			nodes,
			connections: workflow.connections,
			settings: workflow.settings ?? { executionOrder: 'v1' },
			pinData: workflow.pinData ?? {},
		});
		return created.id;
	}

	function triggerOf(workflow) {
		const trigger = workflow.nodes.find((node) => /manualTrigger$/.test(node.type));
		if (!trigger) throw new Error(`workflow ${workflow.id} has no Manual Trigger to run it from`);
		return trigger.name;
	}

	/** Starts a manual execution as the editor's "Execute workflow" button does; returns its id. */
	async function startWorkflow(id, installed) {
		const workflow = await request('GET', `/rest/workflows/${id}`);
		const triggerToStartFrom = { name: triggerOf(workflow) };
		const body =
			majorOf(installed.version) >= 2
				? { triggerToStartFrom }
				: { workflowData: workflow, triggerToStartFrom };
		const started = await request('POST', `/rest/workflows/${id}/run`, body);
		if (!started?.executionId)
			throw new Error(`n8n did not start workflow ${id}: ${JSON.stringify(started)}`);
		return started.executionId;
	}

	async function getExecution(id, installed) {
		const execution = await request('GET', `/rest/executions/${id}`);
		// Execution data is stored "flatted" (circular-safe JSON); parse it with n8n's own copy.
		const { parse } = require(
			require.resolve('flatted', { paths: [path.join(installed.dir, 'node_modules', 'n8n')] }),
		);
		const data = typeof execution.data === 'string' ? parse(execution.data) : execution.data;
		return { ...execution, data };
	}

	async function waitForExecution(
		id,
		installed,
		{ timeoutMs = 300_000, until = ['success', 'error', 'crashed', 'canceled'] } = {},
	) {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const execution = await getExecution(id, installed);
			if (until.includes(execution.status)) return execution;
			if (Date.now() > deadline)
				throw new Error(`execution ${id} still ${execution.status} after ${timeoutMs} ms`);
			await sleep(200);
		}
	}

	async function runWorkflow(id, installed, runOptions) {
		const executionId = await startWorkflow(id, installed);
		return waitForExecution(executionId, installed, runOptions);
	}

	/** Every execution of a workflow, newest first (n8n pages by 100; a status filter makes it honour lastId). */
	async function listExecutions(workflowId) {
		const status = ['new', 'running', 'waiting', 'success', 'error', 'crashed', 'canceled'];
		const filter = encodeURIComponent(JSON.stringify({ workflowId, status }));
		const all = [];
		for (let lastId; ; ) {
			const result = await request(
				'GET',
				`/rest/executions?filter=${filter}&limit=100${lastId ? `&lastId=${lastId}` : ''}`,
			);
			const page = result.results ?? result;
			all.push(...page);
			if (page.length < 100) return all;
			lastId = page.reduce((min, e) => (Number(e.id) < Number(min) ? e.id : min), page[0].id);
		}
	}

	async function activateWorkflow(id, installed) {
		const workflow = await request('GET', `/rest/workflows/${id}`);
		if (majorOf(installed.version) >= 2) {
			await request('POST', `/rest/workflows/${id}/activate`, { versionId: workflow.versionId });
		} else {
			await request('PATCH', `/rest/workflows/${id}`, { ...workflow, active: true });
		}
	}

	return {
		request,
		binary,
		setupOwner,
		createCredential,
		importWorkflow,
		startWorkflow,
		getExecution,
		waitForExecution,
		runWorkflow,
		listExecutions,
		activateWorkflow,
	};
}

/** Output items of a node in an execution (last run, first output). */
function nodeOutput(execution, nodeName, outputIndex = 0) {
	const runs = execution.data?.resultData?.runData?.[nodeName];
	if (!runs?.length) return undefined;
	return runs[runs.length - 1].data?.main?.[outputIndex] ?? [];
}

module.exports = {
	startStack,
	nodeOutput,
	forCustomExtension,
	ROOT,
	// Shared with scripts/n8n/queue-stack.js:
	OWNER,
	createRestClient,
	waitForWebhook,
	freePort,
	stagePackage,
	quietEnv,
	withoutRunnerEnv,
	startSandbox,
	clientMethods,
	addSandboxCredential,
	log,
	sleep,
};
