#!/usr/bin/env node
'use strict';
// `npm run sandbox -- [flags]`: starts the D-ID sandbox and prints where it listens.
const fs = require('node:fs');
const { createSandbox } = require('./server');

const HELP = `D-ID sandbox: a local server that behaves like api.d-id.com for the Talks API.

Usage: npm run sandbox -- [flags]

  --port N                 port to listen on (default 8765; 0 picks a free one)
  --host ADDR              loopback address to bind (default 127.0.0.1); other addresses
                           are refused without --unsafe-listen-public
  --unsafe-listen-public   allow --host to be a non-loopback address (anyone who can reach it
                           can use the sandbox; its control API still answers only loopback hosts)
  --api-key KEY            the key clients must send (default sandbox-user:sandbox-secret)
  --credits N              credits to start with (default 100)
  --ms-per-second N        processing time per second of speech (default 1000)
  --min-ms N               shortest processing time (default 500)
  --jitter F               random ± fraction on processing time, e.g. 0.3
  --processing-range A-B   processing time drawn uniformly from A..B ms (overrides the three above)
  --result-size SIZE       pad result videos to SIZE bytes (e.g. 200MB, up to 64GB); still playable
  --result-ttl SECONDS     lifetime of result_url links (default 86400)
  --no-stitch              plan without stitch (403 PermissionError)
  --no-subtitles           plan without subtitles (403 PermissionError)
  --faults JSON|@file      fault injection settings (see README "Fault injection")
  --profile NAME           friendly (default) or spec-strict (see README "Profiles"); the flags
                           below change one setting of the profile
  --fields all|spec        talk fields on reads: every field, or only those the spec lists
  --list-order ORDER       newest-first, oldest-first or shuffled
  --read-lag-ms N          reads show a talk N ms behind its webhook (and list it N ms late)
  --late-commit-ms A-B     a talk committed after a failed answer appears A..B ms later
  --commit-on-fault JSON   e.g. {"dropAfter":"late","500":"never","504":"late"} (before|late|never)
  --clock-skew-ms N        the sandbox's clock (timestamps, Date header) N ms off the machine's
  --created-at-format F    z (2020-09-03T13:56:54.995Z) or no-z (2020-09-03T13:56:54.995)
  --length-units U         utf16 (D-ID's count, default) or code-points
  --legacy                 accept driver_url, the old config flags and persist
  --no-legacy              refuse them all, as the spec does (spec-strict's default)
  --endless-token          GET /talks returns a token on every page, the last one too
  --seed N                 seed for jitter and random faults
  --log                    print each request
  --help                   this text
`;

function parseSize(value) {
	const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value);
	if (!match) throw new Error(`--result-size: "${value}" is not a size like 200MB`);
	const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase()];
	return Math.round(Number(match[1]) * unit);
}

// How a flag's value is read: `next()` gives the argument after the flag.
const text = (next) => next();
const json = (next) => JSON.parse(next());
const always = (constant) => () => constant;
function number(next, flag) {
	const v = Number(next());
	if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
	return v;
}
function msRange(example) {
	return (next, flag) => {
		const [a, b] = next().split('-').map(Number);
		if (!Number.isFinite(a) || !Number.isFinite(b) || a > b)
			throw new Error(`${flag} needs A-B in ms, e.g. ${example}`);
		return [a, b];
	};
}
function faults(next) {
	const v = next();
	return JSON.parse(v.startsWith('@') ? fs.readFileSync(v.slice(1), 'utf8') : v);
}

// Each flag: the option it sets ('processing.minMs' is options.processing.minMs) and how its value is read.
const FLAGS = {
	'--port': ['port', number],
	'--host': ['host', text],
	'--unsafe-listen-public': ['unsafeListenPublic', always(true)],
	'--api-key': ['apiKey', text],
	'--credits': ['credits', number],
	'--ms-per-second': ['processing.msPerSecond', number],
	'--min-ms': ['processing.minMs', number],
	'--jitter': ['processing.jitter', number],
	'--processing-range': ['processing.rangeMs', msRange('5000-30000')],
	'--result-size': ['resultSizeBytes', (next) => parseSize(next())],
	'--result-ttl': ['resultUrlTtlSec', number],
	'--no-stitch': ['plan.stitch', always(false)],
	'--no-subtitles': ['plan.subtitles', always(false)],
	'--faults': ['faults', faults],
	'--profile': ['profile', text],
	'--fields': ['fields', text],
	'--list-order': ['listOrder', text],
	'--read-lag-ms': ['readLagMs', number],
	'--late-commit-ms': ['lateCommitMs', msRange('500-5000')],
	'--commit-on-fault': ['commitOnFault', json],
	'--clock-skew-ms': ['clockSkewMs', number],
	'--created-at-format': ['createdAtFormat', text],
	'--length-units': ['lengthUnits', text],
	'--legacy': ['legacy', always(true)],
	'--no-legacy': ['legacy', always(false)],
	'--endless-token': ['endlessToken', always(true)],
	'--seed': ['seed', number],
	'--log': ['log', always(true)],
	'--help': ['help', always(true)],
	'-h': ['help', always(true)],
};

function parseArgs(argv) {
	const options = { port: 8765, processing: {}, plan: {} };
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		if (!Object.hasOwn(FLAGS, flag)) throw new Error(`unknown flag ${flag} (see --help)`);
		const [option, read] = FLAGS[flag];
		const next = () => {
			const v = argv[++i];
			if (v === undefined) throw new Error(`${flag} needs a value`);
			return v;
		};
		const keys = option.split('.');
		const last = keys.pop();
		keys.reduce((target, key) => target[key], options)[last] = read(next, flag);
	}
	return options;
}

async function main() {
	let options;
	try {
		options = parseArgs(process.argv.slice(2));
	} catch (error) {
		console.error(`sandbox: ${error.message}`);
		process.exit(2);
	}
	if (options.help) return console.log(HELP);
	const sandbox = createSandbox(options);
	await sandbox.start();
	console.log(`D-ID sandbox listening on ${sandbox.url}`);
	console.log(`  credential: API key "${sandbox.apiKey}", base URL ${sandbox.url}`);
	console.log(`  profile:    ${sandbox.config().profile}`);
	console.log(`  counters:   ${sandbox.url}/__sandbox/stats`);
	const stop = () => sandbox.stop().then(() => process.exit(0));
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error) => {
	console.error(`sandbox: ${error.message}`);
	process.exit(1);
});
