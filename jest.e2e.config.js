/** @type {import('jest').Config} End-to-end suites: real n8n (scripts/n8n) against the sandbox. */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['**/test/e2e/**/*.e2e.js'],
	testTimeout: 600000,
	forceExit: true,
};
