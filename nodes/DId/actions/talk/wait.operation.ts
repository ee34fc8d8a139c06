import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { deleteUploads, doneTalkItem, type Uploads } from '../../helpers/cleanup';
import { waitForTalk } from '../../helpers/polling';
import type { Talk } from '../../helpers/talk';
import { withItemIndex } from '../../helpers/errors';
import { invalid, notText, numberOf, shown } from '../../helpers/validation';
import { waitModeOf, type Started, type WaitMode } from '../../helpers/webhook-wait';
import { getTalk, type DIdContext } from '../../transport';
import { talkIdField, readTalkId } from './talk-id.field';
import { waitFields } from './wait.fields';

const properties: INodeProperties[] = [talkIdField, ...waitFields({}, { uploads: 'input' })];

export const description = updateDisplayOptions({ show: { resource: ['talk'], operation: ['wait'] } }, properties);

// Longer than any talk takes; also keeps the wait's end a valid date.
const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

export interface WaitSettings {
	mode: WaitMode;
	timeoutMs: number;
	download: boolean;
	binaryProperty: string;
	/** Create only: delete what the node uploaded once the talk has ended. */
	deleteUploads: boolean;
	/** Delete the talk at D-ID once its video is in n8n. */
	deleteTalk: boolean;
}

export function readWaitSettings(ctx: IExecuteFunctions, i: number): WaitSettings {
	const given = ctx.getNodeParameter('timeoutMinutes', i, 10) as unknown;
	const minutes = numberOf(given);
	if (!(minutes > 0 && minutes <= MAX_TIMEOUT_MINUTES)) {
		throw invalid(
			ctx,
			i,
			'Timeout (Minutes)',
			minutes > MAX_TIMEOUT_MINUTES
				? `${shown(given)} minutes is more than 7 days (${MAX_TIMEOUT_MINUTES.toLocaleString('en-US')} minutes)`
				: `${shown(given)} is not a positive number of minutes`,
			'Most talks finish within a few minutes; 10 is a good default. A talk not done in time keeps rendering and can be waited for again with Talk → Wait.',
		);
	}
	const download = ctx.getNodeParameter('downloadVideo', i, true) as boolean;
	const output = download ? ctx.getNodeParameter('binaryPropertyOutput', i, 'data') : 'data';
	const kind = notText(output);
	if (kind) {
		throw invalid(ctx, i, 'Put Video in Field', `the expression gave ${kind}, not a field name`, 'Name the binary field for the video, e.g. data.');
	}
	const binaryProperty = String(output ?? '').trim();
	if (download && !binaryProperty) {
		throw invalid(ctx, i, 'Put Video in Field', 'it is empty', 'Name the binary field for the video, e.g. data.');
	}
	return {
		mode: waitModeOf(ctx),
		timeoutMs: minutes * 60_000,
		download,
		binaryProperty,
		deleteUploads: ctx.getNodeParameter('deleteUploads', i, false) === true,
		deleteTalk: ctx.getNodeParameter('deleteTalk', i, false) === true,
	};
}

export interface PreparedWait {
	talkId: string;
	wait: WaitSettings;
	uploads?: Uploads;
}

export async function prepare(this: IExecuteFunctions, i: number): Promise<PreparedWait> {
	const wait = readWaitSettings(this, i);
	return { talkId: readTalkId(this, i), wait, uploads: wait.deleteUploads ? readUploads(this, i) : undefined };
}

/** Uploaded Files: the `uploads` a D-ID Create output ({image, audio} upload IDs), as an object or its JSON. */
function readUploads(ctx: IExecuteFunctions, i: number): Uploads | undefined {
	let value = ctx.getNodeParameter('uploadedFiles', i, undefined) as unknown;
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
	const advice = 'Map the uploads field of the D-ID Create output ({{ $json.uploads }}), or turn off Delete Uploaded Files After Completion.';
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value);
		} catch {
			throw invalid(ctx, i, 'Uploaded Files', `${shown(value)} is not the uploads object of a D-ID Create`, advice);
		}
	}
	const ids = value as IDataObject;
	const valid =
		typeof value === 'object' &&
		value !== null &&
		!Array.isArray(value) &&
		Object.keys(ids).every((key) => ['image', 'audio'].includes(key)) &&
		Object.values(ids).every((id) => typeof id === 'string' && /^[A-Za-z0-9_-]{1,200}$/.test(id));
	if (!valid) throw invalid(ctx, i, 'Uploaded Files', `${shown(value)} is not the uploads object of a D-ID Create`, advice);
	return { image: ids.image as string | undefined, audio: ids.audio as string | undefined };
}

/** Waits for a talk to end, then returns it (with its video when asked, its credits, its clean-up). */
export async function finishWaiting(
	this: IExecuteFunctions,
	talkId: string,
	i: number,
	wait: WaitSettings,
	signal?: AbortSignal,
	startedAt?: number,
	uploads?: Uploads,
): Promise<INodeExecutionData[]> {
	let talk: Talk;
	try {
		talk = await waitForTalk.call(this, talkId, { timeoutMs: wait.timeoutMs, itemIndex: i, signal, startedAt });
	} catch (error) {
		// The talk ended without a video: its uploads are of no more use.
		if (wait.deleteUploads && (error as { context?: { endedTalkId?: string } }).context?.endedTalkId) await deleteUploads(this, uploads, i, signal);
		throw withItemIndex(this, error, i);
	}
	return [await doneTalkItem(this, talk, wait, uploads, i, signal)];
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	prepared: PreparedWait,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	return await finishWaiting.call(this, prepared.talkId, i, prepared.wait, signal, undefined, prepared.uploads);
}

/** Wait Mode "Webhook": the talk is checked once when the execution starts waiting (it may have ended already). */
export async function startForWebhook(this: DIdContext, i: number, prepared: PreparedWait, signal: AbortSignal): Promise<Started> {
	const talk = (await getTalk.call(this, prepared.talkId, { itemIndex: i, signal })) as Talk;
	return { talk, uploads: prepared.uploads };
}
