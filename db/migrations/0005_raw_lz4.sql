-- The tracker's raw JSON is most of a work item's bytes; pglz compressing it was half the cost
-- of storing a page of items. lz4 compresses about as well at a fraction of the time. Postgres
-- builds without lz4 (PGlite among them) keep pglz: the migration must pass there too.
DO $$
BEGIN
  ALTER TABLE "work_items" ALTER COLUMN "raw" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available here; work_items.raw keeps the default compression';
END
$$;
