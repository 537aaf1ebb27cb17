import { env } from "cloudflare:workers";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll } from "vitest";
import { expectLedgerOk } from "../support/ledger.ts";

/**
 * Runs inside workerd before each test file: clones the migrated template into a database of the
 * file's own, so files run in parallel without sharing state, and points the Worker's env at it.
 */
const testEnv = env as Env & {
  TEST_ADMIN_DATABASE_URL: string;
  TEST_TEMPLATE_DATABASE: string;
  TEST_RUN_ID: string;
};

if (testEnv.TEST_TEMPLATE_DATABASE) {
  const base = testEnv.LOCAL_NEON_URL.replace(/\/$/, "");
  neonConfig.fetchEndpoint = () => `${base}/sql`;
  const name = `tollgate_t_${testEnv.TEST_RUN_ID}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = neon(testEnv.TEST_ADMIN_DATABASE_URL);
  await admin.query(`create database "${name}" template "${testEnv.TEST_TEMPLATE_DATABASE}"`);
  const url = new URL(testEnv.TEST_ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  testEnv.DATABASE_URL = url.toString();
}

// Every test file ends with the ledger invariants (docs/ARCHITECTURE.md, The ledger model, I1–I6) checked on
// its own database, so no test can leave money created, lost or spent twice behind it unnoticed.
afterAll(async () => {
  await expectLedgerOk();
});
