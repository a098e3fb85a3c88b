ALTER TABLE "webhook_inbox" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "write_outbox" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;