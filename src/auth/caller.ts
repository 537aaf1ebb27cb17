import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { ApiError } from "../errors/api-error.ts";
import type { CallerVia, Credential } from "./credentials.ts";

/** Who is calling: the account every query of the request is scoped to. */
export type Caller = { accountId: string; via: CallerVia; keyId?: string };

/**
 * The lookups are SQL functions (src/db/functions/auth.sql), so other statements can fold them in and
 * stay one round trip: create_job resolves its caller this way. A revoked key or an expired session
 * is simply not found.
 */
const accountForApiKey = sqlFunction(
  "account_for_api_key",
  { digest: "text" },
  z.object({ account_id: z.string(), key_id: z.string() }),
);
const accountForSession = sqlFunction(
  "account_for_session",
  { token: "text" },
  z.object({ account_for_session: z.string().nullable() }),
);

/** Resolves a credential to its account in ONE statement; undefined when the database does not know it. */
export async function resolveCaller(
  database: SqlClient,
  credential: Credential,
): Promise<Caller | undefined> {
  try {
    if (credential.via === "key") {
      const [row] = await accountForApiKey(database, { digest: credential.digest });
      return row ? { accountId: row.account_id, via: "key", keyId: row.key_id } : undefined;
    }
    const [row] = await accountForSession(database, { token: credential.token });
    return row?.account_for_session ? { accountId: row.account_for_session, via: "session" } : undefined;
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ApiError("service_unavailable", "Could not check the credentials; try again.", {
      cause: new Error(`caller lookup failed${code ? ` (${code})` : ""}`),
    });
  }
}
