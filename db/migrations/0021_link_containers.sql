ALTER TABLE "item_links" ADD COLUMN "source_container" text;--> statement-breakpoint
ALTER TABLE "item_links" ADD COLUMN "target_container" text;--> statement-breakpoint
-- Where a link's end sits on a roadmap: the end itself when it is an epic or feature, else its
-- parent or grandparent that is one, else the end; null when the end is not a live item. The
-- timeline reads arrows between its bars from these columns instead of walking every link's
-- parents per request.
CREATE FUNCTION link_end_container(r text) RETURNS text LANGUAGE sql STABLE AS $$
  select case when w.kind in ('epic', 'feature') then w.ref
    when p.kind in ('epic', 'feature') then p.ref
    when pp.kind in ('epic', 'feature') then pp.ref
    else w.ref end
  from work_items w
  left join work_items p on p.ref = w.parent
  left join work_items pp on pp.ref = p.parent
  where w.ref = r and w.deleted_at is null
$$;
--> statement-breakpoint
UPDATE "item_links" SET "source_container" = link_end_container("source"), "target_container" = link_end_container("target");
