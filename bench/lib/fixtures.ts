// What the scenarios need before they start: accounts with API keys and plenty of credits, and
// Stripe events signed the way Stripe signs them.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import Stripe from "stripe";
import { sqlClientOf } from "../../scripts/lib/sql-client.ts";
import { signatureHeader } from "../../scripts/stripe-emulator/signing.ts";
import { generateApiKey } from "../../src/auth/api-keys.ts";
import { DEFAULT_CREDIT_PACKS } from "../../src/config/credit-packs.ts";
import { createAccount, grantCredits } from "../../src/ledger/index.ts";

export type BenchAccount = { accountId: string; keys: string[] };

/**
 * Accounts and their keys, written straight to the database: signing up through better-auth costs a
 * password hash per user and the sign-up route is rate-limited per IP, neither of which is under test
 * here. Each account gets `keysPerAccount` keys because POST /api/jobs is rate-limited per key (600 a
 * minute, wrangler.toml), and load tests send more than that; the limit is per key, not per account.
 * The keys are inserted in one statement, past the cap on active keys a customer may create.
 */
export async function createAccounts(
  databaseUrl: string,
  { accounts, keysPerAccount }: { accounts: number; keysPerAccount: number },
): Promise<BenchAccount[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const database = sqlClientOf(client);
  try {
    const made: BenchAccount[] = [];
    for (let i = 0; i < accounts; i += 1) {
      const { accountId } = await createAccount(database, null);
      const keys = await Promise.all(Array.from({ length: keysPerAccount }, () => generateApiKey("local")));
      await client.query(
        `insert into api_keys (account_id, name, environment, prefix, digest)
         select $1, 'bench', 'local', k.prefix, k.digest
         from unnest($2::text[], $3::text[]) as k (prefix, digest)`,
        [accountId, keys.map((k) => k.prefix), keys.map((k) => k.digest)],
      );
      made.push({ accountId, keys: keys.map((k) => k.secret) });
    }
    return made;
  } finally {
    await client.end();
  }
}

/**
 * Credits through the admin grant route, as an operator would; straight through `grant_credits()`
 * when the route is not mounted in this build (reported in the results).
 */
export async function grant(
  stack: { url: string; adminToken: string; databaseUrl: string },
  accountId: string,
  amount: number,
): Promise<"route" | "sql"> {
  const response = await fetch(`${stack.url}/api/admin/accounts/${accountId}/grants`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stack.adminToken}`,
      "content-type": "application/json",
      "idempotency-key": `bench-${randomUUID()}`,
    },
    body: JSON.stringify({ amount, reason: "bench" }),
  });
  if (response.status === 201) return "route";
  if (response.status !== 404) throw new Error(`grant answered ${response.status}: ${await response.text()}`);
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const result = await grantCredits(sqlClientOf(client), {
      accountId,
      amount,
      ref: `bench-${randomUUID()}`,
      metadata: { reason: "bench" },
    });
    if (result.status !== "applied") throw new Error(`grant_credits: ${JSON.stringify(result)}`);
    return "sql";
  } finally {
    await client.end();
  }
}

/** The built-in "starter" pack: what a paid session must match to be credited. */
const STARTER_PACK = (() => {
  const pack = DEFAULT_CREDIT_PACKS.find((p) => p.id === "starter");
  if (!pack) throw new Error("no built-in starter pack");
  return pack;
})();

const token = (n: number) => randomBytes(n).toString("hex").slice(0, n);

/** A `checkout.session.completed` event for a paid starter pack, serialized as Stripe sends it. */
export function checkoutCompleted(accountId: string, eventId = `evt_bench_${token(24)}`): string {
  const session = {
    id: `cs_test_bench_${token(24)}`,
    object: "checkout.session",
    amount_subtotal: STARTER_PACK.amount,
    amount_total: STARTER_PACK.amount,
    client_reference_id: accountId,
    created: Math.floor(Date.now() / 1000) - 60,
    currency: STARTER_PACK.currency,
    livemode: false,
    metadata: { account_id: accountId, pack_id: STARTER_PACK.id, credits: String(STARTER_PACK.credits) },
    mode: "payment",
    payment_intent: `pi_${token(24)}`,
    payment_status: "paid",
    status: "complete",
    url: null,
  };
  return JSON.stringify(
    {
      id: eventId,
      object: "event",
      // The API version of the SDK the Worker is built with.
      api_version: Stripe.API_VERSION,
      created: Math.floor(Date.now() / 1000),
      data: { object: session },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: "checkout.session.completed",
    },
    null,
    2,
  );
}

/** Signed at send time with the current timestamp, as Stripe does for every delivery and retry. */
export function webhookRequest(payload: string, secret: string) {
  return {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "stripe-signature": signatureHeader(payload, secret),
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    },
    body: payload,
  };
}

export function webhookInit(payload: string, secret: string): RequestInit {
  const { headers, body } = webhookRequest(payload, secret);
  return { method: "POST", headers, body };
}

/** Keys ordered account by account in turn (a0k0, a1k0, ..., a0k1, ...): consecutive requests hit different accounts. */
export function roundRobinKeys(perAccount: string[][]): string[] {
  const out: string[] = [];
  const depth = Math.max(...perAccount.map((k) => k.length));
  for (let i = 0; i < depth; i += 1)
    for (const keys of perAccount) {
      const key = keys[i];
      if (key) out.push(key);
    }
  return out;
}
