CREATE TABLE "open_finding_counts" (
	"connection" text NOT NULL,
	"project" text NOT NULL,
	"tracker" text NOT NULL,
	"team" text,
	"owner_id" text,
	"owner_name" text,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"open" integer NOT NULL,
	CONSTRAINT "open_finding_counts_key" UNIQUE NULLS NOT DISTINCT("connection","project","tracker","team","owner_id","owner_name","rule","severity")
);
--> statement-breakpoint
ALTER TABLE "item_rollups" ADD COLUMN "open_rules" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
UPDATE "item_rollups" i SET "open_rules" = f.rules
FROM (SELECT ref, jsonb_object_agg(rule, severity) AS rules FROM findings WHERE status = 'open' GROUP BY ref) f
WHERE f.ref = i.ref;--> statement-breakpoint
INSERT INTO "open_finding_counts" (connection, project, tracker, team, owner_id, owner_name, rule, severity, open)
SELECT i.connection, i.project, i.tracker, i.team, i.owner_id, i.owner_name, r.key, r.value, count(*)::int
FROM item_rollups i, jsonb_each_text(i.open_rules) r
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
