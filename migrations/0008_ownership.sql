ALTER TABLE `evaluations` ADD `kind` text DEFAULT 'labelled' NOT NULL;--> statement-breakpoint
ALTER TABLE `library_versions` ADD `source` text DEFAULT 'learned' NOT NULL;--> statement-breakpoint
ALTER TABLE `library_versions` ADD `author` text;--> statement-breakpoint
ALTER TABLE `library_versions` ADD `model` text;--> statement-breakpoint
ALTER TABLE `promotions` ADD `warnings` text DEFAULT '[]' NOT NULL;