/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['**/test/**/*.test.ts', '**/test/**/*.test.js'],
	testPathIgnorePatterns: ['/node_modules/', '/dist/'],
	testTimeout: 60000,
	// n8n-core keeps keep-alive sockets and timers of its own after a run; the suites stop their
	// servers themselves.
	forceExit: true,
	transform: {
		'^.+\\.ts$': [
			'ts-jest',
			{
				tsconfig: {
					esModuleInterop: true,
					experimentalDecorators: true,
					emitDecoratorMetadata: true,
					target: 'es2022',
					module: 'commonjs',
					skipLibCheck: true,
					strict: true,
					resolveJsonModule: true,
					lib: ['es2022', 'dom'],
				},
			},
		],
	},
};
