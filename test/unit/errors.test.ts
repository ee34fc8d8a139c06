import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { adviceFor, dIdApiError, errorJson, withItemIndex } from '../../nodes/DId/helpers/errors';
import { NODE as node } from './support/context';

describe('adviceFor: what a D-ID error means and what to do', () => {
	test.each([
		[401, {}, 'D-ID refused the API key', /API key/],
		[
			402,
			{ kind: 'InsufficientCreditsError' },
			'Not enough D-ID credits to create this talk',
			/Add credits/,
		],
		[
			403,
			{ kind: 'PermissionError', description: 'no stitch' },
			'Your D-ID plan does not allow this: no stitch',
			/upgrade/,
		],
		[404, {}, 'D-ID has no such resource', /tlk_/],
		[429, {}, 'D-ID is rate limiting requests', /Max Concurrent Talks/],
		[451, {}, "D-ID's content moderation refused the content", /manual review/],
		[
			451,
			{ kind: 'CelebrityRecognizedError' },
			"D-ID's content moderation refused the image (a celebrity was recognized)",
			/manual review/,
		],
		[502, {}, 'D-ID had a server error (HTTP 502)', /retried/],
		[418, {}, 'D-ID answered HTTP 418', /Try again later/],
	])('HTTP %d %j', (status, body, message, description) => {
		const advice = adviceFor(status, body);
		expect(advice.message).toBe(message);
		expect(advice.description).toMatch(description);
	});

	test('the kind decides over the status', () => {
		expect(adviceFor(400, { kind: 'AuthorizationError' }).message).toBe('D-ID refused the API key');
		expect(adviceFor(400, { kind: 'TextModerationError' }).message).toBe(
			"D-ID's content moderation refused the text",
		);
	});

	test('a talk is named; validation details are listed', () => {
		expect(adviceFor(409, { kind: 'NotReadyError' }, { talkId: 'tlk_9' }).message).toBe(
			'Talk tlk_9 is still processing',
		);
		expect(adviceFor(404, {}, { talkId: 'tlk_9' }).message).toBe('D-ID has no talk with ID tlk_9');
		const advice = adviceFor(400, {
			kind: 'ValidationError',
			description: 'Invalid payload',
			details: { 'body.script.input': { message: 'too long' } },
		});
		expect(advice.message).toBe('D-ID refused the request: Invalid payload');
		expect(advice.description).toContain('Details: body.script.input: too long.');
	});

	test('dIdApiError keeps the kind and status; errorJson carries them to a Continue On Fail item', () => {
		const error = dIdApiError(
			node,
			402,
			{ kind: 'InsufficientCreditsError', description: 'not enough credits' },
			{ itemIndex: 2 },
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.context.itemIndex).toBe(2);
		expect(errorJson(error)).toEqual(
			expect.objectContaining({
				error: 'Not enough D-ID credits to create this talk',
				kind: 'InsufficientCreditsError',
				httpCode: '402',
			}),
		);
	});

	test('withItemIndex names the item of any failure and redacts secrets in it', () => {
		const plain = withItemIndex(
			{ getNode: () => node },
			new Error('see https://x/y?secret=abcdefghijk'),
			3,
		);
		expect(plain).toBeInstanceOf(NodeOperationError);
		expect(plain.context.itemIndex).toBe(3);
		expect(plain.message).not.toContain('abcdefghijk');
		const named = new NodeOperationError(node, 'x', { itemIndex: 1 });
		expect(withItemIndex({ getNode: () => node }, named, 5).context.itemIndex).toBe(1);
	});
});
