import type { INodeProperties } from 'n8n-workflow';

/** Waiting and download fields shared by Talk → Wait and Talk → Create (with Wait for Completion). */
export function waitFields(
	show: NonNullable<INodeProperties['displayOptions']>['show'],
	{ uploads }: { uploads: 'own' | 'input' },
): INodeProperties[] {
	return [
		{
			displayName: 'Wait Mode',
			name: 'waitMode',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Poll',
					value: 'poll',
					description:
						'Ask D-ID for the status now and then while the execution runs. Works everywhere.',
				},
				{
					name: 'Webhook',
					value: 'webhook',
					description:
						'The execution sleeps (no worker held, no status requests) until D-ID calls n8n back. Needs n8n reachable by D-ID over https (WEBHOOK_URL).',
				},
			],
			default: 'poll',
			displayOptions: { show },
		},
		{
			displayName:
				'D-ID will call this execution’s resume URL when each talk ends; the execution resumes once, when the last talk of the batch has ended (or at the timeout). n8n must be reachable by D-ID over https (set WEBHOOK_URL), and run in regular mode (not queue mode).',
			name: 'webhookModeNotice',
			type: 'notice',
			default: '',
			displayOptions: { show: { ...show, waitMode: ['webhook'] } },
		},
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
			description:
				'Whether to download the finished video into a binary property of the output item (streamed to n8n’s binary storage)',
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
		{
			displayName: 'Delete Uploaded Files After Completion',
			name: 'deleteUploads',
			type: 'boolean',
			default: false,
			description:
				uploads === 'own'
					? 'Whether to delete the photo and audio this node uploaded to D-ID (DELETE /images, /audios) once the talk has ended, done or failed. D-ID otherwise keeps uploads 24–48 h. A failed delete is reported on the item (cleanup), never fails it.'
					: 'Whether to delete the photo and audio a D-ID Create uploaded for this talk (DELETE /images, /audios) once the talk has ended, done or failed. D-ID otherwise keeps uploads 24–48 h. A failed delete is reported on the item (cleanup), never fails it.',
			displayOptions: { show },
		},
		...(uploads === 'input'
			? [
					{
						displayName: 'Uploaded Files',
						name: 'uploadedFiles',
						type: 'string',
						default: '={{ $json.uploads }}',
						hint: 'The uploads field of the D-ID Create output: {"image": "img_…", "audio": "aud_…"}',
						description:
							'Which uploads to delete. D-ID’s talk does not say which upload it used, so the node takes them from the Create that made the talk (its output field uploads). Empty: nothing to delete.',
						displayOptions: { show: { ...show, deleteUploads: [true] } },
					} as INodeProperties,
				]
			: []),
		{
			displayName: 'Delete Talk After Download',
			name: 'deleteTalk',
			type: 'boolean',
			default: false,
			description:
				'Whether to delete the talk and its video at D-ID (DELETE /talks/{ID}) once the video is in n8n’s binary storage. D-ID otherwise keeps talks until deleted. Needs Download Video; a failed delete is reported on the item (cleanup), never fails it.',
			displayOptions: { show },
		},
	];
}
