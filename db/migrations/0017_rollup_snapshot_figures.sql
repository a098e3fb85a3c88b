-- One statement: each generated column added apart would rewrite the table once.
ALTER TABLE "rollup_snapshots"
	ADD COLUMN "points_done" double precision GENERATED ALWAYS AS (("metrics" #>> '{points,done}')::float8) STORED,
	ADD COLUMN "points_total" double precision GENERATED ALWAYS AS (("metrics" #>> '{points,total}')::float8) STORED,
	ADD COLUMN "counts_done" double precision GENERATED ALWAYS AS (("metrics" #>> '{counts,done}')::float8) STORED,
	ADD COLUMN "counts_total" double precision GENERATED ALWAYS AS (("metrics" #>> '{counts,total}')::float8) STORED,
	ADD COLUMN "counts_removed" double precision GENERATED ALWAYS AS (("metrics" #>> '{counts,removed}')::float8) STORED;--> statement-breakpoint
CREATE INDEX "rollup_snapshots_scope_idx" ON "rollup_snapshots" USING btree ("scope","day","health","points_done","points_total","counts_done","counts_total","counts_removed");