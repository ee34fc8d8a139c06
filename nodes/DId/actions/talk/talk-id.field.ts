import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { invalid, shown } from '../../helpers/validation';

export const talkIdField: INodeProperties = {
	displayName: 'Talk ID',
	name: 'talkId',
	type: 'string',
	default: '={{ $json.id }}',
	required: true,
	placeholder: 'tlk_TMj4G1wiEGpQrdNFvrqAk',
	description: 'The ID D-ID gave the talk (starts with tlk_), usually from a previous Create',
};

export function readTalkId(ctx: IExecuteFunctions, i: number): string {
	const value = ctx.getNodeParameter('talkId', i, '') as unknown;
	const talkId = typeof value === 'string' ? value.trim() : '';
	if (!talkId || /\s|\//.test(talkId)) {
		throw invalid(
			ctx,
			i,
			'Talk ID',
			talkId ? `${shown(talkId)} is not a talk ID` : 'it is empty',
			'Map the id field of a previous D-ID Create output (e.g. {{ $json.id }}); talk IDs look like tlk_TMj4G1wiEGpQrdNFvrqAk.',
		);
	}
	return talkId;
}
