import { createHash, timingSafeEqual } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError, sleep } from 'n8n-workflow';

import { downloadVideo } from '../DId/helpers/binary';
import { FINAL_STATUSES, type Talk } from '../DId/helpers/talk';
import { redactText, redactTalk } from '../DId/helpers/redact';
import { dIdApiRequest } from '../DId/transport';

const MAX_BODY_BYTES = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_REMEMBER_DAYS = 7;
// A safety bound on the talks remembered per trigger (static data is saved with each execution).
const MAX_REMEMBERED_TALKS = 20_000;
const MIN_SECRET_LENGTH = 16;
const DOWNLOAD_NEEDS_CONFIRM =
	'Download Video needs Confirm with D-ID: without it the video link comes from an unconfirmed call and could point anywhere. Turn Confirm with D-ID on (with the D-ID credential).';
const PLACEHOLDER_SECRET =
	/change.?me|your.?secret|placeholder|replace.?(me|this)|^(secret|password|example|test|x+)$/i;

/** Why the trigger cannot run as configured, or undefined. Checked at activation and on every call. */
function setupProblem(ctx: IHookFunctions | IWebhookFunctions): string | undefined {
	const secret = String(ctx.getNodeParameter('secret', '') ?? '');
	if (!secret.trim())
		return 'The Secret is empty. Set it to a long random string (at least 16 characters).';
	if (secret.trim().length < MIN_SECRET_LENGTH)
		return `The Secret is shorter than ${MIN_SECRET_LENGTH} characters. Use a long random string.`;
	if (PLACEHOLDER_SECRET.test(secret.trim()))
		return 'The Secret is a placeholder (like change-me). Replace it with a long random string.';
	const confirm = ctx.getNodeParameter('confirm', true) as boolean;
	if (confirm && !ctx.getNode().credentials?.dIdApi) {
		return 'Confirm with D-ID is on but no D-ID credential is selected. Select the D-ID API credential (or turn Confirm with D-ID off).';
	}
	if (!confirm && (ctx.getNodeParameter('downloadVideo', false) as boolean)) {
		return DOWNLOAD_NEEDS_CONFIRM;
	}
	return undefined;
}

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
		// 2 behaves as 1. n8n 2.x evaluates an expression for every webhook call of a node at version 1
		// (the Webhook node v1's binaryData option): with the VM expression engine that builds an
		// isolate, ~0.1 s of CPU, for a delivery; at 2 it evaluates nothing (README "Queue mode").
		version: [1, 2],
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
				displayName:
					'In the D-ID node (Talk → Create → Additional Fields → Webhook URL), paste this trigger’s Production URL followed by ?secret= and the secret below, e.g. https://n8n.example.com/webhook/…/talk-ended?secret=YOUR-SECRET. D-ID only calls https addresses, so n8n must be reachable over https (set WEBHOOK_URL). Activate the workflow so the production URL answers.',
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
					'A long random string (at least 16 characters, not a placeholder such as change-me), e.g. from an expression like {{ $vars.DID_TRIGGER_SECRET }}. Calls whose URL does not carry ?secret= with this value are refused with 401 and start no execution. The secret is removed from every talk the trigger emits.',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: [
					{ name: 'Done', value: 'done', description: 'The video is ready' },
					{ name: 'Error', value: 'error', description: 'D-ID could not make the video' },
					{
						name: 'Rejected',
						value: 'rejected',
						description: 'D-ID’s moderation rejected the talk',
					},
				],
				default: ['done'],
				required: true,
			},
			{
				displayName: 'Confirm with D-ID',
				name: 'confirm',
				type: 'boolean',
				default: true,
				description:
					'Whether to fetch the talk from D-ID (GET /talks/TALK, with the credential) and emit that instead of the received body, so a forged call cannot inject a fake status or video link. Needs the D-ID credential; Download Video needs it on.',
			},
			{
				displayName: 'Emit Each Talk Once',
				name: 'deduplicate',
				type: 'boolean',
				default: true,
				description:
					'Whether to ignore repeated deliveries for a talk that already started this workflow',
			},
			{
				displayName: 'Remember Talks for (Days)',
				name: 'rememberDays',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_REMEMBER_DAYS,
				description:
					'How long a talk that started this workflow is remembered, so a repeated delivery within that time starts nothing',
				displayOptions: { show: { deduplicate: [true] } },
			},
			{
				displayName: 'Download Video',
				name: 'downloadVideo',
				type: 'boolean',
				default: false,
				description:
					'Whether to download the finished video into a binary property (streamed to n8n’s binary storage). Needs Confirm with D-ID.',
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
			// Runs at activation: a trigger that cannot work safely is refused with the reason.
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const problem = setupProblem(this);
				if (problem) throw new NodeOperationError(this.getNode(), problem);
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
		const problem = setupProblem(this);
		if (problem) {
			// Activation refuses this too; a workflow saved before that check still gets no execution.
			this.logger.warn(`D-ID Trigger "${this.getNode().name}" refused a call: ${problem}`);
			return refuse(this, 500, 'The D-ID Trigger is not set up correctly; see the n8n log');
		}
		const redact = (text: string) => redactText(text, [secret]);

		// Content-Length can be absent (chunked): measure the body n8n read.
		const body = this.getBodyData() as IDataObject;
		if (bodyBytes(this, body) > MAX_BODY_BYTES) return refuse(this, 413, 'Payload too large');
		const talkId = typeof body?.id === 'string' ? body.id : '';
		if (!talkId || !/^[\w-]+$/.test(talkId) || typeof body.status !== 'string') {
			return refuse(this, 400, 'Expected a D-ID talk (JSON with id and status)');
		}

		const deduplicate = this.getNodeParameter('deduplicate', true) as boolean;
		const rememberMs =
			Math.max(
				1,
				Number(this.getNodeParameter('rememberDays', DEFAULT_REMEMBER_DAYS)) ||
					DEFAULT_REMEMBER_DAYS,
			) * DAY_MS;
		const now = Date.now();
		// Two memories: the workflow's static data (n8n saves it after each execution, so it outlives
		// a restart) and this process's own (n8n hands each webhook call a copy of the static data
		// as saved, so concurrent or quick repeated deliveries only see each other here).
		const seen = this.getWorkflowStaticData('node') as { talks?: Record<string, Remembered> };
		seen.talks ??= {};
		// Other triggers' idle memories go first: this trigger's is then taken (or made) and kept.
		if (deduplicate) pruneProcessMemory(now - rememberMs);
		const memoryKey = `${this.getWorkflow().id ?? ''}\u0000${this.getNode().name}`;
		const memory = processMemory.get(memoryKey) ?? {};
		processMemory.set(memoryKey, memory);
		if (deduplicate) {
			forgetOld(seen.talks, now - rememberMs);
			forgetOld(memory, now - rememberMs);
		}
		// Claimed synchronously, before any await, so two concurrent deliveries cannot both pass.
		if (deduplicate && (seen.talks[talkId] || memory[talkId])) return accepted(this, 'duplicate');
		if (deduplicate) seen.talks[talkId] = memory[talkId] = { status: 'pending', at: now };
		const release = () => {
			if (deduplicate && seen.talks?.[talkId]?.status === 'pending') delete seen.talks[talkId];
			if (deduplicate && memory[talkId]?.status === 'pending') delete memory[talkId];
		};

		let talk = body as Talk;
		if (this.getNodeParameter('confirm', true) as boolean) {
			try {
				const confirmed = await confirmTalk(this, talkId, String(body.status));
				// D-ID's spec lists no user_data on GET /talks/{id}: keep the one of the (authenticated) delivery.
				if (confirmed.user_data === undefined && typeof body.user_data === 'string')
					confirmed.user_data = body.user_data;
				talk = confirmed;
			} catch (error) {
				release();
				this.logger.warn(
					`D-ID Trigger: could not confirm talk ${talkId}: ${redact((error as Error).message)}`,
				);
				// Only D-ID's own 404 means the talk does not exist; anything else may pass, so the
				// caller is told to try again.
				if (error instanceof NodeApiError && error.httpCode === '404')
					return refuse(this, 404, 'Unknown talk');
				return refuse(this, 503, 'Could not confirm the talk with D-ID; try again later');
			}
		}

		const events = this.getNodeParameter('events', ['done']) as string[];
		if (!FINAL_STATUSES.includes(talk.status) || !events.includes(talk.status)) {
			release();
			return accepted(this, `ignored status ${talk.status}`);
		}

		// Download Video happens in execute(), inside the execution this call starts: a binary
		// stored here, before the execution exists, would not belong to it (see execute()).
		const item: INodeExecutionData = { json: redactTalk(withParsedUserData(talk), [secret]) };
		if (deduplicate) {
			remember(seen.talks, talkId, talk.status, now);
			remember(memory, talkId, talk.status, now);
		}
		// n8n's own answer for a started execution differs by mode (queue mode sent the literal
		// text "firstEntryJson"); every delivery gets the same small acknowledgement instead.
		this.getResponseObject().status(200).json({ received: true });
		return { workflowData: [[item]], noWebhookResponse: true };
	}

	/**
	 * Runs first in the execution webhook() started, with webhook()'s items as input (n8n runs a
	 * node's execute() before it passes a webhook node's items through), in the process that runs
	 * the execution (a worker in queue mode). Download Video happens here so that the video is
	 * stored as part of this execution: n8n serves it and deletes it with the execution, also in
	 * binary data mode `database`, where a file stored by webhook() (no execution yet) would be
	 * kept under n8n's temporary id forever.
	 */
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const item: INodeExecutionData = { ...items[i], pairedItem: { item: i } };
			out.push(item);
			const talk = item.json as unknown as Talk;
			if (talk.status !== 'done' || !(this.getNodeParameter('downloadVideo', i, false) as boolean))
				continue;
			// webhook() emits a talk only as D-ID confirmed it, and activation refuses Download Video
			// without Confirm: checked again here, so that no link from an unconfirmed call is fetched.
			if (!(this.getNodeParameter('confirm', i, true) as boolean)) {
				throw new NodeOperationError(this.getNode(), DOWNLOAD_NEEDS_CONFIRM, { itemIndex: i });
			}
			const property = String(this.getNodeParameter('binaryPropertyOutput', i, 'data'));
			const video = await downloadVideo.call(this, talk, i, this.getExecutionCancelSignal?.());
			item.binary = { ...item.binary, [property]: video };
		}
		return [out];
	}
}

/** Re-reads while D-ID's read API lags its webhook: 0.5 s doubling, about 15 s in all. */
const RECHECK_MS = [500, 1000, 2000, 4000, 8000];

/**
 * GET /talks/{id}. D-ID's webhook and its read API are separate systems (the spec promises no
 * read-after-webhook consistency): when the delivery says the talk ended and the read does not
 * yet, it is read again a few times before the call is answered.
 */
async function confirmTalk(
	ctx: IWebhookFunctions,
	talkId: string,
	deliveredStatus: string,
): Promise<Talk> {
	const read = async () =>
		(await dIdApiRequest.call(ctx, 'GET', `/talks/${encodeURIComponent(talkId)}`, {
			talkId,
		})) as Talk;
	let talk = await read();
	for (const delay of RECHECK_MS) {
		if (FINAL_STATUSES.includes(talk.status) || !FINAL_STATUSES.includes(deliveredStatus)) break;
		await sleep(delay);
		talk = await read();
	}
	return talk;
}

/** A talk the trigger emitted (or is emitting: 'pending'), and when (ms). */
interface Remembered {
	status: string;
	at: number;
}

/**
 * Talks each trigger (workflow + node) has emitted, in this n8n process: process-level state,
 * because n8n hands each webhook call a copy of the static data as last saved. Entries older than
 * the trigger's memory are dropped on every call; triggers not called for a day are dropped whole.
 */
const processMemory = new Map<string, Record<string, Remembered>>();

function pruneProcessMemory(before: number) {
	for (const [key, talks] of processMemory) {
		// Insertion order is (nearly) age order: the last entry is the newest. A trigger dropped here
		// too early still has its static data; only the guard against concurrent repeats is lost.
		const ids = Object.keys(talks);
		const last = ids.length ? (talks[ids[ids.length - 1]]?.at ?? 0) : 0;
		if (last < Math.min(before, Date.now() - DAY_MS) || Object.keys(talks).length === 0) {
			processMemory.delete(key);
		}
	}
}

function bodyBytes(ctx: IWebhookFunctions, body: unknown): number {
	const raw = (ctx.getRequestObject() as { rawBody?: unknown }).rawBody;
	if (Buffer.isBuffer(raw)) return raw.length;
	try {
		return Buffer.byteLength(JSON.stringify(body ?? {}) ?? '', 'utf8');
	} catch {
		return Infinity;
	}
}

function accepted(ctx: IWebhookFunctions, note: string): IWebhookResponseData {
	ctx.getResponseObject().status(200).json({ received: true, note });
	return { noWebhookResponse: true };
}

/** Drops talks remembered before `before` (ms); entries saved by older versions (a bare status) count as remembered now. */
function forgetOld(talks: Record<string, Remembered>, before: number) {
	for (const [id, entry] of Object.entries(talks as Record<string, Remembered | string>)) {
		if (typeof entry !== 'object' || entry === null)
			talks[id] = { status: String(entry), at: Date.now() };
		else if (!(entry.at >= before)) delete talks[id];
	}
}

function remember(talks: Record<string, Remembered>, talkId: string, status: string, at: number) {
	delete talks[talkId];
	talks[talkId] = { status, at };
	const ids = Object.keys(talks);
	// Insertion order is age order: the oldest go first when the bound is reached.
	for (const old of ids.slice(0, Math.max(0, ids.length - MAX_REMEMBERED_TALKS))) delete talks[old];
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
