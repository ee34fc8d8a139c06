// The dIdApi credential: how n8n signs requests with it, and its connection test against the sandbox.
import type { ICredentialTestRequest, IHttpRequestOptions } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { DIdApi } from '../credentials/DIdApi.credentials';
import { MemoryCredentialsHelper, nodeTypes } from './harness/engine';
import { useSandbox } from './harness/suite';
import { NODE as node } from './unit/support/context';

const { sandbox } = useSandbox();

const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });

/** Runs the credential's test the way n8n's credential dialog does: resolve, sign, send, apply the rules. */
async function testCredential(apiKey: string, baseUrl: string) {
	const credential = new DIdApi();
	const data = { apiKey, baseUrl };
	const test = credential.test as ICredentialTestRequest;
	const baseURL = workflow.expression.getSimpleParameterValue(
		node,
		test.request.baseURL as string,
		'internal',
		{ $credentials: data },
		undefined,
		'',
	) as string;
	const helper = new MemoryCredentialsHelper({ dIdApi: data });
	const signed = await helper.authenticate(
		data,
		'dIdApi',
		{ url: test.request.url!, headers: {} } as IHttpRequestOptions,
		workflow,
		node,
	);
	const res = await fetch(`${baseURL}${signed.url}`, {
		method: test.request.method,
		headers: signed.headers as Record<string, string>,
	});
	if (res.ok)
		return {
			status: 'OK',
			sentAuthorization: (signed.headers as Record<string, string>).Authorization,
		};
	const rule = test.rules?.find(
		(r) => r.type === 'responseCode' && r.properties.value === res.status,
	);
	return {
		status: 'Error',
		message: rule && 'message' in rule.properties ? rule.properties.message : res.statusText,
	};
}

test('a correct key passes; it is sent as `Basic <key>`, trimmed, and a trailing slash in the base URL is fine', async () => {
	const result = await testCredential(`  ${sandbox.apiKey}\n`, `${sandbox.url}/`);
	expect(result).toEqual({ status: 'OK', sentAuthorization: `Basic ${sandbox.apiKey}` });
});

test('a base64-encoded key is accepted as well', async () => {
	expect(
		(await testCredential(Buffer.from(sandbox.apiKey).toString('base64'), sandbox.url)).status,
	).toBe('OK');
});

test("a wrong key shows D-ID's message and what to do", async () => {
	const result = await testCredential('someone:wrong', sandbox.url);
	expect(result.status).toBe('Error');
	expect(result.message).toMatch(/AuthorizationError "user unauthenticated"/);
	expect(result.message).toMatch(/D-ID Studio/);
});

test('a base URL without the API says to check it', async () => {
	const result = await testCredential(sandbox.apiKey, `${sandbox.url}/nothing-here`);
	expect(result.message).toMatch(/check the Base URL/);
});

// n8n lists credential types for the editor by copying each one's own properties
// (`{ ...credential }`, postProcessLoaders in n8n's load-nodes-and-credentials): an `authenticate`
// on the prototype (a class method) is lost there, and then the HTTP Request node does not offer
// "D-ID API" as a predefined credential and n8n adds no Custom API Call to the D-ID node.
test("n8n's copy of the credential type keeps its authenticate, and it signs as the header did", async () => {
	const listed = { ...new DIdApi() } as Partial<DIdApi>;
	expect(typeof listed.authenticate).toBe('function');
	const signed = await listed.authenticate!(
		{ apiKey: ' user:secret \n', baseUrl: 'x' },
		{ url: '/talks', headers: { accept: 'application/json' } },
	);
	expect(signed.headers).toEqual({
		accept: 'application/json',
		Authorization: 'Basic user:secret',
	});
});
