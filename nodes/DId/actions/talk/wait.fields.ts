import type { INodeProperties } from 'n8n-workflow';

/** Waiting and download fields shared by Talk → Wait and Talk → Create (with Wait for Completion). */
export function waitFields(show: NonNullable<INodeProperties['displayOptions']>['show']): INodeProperties[] {
	return [
		{
			displayName: 'Timeout (Minutes)',
			name: 'timeoutMinutes',
			type: 'number',
			typeOptions: { minValue: 0.1, numberPrecision: 1 },
			default: 10,
			description:
				'How long to wait for the talk to finish. When it passes, the item fails with a clear message; the talk keeps rendering at D-ID and can be waited for again.',
			displayOptions: { show },
		},
		{
			displayName: 'Download Video',
			name: 'downloadVideo',
			type: 'boolean',
			default: true,
			description: 'Whether to download the finished video into a binary property of the output item (streamed to n8n’s binary storage)',
			displayOptions: { show },
		},
		{
			displayName: 'Put Video in Field',
			name: 'binaryPropertyOutput',
			type: 'string',
			default: 'data',
			required: true,
			hint: 'The name of the output binary field to put the video in (file name: <talk ID>.mp4 or .mov)',
			displayOptions: { show: { ...show, downloadVideo: [true] } },
		},
	];
}
