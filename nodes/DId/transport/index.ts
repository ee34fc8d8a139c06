/*
 * The only HTTP to D-ID: requests with retries and D-ID's error advice (request.ts, errors.ts),
 * talk-level calls and paging (talks.ts), what never leaves in output (redact.ts), waits that a
 * cancel ends (sleep.ts). It imports nothing from helpers/ or actions/.
 */
export * from './errors';
export * from './redact';
export * from './request';
export * from './sleep';
export * from './talks';
