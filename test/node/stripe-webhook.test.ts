import { spawn } from "node:child_process";
import { join } from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../scripts/stripe-emulator/server.ts";
import { FULFILMENT_EVENTS } from "../../src/billing/webhook.ts";

const SCRIPT = join(import.meta.dirname, "../../scripts/stripe-webhook.ts");
const BASE = "https://api.tollgate.example";
const ENDPOINT = `${BASE}/api/billing/stripe/webhook`;

let emulator: StripeEmulator;
let stripe: Stripe;

/** Runs the script against the emulator (async: the emulator lives in this process). */
function run(args: string[], env: Record<string, string | undefined> = {}) {
  return new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, STRIPE_SECRET_KEY: "", STRIPE_API_BASE: emulator.url, ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (status) => resolve({ status, output }));
  });
}

async function endpoints() {
  return (await stripe.webhookEndpoints.list({ limit: 100 })).data.filter((e) => e.url === ENDPOINT);
}

beforeAll(async () => {
  emulator = await startStripeEmulator({});
  stripe = new Stripe("sk_test_tollgate_local", {
    host: "127.0.0.1",
    port: emulator.port,
    protocol: "http",
    httpClient: Stripe.createFetchHttpClient(),
  });
});

afterAll(() => emulator?.close());

describe("npm run stripe:webhook", () => {
  it("--help names exactly the events fulfilment handles", async () => {
    const { status, output } = await run(["--help"]);
    expect(status).toBe(0);
    for (const event of FULFILMENT_EVENTS) expect(output).toContain(event);
    expect(output.match(/checkout\.session\.[a-z_]+/g)?.sort()).toEqual([...FULFILMENT_EVENTS].sort());
  });

  it("--verify before anything exists: exit 1", async () => {
    const { status, output } = await run(["--url", BASE, "--verify"]);
    expect(status).toBe(1);
    expect(output).toContain("no webhook endpoint");
    expect(await endpoints()).toEqual([]);
  });

  it("--dry-run changes nothing", async () => {
    const { status, output } = await run(["--url", BASE, "--dry-run"]);
    expect(status).toBe(0);
    expect(output).toContain("would create");
    expect(await endpoints()).toEqual([]);
  });

  it("creates the endpoint with only the required events and prints its secret once, with the follow-up", async () => {
    const { status, output } = await run(["--url", `${BASE}/`, "--env", "local"]);
    expect(status, output).toBe(0);
    const [endpoint, ...more] = await endpoints();
    expect(more).toEqual([]);
    expect(endpoint?.enabled_events.sort()).toEqual([...FULFILMENT_EVENTS].sort());
    const secret = /whsec_[A-Za-z0-9]+/.exec(output)?.[0];
    expect(secret).toBeDefined();
    expect(output).toContain("npm run secrets:rotate -- STRIPE_WEBHOOK_SECRET");

    // Run again: found, fine, and the secret is not printed a second time.
    const again = await run(["--url", BASE]);
    expect(again.status).toBe(0);
    expect(again.output).toContain("ok:");
    expect(again.output).not.toContain("whsec_");
    expect(await endpoints()).toHaveLength(1);
  });

  it("--verify on the right endpoint: exit 0", async () => {
    const { status, output } = await run(["--url", BASE, "--verify"]);
    expect(status, output).toBe(0);
    expect(output).toContain("ok:");
  });

  it("--verify with an extra event: exit 1, the difference printed, nothing changed", async () => {
    const [endpoint] = await endpoints();
    if (!endpoint) throw new Error("no endpoint");
    await stripe.webhookEndpoints.update(endpoint.id, {
      enabled_events: [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "customer.created",
      ],
    });
    const { status, output } = await run(["--url", BASE, "--verify"]);
    expect(status).toBe(1);
    expect(output).toMatch(/\+ customer\.created/);
    expect(output).toMatch(/- checkout\.session\.async_payment_failed/);
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).enabled_events).toContain(
      "customer.created",
    );
  });

  it("without --verify it updates the endpoint to exactly the required events, enabled", async () => {
    const [endpoint] = await endpoints();
    if (!endpoint) throw new Error("no endpoint");
    await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    const { status, output } = await run(["--url", BASE]);
    expect(status, output).toBe(0);
    expect(output).toContain("updated");
    const updated = await stripe.webhookEndpoints.retrieve(endpoint.id);
    expect(updated.enabled_events.sort()).toEqual([...FULFILMENT_EVENTS].sort());
    expect(updated.status).toBe("enabled");
    expect((await run(["--url", BASE, "--verify"])).status).toBe(0);
  });

  it("refuses what would be a mistake in a deployed environment", async () => {
    expect((await run(["--url", "http://api.tollgate.example", "--env", "production"])).status).toBe(2);
    const viaEmulator = await run(["--url", BASE, "--env", "production", "--api-base", emulator.url]);
    expect(viaEmulator.status).toBe(2);
    expect((await run(["--url", BASE], { STRIPE_API_BASE: undefined })).status).toBe(2);
    expect((await run([])).status).toBe(2);
  });
});
