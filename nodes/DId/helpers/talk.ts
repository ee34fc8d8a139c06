import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/*
 * The talk as D-ID returns it (GET /talks/{id}, the list, the webhook body), its final statuses,
 * and the errors for a talk that failed or did not finish in time: shared by the D-ID node (both
 * wait modes) and the D-ID Trigger.
 */

export interface Talk extends IDataObject {
	id: string;
	status: 'created' | 'started' | 'done' | 'error' | 'rejected';
	result_url?: string;
	error?: { kind?: string; description?: string };
}

export const FINAL_STATUSES = ['done', 'error', 'rejected'];

/** The error for a talk still not done when the timeout passed. */
export function talkTimedOut(
	ctx: { getNode: IExecuteFunctions['getNode'] },
	talkId: string,
	timeoutMs: number,
	status: string,
	itemIndex: number,
	description: string,
): NodeOperationError {
	const minutes = Math.round((timeoutMs / 60000) * 10) / 10;
	return new NodeOperationError(
		ctx.getNode(),
		`Talk ${talkId} is not done after ${minutes} min (status: ${status})`,
		{ itemIndex, description },
	);
}

const FAILURE_HINTS: Record<string, string> = {
	FaceError: 'Use a photo with one clear, front-facing face, well lit and not covered.',
	ContentModerationError:
		'D-ID rejected the content; use another image or script, or contact D-ID support for a review.',
};

/** The error for a talk that ended in status "error" or "rejected", with D-ID's kind and description. */
export function talkFailed(
	ctx: IExecuteFunctions | { getNode: IExecuteFunctions['getNode'] },
	talk: Talk,
	itemIndex: number,
): NodeApiError {
	const kind = talk.error?.kind ?? (talk.status === 'rejected' ? 'Rejected' : 'UnknownError');
	const description = talk.error?.description ?? `the talk ended with status "${talk.status}"`;
	const error = new NodeApiError(
		ctx.getNode(),
		{ kind, description, talkId: talk.id, status: talk.status },
		{
			message: `D-ID could not make talk ${talk.id} (${talk.status}): ${kind}: ${description}`,
			description:
				FAILURE_HINTS[kind] ??
				'Check the image and script of this item; D-ID did not produce a video.',
			itemIndex,
		},
	);
	error.context.kind = kind;
	error.context.endedTalkId = talk.id;
	return error;
}
