// The D-ID node as an AI agent's tool: what n8n generates from usableAsTool, and example 12 that
// an agent runs (test/e2e/agent.e2e.js runs it in real n8n with a scripted model).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { INodeTypeDescription, UsableAsToolDescription } from 'n8n-workflow';

import { DId, TOOL_DESCRIPTION } from '../nodes/DId/DId.node';
import { DIdTrigger } from '../nodes/DIdTrigger/DIdTrigger.node';

const description: INodeTypeDescription = new DId().description;
const example = JSON.parse(
	readFileSync(path.join(__dirname, '..', 'examples', '12-ai-agent-tool.json'), 'utf8'),
);
const toolNode = example.nodes.find(
	(node: { type: string }) => node.type === 'n8n-nodes-d-id.dIdTool',
);

describe('D-ID as an AI agent tool', () => {
	test('the generated tool describes what a call does, that it spends credits, and its arguments', () => {
		expect((description.usableAsTool as UsableAsToolDescription).replacements?.description).toBe(
			TOOL_DESCRIPTION,
		);
		expect(TOOL_DESCRIPTION).toMatch(/one new D-ID talk and spends D-ID credits/);
		expect(TOOL_DESCRIPTION).toMatch(/never again for a call that returned a talk id/);
		for (const argument of ['image_url', 'text', 'voice', 'result_url'])
			expect(TOOL_DESCRIPTION).toContain(`${argument}`);
		expect((new DIdTrigger().description as INodeTypeDescription).usableAsTool).toBeUndefined();
	});

	test('example 12: the tool creates, waits, does not download, and has the agent fill photo URL, text and voice', () => {
		expect(toolNode.parameters).toMatchObject({
			descriptionType: 'manual',
			toolDescription: TOOL_DESCRIPTION,
			resource: 'talk',
			operation: 'create',
			provider: 'microsoft',
			waitForCompletion: true,
			downloadVideo: false,
		});
		const fromAi = (value: string) =>
			/^=\{\{ \$fromAI\('(\w+)', '[^']+', 'string'\) \}\}$/.exec(value)?.[1];
		expect(fromAi(toolNode.parameters.imageUrl)).toBe('image_url');
		expect(fromAi(toolNode.parameters.text)).toBe('text');
		expect(fromAi(toolNode.parameters.voice.value)).toBe('voice');
		// Errors reach the model as the tool's result instead of ending the execution (n8n 1.123).
		expect(toolNode.onError).toBe('continueRegularOutput');
		expect(example.connections[toolNode.name].ai_tool[0][0].node).toBe('AI Agent');
		// Every parameter the example sets exists on the node.
		const names = new Set(description.properties.map((property) => property.name));
		for (const name of Object.keys(toolNode.parameters).filter(
			(n) => !['descriptionType', 'toolDescription'].includes(n),
		)) {
			expect([name, names.has(name)]).toEqual([name, true]);
		}
		expect(JSON.stringify(example.nodes)).toMatch(/Pick your own chat model/);
	});
});
