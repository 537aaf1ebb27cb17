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
CREATE TABLE "dead_letter_retries" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"retry_job_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letter_retries_retry_job_id_key" UNIQUE("retry_job_id")
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
ALTER TABLE "dead_letter_retries" ADD CONSTRAINT "dead_letter_retries_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letter_retries" ADD CONSTRAINT "dead_letter_retries_retry_job_id_jobs_id_fk" FOREIGN KEY ("retry_job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_notifications_undelivered_idx" ON "alert_notifications" USING btree ("id") WHERE "alert_notifications"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "alert_notifications_created_at_idx" ON "alert_notifications" USING btree ("created_at");