import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { dIdApiRequest } from '../transport';
import { abortableSleep } from './sleep';

export interface Talk extends IDataObject {
	id: string;
	status: 'created' | 'started' | 'done' | 'error' | 'rejected';
	result_url?: string;
	error?: { kind?: string; description?: string };
}

export const FINAL_STATUSES = ['done', 'error', 'rejected'];

const FIRST_CHECK_MS = 1000;
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 5000;
const INTERVAL_SHARE = 0.2;

/**
 * When to look next: early checks are cheap to miss, so the interval grows with the time already
 * spent (a fifth of it), between 1 and 5 seconds. See bench/ for what this costs and saves.
 */
export function nextPollDelay(elapsedMs: number, checks: number): number {
	if (checks === 0) return FIRST_CHECK_MS;
	return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, elapsedMs * INTERVAL_SHARE));
}

/** Polls GET /talks/{id} until the talk is done, failed, rejected, or the timeout passes. */
export async function waitForTalk(
	this: IExecuteFunctions,
	talkId: string,
	options: { timeoutMs: number; itemIndex: number; signal?: AbortSignal; startedAt?: number },
): Promise<Talk> {
	const started = options.startedAt ?? Date.now();
	const deadline = started + options.timeoutMs;
	let checks = 0;
	for (;;) {
		const now = Date.now();
		const delay = Math.min(nextPollDelay(now - started, checks), Math.max(0, deadline - now));
		await abortableSleep(delay, options.signal);
		if (options.signal?.aborted) {
			throw new NodeOperationError(this.getNode(), 'The execution was cancelled', { itemIndex: options.itemIndex });
		}
		const talk = (await dIdApiRequest.call(this, 'GET', `/talks/${encodeURIComponent(talkId)}`, {
			itemIndex: options.itemIndex,
			signal: options.signal,
			talkId,
		})) as Talk;
		checks++;
		if (talk.status === 'done' && talk.result_url) return talk;
		if (talk.status === 'error' || talk.status === 'rejected') throw talkFailed(this, talk, options.itemIndex);
		if (Date.now() >= deadline) {
			const minutes = Math.round((options.timeoutMs / 60000) * 10) / 10;
			throw new NodeOperationError(
				this.getNode(),
				`Talk ${talkId} is not done after ${minutes} min (status: ${talk.status})`,
				{
					itemIndex: options.itemIndex,
					description:
						'The talk keeps rendering at D-ID and nothing is lost: raise the Timeout, or run Talk → Wait later with this talk ID.',
				},
			);
		}
	}
}

const FAILURE_HINTS: Record<string, string> = {
	FaceError: 'Use a photo with one clear, front-facing face, well lit and not covered.',
	ContentModerationError: 'D-ID rejected the content; use another image or script, or contact D-ID support for a review.',
};

/** The error for a talk that ended in status "error" or "rejected", with D-ID's kind and description. */
export function talkFailed(ctx: IExecuteFunctions | { getNode: IExecuteFunctions['getNode'] }, talk: Talk, itemIndex: number): NodeApiError {
	const kind = talk.error?.kind ?? (talk.status === 'rejected' ? 'Rejected' : 'UnknownError');
	const description = talk.error?.description ?? `the talk ended with status "${talk.status}"`;
	const error = new NodeApiError(
		ctx.getNode(),
		{ kind, description, talkId: talk.id, status: talk.status },
		{
			message: `D-ID could not make talk ${talk.id} (${talk.status}): ${kind}: ${description}`,
			description: FAILURE_HINTS[kind] ?? 'Check the image and script of this item; D-ID did not produce a video.',
			itemIndex,
		},
	);
	error.context.kind = kind;
	return error;
}
