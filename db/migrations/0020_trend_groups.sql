CREATE TABLE "trend_group_days" (
	"day" date NOT NULL,
	"connection" text NOT NULL,
	"project" text NOT NULL,
	"tracker" text NOT NULL,
	"team" text,
	"owner_id" text,
	"owner_name" text,
	"epics" integer NOT NULL,
	"green" integer NOT NULL,
	"amber" integer NOT NULL,
	"red" integer NOT NULL,
	"points_done" numeric NOT NULL,
	"points_total" numeric NOT NULL,
	"counts_done" numeric NOT NULL,
	"counted" numeric NOT NULL,
	CONSTRAINT "trend_group_days_key" UNIQUE NULLS NOT DISTINCT("day","connection","project","tracker","team","owner_id","owner_name")
);
--> statement-breakpoint
CREATE TABLE "trend_members" (
	"ref" text PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"project" text NOT NULL,
	"tracker" text NOT NULL,
	"team" text,
	"owner_id" text,
	"owner_name" text
);
--> statement-breakpoint
-- One epic snapshot's figures, as a group sums them.
CREATE TYPE "trend_figures" AS (
	"ref" text, "day" date, "health" text, "points_done" numeric, "points_total" numeric,
	"counts_done" numeric, "counted" numeric
);
--> statement-breakpoint
-- Adds (sign 1) or takes away (-1) epic snapshots' figures from their epics' groups as
-- trend_members records them; epics it does not hold are no part of any group.
CREATE FUNCTION "trend_apply"("figures" "trend_figures"[], "sign" integer) RETURNS void LANGUAGE sql AS $$
	INSERT INTO "trend_group_days" AS t
		("day", "connection", "project", "tracker", "team", "owner_id", "owner_name",
		 "epics", "green", "amber", "red", "points_done", "points_total", "counts_done", "counted")
	SELECT f."day", m."connection", m."project", m."tracker", m."team", m."owner_id", m."owner_name",
		"sign" * count(*),
		"sign" * count(*) FILTER (WHERE f."health" = 'green'),
		"sign" * count(*) FILTER (WHERE f."health" = 'amber'),
		"sign" * count(*) FILTER (WHERE f."health" = 'red'),
		"sign" * coalesce(sum(f."points_done"), 0),
		"sign" * coalesce(sum(f."points_total"), 0),
		"sign" * coalesce(sum(f."counts_done"), 0),
		"sign" * coalesce(sum(f."counted"), 0)
	FROM unnest("figures") f
	JOIN "trend_members" m ON m."ref" = f."ref"
	GROUP BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT ON CONSTRAINT "trend_group_days_key" DO UPDATE SET
		"epics" = t."epics" + excluded."epics",
		"green" = t."green" + excluded."green",
		"amber" = t."amber" + excluded."amber",
		"red" = t."red" + excluded."red",
		"points_done" = t."points_done" + excluded."points_done",
		"points_total" = t."points_total" + excluded."points_total",
		"counts_done" = t."counts_done" + excluded."counts_done",
		"counted" = t."counted" + excluded."counted"
$$;
--> statement-breakpoint
-- Every writer of rollup_snapshots goes through these triggers, one statement at a time from its
-- transition tables. An epic's snapshot and its move (trend_sync_members) cannot pass each other
-- in concurrent transactions: each transaction that writes either has first upserted or deleted
-- the epic's `rollups` row (src/rollups/compute.ts), and holds that row until it commits.
CREATE FUNCTION "trend_snapshots_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		PERFORM "trend_apply"((SELECT array_agg(ROW(substr(o."scope", 6), o."day", o."health", o."points_done",
			o."points_total", o."counts_done", o."counts_total" - o."counts_removed")::"trend_figures")
			FROM "old_rows" o WHERE o."scope" LIKE 'epic:%'), -1);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		PERFORM "trend_apply"((SELECT array_agg(ROW(substr(n."scope", 6), n."day", n."health", n."points_done",
			n."points_total", n."counts_done", n."counts_total" - n."counts_removed")::"trend_figures")
			FROM "new_rows" n WHERE n."scope" LIKE 'epic:%'), 1);
	END IF;
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE "trend_group_days";
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "trend_snapshots_inserted" AFTER INSERT ON "rollup_snapshots"
	REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "trend_snapshots_changed"();
--> statement-breakpoint
CREATE TRIGGER "trend_snapshots_updated" AFTER UPDATE ON "rollup_snapshots"
	REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "trend_snapshots_changed"();
--> statement-breakpoint
CREATE TRIGGER "trend_snapshots_deleted" AFTER DELETE ON "rollup_snapshots"
	REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "trend_snapshots_changed"();
--> statement-breakpoint
CREATE TRIGGER "trend_snapshots_truncated" AFTER TRUNCATE ON "rollup_snapshots"
	FOR EACH STATEMENT EXECUTE FUNCTION "trend_snapshots_changed"();
--> statement-breakpoint
-- Brings trend_members to item_rollups' live, not removed epics: a moved, new or gone epic's
-- snapshots leave its old group and join its new one. Returns how many epics moved. Called after
-- item_rollups is written (src/rollups/items.ts); until then the trend corrects for the moves.
CREATE FUNCTION "trend_sync_members"() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	moved integer;
	refs text[];
	olds text[];
BEGIN
	SELECT count(*), array_agg(coalesce(c."ref", m."ref")), array_agg(m."ref") FILTER (WHERE m."ref" IS NOT NULL)
	INTO moved, refs, olds
	FROM (
		SELECT "ref", "connection", "project", "tracker", "team", "owner_id", "owner_name" FROM "item_rollups"
		WHERE "kind" = 'epic' AND "status_category" <> 'removed'
	) c
	FULL JOIN "trend_members" m ON m."ref" = c."ref"
	WHERE c."ref" IS NULL OR m."ref" IS NULL
		OR (c."connection", c."project", c."tracker", c."team", c."owner_id", c."owner_name")
			IS DISTINCT FROM (m."connection", m."project", m."tracker", m."team", m."owner_id", m."owner_name");
	IF moved = 0 THEN
		RETURN 0;
	END IF;
	PERFORM "trend_apply"((SELECT array_agg(ROW(substr(s."scope", 6), s."day", s."health", s."points_done",
		s."points_total", s."counts_done", s."counts_total" - s."counts_removed")::"trend_figures")
		FROM "rollup_snapshots" s WHERE s."scope" = ANY (SELECT 'epic:' || r FROM unnest(olds) r)), -1);
	DELETE FROM "trend_members" WHERE "ref" = ANY (refs);
	INSERT INTO "trend_members"
	SELECT "ref", "connection", "project", "tracker", "team", "owner_id", "owner_name" FROM "item_rollups"
	WHERE "ref" = ANY (refs) AND "kind" = 'epic' AND "status_category" <> 'removed';
	PERFORM "trend_apply"((SELECT array_agg(ROW(substr(s."scope", 6), s."day", s."health", s."points_done",
		s."points_total", s."counts_done", s."counts_total" - s."counts_removed")::"trend_figures")
		FROM "rollup_snapshots" s WHERE s."scope" = ANY (SELECT 'epic:' || r FROM unnest(refs) r)), 1);
	DELETE FROM "trend_group_days" WHERE "epics" = 0;
	RETURN moved;
END $$;
--> statement-breakpoint
SELECT "trend_sync_members"();
