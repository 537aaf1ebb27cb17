import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../app-env.ts";
import { type Credential, readCredential } from "../../auth/credentials.ts";
import { ApiError } from "../../errors/api-error.ts";
import { JOB_ID_EXAMPLE } from "../../jobs/view.ts";

export const JobIdParams = z.object({ id: z.string().openapi({ example: JOB_ID_EXAMPLE }) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Another account's job, a job that does not exist and a malformed id all get this same answer, so
 * the API never says whether an id exists elsewhere.
 */
export function jobNotFound() {
  return new ApiError("not_found", "No such job.");
}

export function assertJobId(id: string) {
  if (!UUID.test(id)) throw jobNotFound();
}

export type CredentialEnv = AppEnv & { Variables: { credential: Credential; rateLimitKey: string } };

async function sha256Hex(value: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads the caller's credential without the database (401/403 as `authenticate()` would answer),
 * leaving its lookup to the route's own statement: POST /api/jobs resolves the caller inside
 * create_job, so creating a job stays one round trip.
 */
export function credentialOnly(): MiddlewareHandler<CredentialEnv> {
  return async function credentialOnlyMiddleware(c, next) {
    // readCredential only reads the request and the services; the extra variables are ours to set.
    const credential = await readCredential(c as unknown as Context<AppEnv>, ["session", "key"]);
    c.set("credential", credential);
    // Counted per credential; a session token is hashed first so it never leaves as a counter key.
    c.set("rateLimitKey", credential.via === "key" ? credential.digest : await sha256Hex(credential.token));
    return next();
  };
}
