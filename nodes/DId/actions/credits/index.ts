import type { INodeProperties } from 'n8n-workflow';

import * as get from './get.operation';

export { get };

/** The Credit resource's Operation dropdown. */
export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['credits'] } },
	options: [
		{
			name: 'Get',
			value: 'get',
			description: 'Get remaining and total credits',
			action: 'Get credits',
		},
	],
	default: 'get',
};

/** The fields of the Credit operations. */
export const properties: INodeProperties[] = [...get.description];
