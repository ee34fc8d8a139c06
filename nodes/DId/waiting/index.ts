/*
 * Waiting for talks, both wait modes, in one place:
 * - settings.ts: Wait Mode and the wait fields (Timeout, Download Video, clean-up), and one item's
 *   wait in Poll mode (finishWaiting).
 * - poll.ts: Poll mode's shared poller (one per node run) and its schedule.
 * - webhook.ts: Webhook mode's start (execute side: the batch's talks made, recorded, the
 *   execution put to wait).
 * - webhook-resume.ts: Webhook mode's calls of the resume URL (webhook side: the look at the
 *   batch, its completion, the later sweeps).
 * - webhook-batch.ts: what both of those use (the resume URL and the node's own calls of it, a
 *   batch's entries and output).
 * - webhook-token.ts: who may make a waiting execution work (what a security reviewer reads).
 * - webhook-store.ts: where a waiting batch is kept (the execution's custom data).
 *
 * State kept at process level, and why (nothing here must survive the process):
 * - poll.ts: the pollers of the node runs in progress in this process (they end with the run).
 * - webhook.ts `open`: a batch while its execute() runs (Create puts its URL into each request).
 * - webhook-resume.ts `completing`: completions under way here, so a duplicate call in the same
 *   process answers instead of resuming twice (n8n 2.x prevents that across processes).
 * - webhook-resume.ts `timeoutsScheduled`: one timeout call per batch per process, a second chance
 *   should the worker that started the wait be gone.
 * - helpers/create-ledger.ts: POST /talks in flight in this process (see there).
 */
export {
	finishWaiting,
	readWaitSettings,
	waitModeOf,
	type WaitMode,
	type WaitSettings,
} from './settings';
export { waitForTalk } from './poll';
export {
	callbackUrl,
	closeBatch,
	openBatch,
	runWebhookBatch,
	signResumeUrl,
	webhookRun,
	type Started,
	type StartItem,
} from './webhook';
export { onResumeCall } from './webhook-resume';
export { CHECK_PATH } from './webhook-batch';
