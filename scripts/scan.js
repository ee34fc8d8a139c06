#!/usr/bin/env node
// npm run scan: the checks n8n runs before it lists a community package as verified
// (@n8n/scan-community-package), run here instead of on a published version. Its CLI only scans
// packages from the registry; its analyzer does the linting, so we call that twice as the CLI does:
// on the source (SOURCE_FILE_PATTERNS: package.json, nodes/, credentials/) and on what `npm pack`
// ships (compiled .js and package.json). The scan ignores our ESLint config and eslint-disable
// comments, like n8n's. Run `npm run build` first: the tarball holds dist/.
//
//   node scripts/scan.js [package-dir]     (default: this repository)
// Exit code 0 when both scans find nothing, 1 otherwise (the findings are printed).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { createRequire } = require('module');

const SCANNER = require.resolve('@n8n/scan-community-package/scanner/scanner.mjs');
// The tarball leg of the scanner's own analyzePackageByName.
const TARBALL_FILE_PATTERNS = ['**/*.js', 'package.json'];

function packAndUnpack(packageDir, into) {
	if (!fs.existsSync(path.join(packageDir, 'dist'))) {
		throw new Error(`${packageDir} has no dist/: run \`npm run build\` first`);
	}
	const out = execFileSync(
		'npm',
		['pack', '--json', '--ignore-scripts', '--pack-destination', into],
		{ cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
	);
	const tarball = path.join(into, JSON.parse(out)[0].filename);
	const unpacked = path.join(into, 'package');
	fs.mkdirSync(unpacked);
	execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
	return { tarball, unpacked };
}

async function main() {
	// eslint-plugin-n8n-nodes-base switches its filename rules to a mode for its own tests when
	// NODE_ENV is "test" (as under jest) and then reports every node file.
	delete process.env.NODE_ENV;
	const packageDir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
	// The scanner makes a temp directory when it is loaded and removes it only on graceful cleanup.
	createRequire(SCANNER)('tmp').setGracefulCleanup();
	const { analyzePackage, SOURCE_FILE_PATTERNS } = await import(SCANNER);
	const { version } = createRequire(SCANNER)('../package.json');

	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'd-id-scan-'));
	let failed = false;
	try {
		const { tarball, unpacked } = packAndUnpack(packageDir, work);
		const legs = [
			{ name: 'source', dir: packageDir, patterns: SOURCE_FILE_PATTERNS },
			{ name: `tarball ${path.basename(tarball)}`, dir: unpacked, patterns: TARBALL_FILE_PATTERNS },
		];
		for (const leg of legs) {
			const result = await analyzePackage(leg.dir, leg.patterns);
			if (result.passed) {
				console.log(`scan ${leg.name}: 0 findings (@n8n/scan-community-package ${version})`);
			} else {
				failed = true;
				console.log(`scan ${leg.name}: FAILED: ${result.message}`);
				if (result.details) console.log(result.details);
			}
		}
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	return failed ? 1 : 0;
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error) => {
		console.error(`scan: ${error.message}`);
		process.exitCode = 2;
	},
);
