/**
 * Serves the D-ID Trigger's webhook on a loopback port the way an active n8n workflow does:
 * each call runs the node's webhook() in n8n-core's real WebhookContext (real request helpers,
 * credential authentication, binary storage and workflow static data); workflowData it returns
 * starts an execution, run as n8n runs it: n8n-core's WorkflowExecute with the trigger as the
 * start node and webhook()'s items as its input (n8n's prepareExecutionData), under an
 * execution id of its own.
 */
import http from 'node:http';

import { HookContext, WebhookContext } from 'n8n-core';
import type {
	IDataObject,
	INode,
	INodeExecutionData,
	INodeParameters,
	IWebhookData,
	IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import { createRunExecutionData, Workflow } from 'n8n-workflow';

import { DIdTrigger } from '../../nodes/DIdTrigger/DIdTrigger.node';
import {
	executeWorkflow,
	initBinaryData,
	MemoryCredentialsHelper,
	nodeTypes,
	PACKAGE,
} from './engine';

const TRIGGER_TYPE = `${PACKAGE}.dIdTrigger`;
nodeTypes.register(TRIGGER_TYPE, new DIdTrigger());

export interface TriggerServer {
	/** The production URL of the webhook, with `?secret=` when given. */
	url(secret?: string): string;
	/**
	 * Items of each execution the trigger started, in order: webhook()'s items as soon as it
	 * returns them, replaced by the trigger node's output in that execution once it has run
	 * (`settled()`).
	 */
	executions: INodeExecutionData[][];
	/** The id of each execution started (same order as `executions`). */
	executionIds: string[];
	/** Errors of executions that failed, by execution id. */
	failures: Record<string, Error>;
	/** Resolves once every execution started so far has ended. */
	settled(): Promise<void>;
	responses: Array<{ status: number; body: unknown }>;
	/** The trigger's static data (what n8n saves with the workflow). */
	staticData(): IDataObject;
	stop(): Promise<void>;
}

function triggerNode(
	parameters: IDataObject,
	credentials?: { apiKey: string; baseUrl: string },
): INode {
	return {
		id: 'trigger',
		name: 'D-ID Trigger',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		webhookId: 'd1d-7e57',
		parameters: parameters as INodeParameters,
		...(credentials ? { credentials: { dIdApi: { id: 'cred-1', name: 'D-ID account' } } } : {}),
	};
}

/** An active workflow of the trigger alone. */
function activeWorkflow(id: string, node: INode) {
	return new Workflow({
		id,
		nodes: [node],
		connections: {},
		nodeTypes,
		active: true,
		settings: {},
		staticData: {},
	});
}

/** Activates a workflow with the trigger as n8n does (its webhook's checkExists); the error n8n would show, if any. */
export async function activateTrigger(
	parameters: IDataObject,
	credentials?: { apiKey: string; baseUrl: string },
): Promise<Error | undefined> {
	const node = triggerNode(parameters, credentials);
	const workflow = activeWorkflow('trigger-wf', node);
	const additionalData = {
		credentialsHelper: new MemoryCredentialsHelper(
			credentials ? { dIdApi: { ...credentials } } : {},
		),
		webhookBaseUrl: 'http://127.0.0.1/webhook',
		variables: {},
	} as unknown as IWorkflowExecuteAdditionalData;
	const trigger = nodeTypes.getByNameAndVersion(TRIGGER_TYPE);
	try {
		const ctx = new HookContext(workflow, node, additionalData, 'trigger', 'activate');
		await trigger.webhookMethods!.default!.checkExists.call(ctx);
		return undefined;
	} catch (error) {
		return error as Error;
	}
}

let triggers = 0;

export async function startTrigger(
	parameters: IDataObject,
	credentials?: { apiKey: string; baseUrl: string },
): Promise<TriggerServer> {
	await initBinaryData();
	const node = triggerNode(parameters, credentials);
	const workflow = activeWorkflow(`trigger-wf-${++triggers}`, node);
	// As n8n does: each call gets a copy of the static data as last saved, saved again after the
	// call (last writer wins), so concurrent calls do not see each other's changes there.
	let savedStaticData: IDataObject = {};
	const credentialsHelper = new MemoryCredentialsHelper(
		credentials ? { dIdApi: { ...credentials } } : {},
	);
	const executions: INodeExecutionData[][] = [];
	const executionIds: string[] = [];
	const failures: Record<string, Error> = {};
	const started: Array<Promise<void>> = [];
	const responses: TriggerServer['responses'] = [];

	/** Runs the execution webhook() started, as n8n does; its trigger output replaces `items` in place. */
	async function runExecution(
		executionId: string,
		workflowData: INodeExecutionData[][],
		items: INodeExecutionData[],
	) {
		const run = await executeWorkflow(workflow, {
			mode: 'webhook',
			executionId,
			additionalData: {
				credentialsHelper,
				restApiUrl: 'http://127.0.0.1:5678/rest',
				instanceBaseUrl: 'http://127.0.0.1:5678/',
				webhookBaseUrl: 'http://127.0.0.1/webhook',
				webhookWaitingBaseUrl: 'http://127.0.0.1/webhook-waiting',
				variables: {},
			},
			runExecutionData: createRunExecutionData({
				executionData: {
					nodeExecutionStack: [{ node, data: { main: workflowData }, source: null }],
				},
			}),
		});
		const error = run.data.resultData.error ?? run.data.resultData.runData[node.name]?.[0]?.error;
		if (error) failures[executionId] = error as Error;
		const output = run.data.resultData.runData[node.name]?.[0]?.data?.main?.[0];
		if (output) items.splice(0, items.length, ...output);
	}
	const trigger = nodeTypes.getByNameAndVersion(TRIGGER_TYPE);

	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', async () => {
			const url = new URL(req.url ?? '/', 'http://localhost');
			const reply = (status: number, body: unknown) => {
				if (res.headersSent) return;
				responses.push({ status, body });
				res.writeHead(status, { 'content-type': 'application/json' });
				res.end(JSON.stringify(body ?? {}));
			};
			if (req.method !== 'POST' || url.pathname !== `/webhook/${node.webhookId}/talk-ended`) {
				return reply(404, { message: 'This webhook is not registered' });
			}
			let body: IDataObject = {};
			try {
				body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
			} catch {
				return reply(400, { message: 'Invalid JSON' }); // n8n's body parser answers before the node runs
			}
			let status = 200;
			const response = {
				status(code: number) {
					status = code;
					return response;
				},
				json(data: unknown) {
					reply(status, data);
				},
				end() {
					reply(status, undefined);
				},
			};
			// n8n keeps the bytes it read as rawBody next to the parsed body.
			const request = {
				body,
				rawBody: Buffer.concat(chunks),
				headers: req.headers,
				query: Object.fromEntries(url.searchParams),
				params: {},
				method: req.method,
			};
			const additionalData = {
				credentialsHelper,
				httpRequest: request,
				httpResponse: response,
				webhookBaseUrl: 'http://127.0.0.1/webhook',
				variables: {},
			} as unknown as IWorkflowExecuteAdditionalData;
			const webhookData: IWebhookData = {
				httpMethod: 'POST',
				node: node.name,
				path: 'talk-ended',
				webhookDescription: trigger.description.webhooks![0],
				workflowId: workflow.id,
				workflowExecuteAdditionalData: additionalData,
				webhookId: node.webhookId,
			};
			// Saved as JSON, as n8n stores it (the live copy holds n8n-workflow's observable objects).
			const staticData = JSON.parse(JSON.stringify(savedStaticData)) as IDataObject;
			workflow.staticData = staticData;
			try {
				const ctx = new WebhookContext(
					workflow,
					node,
					additionalData,
					'webhook',
					webhookData,
					[],
					null,
				);
				const running = trigger.webhook!.call(ctx);
				const result = await running.finally(() => (savedStaticData = staticData));
				if (result.workflowData) {
					const items = [...result.workflowData[0]];
					const executionId = `${workflow.id}-exec-${executions.length + 1}`;
					executions.push(items);
					executionIds.push(executionId);
					started.push(runExecution(executionId, result.workflowData, items));
					reply(200, { message: 'Workflow was started' });
				} else if (!result.noWebhookResponse) {
					reply(200, {});
				}
			} catch (error) {
				reply(500, { message: (error as Error).message });
			}
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const port = (server.address() as { port: number }).port;
	return {
		url: (secret) =>
			`http://127.0.0.1:${port}/webhook/${node.webhookId}/talk-ended${secret === undefined ? '' : `?secret=${encodeURIComponent(secret)}`}`,
		executions,
		executionIds,
		failures,
		settled: async () => {
			for (let seen = -1; seen !== started.length; ) {
				seen = started.length;
				await Promise.all(started);
			}
		},
		responses,
		staticData: () => (savedStaticData[`node:${node.name}`] ??= {}) as IDataObject,
		stop: () => new Promise((r) => server.close(() => r())),
	};
}

/** startTrigger for the tests of a suite: each trigger a test starts is stopped after that test. */
export function useTriggers() {
	const started: TriggerServer[] = [];
	afterEach(async () => {
		await Promise.all(started.splice(0).map((trigger) => trigger.stop()));
	});
	return async (...args: Parameters<typeof startTrigger>) => {
		const trigger = await startTrigger(...args);
		started.push(trigger);
		return trigger;
	};
}
