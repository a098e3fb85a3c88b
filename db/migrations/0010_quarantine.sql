CREATE TABLE "quarantine" (
	"ref" text NOT NULL,
	"connection" text NOT NULL,
	"key" text NOT NULL,
	"stage" text NOT NULL,
	"reason" text NOT NULL,
	"failures" integer DEFAULT 1 NOT NULL,
	"first_failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_item_uq" ON "quarantine" USING btree (md5("ref"),"stage");--> statement-breakpoint
CREATE INDEX "quarantine_connection_idx" ON "quarantine" USING btree ("connection","stage");