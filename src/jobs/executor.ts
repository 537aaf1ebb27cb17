import { logEvent } from "../telemetry/log.ts";
import { backoffSeconds } from "./backoff.ts";
import { PermanentJobError } from "./job-type.ts";
import type { JobRegistry } from "./registry.ts";
import type { AttemptResult, Claim } from "./store.ts";

/** Outputs are stored in the job row and returned by the API; keep them to a sensible size. */
export const MAX_OUTPUT_BYTES = 256 * 1024;
const MAX_ERROR_LENGTH = 1000;

class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

export type ExecutorOptions = { registry: JobRegistry; random?: () => number };

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}

function retryable(claim: Claim, error: unknown, options: ExecutorOptions): AttemptResult {
  return {
    job_id: claim.jobId,
    attempt: claim.attempt,
    outcome: "retry",
    error: errorText(error),
    retry_in_seconds: backoffSeconds(claim.attempt, options.random),
  };
}

const failed = (claim: Claim, error: string): AttemptResult => ({
  job_id: claim.jobId,
  attempt: claim.attempt,
  outcome: "failed",
  error,
});

/**
 * Runs one claimed attempt and says how it ended; never throws. The queue consumer and the legacy
 * poller both run jobs through here, so a job behaves the same whichever of them claimed it.
 */
export async function runAttempt(claim: Claim, options: ExecutorOptions): Promise<AttemptResult> {
  const type = options.registry.get(claim.type);
  if (!type) return failed(claim, `unknown job type: ${claim.type}`);
  const parsed = type.input.safeParse(claim.input);
  if (!parsed.success) return failed(claim, "the stored input no longer matches the job type's schema");

  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(`the attempt ran longer than ${type.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, type.timeoutMs);
  });
  try {
    const ctx = {
      jobId: claim.jobId,
      accountId: claim.accountId,
      attempt: claim.attempt,
      maxAttempts: claim.maxAttempts,
      signal: controller.signal,
    };
    const running = type.run(parsed.data, ctx);
    // After a timeout nobody awaits `running` any more; its late rejection must not go unhandled.
    running.catch(() => {});
    const result = await Promise.race([running, timedOut]);
    const output = result.output === undefined ? null : result.output;
    const size = new TextEncoder().encode(JSON.stringify(output)).byteLength;
    if (size > MAX_OUTPUT_BYTES)
      return failed(claim, `the output is ${size} bytes; at most ${MAX_OUTPUT_BYTES}`);
    const cost = Number.isSafeInteger(result.cost) ? result.cost : undefined;
    return { job_id: claim.jobId, attempt: claim.attempt, outcome: "succeeded", output, cost };
  } catch (error) {
    if (error instanceof PermanentJobError) return failed(claim, errorText(error));
    logEvent("jobs.attempt_failed", { job_id: claim.jobId, type: claim.type, attempt: claim.attempt });
    return retryable(claim, error, options);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export function runAttempts(claims: Claim[], options: ExecutorOptions): Promise<AttemptResult[]> {
  return Promise.all(claims.map((claim) => runAttempt(claim, options)));
}
