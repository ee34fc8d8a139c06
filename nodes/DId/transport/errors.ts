import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** D-ID's error body: `{ kind, description, details? }`. */
export interface DIdErrorBody {
	kind?: string;
	description?: string;
	details?: unknown;
}

interface Advice {
	message: string;
	description: string;
}

const MODERATION = {
	ImageModerationError: 'image',
	CelebrityRecognizedError: 'image (a celebrity was recognized)',
	TextModerationError: 'text',
	AudioModerationError: 'audio',
} as const;

/** What a D-ID error means for the workflow builder, and what to do about it. */
export function adviceFor(
	status: number,
	body: DIdErrorBody,
	context: { talkId?: string } = {},
): Advice {
	const kind = body.kind ?? '';
	const said = body.description ? `D-ID says: ${body.kind ?? 'Error'}: ${body.description}.` : '';
	const talk = context.talkId ? `talk ${context.talkId}` : 'the talk';
	if (kind in MODERATION || status === 451) {
		const what = MODERATION[kind as keyof typeof MODERATION] ?? 'content';
		return {
			message: `D-ID's content moderation refused the ${what}`,
			description: `${said} Use different content, or contact D-ID support to ask for a manual review.`,
		};
	}
	switch (kind || String(status)) {
		case 'AuthorizationError':
		case '401':
			return {
				message: 'D-ID refused the API key',
				description: `${said} Open the D-ID API credential and paste the key from D-ID Studio (Account Settings → API key) exactly as shown, and check the Base URL.`,
			};
		case 'InsufficientCreditsError':
		case '402':
			return {
				message: 'Not enough D-ID credits to create this talk',
				description: `${said} Add credits in D-ID Studio or wait for your plan to renew; Credits → Get shows what is left.`,
			};
		case 'PermissionError':
		case '403':
			return {
				message: `Your D-ID plan does not allow this${body.description ? `: ${body.description}` : ''}`,
				description: `${said} Turn the option off (for example Stitch or Subtitles) or upgrade the D-ID plan.`,
			};
		case 'NotReadyError':
		case '409':
			return {
				message: `${capitalize(talk)} is still processing`,
				description: `${said} Wait until it is done (Talk → Wait), then try again.`,
			};
		case 'NotFoundError':
		case '404':
			return {
				message: `D-ID has no ${context.talkId ? `talk with ID ${context.talkId}` : 'such resource'}`,
				description: `${said} Check the ID (it starts with tlk_); deleted talks cannot be found. Also check the credential's Base URL.`,
			};
		case 'ValidationError':
		case 'BadRequestError':
		case 'UnsupportedMimeTypeError':
		case '400':
		case '415':
			return {
				message: `D-ID refused the request: ${body.description ?? 'invalid request'}`,
				description: `${said}${formatDetails(body.details)} Fix the field named above and run again.`,
			};
		case 'TooManyRequestsError':
		case '429':
			return {
				message: 'D-ID is rate limiting requests',
				description: `${said} The node already waited and retried. Lower "Max Concurrent Talks" or spread the items over time.`,
			};
		default:
			return {
				message:
					status >= 500
						? `D-ID had a server error (HTTP ${status})`
						: `D-ID answered HTTP ${status}`,
				description: `${said} The node retried where it was safe. Try again later; if it persists, check D-ID's status page.`,
			};
	}
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}

function formatDetails(details: unknown): string {
	if (!details || typeof details !== 'object') return '';
	const lines = Object.entries(details as Record<string, { message?: string } | string>).map(
		([path, value]) => {
			const message = typeof value === 'string' ? value : (value?.message ?? JSON.stringify(value));
			return `${path}: ${message}`;
		},
	);
	return lines.length ? ` Details: ${lines.join('; ')}.` : '';
}

/** A NodeApiError built only from D-ID's answer (never from the request, which carries the key). */
export function dIdApiError(
	node: INode,
	status: number,
	body: DIdErrorBody,
	options: { itemIndex?: number; talkId?: string } = {},
): NodeApiError {
	const advice = adviceFor(status, body, options);
	const response: JsonObject = {
		kind: body.kind ?? null,
		description: body.description ?? null,
		httpCode: String(status),
	};
	if (body.details !== undefined) response.details = body.details as JsonObject;
	const error = new NodeApiError(node, response, {
		message: advice.message,
		description: advice.description,
		httpCode: String(status),
		itemIndex: options.itemIndex,
	});
	if (body.kind) error.context.kind = body.kind;
	return error;
}

/** The one error for a request or a wait ended by the execution's cancel (or the run's first failure). */
export function cancelledError(ctx: { getNode(): INode }, itemIndex?: number): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), 'The execution was cancelled', { itemIndex });
}
