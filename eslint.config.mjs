import { config } from '@n8n/node-cli/eslint';

// The community-node rules as n8n's verification applies them, unchanged.
export default config;
