import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { properties } from './actions/node.description';
import { router } from './actions/router';
import { CHECK_PATH, onResumeCall } from './waiting';
import { getVoiceStyles, searchVoices } from './methods/voices';

/**
 * What an AI agent reads about the D-ID tool (n8n generates "D-ID Tool" from usableAsTool; this is
 * its description and the default of its "Description" when set manually): what a call does, that
 * it spends credits, and the arguments an agent fills with $fromAI (README "Use as an AI agent tool").
 */
export const TOOL_DESCRIPTION =
	'Makes a video of the person in a photo speaking a text, with D-ID. Each Create call starts one new D-ID talk and spends D-ID credits: ' +
	'call it once per video, and never again for a call that returned a talk id. ' +
	'image_url: public https URL of a .jpg or .png photo showing one face. text: what the person says, 3 to 40000 characters. ' +
	'voice: a voice ID such as en-US-JennyNeural. Returns the talk: id, status and, once done, result_url (the link to the video). ' +
	'An input problem comes back as an error naming the field, before any talk is made.';

export class DId implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'D-ID',
		name: 'dId',
		icon: { light: 'file:dId.svg', dark: 'file:dId.dark.svg' },
		group: ['transform'],
		// 2 behaves as 1. n8n 2.x evaluates an expression for every webhook call of a node at version 1
		// (the Webhook node v1's binaryData option): with the VM expression engine that builds an
		// isolate, ~0.1 s of CPU, for a call of a waiting execution's resume URL (one per talk in Wait
		// Mode Webhook); at 2 it evaluates nothing (README "Queue mode").
		version: [1, 2],
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Turn a photo and a text or audio script into a video of that person speaking, with D-ID Talks',
		defaults: { name: 'D-ID' },
		usableAsTool: { replacements: { description: TOOL_DESCRIPTION } },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dIdApi', required: true }],
		// Wait Mode "Webhook": D-ID's calls of the execution's resume URL land here (see webhook()).
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
				isFullPath: true,
			},
			{
				// The node's own calls (its looks at the batch, the timeout's check) come to
				// <resume URL>/d-id-check: should the execution wait at another node by then (an n8n
				// Wait node "On Webhook Call", say), n8n finds no such webhook there (404) instead of
				// resuming that node with them.
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: CHECK_PATH,
				restartWebhook: true,
				isFullPath: true,
			},
		],
		properties,
	};

	// The webhook above is a resume webhook of a waiting execution (restartWebhook): n8n registers
	// nothing for it on activation, and D-ID takes a webhook per talk, not per account, so there is
	// nothing to check, create or delete at D-ID either.
	webhookMethods = {
		default: {
			async checkExists(): Promise<boolean> {
				return true;
			},
			async create(): Promise<boolean> {
				return true;
			},
			async delete(): Promise<boolean> {
				return true;
			},
		},
	};

	methods = {
		listSearch: { searchVoices },
		loadOptions: { getVoiceStyles },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await onResumeCall.call(this);
	}
}
