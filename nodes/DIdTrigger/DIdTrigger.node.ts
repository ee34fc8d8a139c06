import { createHash, timingSafeEqual } from 'crypto';
import type {
	IDataObject,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, sleep } from 'n8n-workflow';

import { downloadVideo } from '../DId/helpers/binary';
import { FINAL_STATUSES, type Talk } from '../DId/helpers/polling';
import { dIdApiRequest } from '../DId/transport';

const MAX_BODY_BYTES = 1024 * 1024;
const REMEMBERED_TALKS = 2000;

function sameSecret(given: string, expected: string): boolean {
	// Hash first so the comparison takes the same time whatever the lengths.
	const a = createHash('sha256').update(given).digest();
	const b = createHash('sha256').update(expected).digest();
	return timingSafeEqual(a, b) && given.length > 0;
}

function refuse(ctx: IWebhookFunctions, status: number, message: string): IWebhookResponseData {
	ctx.getResponseObject().status(status).json({ message });
	return { noWebhookResponse: true };
}

export class DIdTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'D-ID Trigger',
		name: 'dIdTrigger',
		icon: { light: 'file:dIdTrigger.svg', dark: 'file:dIdTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "on " + $parameter["events"].join(", ") }}',
		description: 'Starts the workflow when a D-ID talk is done (D-ID calls this webhook)',
		defaults: { name: 'D-ID Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dIdApi', required: false }],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'talk-ended',
			},
		],
		properties: [
			{
				displayName: 'In the D-ID node (Talk → Create → Additional Fields → Webhook URL), paste this trigger’s Production URL followed by ?secret= and the secret below, e.g. https://n8n.example.com/webhook/…/talk-ended?secret=YOUR-SECRET. D-ID only calls https addresses, so n8n must be reachable over https (set WEBHOOK_URL). Activate the workflow so the production URL answers.',
				name: 'setupNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Secret',
				name: 'secret',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				required: true,
				description:
					'A long random string. Calls whose URL does not carry ?secret= with this value are refused with 401 and start no execution.',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: [
					{ name: 'Done', value: 'done', description: 'The video is ready' },
					{ name: 'Error', value: 'error', description: 'D-ID could not make the video' },
					{ name: 'Rejected', value: 'rejected', description: 'D-ID’s moderation rejected the talk' },
				],
				default: ['done'],
				required: true,
			},
			{
				displayName: 'Confirm with D-ID',
				name: 'confirm',
				type: 'boolean',
				default: true,
				description: 'Whether to fetch the talk from D-ID (GET /talks/TALK, with the credential) and emit that instead of the received body, so a forged call cannot inject a fake status or video link. Needs the D-ID credential.',
			},
			{
				displayName: 'Emit Each Talk Once',
				name: 'deduplicate',
				type: 'boolean',
				default: true,
				description: 'Whether to ignore repeated deliveries for a talk that already started this workflow',
			},
			{
				displayName: 'Download Video',
				name: 'downloadVideo',
				type: 'boolean',
				default: false,
				description: 'Whether to download the finished video into a binary property (streamed to n8n’s binary storage)',
			},
			{
				displayName: 'Put Video in Field',
				name: 'binaryPropertyOutput',
				type: 'string',
				default: 'data',
				required: true,
				displayOptions: { show: { downloadVideo: [true] } },
			},
		],
	};

	// D-ID registers a webhook per talk (the `webhook` field of POST /talks), not per account:
	// there is nothing to check, create or delete at D-ID when the workflow is (de)activated.
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const secret = String(this.getNodeParameter('secret', '') ?? '');
		const given = String((this.getQueryData() as IDataObject).secret ?? '');
		if (!secret || !sameSecret(given, secret)) return refuse(this, 401, 'Unauthorized');

		const length = Number(this.getHeaderData()['content-length'] ?? 0);
		if (length > MAX_BODY_BYTES) return refuse(this, 413, 'Payload too large');
		const body = this.getBodyData() as IDataObject;
		const talkId = typeof body?.id === 'string' ? body.id : '';
		if (!talkId || !/^[\w-]+$/.test(talkId) || typeof body.status !== 'string') {
			return refuse(this, 400, 'Expected a D-ID talk (JSON with id and status)');
		}

		const deduplicate = this.getNodeParameter('deduplicate', true) as boolean;
		// Two memories: the workflow's static data (n8n saves it after each execution, so it outlives
		// a restart) and this process's own (n8n hands each webhook call a copy of the static data
		// as saved, so concurrent or quick repeated deliveries only see each other here).
		const seen = this.getWorkflowStaticData('node') as { talks?: Record<string, string> };
		seen.talks ??= {};
		const memoryKey = `${this.getWorkflow().id ?? ''}\u0000${this.getNode().name}`;
		const memory = processMemory.get(memoryKey) ?? {};
		processMemory.set(memoryKey, memory);
		// Claimed synchronously, before any await, so two concurrent deliveries cannot both pass.
		if (deduplicate && (seen.talks[talkId] || memory[talkId])) return accepted(this, 'duplicate');
		if (deduplicate) seen.talks[talkId] = memory[talkId] = 'pending';
		const release = () => {
			if (deduplicate && seen.talks?.[talkId] === 'pending') delete seen.talks[talkId];
			if (deduplicate && memory[talkId] === 'pending') delete memory[talkId];
		};

		let talk = body as Talk;
		try {
			if (this.getNodeParameter('confirm', true) as boolean) {
				const confirmed = await confirmTalk(this, talkId, String(body.status));
				// D-ID's spec lists no user_data on GET /talks/{id}: keep the one of the (authenticated) delivery.
				if (confirmed.user_data === undefined && typeof body.user_data === 'string') confirmed.user_data = body.user_data;
				talk = confirmed;
			}
		} catch (error) {
			release();
			this.logger.warn(`D-ID Trigger: could not confirm talk ${talkId}: ${(error as Error).message}`);
			return refuse(this, 404, 'Unknown talk');
		}

		const events = this.getNodeParameter('events', ['done']) as string[];
		if (!FINAL_STATUSES.includes(talk.status) || !events.includes(talk.status)) {
			release();
			return accepted(this, `ignored status ${talk.status}`);
		}

		const item: INodeExecutionData = { json: withParsedUserData(talk) };
		if (talk.status === 'done' && (this.getNodeParameter('downloadVideo', false) as boolean)) {
			try {
				const property = String(this.getNodeParameter('binaryPropertyOutput', 'data'));
				item.binary = { [property]: await downloadVideo.call(this, talk, 0) };
			} catch (error) {
				release();
				this.logger.warn(`D-ID Trigger: could not download the video of talk ${talkId}: ${(error as Error).message}`);
				return refuse(this, 502, 'Could not download the video');
			}
		}
		if (deduplicate) {
			remember(seen.talks, talkId, talk.status);
			remember(memory, talkId, talk.status);
		}
		return { workflowData: [[item]] };
	}
}

/** Re-reads while D-ID's read API lags its webhook: 0.5 s doubling, about 15 s in all. */
const RECHECK_MS = [500, 1000, 2000, 4000, 8000];

/**
 * GET /talks/{id}. D-ID's webhook and its read API are separate systems (the spec promises no
 * read-after-webhook consistency): when the delivery says the talk ended and the read does not
 * yet, it is read again a few times before the call is answered.
 */
async function confirmTalk(ctx: IWebhookFunctions, talkId: string, deliveredStatus: string): Promise<Talk> {
	const read = async () => (await dIdApiRequest.call(ctx, 'GET', `/talks/${encodeURIComponent(talkId)}`, { talkId })) as Talk;
	let talk = await read();
	for (const delay of RECHECK_MS) {
		if (FINAL_STATUSES.includes(talk.status) || !FINAL_STATUSES.includes(deliveredStatus)) break;
		await sleep(delay);
		talk = await read();
	}
	return talk;
}

/** Talks each trigger (workflow + node) has emitted, in this n8n process. */
const processMemory = new Map<string, Record<string, string>>();

function accepted(ctx: IWebhookFunctions, note: string): IWebhookResponseData {
	ctx.getResponseObject().status(200).json({ received: true, note });
	return { noWebhookResponse: true };
}

function remember(talks: Record<string, string>, talkId: string, status: string) {
	talks[talkId] = status;
	const ids = Object.keys(talks);
	for (const old of ids.slice(0, Math.max(0, ids.length - REMEMBERED_TALKS))) delete talks[old];
}

/** The talk as D-ID sent it; JSON user data is also given parsed, for routing on it. */
function withParsedUserData(talk: Talk): IDataObject {
	const json: IDataObject = { ...talk };
	if (typeof talk.user_data === 'string') {
		try {
			const parsed = JSON.parse(talk.user_data);
			if (parsed !== null && typeof parsed === 'object') json.user_data_json = parsed;
		} catch {
			// Plain-text user data stays as it is.
		}
	}
	return json;
}
