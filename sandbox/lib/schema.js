'use strict';
// A JSON Schema validator for the subset D-ID's OpenAPI uses (inline schemas, no $ref):
// type, nullable, enum, properties, required, additionalProperties, anyOf, items,
// minItems/maxItems, minLength/maxLength, pattern, minimum/maximum, format int32.

function typeOf(value) {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'array';
	if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
	return typeof value;
}

function typeMatches(expected, value) {
	const actual = typeOf(value);
	if (expected === 'number') return actual === 'number' || actual === 'integer';
	return expected === actual;
}

/**
 * Validates `value` against `schema`. Returns a list of `{ path, message }`; empty when valid.
 * `path` uses D-ID's dotted style rooted at `root` (e.g. `body.script.input`).
 */
function validate(schema, value, root = 'body', options = {}) {
	const errors = [];
	const lengthOf =
		options.lengthUnits === 'code-points' ? (text) => [...text].length : (text) => text.length;
	check(schema, value, root, errors, lengthOf);
	return errors;
}

// D-ID's validator counts string lengths in UTF-16 code units (JavaScript's String#length): one
// emoji outside the Basic Multilingual Plane counts 2. `lengthUnits: 'code-points'` counts 1.
function check(schema, value, path, errors, lengthOf) {
	if (!schema || typeof schema !== 'object') return;
	if (value === null && schema.nullable) return;

	if (schema.anyOf) {
		const branches = schema.anyOf.map((branch) => {
			const branchErrors = [];
			check(branch, value, path, branchErrors, lengthOf);
			return branchErrors;
		});
		if (!branches.some((b) => b.length === 0)) {
			// Report the branch that got furthest (fewest errors), as validators usually do.
			const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
			const discriminated = pickByTypeEnum(schema.anyOf, value, branches);
			errors.push(...(discriminated ?? best));
		}
		// anyOf next to other keywords: keep checking them
	}

	if (schema.type && !typeMatches(schema.type, value)) {
		errors.push({ path, message: `must be of type ${schema.type}` });
		return;
	}
	if (schema.enum && !schema.enum.includes(value)) {
		errors.push({ path, message: `must be one of: ${schema.enum.join(', ')}` });
		return;
	}
	if (typeof value === 'string') {
		if (schema.minLength !== undefined && lengthOf(value) < schema.minLength) {
			errors.push({ path, message: `must be at least ${schema.minLength} characters long` });
		}
		if (schema.maxLength !== undefined && lengthOf(value) > schema.maxLength) {
			errors.push({ path, message: `must be at most ${schema.maxLength} characters long` });
		}
		if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
			errors.push({ path, message: `must match pattern "${schema.pattern}"` });
		}
	}
	if (typeof value === 'number') {
		if (schema.minimum !== undefined && value < schema.minimum) {
			errors.push({ path, message: `must be >= ${schema.minimum}` });
		}
		if (schema.maximum !== undefined && value > schema.maximum) {
			errors.push({ path, message: `must be <= ${schema.maximum}` });
		}
		if (schema.format === 'int32' && (value < -2147483648 || value > 2147483647)) {
			errors.push({ path, message: 'must be a 32-bit integer' });
		}
	}
	if (Array.isArray(value)) {
		if (schema.minItems !== undefined && value.length < schema.minItems) {
			errors.push({ path, message: `must have at least ${schema.minItems} items` });
		}
		if (schema.maxItems !== undefined && value.length > schema.maxItems) {
			errors.push({ path, message: `must have at most ${schema.maxItems} items` });
		}
		if (schema.items)
			value.forEach((item, i) => check(schema.items, item, `${path}.${i}`, errors, lengthOf));
	}
	if (typeOf(value) === 'object' && (schema.properties || schema.required)) {
		const properties = schema.properties ?? {};
		for (const name of schema.required ?? []) {
			if (value[name] === undefined)
				errors.push({ path: `${path}.${name}`, message: 'is required' });
		}
		for (const [name, child] of Object.entries(value)) {
			if (child === undefined) continue;
			if (properties[name]) check(properties[name], child, `${path}.${name}`, errors, lengthOf);
			else if (schema.additionalProperties === false) {
				errors.push({ path: `${path}.${name}`, message: 'is not allowed (unknown property)' });
			}
		}
	}
}

// With a `type` enum discriminator (script.type, provider.type) the matching branch's errors
// are the ones a person needs to see.
function pickByTypeEnum(branches, value, results) {
	if (typeOf(value) !== 'object' || value.type === undefined) return undefined;
	const index = branches.findIndex((b) => b.properties?.type?.enum?.includes(value.type));
	return index >= 0 ? results[index] : undefined;
}

module.exports = { validate };
