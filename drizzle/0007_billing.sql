CREATE TABLE "checkout_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"pack_id" text NOT NULL,
	"credits" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "checkout_sessions_credits_check" CHECK ("checkout_sessions"."credits" between 1 and 9007199254740991),
	CONSTRAINT "checkout_sessions_amount_check" CHECK ("checkout_sessions"."amount" >= 0),
	CONSTRAINT "checkout_sessions_currency_check" CHECK ("checkout_sessions"."currency" ~ '^[a-z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"session_id" text,
	"account_id" uuid,
	"pack_id" text,
	"credits" bigint,
	"status" text NOT NULL,
	"reason" text,
	"transfer_id" bigint,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_events_status_check" CHECK ("stripe_events"."status" in ('credited', 'already_credited', 'awaiting_payment', 'payment_failed', 'ignored', 'rejected')),
	CONSTRAINT "stripe_events_source_check" CHECK ("stripe_events"."source" in ('webhook', 'reconcile')),
	CONSTRAINT "stripe_events_credited_check" CHECK (("stripe_events"."status" = 'credited') = ("stripe_events"."transfer_id" is not null) and ("stripe_events"."status" <> 'rejected' or "stripe_events"."reason" is not null))
);
--> statement-breakpoint
CREATE TABLE "webhook_failures" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_failures_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" text,
	"event_type" text,
	"reason" text NOT NULL,
	"detail" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "checkout_sessions" ADD CONSTRAINT "checkout_sessions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD CONSTRAINT "stripe_events_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "checkout_sessions_account_id_idx" ON "checkout_sessions" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_events_session_credited_key" ON "stripe_events" USING btree ("session_id") WHERE "stripe_events"."status" = 'credited';--> statement-breakpoint
CREATE INDEX "stripe_events_session_id_idx" ON "stripe_events" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "stripe_events_status_received_at_idx" ON "stripe_events" USING btree ("status","received_at");--> statement-breakpoint
CREATE INDEX "webhook_failures_created_at_idx" ON "webhook_failures" USING btree ("created_at");