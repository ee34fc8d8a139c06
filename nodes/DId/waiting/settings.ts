import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { deleteUploads, doneTalkItem, type Uploads } from '../helpers/cleanup';
import { withItemIndex } from '../helpers/errors';
import type { Talk } from '../helpers/talk';
import { invalid, numberOf, refuseNotText, shown } from '../helpers/validation';
import { waitForTalk } from './poll';

/** Wait Mode of the node: Poll (the node asks D-ID) or Webhook (D-ID calls the waiting execution). */
export type WaitMode = 'poll' | 'webhook';

/** Wait Mode of the node (the same for every item: the execution waits as a whole). */
export function waitModeOf(ctx: IExecuteFunctions): WaitMode {
	return ctx.getNodeParameter('waitMode', 0, 'poll') === 'webhook' ? 'webhook' : 'poll';
}

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
	refuseNotText(
		ctx,
		i,
		'Put Video in Field',
		output,
		'a field name',
		'Name the binary field for the video, e.g. data.',
	);
	const binaryProperty = String(output ?? '').trim();
	if (download && !binaryProperty) {
		throw invalid(
			ctx,
			i,
			'Put Video in Field',
			'it is empty',
			'Name the binary field for the video, e.g. data.',
		);
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
		talk = await waitForTalk.call(this, talkId, {
			timeoutMs: wait.timeoutMs,
			itemIndex: i,
			signal,
			startedAt,
		});
	} catch (error) {
		// The talk ended without a video: its uploads are of no more use.
		if (
			wait.deleteUploads &&
			(error as { context?: { endedTalkId?: string } }).context?.endedTalkId
		)
			await deleteUploads(this, uploads, i, signal);
		throw withItemIndex(this, error, i);
	}
	return [await doneTalkItem(this, talk, wait, uploads, i, signal)];
}
