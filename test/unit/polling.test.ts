import { FINAL_STATUSES } from '../../nodes/DId/helpers/talk';
import { nextPollDelay } from '../../nodes/DId/waiting/poll';

describe('nextPollDelay: the poll schedule', () => {
	test('the first look comes after one second, however long the talk has run', () => {
		expect(nextPollDelay(0, 0)).toBe(1000);
		expect(nextPollDelay(120_000, 0)).toBe(1000);
	});

	test('later looks wait a fifth of the time spent, between 1 and 5 seconds', () => {
		expect(nextPollDelay(1000, 1)).toBe(1000);
		expect(nextPollDelay(5000, 2)).toBe(1000);
		expect(nextPollDelay(10_000, 3)).toBe(2000);
		expect(nextPollDelay(20_000, 4)).toBe(4000);
		expect(nextPollDelay(25_000, 5)).toBe(5000);
		expect(nextPollDelay(600_000, 50)).toBe(5000);
	});

	test('the delay never shrinks as time passes', () => {
		let previous = 0;
		for (let elapsed = 0; elapsed <= 60_000; elapsed += 500) {
			const delay = nextPollDelay(elapsed, 1);
			expect(delay).toBeGreaterThanOrEqual(previous);
			previous = delay;
		}
	});

	test("a talk's final statuses are D-ID's done, error and rejected", () => {
		expect([...FINAL_STATUSES].sort()).toEqual(['done', 'error', 'rejected']);
	});
});
