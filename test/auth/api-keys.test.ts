import { describe, expect, it } from "vitest";
import { digestApiKey, generateApiKey, parseApiKey } from "../../src/auth/api-keys.ts";
import { resolveCaller } from "../../src/auth/caller.ts";
import { MAX_ACTIVE_KEYS } from "../../src/auth/keys.ts";
import { bearer, createKey, database, session, signUp } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";

describe("the key format", () => {
  it("is tg_<env>_ + 43 base62 characters, unique each time", async () => {
    const keys = await Promise.all(Array.from({ length: 50 }, () => generateApiKey("production")));
    for (const key of keys) {
      expect(key.secret).toMatch(/^tg_production_[0-9A-Za-z]{43}$/);
      expect(key.prefix).toBe(key.secret.slice(0, "tg_production_".length + 6));
      expect(key.digest).toBe(await digestApiKey(key.secret));
      expect(key.digest).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(keys.map((k) => k.secret)).size).toBe(keys.length);
  });

  it("draws every base62 character (no alphabet bias or truncation)", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++)
      for (const ch of (await generateApiKey("local")).secret.slice(9)) seen.add(ch);
    expect(seen.size).toBe(62);
  });

  it("is checked for shape and environment before any lookup", async () => {
    const { secret } = await generateApiKey("staging");
    expect(await parseApiKey(secret, "staging")).toMatchObject({ ok: true });
    expect(await parseApiKey(secret, "production")).toEqual({ ok: false, reason: "wrong_environment" });
    expect(await parseApiKey(`${secret}x`, "staging")).toEqual({ ok: false, reason: "malformed" });
    expect(await parseApiKey(secret.replace("tg_", "TG_"), "staging")).toEqual({
      ok: false,
      reason: "malformed",
    });
  });
});

describe("POST/GET/DELETE /api/keys", () => {
  it("shows the secret once and stores only its digest and prefix", async () => {
    const user = await signUp();
    const created = await createKey(user, "ci");
    expect(created.secret).toMatch(/^tg_local_[0-9A-Za-z]{43}$/);
    expect(created.prefix).toBe(created.secret.slice(0, 15));

    const rows = (await database().query("select * from api_keys where id = $1", [created.id])) as Record<
      string,
      unknown
    >[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.digest).toBe(await digestApiKey(created.secret));
    expect(JSON.stringify(rows[0])).not.toContain(created.secret.slice(15));

    const list = await call("/api/keys", { headers: session(user) });
    const text = await list.text();
    expect(text).not.toContain(created.secret);
    expect(text).not.toContain(rows[0]?.digest as string);
    const listed = JSON.parse(text).data as { id: string; name: string; prefix: string; revoked_at: null }[];
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, name: "ci", prefix: created.prefix, revoked_at: null }),
    ]);
  });

  it("a revoked key stops working on the very next request; revoking again is a no-op", async () => {
    const user = await signUp();
    const key = await createKey(user);
    expect((await call("/api/me", { headers: bearer(key.secret) })).status).toBe(200);
    expect((await call(`/api/keys/${key.id}`, { method: "DELETE", headers: session(user) })).status).toBe(
      204,
    );
    await expectProblem(await call("/api/me", { headers: bearer(key.secret) }), 401, "unauthorized");
    expect((await call(`/api/keys/${key.id}`, { method: "DELETE", headers: session(user) })).status).toBe(
      204,
    );
    const listed = (await (await call("/api/keys", { headers: session(user) })).json()) as {
      data: { revoked_at: string | null }[];
    };
    expect(listed.data[0]?.revoked_at).toEqual(expect.any(String));
  });

  it("only the caller's keys are listed", async () => {
    const [a, b] = await Promise.all([signUp(), signUp()]);
    await createKey(a, "a's key");
    const listed = (await (await call("/api/keys", { headers: session(b) })).json()) as { data: unknown[] };
    expect(listed.data).toEqual([]);
  });

  it(`caps an account at ${MAX_ACTIVE_KEYS} active keys (409), and revoking one makes room`, async () => {
    const user = await signUp();
    await database().query(
      `insert into api_keys (account_id, name, environment, prefix, digest)
       select $1, 'bulk', 'local', 'tg_local_bulk', md5(random()::text) || md5(random()::text) from generate_series(1, $2)`,
      [user.accountId, MAX_ACTIVE_KEYS],
    );
    const refused = await call("/api/keys", {
      method: "POST",
      headers: { ...session(user), "content-type": "application/json" },
      body: JSON.stringify({ name: "one too many" }),
    });
    await expectProblem(refused, 409, "conflict");
    await database().query(
      "update api_keys set revoked_at = now() where id = (select id from api_keys where account_id = $1 limit 1)",
      [user.accountId],
    );
    await createKey(user, "room again");
  });

  it("resolves a key in one statement through account_for_api_key", async () => {
    const user = await signUp();
    const key = await createKey(user);
    const caller = await resolveCaller(
      { sql: database() },
      { via: "key", digest: await digestApiKey(key.secret) },
    );
    expect(caller).toEqual({ accountId: user.accountId, via: "key", keyId: key.id });
  });
});
