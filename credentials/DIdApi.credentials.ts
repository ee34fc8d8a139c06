import type {
	Icon,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

export class DIdApi implements ICredentialType {
	name = 'dIdApi';

	displayName = 'D-ID API';

	icon: Icon = { light: 'file:../nodes/DId/dId.svg', dark: 'file:../nodes/DId/dId.dark.svg' };

	documentationUrl = 'https://docs.d-id.com/reference/basic-authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'Your key from D-ID Studio (Account Settings → API key), pasted exactly as shown. It is sent as given in the Authorization header.',
		},
		{
			displayName: 'Own ElevenLabs API Key',
			name: 'elevenLabsApiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Optional. Talks with an ElevenLabs voice then use your own ElevenLabs key (your ElevenLabs quota; needed for your cloned voices). Sent to D-ID only, in the x-api-key-external header of POST /talks.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.d-id.com',
			description:
				"D-ID's API address. Point it at a running D-ID sandbox (for example http://127.0.0.1:8765) to build and test workflows offline, without spending credits.",
		},
	];

	// D-ID expects `Authorization: Basic <key>` with the key as D-ID Studio shows it (already in
	// user:password form); a key that was base64-encoded by the user is accepted the same way.
	//
	// A function, not a generic header expression: n8n 2.x evaluates expressions in an isolate, and
	// a request outside an execution (each D-ID call of a waiting execution, in a webhook process)
	// built one for the header alone, ~0.1 s of CPU per call (README "Queue mode"). A property, not
	// a method: n8n lists credential types by copying their own properties ({ ...credential }), and
	// without `authenticate` there the HTTP Request node would not offer this credential and the
	// node would lose its Custom API Call.
	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		const key = typeof credentials.apiKey === 'string' ? credentials.apiKey.trim() : '';
		return {
			...requestOptions,
			headers: { ...requestOptions.headers, Authorization: `Basic ${key}` },
		};
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/credits',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'D-ID answered AuthorizationError "user unauthenticated": the API key was refused. Copy it again from D-ID Studio (Account Settings → API key) exactly as shown.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message:
						'D-ID answered 404 for /credits: check the Base URL (https://api.d-id.com, or your sandbox address).',
				},
			},
		],
	};
}
