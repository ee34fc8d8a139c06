import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalid, refuseNotText, shown } from '../../helpers/validation';

export const talkIdField: INodeProperties = {
	displayName: 'Talk ID',
	name: 'talkId',
	type: 'string',
	default: '={{ $json.id }}',
	required: true,
	placeholder: 'tlk_TMj4G1wiEGpQrdNFvrqAk',
	description: 'The ID D-ID gave the talk (starts with tlk_), usually from a previous Create',
};

/** The fields of an operation that takes only the talk ID (Get, Delete). */
export function talkIdOnly(operation: string): INodeProperties[] {
	return updateDisplayOptions({ show: { resource: ['talk'], operation: [operation] } }, [
		talkIdField,
	]);
}

/** `prepare` of an operation that takes only the talk ID: the item's talk ID. */
export async function prepareTalkId(this: IExecuteFunctions, i: number): Promise<string> {
	return readTalkId(this, i);
}

const MAP_ID =
	'Map the id field of a previous D-ID Create output (e.g. {{ $json.id }}); talk IDs look like tlk_TMj4G1wiEGpQrdNFvrqAk.';

/**
 * The item's talk ID, refused when it could not be one: the ID becomes a path segment
 * (/talks/{id}), and "." or ".." would turn GET /talks/{id} into the talk list, DELETE into a
 * call on /talks, and Wait into polling the list.
 */
export function readTalkId(ctx: IExecuteFunctions, i: number): string {
	const value = ctx.getNodeParameter('talkId', i, '') as unknown;
	if (typeof value === 'number' || typeof value === 'bigint') {
		throw invalid(
			ctx,
			i,
			'Talk ID',
			`it is the number ${String(value)}, not a talk ID`,
			'Talk IDs are text like tlk_TMj4G1wiEGpQrdNFvrqAk: map `{{ $json.id }}` of a D-ID Create or List output, not a row number or a count.',
		);
	}
	refuseNotText(
		ctx,
		i,
		'Talk ID',
		value,
		'a talk ID',
		'Map the id field itself, `{{ $json.id }}`, not the whole item or a list of IDs (split a list into items first).',
	);
	const talkId = typeof value === 'string' ? value.trim() : '';
	if (!talkId) throw invalid(ctx, i, 'Talk ID', 'it is empty', MAP_ID);
	if (/^\.+$/.test(talkId)) {
		throw invalid(
			ctx,
			i,
			'Talk ID',
			`${shown(talkId)} is not a talk ID: as a path it would point at the talk list, not at a talk`,
			MAP_ID,
		);
	}
	// eslint-disable-next-line no-control-regex
	if (/[\s\u0000-\u001f\u007f/\\?#%]/.test(talkId)) {
		throw invalid(
			ctx,
			i,
			'Talk ID',
			`${shown(talkId)} is not a talk ID: it contains a space, a control character or one of / \\ ? # %`,
			MAP_ID,
		);
	}
	return talkId;
}
