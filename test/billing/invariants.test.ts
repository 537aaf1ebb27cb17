import { afterEach, describe, expect, it } from "vitest";
import { checkInvariants } from "../../src/ledger/index.ts";
import { expectLedgerOk, ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";
import { deliverOk, eventPayload, newEventId, recordSession, STARTER, sessionFor } from "./support.ts";

/**
 * I4: each Checkout Session credits at most once; each Stripe event id is processed at most once. The
 * database enforces it (primary key, unique index, one statement); ledger_check() notices if anything
 * got around that. Each test damages the data with raw SQL and undoes it before the next.
 */
afterEach(() => expectLedgerOk());

async function brokenInvariants() {
  const report = await checkInvariants(ledgerDatabase());
  return report.invariants.filter((r) => !r.ok).map((r) => r.invariant);
}

/** A credited session of a fresh account, recorded as checkout would record it. */
async function creditedSession() {
  const { accountId, ledgerAccountId } = await makeAccount();
  const session = sessionFor(accountId);
  await recordSession(session, accountId);
  const eventId = newEventId();
  expect((await deliverOk(eventPayload("checkout.session.completed", session, eventId))).status).toBe(
    "credited",
  );
  return { accountId, ledgerAccountId, session, eventId };
}

async function sqlError(text: string, params: unknown[] = []) {
  try {
    await rawSql(text, params);
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error(`expected the statement to fail: ${text}`);
}

describe("the database enforces I4", () => {
  it("ledger_check() reports I4.session_once and I4.event_once, ok on consistent data", async () => {
    await creditedSession();
    const report = await expectLedgerOk();
    expect(report.invariants.map((r) => r.invariant)).toEqual(
      expect.arrayContaining(["I4.top_up_once", "I4.session_once", "I4.event_once"]),
    );
  });

  it("a second credited event for a session is refused by the unique index", async () => {
    const { session } = await creditedSession();
    const error = await sqlError(
      `insert into stripe_events (event_id, type, source, session_id, status, transfer_id)
       select 'evt_forged', 'checkout.session.completed', 'webhook', session_id, 'credited', transfer_id
       from stripe_events where session_id = $1`,
      [session.id],
    );
    expect(error.code).toBe("23505");
  });

  it("an event id cannot be stored twice", async () => {
    const { eventId } = await creditedSession();
    const error = await sqlError(
      "insert into stripe_events (event_id, type, source, status) values ($1, 'x', 'webhook', 'ignored')",
      [eventId],
    );
    expect(error.code).toBe("23505");
  });
});

describe("ledger_check() notices I4 damage", () => {
  it("I4.session_once: a credited event whose credits differ from its transfer", async () => {
    const { eventId } = await creditedSession();
    await rawSql("update stripe_events set credits = credits + 1 where event_id = $1", [eventId]);
    expect(await brokenInvariants()).toEqual(["I4.session_once"]);
    await rawSql("update stripe_events set credits = credits - 1 where event_id = $1", [eventId]);
  });

  it("I4.session_once: a credit other than what checkout recorded for the session", async () => {
    const { session } = await creditedSession();
    await rawSql("update checkout_sessions set credits = credits + 1 where id = $1", [session.id]);
    expect(await brokenInvariants()).toEqual(["I4.session_once"]);
    await rawSql("update checkout_sessions set credits = credits - 1 where id = $1", [session.id]);
  });

  it("I4.session_once: a Checkout top-up that no recorded event accounts for", async () => {
    const { ledgerAccountId } = await makeAccount();
    const [row] = await rawSql<{ id: string }>(
      `insert into transfers (debit_account_id, credit_account_id, amount, kind, status, ref)
       values (ledger_system_account('stripe', $1), $1, 5, 'top_up', 'posted', 'checkout:cs_test_behind_the_back')
       returning id`,
      [ledgerAccountId],
    );
    expect(await brokenInvariants()).toEqual(["I6", "I4.session_once"]);
    await rawSql("alter table transfers disable trigger transfers_append_only");
    try {
      await rawSql("delete from transfers where id = $1", [row?.id]);
    } finally {
      await rawSql("alter table transfers enable trigger transfers_append_only");
    }
  });

  it("I4.session_once: a session credited by two events (unique index dropped for the test)", async () => {
    const { session } = await creditedSession();
    await rawSql("drop index stripe_events_session_credited_key");
    try {
      await rawSql(
        `insert into stripe_events (event_id, type, source, session_id, status, transfer_id, credits)
         select 'evt_forged_twice', type, source, session_id, 'credited', transfer_id, credits
         from stripe_events where session_id = $1`,
        [session.id],
      );
      expect(await brokenInvariants()).toContain("I4.session_once");
      await rawSql("delete from stripe_events where event_id = 'evt_forged_twice'");
    } finally {
      await rawSql(`create unique index stripe_events_session_credited_key on stripe_events (session_id)
        where status = 'credited'`);
    }
  });

  it("I4.event_once: a credit that names another event than the one recorded", async () => {
    const { eventId } = await creditedSession();
    await rawSql("update stripe_events set event_id = $2 where event_id = $1", [
      eventId,
      `${eventId}_renamed`,
    ]);
    expect(await brokenInvariants()).toEqual(["I4.event_once"]);
    await rawSql("update stripe_events set event_id = $1 where event_id = $2", [
      eventId,
      `${eventId}_renamed`,
    ]);
  });

  it("I4.event_once: an event id stored twice (primary key dropped for the test)", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { paymentStatus: "unpaid" });
    const eventId = newEventId();
    await deliverOk(eventPayload("checkout.session.completed", session, eventId));
    await rawSql("alter table stripe_events drop constraint stripe_events_pkey");
    try {
      await rawSql(
        "insert into stripe_events (event_id, type, source, status) values ($1, 'x', 'webhook', 'ignored')",
        [eventId],
      );
      expect(await brokenInvariants()).toEqual(["I4.event_once"]);
      await rawSql("delete from stripe_events where event_id = $1 and type = 'x'", [eventId]);
    } finally {
      await rawSql("alter table stripe_events add constraint stripe_events_pkey primary key (event_id)");
    }
  });

  it("does not count other top-ups (grants, seeds, refs that are not Checkout Sessions)", async () => {
    await makeAccount({ balance: 10 });
    await makeAccount({ balance: 10, via: "grant" });
    expect(await brokenInvariants()).toEqual([]);
    expect(STARTER.credits).toBeGreaterThan(0);
  });
});
