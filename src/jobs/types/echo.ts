import { z } from "zod";
import { defineJobType, type JobContext, type JobType, PermanentJobError } from "../job-type.ts";

/** Credits an echo job holds. */
export const ECHO_COST = 10;
/** Upper bound of `delay_ms`, well inside the timeout so a delayed echo still succeeds. */
export const ECHO_MAX_DELAY_MS = 30_000;

export const EchoInput = z.strictObject({
  message: z.string().max(1000).default(""),
  /** Wait this long before answering: latency for smoke and load tests. */
  delay_ms: z.number().int().min(0).max(ECHO_MAX_DELAY_MS).default(0),
  /** Fail attempts 1..fail_times; a number above the attempt limit means the job always fails. */
  fail_times: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** Make those failures permanent: the job ends `failed` on its first failure, without retries. */
  fail_permanently: z.boolean().default(false),
  /** Credits to charge on success (≤ ECHO_COST); the rest of the hold is released. Default: all. */
  charge: z.number().int().min(1).max(ECHO_COST).optional(),
});

export type EchoInput = z.output<typeof EchoInput>;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

async function runEcho(input: EchoInput, ctx: JobContext) {
  if (input.delay_ms > 0) await sleep(input.delay_ms, ctx.signal);
  if (ctx.attempt <= input.fail_times) {
    const message = `echo: failing attempt ${ctx.attempt} as asked (fail_times ${input.fail_times})`;
    throw input.fail_permanently ? new PermanentJobError(message) : new Error(message);
  }
  return { output: { message: input.message, attempt: ctx.attempt }, cost: input.charge };
}

/**
 * Answers its input. It costs credits like any job, so smoke and chaos tests can exercise holds,
 * captures, retries and the dead-letter queue in every environment without a real workload.
 */
export const echo: JobType = defineJobType({
  name: "echo",
  description:
    "Echoes `message`; can wait (`delay_ms`), fail its first N attempts (`fail_times`) or charge less.",
  input: EchoInput,
  cost: () => ECHO_COST,
  run: runEcho,
  timeoutMs: 60_000,
});
