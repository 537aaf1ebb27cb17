import type { JobType } from "./job-type.ts";
import { echo } from "./types/echo.ts";

export type { JobContext, JobResult, JobType } from "./job-type.ts";
export { DEFAULT_MAX_ATTEMPTS, defineJobType, PermanentJobError } from "./job-type.ts";

export type JobRegistry = ReadonlyMap<string, JobType>;

export function createRegistry(types: JobType[]): JobRegistry {
  const registry = new Map<string, JobType>();
  for (const type of types) {
    if (registry.has(type.name)) throw new Error(`job type registered twice: ${type.name}`);
    registry.set(type.name, type);
  }
  return registry;
}

/** Every job type Tollgate runs. Add a type in `types/` and list it here (docs/JOB_TYPES.md). */
export const JOB_TYPES: JobRegistry = createRegistry([echo]);

/** A margin over the slowest type's timeout, so a lease never ends while an attempt may still finish. */
const LEASE_MARGIN_SECONDS = 30;

/**
 * How long a claim holds a job. A batch is claimed before its types are known, so the lease covers
 * the slowest registered type.
 */
export function leaseSeconds(registry: JobRegistry): number {
  const slowest = Math.max(0, ...[...registry.values()].map((type) => type.timeoutMs));
  return Math.ceil(slowest / 1000) + LEASE_MARGIN_SECONDS;
}
