CREATE TABLE "item_rollups" (
	"ref" text PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"project" text NOT NULL,
	"tracker" text NOT NULL,
	"kind" text NOT NULL,
	"status_category" text NOT NULL,
	"due" timestamp with time zone,
	"team" text,
	"owner_id" text,
	"owner_name" text,
	"epic" text,
	"health" text,
	"child_due" timestamp with time zone,
	"points" double precision,
	"start" timestamp with time zone,
	"created" timestamp with time zone NOT NULL,
	"started" timestamp with time zone,
	"resolved" timestamp with time zone,
	"rule_checks" integer,
	"open_error" integer DEFAULT 0 NOT NULL,
	"open_warning" integer DEFAULT 0 NOT NULL,
	"open_info" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "item_rollups_container_idx" ON "item_rollups" USING btree ("kind","connection","project","ref","status_category","health","due","tracker","team","owner_id","owner_name","start","started","created","child_due") WHERE "item_rollups"."kind" in ('initiative', 'epic', 'feature');--> statement-breakpoint
CREATE INDEX "item_rollups_team_idx" ON "item_rollups" USING btree ("team") WHERE "item_rollups"."team" is not null;--> statement-breakpoint
CREATE INDEX "item_rollups_owner_idx" ON "item_rollups" USING btree ("owner_id","owner_name") WHERE "item_rollups"."owner_id" is not null;--> statement-breakpoint
CREATE INDEX "findings_open_order_idx" ON "findings" USING btree ((case "severity" when 'error' then 0 when 'warning' then 1 else 2 end),"rule","ref") WHERE "findings"."status" = 'open';
--> statement-breakpoint
-- Filled here for an existing database; from now on src/rollups/items.ts keeps it (allRows is this statement).
INSERT INTO "item_rollups" ("ref", "connection", "project", "tracker", "kind", "status_category", "due", "team",
  "owner_id", "owner_name", "epic", "health", "child_due", "points", "start", "created", "started", "resolved", "rule_checks",
  "open_error", "open_warning", "open_info")
WITH RECURSIVE
w AS MATERIALIZED (
  SELECT ref, parent, connection, project, tracker, kind, status_category, due, points, start, created, started, resolved,
    coalesce(nullif(fields->>'team', ''), nullif(raw #>> '{fields,System.AreaPath}', '')) AS team,
    coalesce(owner, assignee)->>'id' AS owner_id, coalesce(owner, assignee)->>'name' AS owner_name
  FROM work_items WHERE deleted_at IS NULL
),
e(ref, epic) AS (
  SELECT ref, ref FROM w WHERE kind = 'epic'
  UNION ALL
  SELECT c.ref, d.epic FROM e d JOIN w c ON c.parent = d.ref WHERE c.kind <> 'epic'
),
fc AS (
  SELECT ref, count(*) FILTER (WHERE severity = 'error')::int AS e, count(*) FILTER (WHERE severity = 'warning')::int AS wa,
    count(*) FILTER (WHERE severity = 'info')::int AS i
  FROM findings WHERE status = 'open' GROUP BY ref
),
cd AS (SELECT parent, max(due) AS due FROM w WHERE status_category <> 'removed' AND parent IS NOT NULL GROUP BY parent)
SELECT w.ref, w.connection, w.project, w.tracker, w.kind, w.status_category, w.due, w.team, w.owner_id, w.owner_name,
  e.epic, r.health, CASE WHEN w.kind IN ('initiative', 'epic', 'feature') THEN cd.due END, w.points, w.start, w.created,
  w.started, w.resolved, ic.rule_checks,
  coalesce(fc.e, 0), coalesce(fc.wa, 0), coalesce(fc.i, 0)
FROM w
LEFT JOIN e ON e.ref = w.ref
LEFT JOIN rollups r ON w.kind IN ('initiative', 'epic', 'feature') AND r.scope = 'epic:' || w.ref
LEFT JOIN cd ON cd.parent = w.ref
LEFT JOIN item_checks ic ON ic.ref = w.ref
LEFT JOIN fc ON fc.ref = w.ref;
