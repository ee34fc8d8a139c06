import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { dIdApiRequest } from '../../transport';

export const description: INodeProperties[] = [];

export async function prepare(): Promise<undefined> {
	return undefined;
}

/** Remaining and total credits (and D-ID's per-grant breakdown). */
export async function execute(
	this: IExecuteFunctions,
	i: number,
	_prepared: undefined,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const credits = await dIdApiRequest.call(this, 'GET', '/credits', { itemIndex: i, signal });
	return [{ json: credits }];
}
