import type { z } from "zod";

/** What a job's `run` knows about the attempt it is running. */
export type JobContext = {
  jobId: string;
  accountId: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the attempt's time is up: stop working, the result will be discarded. */
  signal: AbortSignal;
};

/** `cost`: credits actually spent, 1..hold; the rest of the hold is released. Omitted: the whole hold. */
export type JobResult = { output: unknown; cost?: number };

export type JobTypeDefinition<Schema extends z.ZodType> = {
  name: string;
  description: string;
  /** Validates the client's `input`; what it outputs is what is stored and handed to `run`. */
  input: Schema;
  /** Credits to hold when the job is created: the most it may cost. */
  cost: (input: z.output<Schema>) => number;
  run: (input: z.output<Schema>, ctx: JobContext) => Promise<JobResult>;
  /** An attempt still running after this long fails (and is retried). */
  timeoutMs: number;
  maxAttempts?: number;
};

/** A registered type with its input type erased: `run` and `cost` only ever see parsed input. */
export type JobType = {
  name: string;
  description: string;
  input: z.ZodType;
  cost: (input: unknown) => number;
  run: (input: unknown, ctx: JobContext) => Promise<JobResult>;
  timeoutMs: number;
  maxAttempts: number;
};

/** Attempts per job unless its type says otherwise (the first run and four retries). */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Job type names are part of the API and of stored rows: lowercase, digits and `_`. */
const JOB_TYPE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Thrown by `run` for a failure that another attempt cannot fix (bad input for this job, a refusal
 * from upstream): the job ends `failed` at once and its hold is released.
 */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

export function defineJobType<Schema extends z.ZodType>(definition: JobTypeDefinition<Schema>): JobType {
  if (!JOB_TYPE_NAME.test(definition.name)) throw new Error(`invalid job type name: ${definition.name}`);
  return {
    name: definition.name,
    description: definition.description,
    input: definition.input,
    cost: (input) => definition.cost(input as z.output<Schema>),
    run: (input, ctx) => definition.run(input as z.output<Schema>, ctx),
    timeoutMs: definition.timeoutMs,
    maxAttempts: definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
}
