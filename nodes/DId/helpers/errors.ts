import type { IDataObject, INode } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { redactDeep, redactError } from '../transport/redact';

// D-ID's error advice lives in the transport; these stay importable from here.
export { adviceFor, dIdApiError, type DIdErrorBody } from '../transport/errors';

/** The output item of a failed item under Continue On Fail: message, advice, D-ID's kind and status. */
export function errorJson(error: Error): IDataObject {
	const json: IDataObject = { error: error.message };
	const described = error as NodeApiError;
	if (described.description) json.description = described.description;
	if (described.context?.kind) json.kind = described.context.kind as string;
	if (described.httpCode) json.httpCode = described.httpCode;
	return redactDeep(json);
}

/** Any failure of item `itemIndex` as an n8n node error that names the item. */
export function withItemIndex(
	ctx: { getNode(): INode },
	error: unknown,
	itemIndex: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		return redactError(error);
	}
	return redactError(new NodeOperationError(ctx.getNode(), error as Error, { itemIndex }));
}
