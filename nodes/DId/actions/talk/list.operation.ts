import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { invalid, numberOf, shown } from '../../helpers/validation';
import { talkPages } from '../../transport';

/** Return All reads at most this many pages (100,000 talks). */
const MAX_PAGES = 1000;

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

export const description = updateDisplayOptions(
	{ show: { resource: ['talk'], operation: ['list'] } },
	properties,
);

export async function prepare(this: IExecuteFunctions, i: number): Promise<number> {
	if (this.getNodeParameter('returnAll', i, false)) return Infinity;
	const given = this.getNodeParameter('limit', i, 50) as unknown;
	const limit = numberOf(given);
	if (!Number.isSafeInteger(limit) || limit < 1)
		throw invalid(
			this,
			i,
			'Limit',
			`${shown(given)} is not a whole number of 1 or more`,
			'Set Limit to 1 or more, or turn on Return All.',
		);
	return limit;
}

/**
 * D-ID's talks in the order it gives them, page by page (transport's talkPages) until the limit,
 * the last page, or MAX_PAGES.
 */
export async function execute(
	this: IExecuteFunctions,
	i: number,
	limit: number,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const talks: IDataObject[] = [];
	let pages = 0;
	for await (const page of talkPages.call(this, {
		itemIndex: i,
		signal,
		pageSize: (listed) => limit - listed,
	})) {
		talks.push(...page.talks);
		if (page.last || talks.length >= limit) break;
		if (++pages >= MAX_PAGES) {
			throw new NodeOperationError(
				this.getNode(),
				`D-ID still had more talks after ${MAX_PAGES} pages (${talks.length} talks)`,
				{
					itemIndex: i,
					description: 'Turn off Return All and set a Limit, or delete talks you no longer need.',
				},
			);
		}
	}
	return talks.slice(0, limit).map((talk) => ({ json: talk }));
}
