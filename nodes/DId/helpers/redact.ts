// Moved to the transport (which imports nothing above it); stays importable from here.
export {
	REDACTED,
	redactDeep,
	redactError,
	redactTalk,
	redactText,
	secretsInUrl,
} from '../transport/redact';
