/** @type {import('jest').Config} The unit tier: pure functions only, no sandbox, no n8n engine (seconds). */
const base = require('./jest.config');

const tsJest = base.transform['^.+\\.ts$'][1];

module.exports = {
	...base,
	testMatch: ['**/test/unit/**/*.test.ts'],
	testTimeout: 10000,
	// Transpiled without type checking (`npm test` and `npm run build` check the types).
	transform: {
		'^.+\\.ts$': [
			'ts-jest',
			{ ...tsJest, tsconfig: { ...tsJest.tsconfig, isolatedModules: true } },
		],
	},
};
