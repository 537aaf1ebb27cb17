/** Delays between attempts: exponential from BASE, capped, with jitter. */
export const BACKOFF_BASE_SECONDS = 5;
export const BACKOFF_MAX_SECONDS = 600;

/**
 * Seconds to wait before the attempt after `attempt` failed: the exponential step is halved and the
 * other half drawn at random ("equal jitter"), so jobs that failed together — an upstream outage —
 * do not all come back in the same second, yet none comes back sooner than half its step.
 */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(step / 2 + random() * (step / 2)));
}
