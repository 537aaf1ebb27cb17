import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { int64 } from "../db/columns.ts";
import { STRIPE_EVENT_STATUSES, type StripeEventSource, type StripeEventStatus } from "../db/schema/index.ts";

export type FulfilmentAction = "credit" | "await" | "fail" | "ignore" | "reject";

export type FulfilmentInput = {
  eventId: string;
  eventType: string;
  source: StripeEventSource;
  action: FulfilmentAction;
  reason: string | null;
  sessionId: string;
  accountId: string | null;
  packId: string | null;
  credits: number | null;
  amount: number | null;
  currency: string | null;
};

export type FulfilmentResult = {
  status: StripeEventStatus;
  reason: string | null;
  /** The event id had been processed before; nothing changed now. */
  duplicate: boolean;
  transferId: number | null;
  accountId: string | null;
  credits: number | null;
};

const fulfilCheckoutFn = sqlFunction(
  "fulfil_checkout",
  {
    eventId: "text",
    eventType: "text",
    source: "text",
    action: "text",
    reason: "text",
    sessionId: "text",
    accountId: "text",
    packId: "text",
    credits: "bigint",
    amount: "bigint",
    currency: "text",
  },
  z.object({
    status: z.enum(STRIPE_EVENT_STATUSES),
    reason: z.string().nullable(),
    duplicate: z.boolean(),
    transfer_id: int64.nullable(),
    account_id: z.string().nullable(),
    credits: int64.nullable(),
  }),
);

/**
 * Fulfils one Stripe event in ONE statement (`fulfil_checkout()`): records the event id, and for a
 * paid session credits the account once per session, both in the same transaction. A failure stores
 * nothing, so Stripe's retry starts clean; a redelivery answers `duplicate` and changes nothing.
 */
export async function fulfilCheckout(database: SqlClient, input: FulfilmentInput): Promise<FulfilmentResult> {
  const {
    eventId,
    eventType,
    source,
    action,
    reason,
    sessionId,
    accountId,
    packId,
    credits,
    amount,
    currency,
  } = input;
  const row = await fulfilCheckoutFn.one(database, {
    eventId,
    eventType,
    source,
    action,
    reason,
    sessionId,
    accountId,
    packId,
    credits,
    amount,
    currency,
  });
  return {
    status: row.status,
    reason: row.reason,
    duplicate: row.duplicate,
    transferId: row.transfer_id,
    accountId: row.account_id,
    credits: row.credits,
  };
}
