import type { INodeProperties } from 'n8n-workflow';

import * as create from './create.operation';
import * as del from './delete.operation';
import * as get from './get.operation';
import * as list from './list.operation';
import * as wait from './wait.operation';

export { create, del as delete, get, list, wait };

/** The Talk resource's Operation dropdown. */
export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['talk'] } },
	options: [
		{
			name: 'Create',
			value: 'create',
			description: 'Create a talking video from a photo and a script',
			action: 'Create a talk',
		},
		{
			name: 'Delete',
			value: 'delete',
			description: 'Delete a finished talk',
			action: 'Delete a talk',
		},
		{
			name: 'Get',
			value: 'get',
			description: 'Get a talk’s status and result',
			action: 'Get a talk',
		},
		{
			name: 'List',
			value: 'list',
			description: 'List your talks, in the order D-ID gives them',
			action: 'List talks',
		},
		{
			name: 'Wait',
			value: 'wait',
			description: 'Wait until a talk is done and download its video',
			action: 'Wait for a talk',
		},
	],
	default: 'create',
};

/** The fields of the Talk operations, each shown for its own operation. */
export const properties: INodeProperties[] = [
	...create.description,
	...get.description,
	...wait.description,
	...list.description,
	...del.description,
];
