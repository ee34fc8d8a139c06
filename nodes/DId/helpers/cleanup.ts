import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookFunctions,
} from 'n8n-workflow';

import { deleteTalk, dIdApiRequest } from '../transport';
import { downloadVideo } from './binary';
import { creditsUsed } from './credits';
import type { Talk } from './talk';

/** What the node uploaded for an item (POST /images, POST /audios), by D-ID's upload ID. */
export interface Uploads {
	image?: string;
	audio?: string;
}

/** What happens once a talk has ended: download, and what to delete at D-ID afterwards. */
export interface EndSettings {
	download: boolean;
	binaryProperty: string;
	deleteUploads: boolean;
	deleteTalk: boolean;
}

type Context = IExecuteFunctions | IWebhookFunctions;

/**
 * One DELETE, retried as reads are (the transport retries idempotent requests). A failure never
 * fails the item: it is reported. 404 means it is gone already.
 */
async function remove(
	ctx: Context,
	path: string,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<string> {
	return await removed(dIdApiRequest.call(ctx, 'DELETE', path, { itemIndex, signal }));
}

/** What became of one DELETE: deleted, already gone (404), or not deleted and why. */
async function removed(request: Promise<unknown>): Promise<string> {
	try {
		await request;
		return 'deleted';
	} catch (error) {
		const status = String((error as { httpCode?: unknown }).httpCode ?? '');
		if (status === '404') return 'already gone';
		return `not deleted: ${(error as Error).message}`;
	}
}

/** Deletes the files the node uploaded for this item (once its talk has ended, done or failed). */
export async function deleteUploads(
	ctx: Context,
	uploads: Uploads | undefined,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IDataObject> {
	const report: IDataObject = {};
	if (uploads?.image)
		report.image = {
			id: uploads.image,
			result: await remove(ctx, `/images/${encodeURIComponent(uploads.image)}`, itemIndex, signal),
		};
	if (uploads?.audio)
		report.audio = {
			id: uploads.audio,
			result: await remove(ctx, `/audios/${encodeURIComponent(uploads.audio)}`, itemIndex, signal),
		};
	return report;
}

/**
 * The output item of a talk that is done: its video (when asked), the credits it used as D-ID
 * reports them, and the clean-up. Nothing is deleted unless the download (when asked) succeeded:
 * a failed download throws before any delete, so the talk and its files are still there to retry.
 */
export async function doneTalkItem(
	ctx: Context,
	talk: Talk,
	settings: EndSettings,
	uploads: Uploads | undefined,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<INodeExecutionData> {
	const item: INodeExecutionData = { json: { ...talk, credits_used: creditsUsed(talk) } };
	if (settings.download)
		item.binary = {
			[settings.binaryProperty]: await downloadVideo.call(ctx, talk, itemIndex, signal),
		};
	if (!settings.deleteUploads && !settings.deleteTalk) return item;
	const cleanup: IDataObject = {};
	if (settings.deleteUploads)
		cleanup.uploads = await deleteUploads(ctx, uploads, itemIndex, signal);
	if (settings.deleteTalk) {
		cleanup.talk = settings.download
			? { id: talk.id, result: await removed(deleteTalk.call(ctx, talk.id, { itemIndex, signal })) }
			: { id: talk.id, result: 'kept: Download Video is off, so the video exists only at D-ID' };
	}
	item.json.cleanup = cleanup;
	return item;
}
