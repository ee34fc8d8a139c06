// The D-ID node as an AI agent's tool in real n8n: examples/12-ai-agent-tool.json (AI Agent + OpenAI
// Chat Model + the generated D-ID Tool) run against the sandbox. No real model: the OpenAI
// credential's Base URL points at a small local OpenAI-compatible server that answers the first
// chat/completions call with a tool call for the D-ID tool and the second with a text built from
// the tool's result, so the test checks what n8n hands the model and what comes back.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { startStack, nodeOutput, ROOT } = require('../../scripts/n8n/stack');

const VERSIONS = (process.env.N8N_VERSIONS ?? 'compat,latest').split(',').filter(Boolean);
const EXAMPLE = '12-ai-agent-tool.json';
const TOOL_NODE = 'Make talking video';
const PHOTO = 'https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg';

/**
 * An OpenAI-compatible chat/completions endpoint with a script: without a tool result in the
 * conversation it calls the first offered tool with `toolArguments`; with one, it answers with a
 * text that quotes the result. Every request body is kept.
 */
function startModelServer() {
	const requests = [];
	let toolArguments = {};
	const reply = (body) => {
		const toolMessage = body.messages.find((m) => m.role === 'tool');
		if (!toolMessage) {
			const tool = body.tools?.[0]?.function?.name;
			return {
				message: {
					role: 'assistant',
					content: null,
					tool_calls: [
						{
							id: `call_${requests.length}`,
							type: 'function',
							function: { name: tool, arguments: JSON.stringify(toolArguments) },
						},
					],
				},
				finish_reason: 'tool_calls',
			};
		}
		const content =
			typeof toolMessage.content === 'string'
				? toolMessage.content
				: JSON.stringify(toolMessage.content);
		let result;
		try {
			result = JSON.parse(content);
		} catch {
			result = content;
		}
		const talk = Array.isArray(result) ? result[0] : result;
		const text =
			talk?.id && talk?.result_url
				? `Your video is ready. Talk id: ${talk.id}. Video: ${talk.result_url}`
				: `The D-ID tool did not make the video: ${content}`;
		return { message: { role: 'assistant', content: text }, finish_reason: 'stop' };
	};
	const server = http.createServer((req, res) => {
		let raw = '';
		req.on('data', (chunk) => (raw += chunk));
		req.on('end', () => {
			if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
				res
					.writeHead(404, { 'content-type': 'application/json' })
					.end(JSON.stringify({ error: { message: `no ${req.method} ${req.url}` } }));
				return;
			}
			const body = JSON.parse(raw);
			requests.push({ url: req.url, authorization: req.headers.authorization, body });
			const { message, finish_reason } = reply(body);
			const base = {
				id: `chatcmpl-${requests.length}`,
				created: Math.floor(Date.now() / 1000),
				model: body.model,
			};
			const usage = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };
			if (!body.stream) {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(
					JSON.stringify({
						...base,
						object: 'chat.completion',
						choices: [{ index: 0, message, finish_reason }],
						usage,
					}),
				);
				return;
			}
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			const send = (data) =>
				res.write(
					`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...data })}\n\n`,
				);
			const delta = message.tool_calls
				? {
						role: 'assistant',
						tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })),
					}
				: { role: 'assistant', content: message.content };
			send({ choices: [{ index: 0, delta, finish_reason: null }] });
			send({ choices: [{ index: 0, delta: {}, finish_reason }] });
			if (body.stream_options?.include_usage) send({ choices: [], usage });
			res.end('data: [DONE]\n\n');
		});
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () =>
			resolve({
				url: `http://127.0.0.1:${server.address().port}/v1`,
				requests,
				script: (args) => {
					toolArguments = args;
					requests.length = 0;
				},
				stop: () => new Promise((done) => server.close(done)),
			}),
		),
	);
}

describe.each(VERSIONS)('an AI Agent uses the D-ID tool in real n8n %s', (version) => {
	let stack;
	let model;
	let workflowId;

	beforeAll(async () => {
		model = await startModelServer();
		stack = await startStack({ version, sandbox: { processing: { msPerSecond: 10, minMs: 50 } } });
		const openAi = await stack.rest('POST', '/rest/credentials', {
			name: 'Local model',
			type: 'openAiApi',
			data: { apiKey: 'sk-local-test', url: model.url },
		});
		const workflow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', EXAMPLE), 'utf8'));
		for (const node of workflow.nodes) {
			if (node.credentials?.openAiApi)
				node.credentials.openAiApi = { id: openAi.id, name: openAi.name };
		}
		workflowId = await stack.importWorkflow(workflow, stack.credential);
	}, 900_000);

	afterAll(async () => {
		await stack?.stop();
		await model?.stop();
	});

	beforeEach(() => stack.sandbox.resetStats());

	async function runAgent() {
		const execution = await stack.runWorkflow(workflowId, { timeoutMs: 120_000 });
		if (execution.status !== 'success') {
			throw new Error(
				`agent workflow ended ${execution.status}: ${JSON.stringify(execution.data.resultData.error)}\n${stack.readLog().slice(-3000)}`,
			);
		}
		const [answer] = nodeOutput(execution, 'AI Agent');
		return { execution, answer: answer.json.output };
	}

	const toolMessage = () =>
		model.requests.map((r) => r.body.messages.find((m) => m.role === 'tool')).find(Boolean);

	test('the model calls the tool: exactly one talk, and the final answer carries its id and video link', async () => {
		model.script({
			image_url: PHOTO,
			text: 'Welcome to the team! We are glad you are here.',
			voice: 'en-US-JennyNeural',
		});
		const { execution, answer } = await runAgent();

		// What n8n offered the model: the D-ID tool with our description and the three $fromAI arguments.
		const [first, second] = model.requests;
		expect(model.requests).toHaveLength(2);
		expect(first.authorization).toBe('Bearer sk-local-test');
		const tool = first.body.tools.find((t) => t.function.name === 'Make_talking_video');
		expect(tool.function.description).toMatch(/spends D-ID credits/);
		expect(Object.keys(tool.function.parameters.properties).sort()).toEqual([
			'image_url',
			'text',
			'voice',
		]);
		expect(tool.function.parameters.properties.image_url.description).toMatch(
			/https URL of a \.jpg or \.png photo/,
		);

		// Exactly one talk, with what the model asked for.
		expect(stack.sandbox.stats().talksCreated).toBe(1);
		const talk = stack.sandbox.talks().at(-1);
		expect(talk.request).toEqual({
			source_url: PHOTO,
			script: {
				type: 'text',
				input: 'Welcome to the team! We are glad you are here.',
				provider: { type: 'microsoft', voice_id: 'en-US-JennyNeural' },
			},
		});

		// The tool waited for the video: the model got the finished talk back.
		const result = JSON.parse(second.body.messages.find((m) => m.role === 'tool').content);
		const returned = Array.isArray(result) ? result[0] : result;
		expect(returned).toMatchObject({
			id: talk.id,
			status: 'done',
			result_url: expect.stringMatching(/^https?:\/\//),
		});
		expect(answer).toContain(talk.id);
		expect(answer).toContain(returned.result_url);
		expect(stack.sandbox.renderTalk(talk.id).status).toBe('done');

		// The tool node ran once, and nothing of the D-ID key reached the model.
		expect(execution.data.resultData.runData[TOOL_NODE]).toHaveLength(1);
		expect(JSON.stringify(model.requests)).not.toContain(stack.sandbox.apiKey.split(':')[1]);
	});

	test('a tool call with bad arguments: the agent gets an error naming the field and what to do, and no talk is made', async () => {
		model.script({
			image_url: 'https://example.com/photo.gif',
			text: 'Hi',
			voice: 'en-US-JennyNeural',
		});
		const { answer } = await runAgent();

		// The example's tool node continues on error (n8n 1.123 would otherwise fail the whole
		// execution): the model gets the error item, with the advice, as the tool's result.
		const [result] = JSON.parse(toolMessage().content);
		expect(result.description).toMatch(
			/D-ID fetches the photo itself, over https \(or s3\), from an address whose path ends in \.jpg, \.jpeg or \.png/,
		);
		expect(result.error).toMatch(
			/^Invalid "Image URL" in item 1: the path of "https:\/\/example\.com\/photo\.gif" does not end in \.jpg, \.jpeg or \.png/,
		);
		expect(answer).toMatch(/did not make the video/);
		expect(answer).toMatch(/Image URL/);
		expect(stack.sandbox.stats().talksCreated).toBe(0);
		expect(stack.sandbox.stats().requests['POST /talks'] ?? 0).toBe(0);
	});
});
