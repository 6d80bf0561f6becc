ALTER TABLE `batches` ADD `refused` text;--> statement-breakpoint
ALTER TABLE `feedback` ADD `key_id` text;--> statement-breakpoint
ALTER TABLE `feedback` ADD `status` text DEFAULT 'approved' NOT NULL;--> statement-breakpoint
ALTER TABLE `feedback` ADD `reviewed_at` text;--> statement-breakpoint
CREATE INDEX `feedback_key_day` ON `feedback` (`key_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `groups` ADD `refused` text;--> statement-breakpoint
ALTER TABLE `groups` ADD `credit` text;--> statement-breakpoint
ALTER TABLE `library_items` ADD `stats` text;