CREATE TABLE "eval_queue" (
	"ref" text PRIMARY KEY NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_checks" (
	"ref" text PRIMARY KEY NOT NULL,
	"rule_checks" integer NOT NULL
);
--> statement-breakpoint
-- Carry over what the dropped columns knew: applicable-rule counts, and items whose content was
-- stored but never evaluated.
INSERT INTO "item_checks" ("ref", "rule_checks") SELECT "ref", "rule_checks" FROM "work_items" WHERE "rule_checks" IS NOT NULL;--> statement-breakpoint
INSERT INTO "eval_queue" ("ref") SELECT "ref" FROM "work_items" WHERE "evaluated_hash" IS DISTINCT FROM "content_hash";--> statement-breakpoint
DROP INDEX "work_items_unevaluated_idx";--> statement-breakpoint
ALTER TABLE "work_items" DROP COLUMN "evaluated_hash";--> statement-breakpoint
ALTER TABLE "work_items" DROP COLUMN "rule_checks";