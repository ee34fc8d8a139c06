// The round-robin proxy of the queue-mode stack (scripts/n8n/queue-stack.js), against two local servers.
const http = require('node:http');

const { createRoundRobinProxy } = require('../scripts/n8n/queue-stack');

function backend(name) {
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => (body += chunk));
		req.on('end', () =>
			res
				.writeHead(201, { 'x-backend': name })
				.end(JSON.stringify({ name, method: req.method, url: req.url, body })),
		);
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () => resolve({ name, server, port: server.address().port })),
	);
}

describe('round-robin proxy', () => {
	let a;
	let b;
	let proxy;
	let url;

	beforeAll(async () => {
		[a, b] = await Promise.all([backend('one'), backend('two')]);
		proxy = createRoundRobinProxy([
			{ name: 'one', port: a.port },
			{ name: 'two', port: b.port },
		]);
		url = `http://127.0.0.1:${await proxy.listen()}`;
	});

	afterAll(async () => {
		await proxy.close();
		a.server.close();
		b.server.close();
	});

	test('sends each request to the next backend in turn, with its method, path, query and body, and passes the answer back', async () => {
		const seen = [];
		for (let i = 0; i < 4; i++) {
			const res = await fetch(`${url}/webhook/x/y?secret=s${i}`, {
				method: 'POST',
				body: `body ${i}`,
			});
			expect(res.status).toBe(201);
			const json = await res.json();
			expect(json).toEqual({
				name: json.name,
				method: 'POST',
				url: `/webhook/x/y?secret=s${i}`,
				body: `body ${i}`,
			});
			expect(res.headers.get('x-backend')).toBe(json.name);
			seen.push(json.name);
		}
		expect(seen).toEqual(['one', 'two', 'one', 'two']);
		expect(proxy.counts()).toEqual({ one: 2, two: 2 });
	});

	test('answers 502 naming the backend when it is down', async () => {
		await new Promise((resolve) => b.server.close(resolve));
		const answers = [];
		for (let i = 0; i < 2; i++) {
			const res = await fetch(`${url}/healthz`);
			answers.push([res.status, await res.text()]);
		}
		expect(answers.map(([status]) => status).sort()).toEqual([201, 502]);
		expect(answers.find(([status]) => status === 502)[1]).toMatch(/^proxy: two unreachable/);
	});
});
