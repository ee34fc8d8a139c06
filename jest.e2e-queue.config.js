/** @type {import('jest').Config} Queue-mode end-to-end suite: n8n main + workers + webhook processes (scripts/n8n/queue-stack.js). */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['**/test/e2e-queue/**/*.e2e.js'],
	testTimeout: 300000,
	forceExit: true,
};
