'use strict';
// D-ID answers errors as JSON `{ kind, description, details? }`; these are its kinds and codes.

const STATUS_BY_KIND = {
	BadRequestError: 400,
	ValidationError: 400,
	AuthorizationError: 401,
	InsufficientCreditsError: 402,
	PermissionError: 403,
	NotFoundError: 404,
	NotReadyError: 409,
	UnsupportedMimeTypeError: 415,
	TooManyRequestsError: 429,
	ImageModerationError: 451,
	CelebrityRecognizedError: 451,
	TextModerationError: 451,
	AudioModerationError: 451,
	InternalServerError: 500,
};

class DIdError extends Error {
	constructor(kind, description, details, headers) {
		super(description);
		this.kind = kind;
		this.status = STATUS_BY_KIND[kind] ?? 500;
		this.description = description;
		this.details = details;
		this.headers = headers;
	}

	toJSON() {
		const body = { kind: this.kind, description: this.description };
		if (this.details !== undefined) body.details = this.details;
		return body;
	}
}

/** tsoa-style validation details, as D-ID's API returns them: `{ "body.x": { message, value } }`. */
function validationError(problems, body) {
	const details = {};
	for (const { path, message } of problems) {
		const entry = details[path] ?? { message: '', value: valueAt(body, path) };
		entry.message = entry.message ? `${entry.message}; ${message}` : message;
		details[path] = entry;
	}
	return new DIdError('ValidationError', 'Invalid payload', details);
}

function valueAt(body, path) {
	let value = body;
	for (const part of path.split('.').slice(1)) {
		if (value === null || typeof value !== 'object') return undefined;
		value = value[part];
	}
	return value;
}

module.exports = { DIdError, validationError, STATUS_BY_KIND };
