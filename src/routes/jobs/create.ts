import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env.ts";
import { unknownCredential } from "../../auth/credentials.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { requestFingerprint } from "../../jobs/idempotency.ts";
import { sendJobMessages } from "../../jobs/messages.ts";
import { JOB_TYPES } from "../../jobs/registry.ts";
import { createJob } from "../../jobs/store.ts";
import { toJobView } from "../../jobs/view.ts";
import { isCreditAmount } from "../../ledger/credits.ts";
import { credentialOnly } from "../../middleware/authenticate.ts";
import { IDEMPOTENCY_KEY_PARAMETER, idempotencyKey } from "../../middleware/idempotency-key.ts";
import { rateLimit } from "../../middleware/rate-limit.ts";
import { SESSION_OR_KEY } from "../security.ts";
import { JobSchema } from "./schema.ts";

/** The largest `input` a job may carry, serialised; bigger inputs belong in storage, not a job row. */
export const JOB_INPUT_MAX_BYTES = 16 * 1024;

export const CreateJobRequest = z
  .strictObject({
    type: z.string().min(1).max(64).openapi({ example: "echo" }),
    input: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({ description: "Validated by the job type's schema.", example: { message: "hello" } }),
  })
  .openapi("CreateJobRequest");

export const route = createRoute({
  method: "post",
  path: "/api/jobs",
  tags: ["jobs"],
  summary: "Create a job",
  description:
    "Holds the job's cost and queues it, in one statement. Requires an `Idempotency-Key`: a retry with the same key and body answers the first response again (`Idempotent-Replayed: true`), for 24 hours. Without enough credits nothing is stored, so the same key works after a top-up.",
  security: SESSION_OR_KEY,
  middleware: [
    credentialOnly(),
    rateLimit({ binding: "JOBS_RATE_LIMITER", scope: "jobs.create", key: (c) => c.get("rateLimitKey") }),
    idempotencyKey(),
  ] as const,
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  request: { body: { content: { "application/json": { schema: CreateJobRequest } }, required: true } },
  responses: {
    201: {
      description: "Created (or replayed: then `Idempotent-Replayed: true`)",
      content: { "application/json": { schema: JobSchema } },
    },
    ...errorResponses(
      "validation_failed",
      "invalid_json",
      "idempotency_key_invalid",
      "unauthorized",
      "insufficient_credits",
      "origin_not_allowed",
      "payload_too_large",
      "unsupported_media_type",
      "idempotency_key_reused",
      "rate_limited",
    ),
  },
});

function validationError(path: string, message: string) {
  return new ApiError("validation_failed", "The request did not match the schema.", {
    errors: [{ path, message }],
  });
}

/** Queues the job's message after the response; the sweeper re-sends it if this never happens. */
function dispatch(c: Context<AppEnv>, jobId: string) {
  const sending = sendJobMessages(c.env.JOBS_QUEUE, [jobId]);
  try {
    c.executionCtx.waitUntil(sending);
  } catch {
    // No execution context (the app called directly): the send still runs, unawaited and harmless.
  }
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const type = JOB_TYPES.get(body.type);
  if (!type) throw validationError("type", `Unknown job type; one of: ${[...JOB_TYPES.keys()].join(", ")}.`);
  const inputBytes = new TextEncoder().encode(JSON.stringify(body.input)).byteLength;
  if (inputBytes > JOB_INPUT_MAX_BYTES) {
    throw new ApiError(
      "payload_too_large",
      `The job input is ${inputBytes} bytes; at most ${JOB_INPUT_MAX_BYTES}.`,
    );
  }
  const parsed = type.input.safeParse(body.input);
  if (!parsed.success) {
    throw new ApiError("validation_failed", "The job input did not match the job type's schema.", {
      errors: parsed.error.issues.map((issue) => ({
        path: ["input", ...issue.path.map(String)].join("."),
        message: issue.message,
      })),
    });
  }
  const cost = type.cost(parsed.data);
  if (!isCreditAmount(cost)) throw new Error(`job type ${type.name} computed an invalid cost`);

  const { database } = c.get("services");
  const credential = c.get("credential");
  const result = await createJob(database, {
    caller: credential,
    idempotencyKey: c.get("idempotencyKey"),
    fingerprint: await requestFingerprint("POST", "/api/jobs", await c.req.json()),
    type: type.name,
    input: parsed.data,
    cost,
    maxAttempts: type.maxAttempts,
  });

  if (result.status === "rejected") {
    switch (result.reason) {
      case "unauthorized":
        throw unknownCredential(credential.via);
      case "idempotency_key_reused":
        throw new ApiError(
          "idempotency_key_reused",
          "This Idempotency-Key was used for a different request in the last 24 hours; use a new key.",
        );
      case "insufficient_credits":
        throw new ApiError(
          "insufficient_credits",
          `The job holds ${cost} credits; ${result.available ?? 0} are available. Nothing was stored: retry with the same key after a top-up.`,
        );
      default:
        throw new Error(`create_job rejected: ${result.reason}`);
    }
  }
  if (result.status === "created") dispatch(c, result.job.id);
  else c.header("idempotent-replayed", "true");
  // Only a 201 is ever stored under a key (a refusal stores nothing), so a replay is a 201 too.
  return c.json(toJobView(result.job), 201);
};
