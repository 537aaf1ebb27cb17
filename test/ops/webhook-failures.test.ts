import { afterAll, describe, expect, it } from "vitest";
import { checkout, customer, payOnEmulator, STARTER, topUpsFor } from "../billing/support.ts";
import { expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, rawSql } from "../support/ledger.ts";
import { ADMIN, fetchWith } from "./support.ts";

type Failure = { event_id: string | null; failures: number; reason: string };

async function failures(): Promise<Failure[]> {
  const response = await fetchWith("/api/ops/webhook-failures", { headers: ADMIN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Failure[] }).data;
}

function reprocess(eventId: string) {
  return fetchWith(`/api/ops/webhook-events/${eventId}/reprocess`, { method: "POST", headers: ADMIN });
}

/** A paid Checkout whose webhook never got through: Stripe has the event, Tollgate only a failure row. */
async function paidButFailed() {
  const { accountId, auth } = await customer();
  const created = await checkout(auth, { pack_id: STARTER.id }, `ops-${crypto.randomUUID()}`);
  expect(created.status, await created.clone().text()).toBe(201);
  const session = (await created.json()) as { id: string };
  const events = await payOnEmulator(session.id);
  const completed = events.find((e) => e.type === "checkout.session.completed");
  if (!completed) throw new Error("the emulator sent no checkout.session.completed");
  await rawSql(
    "insert into webhook_failures (event_id, event_type, reason, detail) values ($1, $2, 'database_error', '57P01'), ($1, $2, 'database_error', '57P01')",
    [completed.id, completed.type],
  );
  return { accountId, sessionId: session.id, eventId: completed.id };
}

afterAll(async () => {
  await expectLedgerOk();
});

describe("failed webhooks", () => {
  it("lists each unprocessed event once with its failure count; processed ones drop out", async () => {
    const { eventId } = await paidButFailed();
    await rawSql(
      "insert into webhook_failures (event_id, event_type, reason) values ('evt_done_meanwhile', 'checkout.session.completed', 'database_error')",
    );
    await rawSql(
      "insert into stripe_events (event_id, type, source, status, reason) values ('evt_done_meanwhile', 'checkout.session.completed', 'webhook', 'ignored', 'not_tollgate')",
    );
    const listed = await failures();
    expect(listed.filter((f) => f.event_id === eventId)).toEqual([
      expect.objectContaining({ event_id: eventId, failures: 2, reason: "database_error" }),
    ]);
    expect(listed.map((f) => f.event_id)).not.toContain("evt_done_meanwhile");
  });

  it("reprocess fetches the event from Stripe and credits through fulfilment, exactly once", async () => {
    const { accountId, sessionId, eventId } = await paidButFailed();
    const first = await reprocess(eventId);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toMatchObject({
      event_id: eventId,
      outcome: "processed",
      status: "credited",
      credits: STARTER.credits,
    });
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect((await failures()).map((f) => f.event_id)).not.toContain(eventId);

    const again = await reprocess(eventId);
    expect(await again.json()).toMatchObject({ outcome: "already_processed" });
    expect(await topUpsFor(sessionId)).toHaveLength(1);
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
  });

  it("an event Stripe does not know is a 404; a malformed id a 400", async () => {
    await expectProblem(await reprocess("evt_doesnotexist0000"), 404, "not_found");
    await expectProblem(await reprocess("not-an-event"), 400, "validation_failed");
  });
});
