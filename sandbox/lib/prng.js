'use strict';
// Seeded PRNG (mulberry32) so that a sandbox started with a seed injects the same faults again.
function createRandom(seed) {
	if (seed === undefined || seed === null) return Math.random;
	let a = Number(seed) >>> 0;
	return function random() {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A number or a `[min, max]` range drawn uniformly. */
function draw(random, value) {
	if (Array.isArray(value)) return value[0] + random() * (value[1] - value[0]);
	return Number(value) || 0;
}

module.exports = { createRandom, draw };
