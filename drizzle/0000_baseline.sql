CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text,
	"ledger_account_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_user_id_key" UNIQUE("user_id"),
	CONSTRAINT "accounts_ledger_account_id_key" UNIQUE("ledger_account_id")
);
--> statement-breakpoint
CREATE TABLE "alert_notifications" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_notifications_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"rule" text NOT NULL,
	"event" text NOT NULL,
	"value" double precision,
	"threshold" double precision,
	"summary" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"last_error" text,
	CONSTRAINT "alert_notifications_event_check" CHECK ("alert_notifications"."event" in ('firing', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "alert_state" (
	"rule" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'ok' NOT NULL,
	"value" double precision,
	"threshold" double precision,
	"summary" text,
	"changed_at" timestamp with time zone,
	"evaluated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_state_status_check" CHECK ("alert_state"."status" in ('ok', 'firing'))
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"name" text NOT NULL,
	"environment" text NOT NULL,
	"prefix" text NOT NULL,
	"digest" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_digest_check" CHECK ("api_keys"."digest" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "api_keys_environment_check" CHECK ("api_keys"."environment" in ('local', 'staging', 'production')),
	CONSTRAINT "api_keys_name_check" CHECK (length("api_keys"."name") between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "auth_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"user_id" text NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"id_token" text,
	"access_token_expires_at" timestamp with time zone,
	"refresh_token_expires_at" timestamp with time zone,
	"scope" text,
	"password" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"user_id" text NOT NULL,
	CONSTRAINT "auth_sessions_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "auth_users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"image" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auth_users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "auth_verifications" (
	"id" text PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
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
CREATE TABLE "dead_letter_retries" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"retry_job_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letter_retries_retry_job_id_key" UNIQUE("retry_job_id")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"account_id" uuid NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"job_id" uuid,
	"response_status" smallint,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("account_id","key"),
	CONSTRAINT "idempotency_keys_key_check" CHECK (length("idempotency_keys"."key") between 1 and 255),
	CONSTRAINT "idempotency_keys_fingerprint_check" CHECK ("idempotency_keys"."fingerprint" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"type" text NOT NULL,
	"input" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"hold_id" bigint NOT NULL,
	"cost" bigint NOT NULL,
	"charged" bigint,
	"output" jsonb,
	"last_error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"lease_until" timestamp with time zone,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"last_sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_hold_id_key" UNIQUE("hold_id"),
	CONSTRAINT "jobs_status_check" CHECK ("jobs"."status" in ('queued', 'running', 'succeeded', 'failed', 'dead_lettered', 'canceled', 'expired')),
	CONSTRAINT "jobs_cost_check" CHECK ("jobs"."cost" between 1 and 9007199254740991),
	CONSTRAINT "jobs_charged_check" CHECK ("jobs"."charged" is null or "jobs"."charged" between 1 and "jobs"."cost"),
	CONSTRAINT "jobs_attempts_check" CHECK ("jobs"."attempts" between 0 and "jobs"."max_attempts" and "jobs"."max_attempts" >= 1
        and ("jobs"."status" <> 'queued' or "jobs"."attempts" < "jobs"."max_attempts")),
	CONSTRAINT "jobs_lease_check" CHECK (("jobs"."status" = 'running') = ("jobs"."lease_until" is not null)),
	CONSTRAINT "jobs_type_check" CHECK ("jobs"."type" ~ '^[a-z][a-z0-9_]{0,63}$')
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_accounts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"account_id" uuid,
	"shard" smallint,
	"debits_pending" bigint DEFAULT 0 NOT NULL,
	"debits_posted" bigint DEFAULT 0 NOT NULL,
	"credits_pending" bigint DEFAULT 0 NOT NULL,
	"credits_posted" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_account_id_key" UNIQUE("account_id"),
	CONSTRAINT "ledger_accounts_kind_check" CHECK ("ledger_accounts"."kind" in ('user', 'stripe', 'promo', 'revenue')),
	CONSTRAINT "ledger_accounts_owner_check" CHECK (("ledger_accounts"."kind" = 'user') = ("ledger_accounts"."account_id" is not null) and ("ledger_accounts"."kind" = 'user') = ("ledger_accounts"."shard" is null)),
	CONSTRAINT "ledger_accounts_totals_check" CHECK ("ledger_accounts"."debits_pending" between 0 and 9007199254740991 and "ledger_accounts"."debits_posted" between 0 and 9007199254740991
        and "ledger_accounts"."credits_pending" between 0 and 9007199254740991 and "ledger_accounts"."credits_posted" between 0 and 9007199254740991),
	CONSTRAINT "ledger_accounts_user_not_overdrawn_check" CHECK ("ledger_accounts"."kind" <> 'user' or "ledger_accounts"."debits_pending" + "ledger_accounts"."debits_posted" <= "ledger_accounts"."credits_posted")
);
--> statement-breakpoint
CREATE TABLE "app_meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metric_snapshots" (
	"minute" timestamp with time zone PRIMARY KEY NOT NULL,
	"queue_depth" integer NOT NULL,
	"running" integer NOT NULL,
	"dead_letter_total" integer NOT NULL,
	"failed_jobs_1h" integer NOT NULL,
	"webhook_failures_1h" integer NOT NULL,
	"heartbeat_age_s" double precision
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
CREATE TABLE "transfers" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "transfers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"debit_account_id" bigint NOT NULL,
	"credit_account_id" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"ref" text,
	"pending_id" bigint,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfers_amount_check" CHECK ("transfers"."amount" between 1 and 9007199254740991),
	CONSTRAINT "transfers_accounts_check" CHECK ("transfers"."debit_account_id" <> "transfers"."credit_account_id"),
	CONSTRAINT "transfers_kind_check" CHECK ("transfers"."kind" in ('top_up', 'grant', 'hold', 'capture', 'release', 'expire')),
	CONSTRAINT "transfers_status_check" CHECK ("transfers"."status" in ('pending', 'posted', 'voided')),
	CONSTRAINT "transfers_hold_shape_check" CHECK (("transfers"."kind" = 'hold') = ("transfers"."expires_at" is not null) and ("transfers"."status" <> 'pending' or "transfers"."kind" = 'hold')),
	CONSTRAINT "transfers_resolution_shape_check" CHECK (("transfers"."pending_id" is not null) = ("transfers"."kind" in ('capture', 'release', 'expire'))
        and ("transfers"."kind" <> 'capture' or "transfers"."status" = 'posted')
        and ("transfers"."kind" not in ('release', 'expire') or "transfers"."status" = 'voided')
        and ("transfers"."kind" not in ('top_up', 'grant') or "transfers"."status" = 'posted'))
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
CREATE TABLE "worker_heartbeats" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "worker_heartbeats_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"role" text NOT NULL,
	"deployment" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_ledger_account_id_ledger_accounts_id_fk" FOREIGN KEY ("ledger_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_credentials" ADD CONSTRAINT "auth_credentials_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD CONSTRAINT "auth_sessions_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkout_sessions" ADD CONSTRAINT "checkout_sessions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letter_retries" ADD CONSTRAINT "dead_letter_retries_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letter_retries" ADD CONSTRAINT "dead_letter_retries_retry_job_id_jobs_id_fk" FOREIGN KEY ("retry_job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_hold_id_transfers_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD CONSTRAINT "stripe_events_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_debit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("debit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_credit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("credit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_pending_id_transfers_id_fk" FOREIGN KEY ("pending_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_notifications_undelivered_idx" ON "alert_notifications" USING btree ("id") WHERE "alert_notifications"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "alert_notifications_created_at_idx" ON "alert_notifications" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_digest_key" ON "api_keys" USING btree ("digest");--> statement-breakpoint
CREATE INDEX "api_keys_account_id_idx" ON "api_keys" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "auth_credentials_user_id_idx" ON "auth_credentials" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "auth_sessions_user_id_idx" ON "auth_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "auth_verifications_identifier_idx" ON "auth_verifications" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "checkout_sessions_account_id_idx" ON "checkout_sessions" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "jobs_account_created_idx" ON "jobs" USING btree ("account_id","created_at","id");--> statement-breakpoint
CREATE INDEX "jobs_account_status_created_idx" ON "jobs" USING btree ("account_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "jobs_queued_run_after_idx" ON "jobs" USING btree ("run_after") WHERE "jobs"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "jobs_running_lease_idx" ON "jobs" USING btree ("lease_until") WHERE "jobs"."status" = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_system_shard_key" ON "ledger_accounts" USING btree ("kind","shard") WHERE "ledger_accounts"."kind" <> 'user';--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_events_session_credited_key" ON "stripe_events" USING btree ("session_id") WHERE "stripe_events"."status" = 'credited';--> statement-breakpoint
CREATE INDEX "stripe_events_session_id_idx" ON "stripe_events" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "stripe_events_status_received_at_idx" ON "stripe_events" USING btree ("status","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_kind_ref_key" ON "transfers" USING btree ("kind","ref") WHERE "transfers"."ref" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_pending_id_key" ON "transfers" USING btree ("pending_id") WHERE "transfers"."pending_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_debit_account_id_idx" ON "transfers" USING btree ("debit_account_id","id");--> statement-breakpoint
CREATE INDEX "transfers_credit_account_id_idx" ON "transfers" USING btree ("credit_account_id","id");--> statement-breakpoint
CREATE INDEX "transfers_pending_expires_at_idx" ON "transfers" USING btree ("expires_at") WHERE "transfers"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_failures_created_at_idx" ON "webhook_failures" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "worker_heartbeats_seen_at_idx" ON "worker_heartbeats" USING btree ("seen_at");