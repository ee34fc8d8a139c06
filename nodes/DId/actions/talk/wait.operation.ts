import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { Uploads } from '../../helpers/cleanup';
import type { Talk } from '../../helpers/talk';
import { invalid, shown } from '../../helpers/validation';
import { finishWaiting, readWaitSettings, type Started, type WaitSettings } from '../../waiting';
import { getTalk, type DIdContext } from '../../transport';
import { talkIdField, readTalkId } from './talk-id.field';
import { waitFields } from './wait.fields';

const properties: INodeProperties[] = [talkIdField, ...waitFields({}, { uploads: 'input' })];

export const description = updateDisplayOptions(
	{ show: { resource: ['talk'], operation: ['wait'] } },
	properties,
);

/** Talk → Wait always waits. */
export function waits(): boolean {
	return true;
}

export interface PreparedWait {
	talkId: string;
	wait: WaitSettings;
	uploads?: Uploads;
}

export async function prepare(this: IExecuteFunctions, i: number): Promise<PreparedWait> {
	const wait = readWaitSettings(this, i);
	return {
		talkId: readTalkId(this, i),
		wait,
		uploads: wait.deleteUploads ? readUploads(this, i) : undefined,
	};
}

/** Uploaded Files: the `uploads` a D-ID Create output ({image, audio} upload IDs), as an object or its JSON. */
function readUploads(ctx: IExecuteFunctions, i: number): Uploads | undefined {
	let value = ctx.getNodeParameter('uploadedFiles', i, undefined) as unknown;
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
		return undefined;
	const advice =
		'Map the uploads field of the D-ID Create output ({{ $json.uploads }}), or turn off Delete Uploaded Files After Completion.';
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value);
		} catch {
			throw invalid(
				ctx,
				i,
				'Uploaded Files',
				`${shown(value)} is not the uploads object of a D-ID Create`,
				advice,
			);
		}
	}
	const ids = value as IDataObject;
	const valid =
		typeof value === 'object' &&
		value !== null &&
		!Array.isArray(value) &&
		Object.keys(ids).every((key) => ['image', 'audio'].includes(key)) &&
		Object.values(ids).every((id) => typeof id === 'string' && /^[A-Za-z0-9_-]{1,200}$/.test(id));
	if (!valid)
		throw invalid(
			ctx,
			i,
			'Uploaded Files',
			`${shown(value)} is not the uploads object of a D-ID Create`,
			advice,
		);
	return { image: ids.image as string | undefined, audio: ids.audio as string | undefined };
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	prepared: PreparedWait,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	return await finishWaiting.call(
		this,
		prepared.talkId,
		i,
		prepared.wait,
		signal,
		undefined,
		prepared.uploads,
	);
}

/** Wait Mode "Webhook": the talk is read once before the execution waits (it may have ended already). */
export async function startForWebhook(
	this: DIdContext,
	i: number,
	prepared: PreparedWait,
	signal: AbortSignal,
): Promise<Started> {
	const talk = (await getTalk.call(this, prepared.talkId, { itemIndex: i, signal })) as Talk;
	return { talk, uploads: prepared.uploads };
}
