CREATE TABLE "baseline_items" (
	"baseline_id" bigint NOT NULL,
	"ref" text NOT NULL,
	"target" date,
	"p85" date,
	"scope" jsonb NOT NULL,
	CONSTRAINT "baseline_items_baseline_id_ref_pk" PRIMARY KEY("baseline_id","ref")
);
--> statement-breakpoint
CREATE TABLE "baselines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"program" text,
	"as_of" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "forecasts" (
	"scope" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"confidence" text NOT NULL,
	"unit" text NOT NULL,
	"remaining" double precision NOT NULL,
	"basis" text NOT NULL,
	"p50" date,
	"p85" date,
	"p95" date,
	"target" date,
	"on_time_probability" double precision,
	"weeks_of_history" integer NOT NULL,
	"reason" text,
	"published_p85" date,
	"published_on_time" double precision,
	"inputs_hash" text NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "history_cursors" (
	"connection" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_history" (
	"ref" text PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"transitions" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "team_flow" (
	"team" text PRIMARY KEY NOT NULL,
	"weeks" jsonb NOT NULL,
	"cycle_time" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "baselines_name_uq" ON "baselines" USING btree ("name");--> statement-breakpoint
CREATE INDEX "item_history_connection_idx" ON "item_history" USING btree ("connection");