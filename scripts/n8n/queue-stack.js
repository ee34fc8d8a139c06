'use strict';
// n8n in queue mode (how users scale n8n out), with this package loaded, next to the D-ID sandbox:
// private Redis and PostgreSQL (Debian's packages, installed when missing), n8n main + workers +
// webhook processes, and a round-robin proxy in front of the webhook processes that is every
// process's WEBHOOK_URL. All on free loopback ports; all files in one temp dir.
//
//   const stack = await startQueueStack();
//   const id = await stack.importWorkflow(require('../../examples/09-fifty-items.json'), stack.credential);
//   const execution = await stack.runWorkflow(id);        // runs on a worker
//   await stack.kill('worker1'); await stack.restart('worker1');
//   await stack.stop();
//
// Everything started here is stopped by stop(), and also when this process exits or is interrupted.
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { createCleanups } = require('./cleanups');
const { ensureN8n } = require('./install');
const {
	addSandboxCredential,
	clientMethods,
	createRestClient,
	freePort,
	log,
	quietEnv,
	sleep,
	stagePackage,
	startSandbox,
	waitForWebhook,
	withoutRunnerEnv,
} = require('./stack');

// ------------------------------------------------------------------ Debian's Redis and PostgreSQL

function redisServerBinary() {
	for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server'])
		if (fs.existsSync(candidate)) return candidate;
	return undefined;
}

/** The newest PostgreSQL server installed from Debian's packages: its bin directory. */
function postgresBinDir() {
	const base = '/usr/lib/postgresql';
	if (!fs.existsSync(base)) return undefined;
	const versions = fs
		.readdirSync(base)
		.filter(
			(v) =>
				fs.existsSync(path.join(base, v, 'bin', 'initdb')) &&
				fs.existsSync(path.join(base, v, 'bin', 'postgres')),
		)
		.sort((a, b) => Number(b) - Number(a));
	return versions.length ? path.join(base, versions[0], 'bin') : undefined;
}

function runSync(command, args, options = {}) {
	const result = spawnSync(command, args, { encoding: 'utf8', ...options });
	if (result.status !== 0) {
		throw new Error(
			`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${(result.stdout ?? '') + (result.stderr ?? '')}`.slice(
				-3000,
			),
		);
	}
	return result.stdout;
}

/**
 * Installs `redis-server` and `postgresql` with apt-get when they are missing (as root, without
 * questions). Debian starts a service when its package is installed; a policy-rc.d that refuses
 * keeps the system-wide Redis/PostgreSQL from starting (the stack runs private instances).
 */
function ensureDebianPackages() {
	const missing = [];
	if (!redisServerBinary()) missing.push('redis-server');
	if (!postgresBinDir()) missing.push('postgresql');
	if (!missing.length) return;
	if (process.getuid?.() !== 0) {
		throw new Error(
			`queue mode needs ${missing.join(' and ')}: run \`sudo apt-get install -y ${missing.join(' ')}\` (or run this as root)`,
		);
	}
	const started = Date.now();
	log(`installing ${missing.join(', ')} from Debian's packages (apt-get)`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	const policy = '/usr/sbin/policy-rc.d';
	const ownPolicy = !fs.existsSync(policy);
	if (ownPolicy)
		fs.writeFileSync(
			policy,
			'#!/bin/sh\n# written by n8n-nodes-d-id scripts/n8n/queue-stack.js while it installs packages\nexit 101\n',
			{ mode: 0o755 },
		);
	try {
		const install = () =>
			spawnSync(
				'apt-get',
				['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', ...missing],
				{ env, encoding: 'utf8' },
			);
		let result = install();
		if (result.status !== 0) {
			// A fresh machine may not have package lists yet.
			runSync('apt-get', ['update', '-o', 'DPkg::Lock::Timeout=300'], { env });
			result = install();
		}
		if (result.status !== 0)
			throw new Error(
				`apt-get install ${missing.join(' ')} failed:\n${(result.stdout + result.stderr).slice(-3000)}`,
			);
	} finally {
		if (ownPolicy) fs.rmSync(policy, { force: true });
	}
	if (!redisServerBinary() || !postgresBinDir())
		throw new Error(
			`apt-get installed ${missing.join(' ')}, but redis-server or initdb is still missing`,
		);
	log(`installed ${missing.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user Debian's package creates. */
function postgresOwner() {
	if (process.getuid?.() !== 0) return undefined;
	const uid = Number(runSync('id', ['-u', 'postgres']).trim());
	const gid = Number(runSync('id', ['-g', 'postgres']).trim());
	return { uid, gid };
}

// ------------------------------------------------------------------ processes

/**
 * One child process in its own process group, its output in `logFile`. stop() ends it with
 * `signal` (then SIGKILL after `graceMs`); the returned object's `sync` kills it at once (for exit).
 */
function startProcess(
	name,
	command,
	args,
	{ env, cwd, logFile, uid, gid, stopSignal = 'SIGTERM', graceMs = 15_000 },
) {
	const out = fs.openSync(logFile, 'a');
	const child = spawn(command, args, {
		cwd,
		env,
		stdio: ['ignore', out, out],
		detached: true,
		uid,
		gid,
	});
	fs.closeSync(out);
	const proc = {
		name,
		pid: child.pid,
		logFile,
		exited: null,
		readLog: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
	};
	proc.exit = new Promise((resolve) =>
		child.on('exit', (code, signal) => {
			proc.exited = { code, signal };
			resolve(proc.exited);
		}),
	);
	const signalGroup = (signal) => {
		try {
			process.kill(-child.pid, signal);
		} catch {
			/* already gone */
		}
	};
	proc.signal = signalGroup;
	proc.stop = async (signal = stopSignal) => {
		if (proc.exited) return proc.exited;
		// A graceful stop goes to the process itself (n8n stops its own task runner); SIGKILL to all of them.
		if (signal === 'SIGKILL') signalGroup(signal);
		else {
			try {
				process.kill(child.pid, signal);
			} catch {
				/* already gone */
			}
		}
		const done = await Promise.race([proc.exit, sleep(graceMs).then(() => null)]);
		if (done) return done;
		signalGroup('SIGKILL');
		return proc.exit;
	};
	proc.stop.sync = () => signalGroup('SIGKILL');
	return proc;
}

async function waitFor(what, check, { timeoutMs = 120_000, proc } = {}) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (proc?.exited)
			throw new Error(
				`${proc.name} exited while starting (${JSON.stringify(proc.exited)}):\n${proc.readLog().slice(-3000)}`,
			);
		try {
			if (await check()) return;
		} catch {
			/* not ready yet */
		}
		if (Date.now() > deadline)
			throw new Error(
				`${what} not ready after ${timeoutMs} ms${proc ? `:\n${proc.readLog().slice(-3000)}` : ''}`,
			);
		await sleep(250);
	}
}

async function httpOk(url) {
	const res = await fetch(url);
	await res.arrayBuffer();
	return res.ok;
}

/** True when Redis on `port` answers PING. */
function redisPing(port) {
	return new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		let reply = '';
		socket.setTimeout(1000, () => socket.destroy());
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (chunk) => {
			reply += chunk;
			if (reply.includes('\r\n')) socket.end();
		});
		socket.on('close', () => resolve(reply.startsWith('+PONG')));
		socket.on('error', () => resolve(false));
	});
}

/** A round-robin HTTP proxy: each request goes to the next backend in turn (streams both ways). */
function createRoundRobinProxy(backends) {
	let next = 0;
	const counts = backends.map(() => 0);
	const server = http.createServer((req, res) => {
		const index = next++ % backends.length;
		counts[index] += 1;
		const target = backends[index];
		const upstream = http.request(
			{
				host: '127.0.0.1',
				port: target.port,
				method: req.method,
				path: req.url,
				headers: req.headers,
			},
			(upstreamRes) => {
				res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
				upstreamRes.pipe(res);
			},
		);
		upstream.on('error', (error) => {
			if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
			res.end(`proxy: ${target.name} unreachable: ${error.message}`);
		});
		req.pipe(upstream);
	});
	const sockets = new Set();
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	return {
		server,
		counts: () => Object.fromEntries(backends.map((b, i) => [b.name, counts[i]])),
		listen: () =>
			new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port))),
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}

// ------------------------------------------------------------------ the stack

/**
 * @param {object} [options]
 * @param {string} [options.version] n8n version (default: N8N_VERSION or 'latest')
 * @param {number} [options.workers] `n8n worker` processes (default 2)
 * @param {number} [options.webhooks] `n8n webhook` processes (default 2)
 * @param {number} [options.concurrency] executions per worker (default 10)
 * @param {object|false} [options.sandbox] createSandbox options, or false for none
 * @param {object} [options.env] extra env for every n8n process
 */
async function startQueueStack(options = {}) {
	const started = Date.now();
	const timings = {};
	const mark = (name, since) => (timings[name] = Number(((Date.now() - since) / 1000).toFixed(1)));
	ensureDebianPackages();
	mark('packages', started);
	const installed = await ensureN8n(options.version ?? process.env.N8N_VERSION ?? 'latest');
	if (Number(installed.version.split('.')[0]) < 2)
		log(`n8n ${installed.version}: queue mode here is tested with 2.x`);

	// A crash or Ctrl-C must not leave anything running.
	const cleanups = createCleanups(log);
	const stop = cleanups.stop;

	const processes = {};
	try {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-d-id-queue-'));
		fs.chmodSync(dir, 0o755);
		cleanups.remove(dir);
		const stage = stagePackage(installed.dir);
		cleanups.remove(stage);

		// ---- sandbox
		const sandbox = await startSandbox(options, cleanups);

		// ---- Redis and PostgreSQL, in parallel
		let since = Date.now();
		const redisPort = await freePort();
		const redisDir = path.join(dir, 'redis');
		fs.mkdirSync(redisDir);
		const redis = startProcess(
			'redis',
			redisServerBinary(),
			[
				'--port',
				String(redisPort),
				'--bind',
				'127.0.0.1',
				'--dir',
				redisDir,
				'--save',
				'',
				'--appendonly',
				'no',
				'--daemonize',
				'no',
			],
			{
				env: process.env,
				cwd: redisDir,
				logFile: path.join(dir, 'redis.log'),
				stopSignal: 'SIGTERM',
				graceMs: 5_000,
			},
		);
		cleanups.add(redis.stop);
		processes.redis = redis;

		const pgBin = postgresBinDir();
		const pgOwner = postgresOwner();
		const pgPort = await freePort();
		const pgDir = path.join(dir, 'postgres');
		const pgData = path.join(pgDir, 'data');
		fs.mkdirSync(pgDir, { mode: 0o700 });
		if (pgOwner) fs.chownSync(pgDir, pgOwner.uid, pgOwner.gid);
		const pgEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: pgDir };
		runSync(
			path.join(pgBin, 'initdb'),
			['-D', pgData, '-U', 'n8n', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
			{
				env: pgEnv,
				cwd: pgDir,
				...(pgOwner ?? {}),
			},
		);
		const postgres = startProcess(
			'postgres',
			path.join(pgBin, 'postgres'),
			[
				'-D',
				pgData,
				'-p',
				String(pgPort),
				'-k',
				pgDir,
				'-c',
				'listen_addresses=127.0.0.1',
				'-c',
				'fsync=off',
				'-c',
				'synchronous_commit=off',
				'-c',
				'full_page_writes=off',
				'-c',
				'max_connections=200',
			],
			// SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave).
			{
				env: pgEnv,
				cwd: pgDir,
				logFile: path.join(dir, 'postgres.log'),
				stopSignal: 'SIGINT',
				graceMs: 10_000,
				...(pgOwner ?? {}),
			},
		);
		cleanups.add(postgres.stop);
		processes.postgres = postgres;
		await waitFor(
			'postgres',
			async () =>
				spawnSync(path.join(pgBin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(pgPort)])
					.status === 0,
			{ proc: postgres, timeoutMs: 60_000 },
		);
		runSync(
			path.join(pgBin, 'createdb'),
			['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'n8n', 'n8n'],
			{ env: pgEnv },
		);
		await waitFor('redis', () => redisPing(redisPort), {
			proc: redis,
			timeoutMs: 30_000,
		});
		mark('redisAndPostgres', since);

		// ---- n8n
		const workers = options.workers ?? 2;
		const webhooks = options.webhooks ?? 2;
		const mainPort = await freePort();
		const webhookPorts = [];
		for (let i = 0; i < webhooks; i++) webhookPorts.push(await freePort());
		const proxy = createRoundRobinProxy(
			webhookPorts.map((port, i) => ({ name: `webhook${i + 1}`, port })),
		);
		const proxyPort = await proxy.listen();
		cleanups.add(() => proxy.close());
		const url = `http://127.0.0.1:${mainPort}`;
		const webhookUrl = `http://127.0.0.1:${proxyPort}`;
		const encryptionKey = options.encryptionKey ?? crypto.randomBytes(24).toString('hex');

		const sharedEnv = {
			...process.env,
			...quietEnv(installed, options),
			EXECUTIONS_MODE: 'queue',
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(pgPort),
			DB_POSTGRESDB_DATABASE: 'n8n',
			DB_POSTGRESDB_USER: 'n8n',
			DB_POSTGRESDB_PASSWORD: '',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redisPort),
			N8N_ENCRYPTION_KEY: encryptionKey,
			N8N_CUSTOM_EXTENSIONS: stage,
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
			WEBHOOK_URL: `${webhookUrl}/`,
			N8N_EDITOR_BASE_URL: `${url}/`,
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			// Manual runs (the editor's "Execute workflow", and runWorkflow here) go to the workers too.
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			...(options.env ?? {}),
		};
		withoutRunnerEnv(sharedEnv, options);

		/** How each n8n process is (re)started: its command and its own ports and folder. */
		const specs = {};
		const addSpec = async (name, command, args, extra = {}) => {
			const userFolder = path.join(dir, name);
			fs.mkdirSync(userFolder, { recursive: true });
			specs[name] = {
				name,
				command,
				args,
				userFolder,
				env: {
					...sharedEnv,
					N8N_USER_FOLDER: userFolder,
					N8N_RUNNERS_BROKER_PORT: String(await freePort()),
					...extra,
				},
			};
		};
		await addSpec('main', 'start', [], { N8N_PORT: String(mainPort) });
		for (let i = 1; i <= workers; i++)
			await addSpec(`worker${i}`, 'worker', [`--concurrency=${options.concurrency ?? 10}`], {
				N8N_PORT: String(await freePort()),
			});
		// The webhook processes as README "Queue mode" recommends: n8n 2.x builds an expression
		// isolate only when a call evaluates an expression (D-ID's calls evaluate none), and serves
		// /metrics, where the tests read how many isolates the calls cost.
		for (let i = 1; i <= webhooks; i++)
			await addSpec(`webhook${i}`, 'webhook', [], {
				N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true',
				N8N_METRICS: 'true',
				...(options.env ?? {}),
				N8N_PORT: String(webhookPorts[i - 1]),
			});

		const launch = (name) => {
			const spec = specs[name];
			const proc = startProcess(name, installed.node, [installed.n8n, spec.command, ...spec.args], {
				env: spec.env,
				cwd: spec.userFolder,
				logFile: path.join(dir, `${name}.log`),
				// More than n8n's own shutdown grace period (N8N_GRACEFUL_SHUTDOWN_TIMEOUT, 30 s): a
				// worker stopped with SIGTERM finishes its running executions first.
				graceMs: 45_000,
			});
			processes[name] = proc;
			return proc;
		};
		const stopN8n = async () =>
			Promise.all(Object.keys(specs).map((name) => processes[name]?.stop()));
		stopN8n.sync = () => {
			// (on exit or a signal: no time for grace)
			for (const name of Object.keys(specs)) processes[name]?.stop.sync();
		};
		cleanups.add(stopN8n);

		/** Ready: main answers its REST API; a worker says so in its log; a webhook process answers /healthz. */
		const ready = async (name) => {
			const proc = processes[name];
			const spec = specs[name];
			const timeoutMs = options.startTimeoutMs ?? 240_000;
			if (spec.command === 'start') {
				await waitFor(
					name,
					async () =>
						(await httpOk(`${url}/healthz/readiness`)) && (await httpOk(`${url}/rest/settings`)),
					{ proc, timeoutMs },
				);
			} else if (spec.command === 'worker') {
				await waitFor(
					name,
					async () =>
						/n8n worker is now ready|Worker started|worker is ready/i.test(proc.readLog()),
					{ proc, timeoutMs },
				);
			} else {
				await waitFor(name, async () => httpOk(`http://127.0.0.1:${spec.env.N8N_PORT}/healthz`), {
					proc,
					timeoutMs,
				});
			}
		};

		// Main first: it runs the database migrations the others expect.
		since = Date.now();
		log(
			`starting n8n ${installed.version} in queue mode: main ${url}, ${workers} workers, ${webhooks} webhook processes behind ${webhookUrl}`,
		);
		launch('main');
		await ready('main');
		mark('main', since);
		since = Date.now();
		const others = Object.keys(specs).filter((name) => name !== 'main');
		for (const name of others) launch(name);
		await Promise.all(others.map(ready));
		mark('workersAndWebhooks', since);

		const client = createRestClient(url);
		await client.setupOwner();

		// emptyFolder: started again with its n8n folder empty, as a container without a volume.
		const restart = async (name, { signal, emptyFolder = false } = {}) => {
			if (!specs[name])
				throw new Error(`no n8n process "${name}" (have: ${Object.keys(specs).join(', ')})`);
			await processes[name].stop(signal);
			if (emptyFolder)
				for (const entry of fs.readdirSync(specs[name].userFolder))
					fs.rmSync(path.join(specs[name].userFolder, entry), { recursive: true, force: true });
			launch(name);
			await ready(name);
		};
		const stack = {
			url,
			webhookUrl,
			/** Each webhook process's own address (not through the proxy), by name. */
			webhookProcessUrls: Object.fromEntries(
				webhookPorts.map((port, i) => [`webhook${i + 1}`, `http://127.0.0.1:${port}`]),
			),
			version: installed.version,
			n8nDir: installed.dir,
			dir,
			sandbox,
			redisPort,
			postgresPort: pgPort,
			/** The database every n8n process uses (trust authentication on loopback; user n8n, no password). */
			postgres: { host: '127.0.0.1', port: pgPort, database: 'n8n', user: 'n8n' },
			/** Runs SQL in that database with Debian's psql; returns its unaligned output. */
			psql: (sql) =>
				runSync(
					path.join(pgBin, 'psql'),
					[
						'-h',
						'127.0.0.1',
						'-p',
						String(pgPort),
						'-U',
						'n8n',
						'-d',
						'n8n',
						'-v',
						'ON_ERROR_STOP=1',
						'-At',
						'-c',
						sql,
					],
					{ env: pgEnv },
				),
			names: Object.keys(specs),
			processes,
			/** Prometheus text of a webhook process's /metrics (N8N_METRICS is on for them). */
			metrics: async (name) => {
				const port = webhookPorts[Number(/^webhook(\d+)$/.exec(name)?.[1]) - 1];
				if (!port) throw new Error(`no webhook process "${name}"`);
				const response = await fetch(`http://127.0.0.1:${port}/metrics`);
				if (!response.ok) throw new Error(`${name} /metrics: HTTP ${response.status}`);
				return response.text();
			},
			/** Expression isolates each webhook process has built so far (n8n 2.x /metrics). */
			isolatesBuilt: async () => {
				const built = {};
				for (let i = 1; i <= webhooks; i++) {
					const text = await stack.metrics(`webhook${i}`);
					const match = /^n8n_expression_pool_acquired_total (\d+)/m.exec(text);
					if (!match)
						throw new Error(`webhook${i} /metrics has no n8n_expression_pool_acquired_total`);
					built[`webhook${i}`] = Number(match[1]);
				}
				return built;
			},
			proxyCounts: () => proxy.counts(),
			readLog: (name = 'main') => processes[name]?.readLog() ?? '',
			readLogs: () =>
				Object.keys(specs)
					.map((name) => `==== ${name}\n${processes[name].readLog()}`)
					.join('\n'),
			/** Stops one process now (default SIGKILL: no grace, as a crash). */
			kill: async (name, signal = 'SIGKILL') => {
				if (!processes[name]) throw new Error(`no process "${name}"`);
				return processes[name].stop(signal);
			},
			/** Stops one n8n process (SIGTERM, n8n's graceful shutdown, or `signal`) and starts it again. */
			restart,
			/** Starts a stopped n8n process again. */
			start: async (name) => {
				if (!processes[name]?.exited) throw new Error(`${name} is still running`);
				launch(name);
				await ready(name);
			},
			/** Which worker logged that it started `executionId` (undefined while none has). */
			workerOf: (executionId) =>
				Object.keys(specs).find(
					(name) =>
						specs[name].command === 'worker' &&
						new RegExp(`execution ${executionId}\\b`).test(processes[name].readLog()),
				),
			timings,
			stop,
			...clientMethods(client, installed),
			/** A credential of any n8n type (e.g. `postgres`); returns `{ id, name }`. */
			createCredentialOfType: async (type, name, data) => {
				const created = await client.request('POST', '/rest/credentials', { name, type, data });
				return { id: created.id, name: created.name };
			},
			/** Waits until every webhook process has registered `pathname` (through the proxy, each backend in turn). */
			waitForWebhook: async (pathname) => {
				for (let i = 0; i < webhooks * 2; i++) await waitForWebhook(webhookUrl, pathname);
			},
		};
		await addSandboxCredential(stack);
		mark('total', started);
		log(`queue-mode stack ready in ${timings.total} s (${JSON.stringify(timings)})`);
		return stack;
	} catch (error) {
		await stop();
		throw error;
	}
}

module.exports = { startQueueStack, ensureDebianPackages, createRoundRobinProxy };

if (require.main === module) {
	// `node scripts/n8n/queue-stack.js`: start the stack, print where it is, stop on Ctrl-C.
	startQueueStack({ sandbox: { credits: 100_000 } }).then(
		(stack) => {
			console.log(
				`n8n (queue mode) ${stack.version}: editor ${stack.url} (owner ${require('./stack').OWNER.email}), webhooks ${stack.webhookUrl}`,
			);
			console.log(`sandbox ${stack.sandbox.url}; files in ${stack.dir}. Ctrl-C stops everything.`);
		},
		(error) => {
			console.error(error.message);
			process.exit(1);
		},
	);
}
