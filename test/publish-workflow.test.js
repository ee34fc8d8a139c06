// .github/workflows/publish.yml: the release n8n's verification asks for (GitHub Actions, npm
// provenance). It parses, actionlint finds nothing, and a version tag runs the checks in order
// before `npm publish --provenance` with the OIDC permission.
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const { createLinter } = require('actionlint');

const ROOT = path.join(__dirname, '..');
const FILE = '.github/workflows/publish.yml';
const source = fs.readFileSync(path.join(ROOT, FILE), 'utf8');
const pkg = require('../package.json');

// The workflow's tag filter, as GitHub matches it ('*' matches anything but '/').
function tagMatches(pattern, tag) {
	const regex = new RegExp(
		`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`,
	);
	return regex.test(tag);
}

describe('publish workflow', () => {
	const workflow = YAML.parse(source);
	const job = workflow.jobs.publish;
	const runs = job.steps.map((step) => step.run || '');
	const indexOfRun = (re) => runs.findIndex((run) => re.test(run));

	test('actionlint: no findings (and it does find a broken copy)', async () => {
		const lint = await createLinter();
		expect(lint(source, FILE)).toEqual([]);
		const broken = source.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest');
		expect(
			lint(broken, FILE)
				.map((finding) => finding.message)
				.join('\n'),
		).toMatch(/runs_on/);
	});

	test('runs on a version tag push, only', () => {
		expect(Object.keys(workflow.on)).toEqual(['push']);
		const tags = workflow.on.push.tags;
		expect(tags.some((pattern) => tagMatches(pattern, pkg.version))).toBe(true);
		expect(tags.some((pattern) => tagMatches(pattern, 'v1.2.3'))).toBe(true);
		expect(workflow.on.push.branches).toBeUndefined();
	});

	test('may mint the OIDC token for provenance, and may not write to the repository', () => {
		expect(job.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
	});

	test('installs from the lockfile, builds, lints, scans, tests, then publishes with provenance', () => {
		expect(job.steps[0].uses).toMatch(/^actions\/checkout@v\d+$/);
		expect(job.steps[1].uses).toMatch(/^actions\/setup-node@v\d+$/);
		const order = [
			/^npm ci\b/m,
			/^npm run build$/m,
			/^npm run lint$/m,
			/^npm run scan$/m,
			/^npm test$/m,
			/^npm publish --provenance\b/m,
		].map(indexOfRun);
		expect(order.every((index) => index > 1)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
		expect(order[order.length - 1]).toBe(job.steps.length - 1);
		// Every script the workflow runs exists.
		for (const run of runs) {
			for (const [, script] of run.matchAll(/npm run (\S+)/g))
				expect(pkg.scripts).toHaveProperty(script);
		}
	});

	test('refuses a tag that is not the package.json version', () => {
		const check = indexOfRun(/GITHUB_REF_NAME/);
		expect(check).toBeGreaterThan(-1);
		expect(check).toBeLessThan(indexOfRun(/npm publish/));
		expect(runs[check]).toMatch(/exit 1/);
	});
});
