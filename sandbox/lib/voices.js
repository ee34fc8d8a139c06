'use strict';
// A catalogue shaped like D-ID's `GET /tts/voices` answer (IVoice), a realistic subset per provider.

const LANG = {
	'en-US': 'English (United States)',
	'en-GB': 'English (United Kingdom)',
	'en-AU': 'English (Australia)',
	'en-IN': 'English (India)',
	'en-ZA': 'English (South Africa)',
	'de-DE': 'German (Germany)',
	'fr-FR': 'French (France)',
	'fr-CA': 'French (Canada)',
	'es-ES': 'Spanish (Spain)',
	'es-MX': 'Spanish (Mexico)',
	'es-US': 'Spanish (United States)',
	'it-IT': 'Italian (Italy)',
	'pt-BR': 'Portuguese (Brazil)',
	'ja-JP': 'Japanese (Japan)',
	'ko-KR': 'Korean (Korea)',
	'he-IL': 'Hebrew (Israel)',
	'hi-IN': 'Hindi (India)',
};

function languages(...locales) {
	return locales.map((locale) => ({ language: LANG[locale], locale }));
}

const MULTILINGUAL = 'en-US de-DE fr-FR es-ES it-IT pt-BR ja-JP ko-KR hi-IN';

// Rows of columns split at spaces, one row a line; the last column takes the rest of the line.
function table(columns, text) {
	return text
		.trim()
		.split('\n')
		.map((line) => {
			const cells = line.trim().split(/ +/);
			return [...cells.slice(0, columns - 1), cells.slice(columns - 1).join(' ')];
		});
}

// locales: space-separated; styles: space-separated or ''.
function voice(provider, access, { id, name, gender, styles = '', locales }, extra) {
	return {
		id,
		name,
		gender,
		provider,
		access,
		styles: styles ? styles.split(' ') : [],
		languages: languages(...locales.split(' ')),
		...extra,
	};
}

// id, name, gender, locale, styles
const microsoft = table(
	5,
	`
en-US-JennyNeural              Jenny     female en-US assistant chat customerservice newscast angry cheerful sad excited friendly terrified shouting unfriendly whispering hopeful
en-US-GuyNeural                Guy       male   en-US newscast angry cheerful sad excited friendly terrified shouting unfriendly whispering hopeful
en-US-AriaNeural               Aria      female en-US chat customerservice narration-professional newscast-casual newscast-formal cheerful empathetic angry sad excited friendly terrified shouting unfriendly whispering hopeful
en-US-DavisNeural              Davis     male   en-US chat angry cheerful excited friendly hopeful sad shouting terrified unfriendly whispering
en-US-AndrewMultilingualNeural Andrew    male   en-US
en-US-AvaMultilingualNeural    Ava       female en-US
en-GB-SoniaNeural              Sonia     female en-GB cheerful sad
en-GB-RyanNeural               Ryan      male   en-GB cheerful chat
en-AU-NatashaNeural            Natasha   female en-AU
en-IN-NeerjaNeural             Neerja    female en-IN newscast cheerful empathetic
de-DE-KatjaNeural              Katja     female de-DE
de-DE-ConradNeural             Conrad    male   de-DE cheerful
fr-FR-DeniseNeural             Denise    female fr-FR cheerful sad
fr-FR-HenriNeural              Henri     male   fr-FR cheerful sad
es-ES-ElviraNeural             Elvira    female es-ES
es-MX-JorgeNeural              Jorge     male   es-MX chat cheerful
it-IT-ElsaNeural               Elsa      female it-IT
pt-BR-FranciscaNeural          Francisca female pt-BR calm
ja-JP-NanamiNeural             Nanami    female ja-JP chat customerservice cheerful
ko-KR-SunHiNeural              Sun-Hi    female ko-KR
he-IL-HilaNeural               Hila      female he-IL
hi-IN-SwaraNeural              Swara     female hi-IN
`,
).map(([id, name, gender, locale, styles]) =>
	voice('microsoft', 'public', {
		id,
		name,
		gender,
		styles,
		locales: id.includes('Multilingual') ? MULTILINGUAL : locale,
	}),
);

// id, name, gender, description
const elevenlabs = table(
	4,
	`
21m00Tcm4TlvDq8ikWAM Rachel female calm, young, narration
AZnzlk1XvdvUeBnXmlld Domi   female strong, young, narration
EXAVITQu4vr4xnSDxMaL Bella  female soft, young, narration
ErXwobaYiN019PkySvjV Antoni male   well-rounded, young, narration
MF3mGyEYCl7XYWbV9V6O Elli   female emotional, young, narration
TxGEqnHWrfWFTfGW9XjX Josh   male   deep, young, narration
VR6AewLTigWG4xSOukaG Arnold male   crisp, middle-aged, narration
pNInz6obpgDQGcFmaJgB Adam   male   deep, middle-aged, narration
yoZ06aMxZJJ28mfd3POQ Sam    male   raspy, young, narration
`,
).map(([id, name, gender, description]) =>
	voice(
		'elevenlabs',
		'premium',
		{ id, name, gender, locales: MULTILINGUAL },
		{ description, config: { modelId: 'eleven_multilingual_v2' } },
	),
);

// The 24 voice ids D-ID's OpenAPI allows for Amazon. id (also the name), gender, locale
const amazon = table(
	3,
	`
Amy       female en-GB
Aria      female en-US
Ayanda    female en-ZA
Bianca    female it-IT
Brian     male   en-GB
Camila    female pt-BR
Emma      female en-GB
Gabrielle female fr-CA
Ivy       female en-US
Joanna    female en-US
Joey      male   en-US
Justin    male   en-US
Kendra    female en-US
Kevin     male   en-US
Kimberly  female en-US
Léa       female fr-FR
Lucia     female es-ES
Lupe      female es-US
Matthew   male   en-US
Olivia    female en-AU
Salli     female en-US
Seoyeon   female ko-KR
Takumi    male   ja-JP
Vicki     female de-DE
`,
).map(([id, gender, locale]) =>
	voice('amazon', 'public', { id, name: id, gender, locales: locale }),
);

// id (also the name), gender, locale
const google = table(
	3,
	`
en-US-Wavenet-A male   en-US
en-US-Wavenet-C female en-US
en-US-Neural2-F female en-US
en-GB-Wavenet-B male   en-GB
de-DE-Wavenet-B male   de-DE
fr-FR-Wavenet-A female fr-FR
es-ES-Wavenet-B male   es-ES
ja-JP-Wavenet-A female ja-JP
he-IL-Wavenet-A female he-IL
hi-IN-Wavenet-A female hi-IN
`,
).map(([id, gender, locale]) =>
	voice('google', 'public', { id, name: id, gender, locales: locale }),
);

// id, name, gender
const azureOpenAi = table(
	3,
	`
en-US-AlloyMultilingualNeural   Alloy   neutral
en-US-EchoMultilingualNeural    Echo    male
en-US-FableMultilingualNeural   Fable   neutral
en-US-OnyxMultilingualNeural    Onyx    male
en-US-NovaMultilingualNeural    Nova    female
en-US-ShimmerMultilingualNeural Shimmer female
`,
).map(([id, name, gender]) =>
	voice('azure-openai', 'public', { id, name, gender, locales: MULTILINGUAL }),
);

const VOICES = [...microsoft, ...elevenlabs, ...amazon, ...google, ...azureOpenAi];
const PROVIDERS = ['amazon', 'microsoft', 'azure-openai', 'elevenlabs', 'google'];

module.exports = { VOICES, PROVIDERS };
