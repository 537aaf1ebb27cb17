import { z } from "zod";
import { sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { isoTimestamp } from "../db/columns.ts";
import { isUuid } from "../lib/encoding.ts";
import { API_KEY_ENVIRONMENTS, type NewApiKey } from "./api-keys.ts";

/** Enough for every CI system and server of one customer; a leak of many keys is easier to spot. */
export const MAX_ACTIVE_KEYS = 25;
/** Revoked keys stay listed (with `revoked_at`), so an owner can see what was withdrawn and when. */
export const KEY_LIST_LIMIT = 200;

/** A key as its owner may see it: never the digest. */
export const StoredKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  environment: z.enum(API_KEY_ENVIRONMENTS),
  created_at: isoTimestamp,
  revoked_at: isoTimestamp.nullable(),
});
export type StoredKey = z.output<typeof StoredKey>;

const COLUMNS = "id, name, prefix, environment, created_at, revoked_at";

/**
 * Stores a new key unless the account already has MAX_ACTIVE_KEYS active ones: the count and the
 * insert are one statement, so no other request's insert can slip between two round trips (two truly
 * concurrent creations may still pass together; the cap is a guard rail). Undefined: the cap refused it.
 */
export async function insertKey(
  database: SqlClient,
  accountId: string,
  name: string,
  key: NewApiKey,
): Promise<StoredKey | undefined> {
  const [row] = await sqlQuery(
    database,
    "insert into api_keys",
    `insert into api_keys (account_id, name, environment, prefix, digest)
     select $1::uuid, $2, $3, $4, $5
     where (select count(*) from api_keys where account_id = $1::uuid and revoked_at is null) < $6
     returning ${COLUMNS}`,
    [accountId, name, key.environment, key.prefix, key.digest, MAX_ACTIVE_KEYS],
    StoredKey,
  );
  return row;
}

/** The account's keys, newest first. */
export function listKeys(database: SqlClient, accountId: string): Promise<StoredKey[]> {
  return sqlQuery(
    database,
    "select api_keys",
    `select ${COLUMNS} from api_keys where account_id = $1::uuid
     order by created_at desc, id desc limit $2`,
    [accountId, KEY_LIST_LIMIT],
    StoredKey,
  );
}

/** Revokes one of the account's keys (again: a no-op). False when the account has no such key. */
export async function revokeKey(database: SqlClient, accountId: string, keyId: string): Promise<boolean> {
  // A malformed id is answered like a missing one: the answer never depends on what exists elsewhere.
  if (!isUuid(keyId)) return false;
  const rows = await sqlQuery(
    database,
    "update api_keys",
    `update api_keys set revoked_at = coalesce(revoked_at, now())
     where id = $1::uuid and account_id = $2::uuid returning id`,
    [keyId, accountId],
    z.object({ id: z.string() }),
  );
  return rows.length > 0;
}
