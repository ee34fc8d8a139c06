// The n8n installer (scripts/n8n/install.js) on a machine that never ran the project, started the way
// `npm run …` starts it: with `npm_config_ignore_scripts=true` in its environment (the project's
// .npmrc exported to every child). A cache entry with a real, unbuilt sqlite3 (installed with
// scripts off, exactly as the installer installs n8n) stands in for n8n's tree; its `n8n` is a
// small server that answers /healthz, so the proof step runs without a full n8n (the e2e tier and
// .ci/run install and prove the real one from an empty cache).
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const INSTALLER = path.resolve(__dirname, '..', 'scripts', 'n8n', 'install.js');
const { sqliteProblem } = require(INSTALLER);
const SQLITE3 = '5.1.7'; // the version n8n 1.123 and 2.40 resolve
const VERSION = '0.0.0-installer-test';

jest.setTimeout(900_000);

let cache;
let dir;
beforeAll(() => {
	cache = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-install-test-'));
	dir = path.join(cache, `n8n-${VERSION}`);
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'installer-test', private: true, dependencies: { sqlite3: SQLITE3 } }),
	);
	const installed = spawnSync(
		'npm',
		['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
		{ cwd: dir, encoding: 'utf8' },
	);
	if (installed.status !== 0) throw new Error(`npm install sqlite3 failed: ${installed.stderr}`);
	writeFakeN8n({ healthy: true });
});
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

/** n8n's bin as the installer starts it: `node <n8n> start`, port from N8N_PORT. */
function writeFakeN8n({ healthy }) {
	const bin = path.join(dir, 'node_modules', 'n8n', 'bin');
	fs.mkdirSync(bin, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'node_modules', 'n8n', 'package.json'),
		JSON.stringify({ name: 'n8n', version: VERSION }),
	);
	fs.writeFileSync(
		path.join(bin, 'n8n'),
		healthy
			? `require('node:http').createServer((q, s) => s.end(q.url === '/healthz' ? '{"status":"ok"}' : '')).listen(Number(process.env.N8N_PORT), '127.0.0.1');`
			: `console.error('SQLite package has not been found installed'); process.exit(1);`,
	);
}

/** Runs the installer's CLI as `npm run n8n:install` would: ignore-scripts exported to it. */
function runInstaller() {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [INSTALLER, VERSION], {
			env: { ...process.env, N8N_D_ID_CACHE: cache, npm_config_ignore_scripts: 'true' },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let output = '';
		child.stdout.on('data', (chunk) => (output += chunk));
		child.stderr.on('data', (chunk) => (output += chunk));
		child.on('close', (code) => resolve({ code, output }));
	});
}

const marker = () => path.join(dir, '.complete');
const bindingDir = () => path.join(dir, 'node_modules', 'sqlite3', 'build');

test('a cached install whose sqlite3 was never built is found broken and repaired, with ignore-scripts in the environment', async () => {
	// What the old installer left behind: a `.complete` marker over an unbuilt sqlite3.
	fs.writeFileSync(marker(), VERSION);
	expect(fs.existsSync(bindingDir())).toBe(false);
	expect(await sqliteProblem(dir, { node: process.execPath })).toEqual(expect.any(String));

	const { code, output } = await runInstaller();
	expect(output).toMatch(
		new RegExp(`cached n8n ${VERSION} in .* is broken \\(.+\\): repairing it`),
	);
	expect(output).toMatch(/build sqlite3: done/);
	expect(output).toMatch(/proof: n8n .* answered \/healthz/);
	expect(code).toBe(0);

	// The binding exists and loads in the Node that runs this n8n; the marker says it was proven.
	expect(fs.existsSync(bindingDir())).toBe(true);
	expect(await sqliteProblem(dir, { node: process.execPath })).toBeUndefined();
	expect(fs.readFileSync(marker(), 'utf8')).toMatch(/proven/);
});

test('a proven cached install is reused as it is: no build, no start', async () => {
	const { code, output } = await runInstaller();
	expect(code).toBe(0);
	expect(output).not.toMatch(/repair|build sqlite3|installing|proof:/);
	expect(output).toMatch(new RegExp(`n8n ${VERSION}: .*node_modules/n8n/bin/n8n`));
});

test('an install that does not start is never marked complete', async () => {
	writeFakeN8n({ healthy: false });
	fs.writeFileSync(marker(), VERSION); // unproven marker: the installer proves it before use
	const { code, output } = await runInstaller();
	expect(output).toMatch(/was never proven to start: checking it once/);
	expect(output).toMatch(/exited at start/);
	expect(code).not.toBe(0);
	expect(fs.existsSync(marker())).toBe(false);
});
