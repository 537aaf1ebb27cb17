import type Stripe from "stripe";

export type PaymentOutcome = "paid" | "async" | "async_fail" | "async_pending";

export interface StripeEmulatorOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Every event is also POSTed here, signed with `webhookSecret`, like `stripe listen --forward-to`. */
  forwardTo?: string;
  webhookSecret?: string;
  /** `true` logs to the console; a function receives each line instead. */
  log?: boolean | ((line: string) => void);
  /** Attempts per delivery target, first one included. */
  deliveryAttempts?: number;
  /** Delay before the first retry; each further retry waits three times longer. */
  retryBaseDelayMs?: number;
  deliveryTimeoutMs?: number;
}

export interface EmulatorRequest {
  id: string;
  method: string;
  path: string;
  idempotency_key: string | null;
  params: Record<string, unknown>;
  status_code: number | null;
  replayed: boolean;
  created: number;
}

export interface EmulatorDelivery {
  id: string;
  event: string;
  type: string;
  url: string;
  webhook_endpoint: string | null;
  attempt: number;
  status_code: number | null;
  error: string | null;
  ok: boolean;
  created: number;
}

export interface StripeEmulator {
  url: string;
  port: number;
  webhookSecret: string;
  close(): Promise<void>;
  /** Every event created so far, oldest first. */
  events: Stripe.Event[];
  requests: EmulatorRequest[];
  deliveries: EmulatorDelivery[];
  pay(
    sessionId: string,
    options?: { outcome?: PaymentOutcome; paymentStatus?: "paid" | "unpaid" },
  ): Promise<{ session: Stripe.Checkout.Session; events: Stripe.Event[] }>;
  resend(
    eventId: string,
    options?: { webhookEndpoint?: string },
  ): Promise<{ event: Stripe.Event; deliveries: EmulatorDelivery[] }>;
}

export function startStripeEmulator(options?: StripeEmulatorOptions): Promise<StripeEmulator>;
