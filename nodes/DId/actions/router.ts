import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { errorJson, withItemIndex } from '../helpers/errors';
import { redactError, redactTalk } from '../helpers/redact';
import { runPool } from '../helpers/pool';
import { invalid, numberOf, shown } from '../helpers/validation';
import { cancelledError, credentialSecrets } from '../transport';
import { operations } from './operations';
import { closeBatch, openBatch, readWaitSettings, runWebhookBatch, waitModeOf } from '../waiting';

export const DEFAULT_CONCURRENCY = 10;

const MAX_CONCURRENCY = 100;

/** Max Concurrent Talks: a whole number from 1 to 100 (0 or a blank expression is refused, not replaced). */
function readConcurrency(ctx: IExecuteFunctions): number {
	const given = ctx.getNodeParameter('options.maxConcurrency', 0, DEFAULT_CONCURRENCY) as unknown;
	const concurrency = numberOf(given);
	if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
		throw invalid(
			ctx,
			0,
			'Max Concurrent Talks',
			`${shown(given)} is not a whole number from 1 to ${MAX_CONCURRENCY}`,
			`Set how many items run at the same time (${DEFAULT_CONCURRENCY} is the default), or remove the option.`,
		);
	}
	return concurrency;
}

type Outcome = { ok: true; items: INodeExecutionData[] } | { ok: false; error: Error };

/**
 * The one place that decides how items, pairing and errors work: every input item is checked
 * first (no request is sent while any item's input is bad, unless Continue On Fail is on), then
 * items run concurrently with a bound, and the output keeps input order, each item paired.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[resource]?.[operationName];
	if (!operation) {
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operationName}" of "${resource}" is not supported`,
		);
	}
	const concurrency = readConcurrency(this);
	const continueOnFail = this.continueOnFail();
	const outcomes: Outcome[] = new Array(items.length);

	// Wait Mode "Webhook": the callback URLs must exist before the items are prepared.
	const waitsByWebhook = operation.waits?.call(this) === true && waitModeOf(this) === 'webhook';
	const batch = waitsByWebhook
		? await openBatch(this, readWaitSettings(this, 0), concurrency)
		: undefined;
	try {
		return await run.call(this);
	} finally {
		// Nothing of the batch stays in this process: a waiting batch lives in the execution.
		if (batch) closeBatch(this);
	}

	async function run(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// 1. Check every item before anything is sent.
		const prepared: unknown[] = new Array(items.length);
		for (let i = 0; i < items.length; i++) {
			try {
				prepared[i] = await operation!.prepare.call(this, i);
			} catch (error) {
				// A check quotes what the item gave: a key pasted into a field must not come back.
				const failure = redactError(
					withItemIndex(this, error, i),
					await credentialSecrets.call(this),
				);
				if (!continueOnFail) throw failure;
				outcomes[i] = { ok: false, error: failure };
			}
		}

		// 1b. Checks over the whole batch (Create: credits), still before anything is created.
		if (operation!.beforeRun) {
			const refusal = await operation!.beforeRun.call(
				this,
				prepared.map((p, i) => (outcomes[i] ? undefined : p)),
			);
			if (refusal && !continueOnFail) throw refusal;
			if (refusal) {
				prepared.forEach((_, i) => {
					if (!outcomes[i]) outcomes[i] = { ok: false, error: refusal };
				});
			}
		}

		// Wait Mode "Webhook": the talks are created now, then the execution waits for D-ID's calls.
		if (batch) {
			const refused = new Map<number, INodeExecutionData[]>();
			outcomes.forEach((outcome, i) => {
				if (!outcome.ok) refused.set(i, [{ json: errorJson(outcome.error) }]);
			});
			const start = operation!.startForWebhook!;
			return await runWebhookBatch(
				this,
				batch,
				items.length,
				refused,
				async (i, signal) => await start.call(this, i, prepared[i], signal),
			);
		}

		// 2. Run the items, at most `concurrency` at a time. Without Continue On Fail the first
		//    failure stops new items from starting and ends the others' waiting.
		const cancelSignal = this.getExecutionCancelSignal?.();
		const pending = items.map((_, i) => i).filter((i) => !outcomes[i]); // not those refused in step 1 (Continue On Fail)
		const { results, firstFailure } = await runPool(
			pending,
			async (i, signal) => {
				try {
					return await operation!.execute.call(this, i, prepared[i], signal);
				} catch (error) {
					throw withItemIndex(this, error, i);
				}
			},
			{ concurrency, keepGoing: continueOnFail, signal: cancelSignal },
		);
		for (const [i, result] of results)
			outcomes[i] = result.ok
				? { ok: true, items: result.value }
				: { ok: false, error: result.error as Error };
		if (firstFailure) throw redactError(firstFailure.error as Error);
		if (cancelSignal?.aborted) throw cancelledError(this);

		// 3. Output in input order, each item paired with its input.
		const output: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const outcome = outcomes[i];
			if (!outcome) continue;
			// D-ID echoes each talk's webhook URL, with the D-ID Trigger's secret in it.
			const data = outcome.ok
				? outcome.items.map((item) => ({ ...item, json: redactTalk(item.json) }))
				: [{ json: errorJson(outcome.error) }];
			output.push(...this.helpers.constructExecutionMetaData(data, { itemData: { item: i } }));
		}
		return [output];
	}
}
