ALTER TABLE "webhook_inbox" ADD COLUMN "body_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_inbox_body_uq" ON "webhook_inbox" USING btree ("connection","body_hash");