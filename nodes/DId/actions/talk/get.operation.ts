import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { dIdApiRequest } from '../../transport';
import { readTalkId, talkIdField } from './talk-id.field';

export const description = updateDisplayOptions({ show: { resource: ['talk'], operation: ['get'] } }, [talkIdField] as INodeProperties[]);

export async function prepare(this: IExecuteFunctions, i: number): Promise<string> {
	return readTalkId(this, i);
}

export async function execute(this: IExecuteFunctions, i: number, talkId: string, signal?: AbortSignal): Promise<INodeExecutionData[]> {
	const talk = await dIdApiRequest.call(this, 'GET', `/talks/${encodeURIComponent(talkId)}`, { itemIndex: i, signal, talkId });
	return [{ json: talk }];
}
