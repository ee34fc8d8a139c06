// What `npm pack` ships (and so what n8n installs and its scanner lints): the built nodes and
// credential, their icons and codex files, index.js, package.json, README and LICENSE — nothing
// else: no tests, sandbox, bench, examples, TypeScript sources, declarations or source maps.
// Needs `npm run build` (from a clean dist/: a stale built file is something else).
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const pkg = require('../package.json');

function walk(dir) {
	return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
		const rel = `${dir}/${entry.name}`;
		return entry.isDirectory() ? walk(rel) : [rel];
	});
}

// What the sources say should ship: each .ts compiled to dist/…js, each icon and codex file copied.
function expectedFiles() {
	const expected = ['LICENSE', 'README.md', 'index.js', 'package.json'];
	for (const file of [...walk('nodes'), ...walk('credentials')]) {
		if (file.endsWith('.ts')) expected.push(`dist/${file.replace(/\.ts$/, '.js')}`);
		else if (/\.(svg|png|json)$/.test(file)) expected.push(`dist/${file}`);
		else throw new Error(`${file}: a file type this test does not know; decide whether it ships`);
	}
	return expected.sort();
}

describe('npm pack', () => {
	let packed;
	beforeAll(() => {
		const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
			cwd: ROOT,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		packed = JSON.parse(out)[0]
			.files.map((file) => file.path)
			.sort();
	});

	test('ships exactly the built nodes, credential, icons, codex files, index.js, package.json, README, LICENSE', () => {
		expect(packed).toEqual(expectedFiles());
	});

	test('nothing from tests, sandbox, bench, examples, sources, declarations or source maps', () => {
		const unwanted = packed.filter((file) =>
			/^(test|sandbox|bench|examples|scripts|docs|nodes|credentials)\/|\.ts$|\.map$|^\.|\/\./.test(
				file,
			),
		);
		expect(unwanted).toEqual([]);
		// A shipped file that embeds its TypeScript source (an inline map with sourcesContent).
		for (const file of packed.filter((f) => f.endsWith('.js'))) {
			expect([
				file,
				fs.readFileSync(path.join(ROOT, file), 'utf8').includes('sourcesContent'),
			]).toEqual([file, false]);
		}
	});

	test('what package.json names, and what the shipped files load, is shipped', () => {
		for (const file of [pkg.main, ...pkg.n8n.nodes, ...pkg.n8n.credentials])
			expect(packed).toContain(file);
		for (const file of packed.filter((f) => f.endsWith('.js'))) {
			const code = fs.readFileSync(path.join(ROOT, file), 'utf8');
			// Relative requires (compiled imports) resolve to shipped files.
			for (const [, target] of code.matchAll(/require\("(\.[^"]+)"\)/g)) {
				const resolved = path.posix.join(path.posix.dirname(file), target);
				const candidates = [resolved, `${resolved}.js`, `${resolved}.json`, `${resolved}/index.js`];
				expect([target, file, candidates.some((f) => packed.includes(f))]).toEqual([
					target,
					file,
					true,
				]);
			}
			// Icons named as 'file:…' resolve to shipped files.
			for (const [, single, double] of code.matchAll(/'file:([^']+)'|"file:([^"]+)"/g)) {
				const resolved = path.posix.join(path.posix.dirname(file), single || double);
				expect(packed).toContain(resolved);
			}
		}
	});
});
