// npm run scan (scripts/scan.js): n8n's verification scanner on the source and on the packed
// tarball. The repository passes; a copy with one forbidden line fails, on the leg that holds it.
// Needs `npm run build` (the tarball holds dist/).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const SHIPPED = [
	'package.json',
	'index.js',
	'README.md',
	'LICENSE',
	'nodes',
	'credentials',
	'dist',
];

function scan(dir) {
	const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/scan.js'), dir], {
		encoding: 'utf8',
	});
	return { code: run.status, out: run.stdout + run.stderr };
}

function copyOfPackage() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-scan-test-'));
	for (const entry of SHIPPED)
		fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
	return dir;
}

describe('npm run scan', () => {
	const copies = [];
	afterAll(() => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

	beforeAll(() => {
		if (!fs.existsSync(path.join(ROOT, 'dist/nodes/DId/DId.node.js'))) {
			throw new Error('dist/ is missing: run `npm run build` before this test');
		}
	});

	test('the repository: 0 findings on the source and on the tarball', () => {
		const { code, out } = scan(ROOT);
		expect(out).toMatch(/scan source: 0 findings/);
		expect(out).toMatch(/scan tarball n8n-nodes-d-id-[\d.]+\.tgz: 0 findings/);
		expect(code).toBe(0);
	});

	test('a setTimeout in a node source file fails the source scan', () => {
		const dir = copyOfPackage();
		copies.push(dir);
		fs.appendFileSync(
			path.join(dir, 'nodes/DId/helpers/sleep.ts'),
			'\nexport function later(f: () => void) {\n\tsetTimeout(f, 10);\n}\n',
		);
		const { code, out } = scan(dir);
		expect(code).toBe(1);
		expect(out).toMatch(/scan source: FAILED/);
		expect(out).toMatch(/nodes\/DId\/helpers\/sleep\.ts[\s\S]*restricted global 'setTimeout'/);
		// The compiled dist/ of the copy is unchanged, so the tarball is still clean.
		expect(out).toMatch(/scan tarball .*: 0 findings/);
	});

	test('a forbidden import in a built file fails the tarball scan', () => {
		const dir = copyOfPackage();
		copies.push(dir);
		fs.appendFileSync(path.join(dir, 'dist/nodes/DId/DId.node.js'), "\nrequire('fs');\n");
		const { code, out } = scan(dir);
		expect(code).toBe(1);
		expect(out).toMatch(/scan source: 0 findings/);
		expect(out).toMatch(/scan tarball .*: FAILED/);
		expect(out).toMatch(/dist\/nodes\/DId\/DId\.node\.js[\s\S]*Require of 'fs' is not allowed/);
	});
});
