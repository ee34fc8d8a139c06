/**
 * Runs this package's nodes inside n8n's real execution engine (n8n-core's WorkflowExecute with
 * n8n-workflow's Workflow), with n8n's real HTTP helpers, expression resolution, credential
 * authentication and filesystem binary storage. Only the database-backed parts of n8n (stored
 * credentials, execution history) are replaced by in-memory equivalents.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'n8n-d-id-engine-'));
process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS = 'false';

import { Container } from '@n8n/di';
import {
	BinaryDataService,
	ExecutionLifecycleHooks,
	WorkflowExecute,
	Credentials,
	LoadOptionsContext,
} from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeParameters,
	INodePropertyOptions,
	INodeType,
	INodeTypes,
	IRun,
	IRunExecutionData,
	IWorkflowExecuteAdditionalData,
	IVersionedNodeType,
	IConnections,
} from 'n8n-workflow';
import {
	createDeferredPromise,
	createRunExecutionData,
	ICredentialsHelper,
	Workflow,
} from 'n8n-workflow';

import { DIdApi } from '../../credentials/DIdApi.credentials';
import { DId } from '../../nodes/DId/DId.node';

export const PACKAGE = 'n8n-nodes-d-id';
export const DID_TYPE = `${PACKAGE}.dId`;
export const INPUT_TYPE = 'test.items';

export interface TestFile {
	data: Buffer;
	fileName: string;
	mimeType: string;
}

export interface InputItem {
	json?: IDataObject;
	binary?: Record<string, TestFile>;
}

/**
 * A test-only start node: emits the items given in its `items` parameter, storing their files
 * through n8n's binary data service exactly as a "Read File" node would.
 */
class InputItems implements INodeType {
	description = {
		displayName: 'Test Items',
		name: 'items',
		group: ['input'],
		version: 1,
		description: 'Emits fixed items',
		defaults: { name: 'Items' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = inputsFor.get(this.getWorkflow().id as string) ?? [];
		const out: INodeExecutionData[] = [];
		for (const item of items) {
			const binary: INodeExecutionData['binary'] = {};
			for (const [key, file] of Object.entries(item.binary ?? {})) {
				binary[key] = await this.helpers.prepareBinaryData(file.data, file.fileName, file.mimeType);
			}
			out.push({
				json: item.json ?? {},
				binary: Object.keys(binary).length ? binary : undefined,
				pairedItem: { item: 0 },
			});
		}
		return [out];
	}
}
const inputsFor = new Map<string, InputItem[]>();

class NodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType> = {
		[DID_TYPE]: new DId(),
		[INPUT_TYPE]: new InputItems(),
	};

	register(name: string, type: INodeType) {
		this.types[name] = type;
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		return this.getByNameAndVersion(nodeType);
	}

	getByNameAndVersion(nodeType: string): INodeType {
		const type = this.types[nodeType];
		if (!type) throw new Error(`Unknown node type ${nodeType}`);
		return type;
	}

	getKnownTypes() {
		return {};
	}
}

/** n8n's credential handling without a database: decrypted data from memory, generic auth applied as n8n's CLI does. */
export class MemoryCredentialsHelper extends ICredentialsHelper {
	readonly types: Record<string, ICredentialType> = { dIdApi: new DIdApi() };
	/** How often n8n read (loaded and decrypted) a credential: in n8n each read is a database query. */
	reads = 0;

	constructor(private data: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	set(type: string, data: ICredentialDataDecryptedObject) {
		this.data[type] = data;
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const type = this.types[typeName];
		const authenticate = type.authenticate;
		if (typeof authenticate === 'function') return await authenticate(credentials, requestOptions);
		if (authenticate && authenticate.type === 'generic') {
			requestOptions.headers ??= {};
			for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
				for (const [key, value] of Object.entries(outerValue as Record<string, string>)) {
					const options = requestOptions as unknown as Record<string, Record<string, unknown>>;
					options[outerKey] ??= {};
					options[outerKey][resolve(key, credentials, workflow, node)] = resolve(
						value,
						credentials,
						workflow,
						node,
					);
				}
			}
		}
		return requestOptions;
	}

	async preAuthentication() {
		return undefined;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string) {
		return new Credentials(nodeCredentials, type, '');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_node: INodeCredentialsDetails,
		type: string,
	) {
		this.reads++;
		return this.data[type] ?? {};
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return [];
	}
}

// As n8n's CredentialsHelper.resolveValue: expressions start with "=" and see $credentials.
function resolve(
	value: string,
	credentials: ICredentialDataDecryptedObject,
	workflow: Workflow,
	node: INode,
): string {
	if (typeof value !== 'string' || value.charAt(0) !== '=') return value;
	const result = workflow.expression.getSimpleParameterValue(
		node,
		value,
		'internal',
		{ $credentials: credentials },
		undefined,
		'',
	);
	return result ? String(result) : '';
}

let binaryReady: Promise<void> | undefined;
export async function initBinaryData(): Promise<BinaryDataService> {
	binaryReady ??= Container.get(BinaryDataService).init();
	await binaryReady;
	return Container.get(BinaryDataService);
}

export interface NodeSpec {
	name?: string;
	type?: string;
	parameters: IDataObject;
	continueOnFail?: boolean;
}

export interface RunOptions {
	credentials: { apiKey: string; baseUrl: string; elevenLabsApiKey?: string };
	items?: InputItem[];
	/** Aborts the execution like "Stop" in the editor does. */
	cancelAfterMs?: number;
	extraNodes?: NodeSpec[];
}

export interface RunResult {
	run: IRun;
	/** Output items of the D-ID node (first output). */
	items: INodeExecutionData[];
	/** The node's error when it failed (without Continue On Fail). */
	error?: Error & { description?: string; context?: IDataObject; httpCode?: string };
	/** How often the run read the credential (n8n: a database query and a decryption each). */
	credentialReads: number;
}

let workflowCounter = 0;
export const nodeTypes = new NodeTypes();

/** Runs `Items → D-ID` in n8n's engine and returns the D-ID node's output. */
export async function runNode(spec: NodeSpec, options: RunOptions): Promise<RunResult> {
	await initBinaryData();
	const id = `wf-${++workflowCounter}`;
	inputsFor.set(id, options.items ?? [{ json: {} }]);
	const name = spec.name ?? 'D-ID';
	const nodes: INode[] = [
		{ id: 'in', name: 'Items', type: INPUT_TYPE, typeVersion: 1, position: [0, 0], parameters: {} },
		{
			id: 'did',
			name,
			type: spec.type ?? DID_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: spec.parameters as INodeParameters,
			credentials: { dIdApi: { id: 'cred-1', name: 'D-ID account' } },
			...(spec.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		},
	];
	const connections: IConnections = {
		Items: { main: [[{ node: name, type: 'main' as never, index: 0 }]] },
	};
	const workflow = new Workflow({ id, nodes, connections, nodeTypes, active: false, settings: {} });

	const credentialsHelper = new MemoryCredentialsHelper({ dIdApi: { ...options.credentials } });
	// Only what the engine reads during a run; the parts n8n's server adds (database, push
	// messages, sub-workflows) are left out and read as undefined.
	const additionalData = {
		credentialsHelper,
		currentNodeParameters: undefined,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		variables: {},
		userId: 'user-1',
	};
	const runExecutionData: IRunExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				{ node: workflow.getNode('Items')!, data: { main: [[{ json: {} }]] }, source: null },
			],
		},
	});
	const run = await executeWorkflow(workflow, {
		mode: 'manual',
		executionId: `exec-${id}`,
		additionalData,
		runExecutionData,
		cancelAfterMs: options.cancelAfterMs,
	});
	inputsFor.delete(id);
	const taskData = run.data.resultData.runData[name]?.[0];
	const error = (taskData?.error ?? run.data.resultData.error) as RunResult['error'];
	return {
		run,
		items: taskData?.data?.main?.[0] ?? [],
		error,
		credentialReads: credentialsHelper.reads,
	};
}

/**
 * Runs an execution of `workflow` in n8n-core's WorkflowExecute, with lifecycle hooks as n8n's
 * server gives it; the run as the hooks report it when the engine's own promise rejects
 * (a cancelled execution). `additionalData` is what the engine reads besides the hooks.
 */
export async function executeWorkflow(
	workflow: Workflow,
	run: {
		mode: 'manual' | 'webhook';
		executionId: string;
		additionalData: object;
		runExecutionData: IRunExecutionData;
		/** Aborts the execution like "Stop" in the editor does. */
		cancelAfterMs?: number;
	},
): Promise<IRun> {
	const hooks = new ExecutionLifecycleHooks(run.mode, run.executionId, {
		id: workflow.id,
		name: 'D-ID test workflow',
		nodes: Object.values(workflow.nodes),
		connections: workflow.connectionsBySourceNode,
		active: workflow.active,
		settings: {},
		createdAt: new Date(),
		updatedAt: new Date(),
	} as never);
	const done = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (fullRunData) => done.resolve(fullRunData));
	const additionalData = {
		...run.additionalData,
		hooks,
		executionId: run.executionId,
		setExecutionStatus: () => {},
		sendDataToUI: () => {},
	} as unknown as IWorkflowExecuteAdditionalData;
	const running = new WorkflowExecute(
		additionalData,
		run.mode,
		run.runExecutionData,
	).processRunExecutionData(workflow);
	if (run.cancelAfterMs !== undefined) setTimeout(() => running.cancel(), run.cancelAfterMs);
	try {
		return await running;
	} catch {
		return await done.promise;
	}
}

/** The bytes of an output binary, read back from n8n's binary storage. */
export async function binaryBuffer(item: INodeExecutionData, property = 'data'): Promise<Buffer> {
	const service = await initBinaryData();
	return await service.getAsBuffer(item.binary![property]);
}

/**
 * Runs one of the D-ID node's loadOptions methods as n8n's editor asks for a dropdown: n8n-core's
 * LoadOptionsContext with the node's current (saved) parameters, requests through the credential.
 */
export async function loadOptions(
	method: string,
	parameters: IDataObject,
	credentials: { apiKey: string; baseUrl: string },
	path = 'parameters',
): Promise<INodePropertyOptions[]> {
	const node: INode = {
		id: 'did',
		name: 'D-ID',
		type: DID_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INodeParameters,
		credentials: { dIdApi: { id: 'cred-1', name: 'D-ID account' } },
	};
	const workflow = new Workflow({
		id: `wf-options-${++workflowCounter}`,
		nodes: [node],
		connections: {},
		nodeTypes,
		active: false,
		settings: {},
	});
	const additionalData = {
		credentialsHelper: new MemoryCredentialsHelper({ dIdApi: { ...credentials } }),
		currentNodeParameters: parameters,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		variables: {},
		userId: 'user-1',
	} as unknown as IWorkflowExecuteAdditionalData;
	const context = new LoadOptionsContext(workflow, node, additionalData, path);
	const type = nodeTypes.getByNameAndVersion(DID_TYPE);
	return await type.methods!.loadOptions![method].call(context);
}
