import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { getTalk } from '../../transport';
import { prepareTalkId, talkIdOnly } from './talk-id.field';

export const description = talkIdOnly('get');

export const prepare = prepareTalkId;

export async function execute(
	this: IExecuteFunctions,
	i: number,
	talkId: string,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const talk = await getTalk.call(this, talkId, { itemIndex: i, signal });
	return [{ json: talk }];
}
