import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The package root, whether this file runs from test/ (jest) or from a compiled copy (.build/).
export const ROOT = (() => {
	let dir = __dirname;
	while (!existsSync(path.join(dir, 'sandbox', 'server.js'))) dir = path.dirname(dir);
	return dir;
})();

// The sandbox is plain JavaScript (Node built-ins only) so `npm run sandbox` needs no build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createSandbox } = require(path.join(ROOT, 'sandbox', 'server'));

export interface Sandbox {
	/** The sandbox's HTTP server (tests may listen to its requests). */
	server: import('node:http').Server;
	url: string;
	apiKey: string;
	start(): Promise<Sandbox>;
	stop(): Promise<void>;
	stats(): {
		requests: Record<string, number>;
		responses: Record<string, number>;
		talksCreated: number;
		lateCommits: number;
		talksFinished: number;
		webhooksSent: number;
		webhookDeliveries: Array<{
			talkId: string;
			outcome: string;
			duplicate: boolean;
			answer?: string;
		}>;
		bytesServed: number;
		credits: { total: number; remaining: number };
	};
	resetStats(): void;
	setFaults(config: object): void;
	addScriptedFaults(entries: object | object[]): void;
	configure(changes: object): void;
	talk(id: string): {
		id: string;
		request: Record<string, unknown>;
		requestHeaders: Record<string, string>;
		format: string;
		size: number;
	};
	talks(): Array<{
		id: string;
		request: Record<string, unknown>;
		requestHeaders: Record<string, string>;
		deleted?: boolean;
		seconds: number;
		credits: number;
	}>;
	uploads(): Array<{ id: string; kind: 'image' | 'audio'; url: string }>;
	resultDigest(id: string): Promise<string>;
}

/** A sandbox on a free loopback port where talks take ~50 ms unless told otherwise. */
export async function startSandbox(options: Record<string, unknown> = {}): Promise<Sandbox> {
	const sandbox = createSandbox({ processing: { msPerSecond: 10, minMs: 50 }, ...options });
	await sandbox.start();
	return sandbox;
}

export function credentialsFor(sandbox: Sandbox) {
	return { apiKey: sandbox.apiKey, baseUrl: sandbox.url };
}

export function totalRequests(sandbox: Sandbox): number {
	return Object.values(sandbox.stats().requests).reduce((a, b) => a + b, 0);
}

export function fixture(name: string) {
	return readFileSync(path.join(ROOT, 'test', 'fixtures', name));
}
