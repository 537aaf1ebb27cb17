// The one bench run's settings, results and helpers, shared by its phases. bench/run.mjs fills it in
// once, before any phase starts.

/** @type {any} */
export const run = {};

export const fixed = (/** @type {number} */ n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");

/** Round-robin over a pool, so no single API key meets the per-key rate limit. */
export function rotation(/** @type {string[]} */ items) {
  let i = 0;
  return () => items[i++ % items.length];
}
