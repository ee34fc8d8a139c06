import type { IBinaryData, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import { openResultStream } from '../transport';
import type { Talk } from './talk';

/** The talk's result format ("mp4" or "mov"), from its config or its result URL. */
export function resultFormat(talk: Talk): 'mp4' | 'mov' {
	const configured = String(
		(talk.config as { result_format?: string } | undefined)?.result_format ?? '',
	).replace('.', '');
	if (configured === 'mov' || configured === 'mp4') return configured;
	return /\.mov(\?|$)/i.test(talk.result_url ?? '') ? 'mov' : 'mp4';
}

/** Streams the finished talk's video into n8n's binary storage (memory does not grow with its size). */
export async function downloadVideo(
	this: IExecuteFunctions | IWebhookFunctions,
	talk: Talk,
	itemIndex: number,
	signal?: AbortSignal,
): Promise<IBinaryData> {
	const format = resultFormat(talk);
	const { stream } = await openResultStream.call(
		this,
		talk.result_url as string,
		talk.id,
		itemIndex,
		signal,
	);
	const mimeType = format === 'mov' ? 'video/quicktime' : 'video/mp4';
	return await this.helpers.prepareBinaryData(stream, `${talk.id}.${format}`, mimeType);
}
