ALTER TABLE "item_history" ADD COLUMN "due_changes" jsonb;--> statement-breakpoint
ALTER TABLE "item_history" ADD COLUMN "parent_changes" jsonb;