import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteTalk } from '../../transport';
import { readTalkId, talkIdField } from './talk-id.field';

export const description = updateDisplayOptions(
	{ show: { resource: ['talk'], operation: ['delete'] } },
	[talkIdField] as INodeProperties[],
);

export async function prepare(this: IExecuteFunctions, i: number): Promise<string> {
	return readTalkId(this, i);
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	talkId: string,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const talk: IDataObject = await deleteTalk.call(this, talkId, { itemIndex: i, signal });
	return [{ json: { ...talk, id: talk.id ?? talkId, deleted: true } }];
}
