ALTER TABLE "eval_queue" ADD COLUMN "reach_owners" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "eval_queue" ADD COLUMN "reach_refs" text[] DEFAULT '{}'::text[] NOT NULL;