CREATE TABLE "burn_ups" (
	"scope" text PRIMARY KEY NOT NULL,
	"membership" text NOT NULL,
	"cutoff" double precision NOT NULL,
	"first" double precision,
	"base" jsonb NOT NULL,
	"steps" jsonb NOT NULL,
	"computed_at" timestamp with time zone NOT NULL
);
