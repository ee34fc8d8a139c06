import type { IExecuteFunctions, INodeExecutionData, NodeOperationError } from 'n8n-workflow';

import type { Started } from '../waiting';
import type { DIdContext } from '../transport';

import * as credits from './credits';
import * as talk from './talk';

/**
 * Every operation works in two steps: `prepare` reads and checks the item's fields without any
 * request (so bad input costs nothing), `execute` talks to D-ID.
 */
export interface Operation {
	prepare(this: IExecuteFunctions, i: number): Promise<unknown>;
	// Method syntax on purpose: each operation narrows `prepared` to what its own prepare returns.
	execute(
		this: IExecuteFunctions,
		i: number,
		prepared: unknown,
		signal?: AbortSignal,
	): Promise<INodeExecutionData[]>;
	/** Whether this run waits for its talks (Wait Mode applies; see ../waiting). */
	waits?(this: IExecuteFunctions): boolean;
	/** Wait Mode "Webhook": starts the item (creates or reads its talk) before the execution waits (see waiting/webhook.ts). */
	startForWebhook?(
		this: DIdContext,
		i: number,
		prepared: unknown,
		signal: AbortSignal,
	): Promise<Started>;
	/** Once every item is prepared and before any request that creates anything (Create: Check Credits First). */
	beforeRun?(this: IExecuteFunctions, prepared: unknown[]): Promise<NodeOperationError | undefined>;
}

export const operations: Record<string, Record<string, Operation>> = {
	talk: {
		create: talk.create,
		get: talk.get,
		wait: talk.wait,
		list: talk.list,
		delete: talk.delete,
	},
	credits: {
		get: credits.get,
	},
};

/** The operations' fields (the node's properties are assembled in node.description.ts). */
export const descriptions = [...talk.properties, ...credits.properties];
