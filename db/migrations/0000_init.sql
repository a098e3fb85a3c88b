CREATE TABLE "api_tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "applied_state" (
	"ref" text NOT NULL,
	"target" text NOT NULL,
	"hash" text NOT NULL,
	"external_id" text,
	"value" jsonb,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "applied_state_ref_target_pk" PRIMARY KEY("ref","target")
);
--> statement-breakpoint
CREATE TABLE "finding_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"rule" text NOT NULL,
	"status" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"message" text NOT NULL,
	"rule_hash" text NOT NULL,
	"item_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"status" text NOT NULL,
	"message" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"waived_reason" text,
	"waived_until" date,
	"rule_hash" text NOT NULL,
	"item_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_links" (
	"source" text NOT NULL,
	"target" text NOT NULL,
	"type" text NOT NULL,
	"relation" text,
	CONSTRAINT "item_links_source_target_type_pk" PRIMARY KEY("source","target","type")
);
--> statement-breakpoint
CREATE TABLE "kv" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollup_snapshots" (
	"day" date NOT NULL,
	"scope" text NOT NULL,
	"percent_complete" double precision,
	"health" text NOT NULL,
	"metrics" jsonb NOT NULL,
	CONSTRAINT "rollup_snapshots_day_scope_pk" PRIMARY KEY("day","scope")
);
--> statement-breakpoint
CREATE TABLE "rollups" (
	"scope" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"percent_complete" double precision,
	"health" text NOT NULL,
	"health_reason" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_cursors" (
	"connection" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"mode" text NOT NULL,
	"connection" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"summary" jsonb,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "webhook_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"tracker" text NOT NULL,
	"delivery_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"event" text NOT NULL,
	"keys" jsonb NOT NULL,
	"occurred_at" timestamp with time zone,
	"echo" boolean DEFAULT false NOT NULL,
	"body" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "work_items" (
	"ref" text PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"tracker" text NOT NULL,
	"key" text NOT NULL,
	"project" text NOT NULL,
	"kind" text NOT NULL,
	"type" text NOT NULL,
	"title" text NOT NULL,
	"status" text NOT NULL,
	"status_category" text NOT NULL,
	"assignee" jsonb,
	"owner" jsonb,
	"priority" text,
	"labels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created" timestamp with time zone NOT NULL,
	"updated" timestamp with time zone NOT NULL,
	"started" timestamp with time zone,
	"resolved" timestamp with time zone,
	"start" timestamp with time zone,
	"due" timestamp with time zone,
	"points" double precision,
	"estimate_hours" double precision,
	"remaining_hours" double precision,
	"parent" text,
	"links" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"iteration" jsonb,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"url" text NOT NULL,
	"revision" text NOT NULL,
	"raw" jsonb,
	"content_hash" text NOT NULL,
	"deleted_at" timestamp with time zone,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "write_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"connection" text NOT NULL,
	"ref" text NOT NULL,
	"target" text NOT NULL,
	"action" text NOT NULL,
	"http_status" integer,
	"outbox_id" bigint,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "write_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"ref" text NOT NULL,
	"target" text NOT NULL,
	"payload" jsonb NOT NULL,
	"desired_hash" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"priority" integer DEFAULT 100 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"leased_by" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "finding_history_ref_idx" ON "finding_history" USING btree ("ref","at");--> statement-breakpoint
CREATE UNIQUE INDEX "findings_ref_rule_uq" ON "findings" USING btree ("ref","rule");--> statement-breakpoint
CREATE INDEX "findings_status_idx" ON "findings" USING btree ("status","rule");--> statement-breakpoint
CREATE INDEX "item_links_target_idx" ON "item_links" USING btree ("target");--> statement-breakpoint
CREATE INDEX "sync_runs_started_idx" ON "sync_runs" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_inbox_delivery_uq" ON "webhook_inbox" USING btree ("connection","delivery_id");--> statement-breakpoint
CREATE INDEX "webhook_inbox_status_idx" ON "webhook_inbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "work_items_connection_idx" ON "work_items" USING btree ("connection","project");--> statement-breakpoint
CREATE INDEX "work_items_parent_idx" ON "work_items" USING btree ("parent");--> statement-breakpoint
CREATE INDEX "work_items_kind_idx" ON "work_items" USING btree ("kind");--> statement-breakpoint
CREATE INDEX "write_audit_ref_idx" ON "write_audit" USING btree ("ref","at");--> statement-breakpoint
CREATE INDEX "write_outbox_claim_idx" ON "write_outbox" USING btree ("status","priority","next_attempt_at");--> statement-breakpoint
CREATE INDEX "write_outbox_ref_idx" ON "write_outbox" USING btree ("ref","target");