import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { deleteTalk } from '../../transport';
import { prepareTalkId, talkIdOnly } from './talk-id.field';

export const description = talkIdOnly('delete');

export const prepare = prepareTalkId;

export async function execute(
	this: IExecuteFunctions,
	i: number,
	talkId: string,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const talk: IDataObject = await deleteTalk.call(this, talkId, { itemIndex: i, signal });
	return [{ json: { ...talk, id: talk.id ?? talkId, deleted: true } }];
}
