CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text,
	"ledger_account_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_user_id_key" UNIQUE("user_id"),
	CONSTRAINT "accounts_ledger_account_id_key" UNIQUE("ledger_account_id")
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
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_ledger_account_id_ledger_accounts_id_fk" FOREIGN KEY ("ledger_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_debit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("debit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_credit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("credit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_pending_id_transfers_id_fk" FOREIGN KEY ("pending_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_system_shard_key" ON "ledger_accounts" USING btree ("kind","shard") WHERE "ledger_accounts"."kind" <> 'user';--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_kind_ref_key" ON "transfers" USING btree ("kind","ref") WHERE "transfers"."ref" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_pending_id_key" ON "transfers" USING btree ("pending_id") WHERE "transfers"."pending_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_debit_account_id_idx" ON "transfers" USING btree ("debit_account_id","id");--> statement-breakpoint
CREATE INDEX "transfers_credit_account_id_idx" ON "transfers" USING btree ("credit_account_id","id");--> statement-breakpoint
CREATE INDEX "transfers_pending_expires_at_idx" ON "transfers" USING btree ("expires_at") WHERE "transfers"."status" = 'pending';