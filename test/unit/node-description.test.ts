import type { INodeProperties } from 'n8n-workflow';

import { DId } from '../../nodes/DId/DId.node';
import { properties } from '../../nodes/DId/actions/node.description';
import { operations } from '../../nodes/DId/actions/operations';

// The node's description is assembled from actions/node.description.ts (Resource, shared options)
// and each resource's index.ts (Operation dropdown, operations' fields); the router runs what
// actions/operations.ts maps. These checks keep the three in step.
const description = new DId().description;
const byName = (name: string) => description.properties.filter((p) => p.name === name);
const valuesOf = (p: INodeProperties) =>
	(p.options ?? []).map((o) => (o as { value: string }).value);

describe('node description', () => {
	test('the node class uses the assembled properties as they are', () => {
		expect(description.properties).toBe(properties);
	});

	test('every resource in the Resource dropdown has an Operation dropdown whose values are exactly the operations the router runs', () => {
		const [resource] = byName('resource');
		expect(valuesOf(resource).sort()).toEqual(Object.keys(operations).sort());
		for (const value of valuesOf(resource)) {
			const dropdowns = byName('operation').filter((p) =>
				p.displayOptions?.show?.resource?.includes(value),
			);
			expect(dropdowns).toHaveLength(1);
			expect(valuesOf(dropdowns[0]).sort()).toEqual(Object.keys(operations[value]).sort());
		}
	});

	test('every other field is shown for named operations of one resource, or is a shared option', () => {
		for (const p of description.properties) {
			if (p.name === 'resource' || p.name === 'operation' || p.name === 'options') continue;
			const show = p.displayOptions?.show ?? {};
			expect({
				field: p.name,
				resources: show.resource?.length,
				operations: (show.operation ?? []).length > 0,
			}).toEqual({
				field: p.name,
				resources: 1,
				operations: true,
			});
			for (const op of show.operation ?? [])
				expect(operations[String(show.resource![0])]).toHaveProperty(String(op));
		}
	});
});
