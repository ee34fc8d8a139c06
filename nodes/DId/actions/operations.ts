import type { IExecuteFunctions, INodeExecutionData, NodeOperationError } from 'n8n-workflow';

import type { Started } from '../helpers/webhook-wait';
import type { DIdContext } from '../transport';

import * as creditsGet from './credits/get.operation';
import * as talkCreate from './talk/create.operation';
import * as talkDelete from './talk/delete.operation';
import * as talkGet from './talk/get.operation';
import * as talkList from './talk/list.operation';
import * as talkWait from './talk/wait.operation';

/**
 * Every operation works in two steps: `prepare` reads and checks the item's fields without any
 * request (so bad input costs nothing), `execute` talks to D-ID.
 */
export interface Operation {
	prepare(this: IExecuteFunctions, i: number): Promise<unknown>;
	// Method syntax on purpose: each operation narrows `prepared` to what its own prepare returns.
	execute(this: IExecuteFunctions, i: number, prepared: unknown, signal?: AbortSignal): Promise<INodeExecutionData[]>;
	/** Wait Mode "Webhook": starts the item once the execution waits (see helpers/webhook-wait.ts). */
	startForWebhook?(this: DIdContext, i: number, prepared: unknown, signal: AbortSignal): Promise<Started>;
	/** Once every item is prepared and before any request that creates anything (Create: Check Credits First). */
	beforeRun?(this: IExecuteFunctions, prepared: unknown[]): Promise<NodeOperationError | undefined>;
}

export const operations: Record<string, Record<string, Operation>> = {
	talk: {
		create: talkCreate,
		get: talkGet,
		wait: talkWait,
		list: talkList,
		delete: talkDelete,
	},
	credits: {
		get: creditsGet,
	},
};

export const descriptions = [
	...talkCreate.description,
	...talkGet.description,
	...talkWait.description,
	...talkList.description,
	...talkDelete.description,
	...creditsGet.description,
];
