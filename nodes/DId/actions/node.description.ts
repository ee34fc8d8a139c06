import type { INodeProperties } from 'n8n-workflow';

import * as credits from './credits';
import { DEFAULT_CONCURRENCY } from './router';
import * as talk from './talk';

/** The Resource dropdown. */
export const resourceProperty: INodeProperties = {
	displayName: 'Resource',
	name: 'resource',
	type: 'options',
	noDataExpression: true,
	options: [
		{ name: 'Talk', value: 'talk' },
		{ name: 'Credit', value: 'credits' },
	],
	default: 'talk',
};

/** Options shared by the operations that create or wait for talks (read by the router and by Create). */
export const sharedOptions: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	displayOptions: { show: { resource: ['talk'], operation: ['create', 'wait'] } },
	options: [
		{
			displayName: 'Max Concurrent Talks',
			name: 'maxConcurrency',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 100 },
			default: DEFAULT_CONCURRENCY,
			description:
				'How many items are created and waited for at the same time. Many items finish in about the time of the slowest one.',
		},
		{
			displayName: 'Check Credits First',
			name: 'checkCredits',
			type: 'options',
			displayOptions: { show: { '/operation': ['create'] } },
			options: [
				{
					name: 'When More Than One Item Runs',
					value: 'auto',
					description: 'Check before a batch, not before a single talk',
				},
				{ name: 'Always', value: 'always' },
				{ name: 'Never', value: 'never' },
			],
			default: 'auto',
			description:
				'Whether to compare the run’s estimated credits with D-ID’s remaining credits (GET /credits) before any talk is created. A run that does not fit creates nothing and says why.',
		},
	],
};

/** The node's properties: Resource, each resource's Operation dropdown, the operations' fields, the shared options. */
export const properties: INodeProperties[] = [
	resourceProperty,
	talk.operationProperty,
	credits.operationProperty,
	...talk.properties,
	...credits.properties,
	sharedOptions,
];
