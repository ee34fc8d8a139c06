/** Soak suite: real n8n (scripts/n8n) against the sandbox with every fault injected. */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['**/test/soak/**/*.soak.js'],
	testTimeout: 1800000,
	forceExit: true,
};
