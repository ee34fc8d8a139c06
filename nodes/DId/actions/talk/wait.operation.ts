import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { downloadVideo } from '../../helpers/binary';
import { waitForTalk, type Talk } from '../../helpers/polling';
import { invalid, notText, numberOf, shown } from '../../helpers/validation';
import { waitModeOf, type Started, type WaitMode } from '../../helpers/webhook-wait';
import { dIdApiRequest, type DIdContext } from '../../transport';
import { talkIdField, readTalkId } from './talk-id.field';
import { waitFields } from './wait.fields';

const properties: INodeProperties[] = [talkIdField, ...waitFields({})];

export const description = updateDisplayOptions({ show: { resource: ['talk'], operation: ['wait'] } }, properties);

// Longer than any talk takes; also keeps the wait's end a valid date.
const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

export interface WaitSettings {
	mode: WaitMode;
	timeoutMs: number;
	download: boolean;
	binaryProperty: string;
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
	return { mode: waitModeOf(ctx), timeoutMs: minutes * 60_000, download, binaryProperty };
}

export interface PreparedWait {
	talkId: string;
	wait: WaitSettings;
}

export async function prepare(this: IExecuteFunctions, i: number): Promise<PreparedWait> {
	return { talkId: readTalkId(this, i), wait: readWaitSettings(this, i) };
}

/** Waits for a talk to end, then returns it (with its video when asked). */
export async function finishWaiting(
	this: IExecuteFunctions,
	talkId: string,
	i: number,
	wait: WaitSettings,
	signal?: AbortSignal,
	startedAt?: number,
): Promise<INodeExecutionData[]> {
	const talk = await waitForTalk.call(this, talkId, { timeoutMs: wait.timeoutMs, itemIndex: i, signal, startedAt });
	const item: INodeExecutionData = { json: talk };
	if (wait.download) item.binary = { [wait.binaryProperty]: await downloadVideo.call(this, talk, i, signal) };
	return [item];
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	prepared: PreparedWait,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	return await finishWaiting.call(this, prepared.talkId, i, prepared.wait, signal);
}

/** Wait Mode "Webhook": the talk is checked once when the execution starts waiting (it may have ended already). */
export async function startForWebhook(this: DIdContext, i: number, prepared: PreparedWait, signal: AbortSignal): Promise<Started> {
	const talk = (await dIdApiRequest.call(this, 'GET', `/talks/${encodeURIComponent(prepared.talkId)}`, { itemIndex: i, signal, talkId: prepared.talkId })) as Talk;
	return { talk };
}
