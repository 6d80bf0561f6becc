ALTER TABLE `batches` ADD `refused` text;--> statement-breakpoint
ALTER TABLE `groups` ADD `refused` text;--> statement-breakpoint
ALTER TABLE `groups` ADD `credit` text;--> statement-breakpoint
ALTER TABLE `library_items` ADD `stats` text;