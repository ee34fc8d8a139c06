import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import type { Uploads } from '../../helpers/cleanup';
import { estimateTalk, type Estimate } from '../../helpers/credits';
import type { InputFile } from '../../helpers/input-file';
import type { Talk } from '../../helpers/talk';
import { dIdApiRequest, multipartEnvelope, uploadFile, type DIdContext } from '../../transport';
import { createTalkOnce } from '../../helpers/create-ledger';
import { finishWaiting, readWaitSettings, webhookRun, type Started } from '../../waiting';
import { invalid } from '../../helpers/validation';
import { buildCreateRequest, useWaitWebhook, type PreparedCreate } from './create.body';
import { properties } from './create.fields';

export type { PreparedCreate } from './create.body';

export const description = updateDisplayOptions(
	{ show: { resource: ['talk'], operation: ['create'] } },
	properties,
);

/** Create waits for its talks when Wait for Completion is on (read from the first item: the run waits as a whole). */
export function waits(this: IExecuteFunctions): boolean {
	return this.getNodeParameter('waitForCompletion', 0, true) === true;
}

/** Checks the item and builds its POST /talks body (create.body.ts), then reads how it is waited for. */
export async function prepare(this: IExecuteFunctions, i: number): Promise<PreparedCreate> {
	const prepared = await buildCreateRequest.call(this, i);
	if (this.getNodeParameter('waitForCompletion', i, true))
		prepared.wait = readWaitSettings(this, i);
	if (!prepared.wait && webhookRun(this)) {
		throw invalid(
			this,
			i,
			'Wait for Completion',
			'it is off for this item while the node waits with Wait Mode "Webhook" (as the first item says)',
			'Give every item the same Wait for Completion, or set Wait Mode to Poll.',
		);
	}
	if (prepared.wait?.mode === 'webhook') useWaitWebhook(this, i, prepared.body);
	return prepared;
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	prepared: PreparedCreate,
	signal?: AbortSignal,
): Promise<INodeExecutionData[]> {
	const startedAt = Date.now();
	const created = await createTalk.call(this, i, prepared, signal);
	if (!prepared.wait) return [{ json: withUploads(created, prepared.uploads) }];
	return await finishWaiting.call(
		this,
		created.id,
		i,
		prepared.wait,
		signal,
		startedAt,
		prepared.uploads,
	);
}

/** Wait Mode "Webhook": creates the talk (its webhook is this execution's resume URL) before the execution waits. */
export async function startForWebhook(
	this: DIdContext,
	i: number,
	prepared: PreparedCreate,
	signal: AbortSignal,
): Promise<Started> {
	const talk = await createTalk.call(this, i, prepared, signal);
	return { talk, uploads: prepared.uploads };
}

/** A created talk that is not waited for names what was uploaded for it, for Talk → Wait's clean-up. */
function withUploads(talk: Talk, uploads: Uploads | undefined): IDataObject {
	return uploads ? { ...talk, uploads: { ...uploads } } : talk;
}

/**
 * Uploads the item's files when it has any, then POST /talks (never retried after it may have been
 * received). Each file is read only now, when its item runs, and let go once it is uploaded.
 */
export async function createTalk(
	this: DIdContext,
	i: number,
	prepared: PreparedCreate,
	signal?: AbortSignal,
): Promise<Talk> {
	const { body } = prepared;
	if (prepared.image) {
		const upload = await uploadInput.call(this, 'image', prepared.image, i, signal);
		prepared.uploads = { ...prepared.uploads, image: upload.id };
		body.source_url = upload.url;
	}
	if (prepared.audio) {
		const upload = await uploadInput.call(this, 'audio', prepared.audio, i, signal);
		prepared.uploads = { ...prepared.uploads, audio: upload.id };
		(body.script as IDataObject).audio_url = upload.url;
	}
	return (await createTalkOnce(this, body, prepared.headers, i, signal)) as Talk;
}

/** Reads the file into its upload body and uploads it; the body is let go on return. */
async function uploadInput(
	this: DIdContext,
	kind: 'image' | 'audio',
	file: InputFile,
	i: number,
	signal?: AbortSignal,
): Promise<{ id: string; url: string }> {
	const { head, tail, contentType } = multipartEnvelope(kind, file.fileName, file.mimeType);
	return await uploadFile.call(this, kind, await file.read(head, tail), contentType, i, signal);
}

/** The estimate of one prepared item (its audio binary measured from its first bytes). */
export function estimateItem(prepared: PreparedCreate): Estimate {
	const audio = prepared.audio
		? { head: prepared.audio.header, size: prepared.audio.bytes }
		: undefined;
	return estimateTalk(prepared.body, audio);
}

/**
 * Check Credits First: before any talk of the run is created, the batch's estimated credits are
 * compared with what D-ID says remains (GET /credits). A batch that cannot be paid for creates
 * nothing: the refusal is returned for the router to fail the run (or, under Continue On Fail, every
 * item). `prepared` holds undefined for items refused already.
 */
export async function beforeRun(
	this: IExecuteFunctions,
	prepared: Array<PreparedCreate | undefined>,
): Promise<NodeOperationError | undefined> {
	const mode = String(this.getNodeParameter('options.checkCredits', 0, 'auto'));
	const items = prepared
		.map((p, i) => ({ p, i }))
		.filter((entry): entry is { p: PreparedCreate; i: number } => entry.p !== undefined);
	if (mode === 'never' || items.length === 0 || (mode === 'auto' && items.length < 2))
		return undefined;
	const estimates = items.map(({ p, i }) => ({ i, ...estimateItem(p) }));
	const needed = estimates.reduce((sum, e) => sum + e.credits, 0);
	const credits = await dIdApiRequest.call(this, 'GET', '/credits', { itemIndex: items[0].i });
	const remaining = Number(credits.remaining);
	if (!Number.isFinite(remaining) || remaining >= needed) return undefined;
	const seconds = Math.round(estimates.reduce((sum, e) => sum + e.seconds, 0));
	const bases = [...new Set(estimates.map((e) => e.basis))].join('; ');
	const largest = estimates.reduce((a, b) => (b.credits > a.credits ? b : a));
	const fitting = Math.max(0, Math.floor(remaining / (needed / estimates.length)));
	return new NodeOperationError(
		this.getNode(),
		`Not enough D-ID credits for this run: it needs an estimated ${needed} credits for ${estimates.length} talks (about ${seconds} s of video), and D-ID reports ${remaining} remaining. No talk was created.`,
		{
			description:
				`Split the batch (about ${fitting} items of this kind fit now) or top up your D-ID credits, then run again. ` +
				`The estimate errs on the side of more credits (one credit per started 15 s of video; based on: ${bases}; the largest item, #${largest.i + 1}, needs ${largest.credits}). ` +
				'If you are sure the run fits, set Options → Check Credits First to Never.',
		},
	);
}
