import { createHash } from 'crypto';
import type { IDataObject, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import type { Uploads } from '../helpers/cleanup';

/*
 * Where a waiting Webhook-mode batch is kept: in the execution's custom data, which n8n saves with
 * the waiting execution and gives to webhook() in any process (n8n keeps no other node state for a
 * waiting execution; static data is not saved for it, the node's own output is removed). Custom
 * data holds 10 keys of at most 512 characters per execution, shared with the workflow; the batch
 * takes up to 8 of them and says so when it does not fit (the node then waits as in Poll mode).
 * Nothing secret is kept here: talk and upload IDs, failures already shown to the user, settings.
 */

export interface BatchItem {
	talkId?: string;
	uploads?: Uploads;
	/** The item failed before the wait (Continue On Fail): its error output. */
	failure?: IDataObject;
}

export interface BatchRecord {
	batch: string;
	endsAt: number;
	timeoutMs: number;
	download: boolean;
	binaryProperty: string;
	deleteUploads: boolean;
	deleteTalk: boolean;
	continueOnFail: boolean;
	items: BatchItem[];
}

const CHUNK = 500;
export const MAX_KEYS = 8;

type Store = { set(key: string, value: string): void; get(key: string): unknown };

function keyPrefix(nodeName: string): string {
	return `dIdWait_${createHash('sha256').update(nodeName).digest('hex').slice(0, 10)}_`;
}

function storeOf(ctx: IExecuteFunctions): Store | undefined {
	const proxy = ctx.getWorkflowDataProxy(0) as unknown as { $execution?: { customData?: Store } };
	return proxy.$execution?.customData;
}

type Packed = [
	number,
	string,
	number,
	number,
	[number, string, number, number, number],
	Array<[string | 0, (string | 0)[]?, IDataObject?]>,
];

function pack(record: BatchRecord, failureText: number | undefined): string {
	const flags: Packed[4] = [
		record.download ? 1 : 0,
		record.binaryProperty,
		record.deleteUploads ? 1 : 0,
		record.deleteTalk ? 1 : 0,
		record.continueOnFail ? 1 : 0,
	];
	const items = record.items.map((item): Packed[5][number] => {
		const row: Packed[5][number] = [item.talkId ?? 0];
		if (item.uploads?.image || item.uploads?.audio)
			row[1] = [item.uploads.image ?? 0, item.uploads.audio ?? 0];
		if (item.failure) {
			const failure: IDataObject = { error: cut(item.failure.error, failureText) };
			if (item.failure.kind) failure.kind = item.failure.kind;
			if (item.failure.description && failureText === undefined)
				failure.description = item.failure.description;
			row[1] ??= [];
			row[2] = failure;
		}
		return row;
	});
	return JSON.stringify([
		2,
		record.batch,
		record.endsAt,
		record.timeoutMs,
		flags,
		items,
	] satisfies Packed);
}

function cut(value: unknown, length: number | undefined): string {
	const text = String(value ?? '');
	return length === undefined || text.length <= length ? text : `${text.slice(0, length)}…`;
}

function unpack(text: string): BatchRecord | undefined {
	try {
		const [version, batch, endsAt, timeoutMs, flags, items] = JSON.parse(text) as Packed;
		if (version !== 2 || typeof batch !== 'string' || !Array.isArray(items)) return undefined;
		return {
			batch,
			endsAt,
			timeoutMs,
			download: flags[0] === 1,
			binaryProperty: flags[1],
			deleteUploads: flags[2] === 1,
			deleteTalk: flags[3] === 1,
			continueOnFail: flags[4] === 1,
			items: items.map(([talkId, uploads, failure]) => ({
				talkId: talkId === 0 ? undefined : talkId,
				uploads: uploads?.length
					? { image: uploads[0] || undefined, audio: uploads[1] || undefined }
					: undefined,
				failure,
			})),
		};
	} catch {
		return undefined;
	}
}

/** Saves the batch into the execution's custom data; false when it does not fit (nothing usable is left then). */
export function saveBatch(ctx: IExecuteFunctions, record: BatchRecord): boolean {
	const store = storeOf(ctx);
	if (!store) return false;
	let text = pack(record, undefined);
	// Long failure messages are cut before the batch is refused.
	for (const length of [200, 80]) if (text.length > CHUNK * MAX_KEYS) text = pack(record, length);
	const chunks = Math.ceil((text.length + 4) / CHUNK);
	if (chunks > MAX_KEYS) return false;
	const prefix = keyPrefix(ctx.getNode().name);
	const framed = `${chunks}:${text}`;
	try {
		for (let k = 0; k < chunks; k++)
			store.set(`${prefix}${k}`, framed.slice(k * CHUNK, (k + 1) * CHUNK));
	} catch {
		return false;
	}
	// n8n drops keys silently once 10 are used: read back what was kept.
	return read(prefix, (key) => store.get(key))?.batch === record.batch;
}

function read(prefix: string, get: (key: string) => unknown): BatchRecord | undefined {
	const first = get(`${prefix}0`);
	if (typeof first !== 'string') return undefined;
	const match = /^(\d+):/.exec(first);
	if (!match) return undefined;
	const chunks = Number(match[1]);
	let framed = first;
	for (let k = 1; k < chunks; k++) {
		const part = get(`${prefix}${k}`);
		if (typeof part !== 'string') return undefined;
		framed += part;
	}
	return unpack(framed.slice(match[0].length));
}

/** The batch this node's execution waits for, as saved by execute() (in whichever process that ran). */
export function loadBatch(ctx: IWebhookFunctions): BatchRecord | undefined {
	const prefix = keyPrefix(ctx.getNode().name);
	const direct = (ctx as unknown as { customData?: Store }).customData;
	const get = (key: string): unknown => {
		if (direct) {
			try {
				return direct.get(key);
			} catch {
				// n8n 1.x has no customData on webhook(): read it through an expression below.
			}
		}
		return ctx.evaluateExpression(`{{ $execution.customData.get(${JSON.stringify(key)}) }}`, 0);
	};
	return read(prefix, get);
}
