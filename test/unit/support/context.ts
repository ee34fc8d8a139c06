import type { IDataObject, IExecuteFunctions, INode, INodeExecutionData } from 'n8n-workflow';

export const NODE: INode = {
	id: '1',
	name: 'D-ID',
	type: 'n8n-nodes-d-id.dId',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/**
 * The few execute-context methods the node's pure checks read: the item's parameters and input,
 * the node, the credential, the execution's ID and resume URL. Anything else they touch fails the test ("not in the unit tier").
 */
export function executeContext(
	parameters: IDataObject,
	items: INodeExecutionData[] = [{ json: {} }],
	extra: IDataObject = {},
): IExecuteFunctions {
	const values: IDataObject = { ...parameters };
	return new Proxy(
		{
			getNodeParameter: (name: string, _item: number, fallback?: unknown) =>
				values[name] === undefined ? fallback : values[name],
			getInputData: () => items,
			getNode: () => NODE,
			getCredentials: async () => ({ apiKey: 'user:secret', baseUrl: 'https://api.d-id.com' }),
			getExecutionId: () => 'unit-1',
			evaluateExpression: (expression: string) =>
				expression === '{{ $execution.resumeUrl }}'
					? 'https://n8n.example/webhook-waiting/unit-1'
					: undefined,
			helpers: {
				getBinaryDataBuffer: async (item: number, property: string) =>
					Buffer.from(String(items[item].binary?.[property]?.data ?? ''), 'base64'),
			},
			...extra,
		},
		{
			get(target, key) {
				if (key in target) return target[key as keyof typeof target];
				if (typeof key === 'symbol' || key === 'then') return undefined;
				throw new Error(`the unit tier's context has no ${String(key)}`);
			},
		},
	) as unknown as IExecuteFunctions;
}
