import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalid, numberOf, shown } from '../../helpers/validation';
import { dIdApiRequest } from '../../transport';

const PAGE_SIZE = 100;

const properties: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
];

export const description = updateDisplayOptions({ show: { resource: ['talk'], operation: ['list'] } }, properties);

export async function prepare(this: IExecuteFunctions, i: number): Promise<number> {
	if (this.getNodeParameter('returnAll', i, false)) return Infinity;
	const given = this.getNodeParameter('limit', i, 50) as unknown;
	const limit = numberOf(given);
	if (!Number.isSafeInteger(limit) || limit < 1) throw invalid(this, i, 'Limit', `${shown(given)} is not a whole number of 1 or more`, 'Set Limit to 1 or more, or turn on Return All.');
	return limit;
}

/** Newest talks first, following D-ID's `token` pages until the limit or the last page. */
export async function execute(this: IExecuteFunctions, i: number, limit: number, signal?: AbortSignal): Promise<INodeExecutionData[]> {
	const talks: IDataObject[] = [];
	let token: string | undefined;
	do {
		const qs: IDataObject = { limit: Math.min(PAGE_SIZE, limit - talks.length) };
		if (token) qs.token = token;
		const page = (await dIdApiRequest.call(this, 'GET', '/talks', { qs, itemIndex: i, signal })) as {
			talks?: IDataObject[];
			token?: string;
		};
		talks.push(...(page.talks ?? []));
		token = page.token || undefined;
	} while (token && talks.length < limit);
	return talks.slice(0, limit).map((talk) => ({ json: talk }));
}
