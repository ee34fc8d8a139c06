import type {
	ILoadOptionsFunctions,
	INodeListSearchResult,
	INodePropertyOptions,
} from 'n8n-workflow';

import { documentedStyle } from '../helpers/validation';
import { dIdApiRequest } from '../transport';

interface Voice {
	id: string;
	name: string;
	gender?: string;
	styles?: string[];
	languages?: Array<{ language?: string; locale?: string }>;
}

async function voicesOf(ctx: ILoadOptionsFunctions, provider: string): Promise<Voice[]> {
	const voices = await dIdApiRequest.call(ctx, 'GET', '/tts/voices', { qs: { provider } });
	return (Array.isArray(voices) ? voices : []) as Voice[];
}

function label(voice: Voice): string {
	const languages = voice.languages ?? [];
	const language =
		languages.length > 1
			? `${languages.length} languages`
			: (languages[0]?.language ?? languages[0]?.locale);
	return [voice.name, [voice.gender, language].filter(Boolean).join(', ')]
		.filter(Boolean)
		.join(' — ');
}

/** Voices of the chosen provider, searchable by name, ID, gender or language. */
export async function searchVoices(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	const provider = (this.getCurrentNodeParameter('provider') as string) || 'microsoft';
	const needle = (filter ?? '').toLowerCase();
	const results = (await voicesOf(this, provider))
		.map((voice) => ({
			name: label(voice),
			value: voice.id,
			search:
				`${label(voice)} ${voice.id} ${(voice.languages ?? []).map((l) => l.locale).join(' ')}`.toLowerCase(),
		}))
		.filter((voice) => !needle || voice.search.includes(needle))
		.sort((a, b) => a.name.localeCompare(b.name))
		.map(({ name, value }) => ({ name, value }));
	return { results };
}

/** Speaking styles of the chosen Microsoft/Azure voice. */
export async function getVoiceStyles(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const provider = (this.getCurrentNodeParameter('provider') as string) || 'microsoft';
	const voiceId = this.getCurrentNodeParameter('voice', { extractValue: true }) as string;
	const options: INodePropertyOptions[] = [{ name: 'Default', value: '' }];
	if (!voiceId) return options;
	const voice = (await voicesOf(this, provider)).find((v) => v.id === voiceId);
	// n8n marks a saved value that is no option's value as unsupported. A workflow may hold the
	// style as D-ID's docs write it ("Cheerful") or as this list sends it ("cheerful"): the option
	// takes the saved spelling, so either stays selected; Create sends the documented one.
	const saved = this.getCurrentNodeParameter('microsoftVoice.style');
	for (const style of voice?.styles ?? []) {
		const value =
			typeof saved === 'string' && saved.toLowerCase() === style.toLowerCase()
				? saved
				: documentedStyle(style);
		options.push({ name: documentedStyle(style), value });
	}
	return options;
}
