// What the scenarios need before they start: accounts with API keys and plenty of credits, and
// Stripe events signed the way Stripe signs them.
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import pg from "pg";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** An API key in Tollgate's format (src/auth/api-keys.ts): `tg_<env>_<43 base62>`. */
export function newApiKey(environment = "local") {
  let random = "";
  while (random.length < 43) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && random.length < 43) random += BASE62[byte % 62];
    }
  }
  const secret = `tg_${environment}_${random}`;
  return { secret, prefix: secret.slice(0, 15), digest: createHash("sha256").update(secret).digest("hex") };
}

/**
 * Accounts and their keys, written straight to the database: signing up through better-auth costs a
 * password hash per user and the sign-up route is rate-limited per IP, neither of which is under test
 * here. Each account gets `keysPerAccount` keys because POST /api/jobs is rate-limited per key (600 a
 * minute, wrangler.toml), and load tests send more than that; the limit is per key, not per account.
 * @param {string} databaseUrl
 * @param {{ accounts: number, keysPerAccount: number }} options
 * @returns {Promise<{ accountId: string, keys: string[] }[]>}
 */
export async function createAccounts(databaseUrl, { accounts, keysPerAccount }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const made = [];
    for (let i = 0; i < accounts; i += 1) {
      const { rows } = await client.query("select account_id::text from create_account(null)");
      const accountId = rows[0].account_id;
      const keys = Array.from({ length: keysPerAccount }, () => newApiKey());
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
 * @param {{ url: string, adminToken: string, databaseUrl: string }} stack
 * @param {string} accountId @param {number} amount
 * @returns {Promise<"route" | "sql">}
 */
export async function grant(stack, accountId, amount) {
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
    const { rows } = await client.query("select status from grant_credits($1, $2, $3, $4)", [
      accountId,
      amount,
      `bench-${randomUUID()}`,
      JSON.stringify({ reason: "bench" }),
    ]);
    if (rows[0]?.status !== "applied") throw new Error(`grant_credits: ${JSON.stringify(rows[0])}`);
    return "sql";
  } finally {
    await client.end();
  }
}

/** The built-in "starter" pack (src/billing/packs.ts): what a paid session must match to be credited. */
export const STARTER_PACK = { id: "starter", credits: 1_000, amount: 1_000, currency: "usd" };

const token = (n) => randomBytes(n).toString("hex").slice(0, n);

/**
 * A `checkout.session.completed` event for a paid starter pack, serialized as Stripe sends it.
 * @param {string} accountId @param {string} [eventId]
 */
export function checkoutCompleted(accountId, eventId = `evt_bench_${token(24)}`) {
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
      api_version: "2026-10-28.endive",
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

/** `Stripe-Signature` as Stripe computes it: `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>`. */
export function signStripe(payload, secret, timestamp = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

/** Signed at send time with the current timestamp, as Stripe does for every delivery and retry. */
export function webhookRequest(/** @type {string} */ payload, /** @type {string} */ secret) {
  return {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "stripe-signature": signStripe(payload, secret),
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    },
    body: payload,
  };
}

export function webhookInit(/** @type {string} */ payload, /** @type {string} */ secret) {
  const { headers, body } = webhookRequest(payload, secret);
  return { method: "POST", headers, body };
}

/** Keys ordered account by account in turn (a0k0, a1k0, ..., a0k1, ...): consecutive requests hit different accounts. */
export function roundRobinKeys(/** @type {string[][]} */ perAccount) {
  const out = [];
  const depth = Math.max(...perAccount.map((k) => k.length));
  for (let i = 0; i < depth; i += 1) for (const keys of perAccount) if (keys[i]) out.push(keys[i]);
  return out;
}
