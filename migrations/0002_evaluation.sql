CREATE TABLE `captures` (
	`request_id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`version` integer,
	`request` text NOT NULL,
	`question` text NOT NULL,
	`response_text` text NOT NULL,
	`reward` real,
	`answer` text,
	`comment` text,
	`labelled_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`expires_at` text NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `captures_agent` ON `captures` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `captures_expiry` ON `captures` (`expires_at`);--> statement-breakpoint
CREATE TABLE `evaluation_scores` (
	`evaluation_id` text NOT NULL,
	`version` integer NOT NULL,
	`sample_idx` integer NOT NULL,
	`rewards` text NOT NULL,
	`mean_reward` real NOT NULL,
	PRIMARY KEY(`evaluation_id`, `version`, `sample_idx`),
	FOREIGN KEY (`evaluation_id`) REFERENCES `evaluations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `evaluations` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`dataset_id` text NOT NULL,
	`purpose` text DEFAULT 'manual' NOT NULL,
	`run_id` text,
	`versions` text NOT NULL,
	`params` text NOT NULL,
	`status` text NOT NULL,
	`summary` text,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `evaluations_agent` ON `evaluations` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `feedback` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`request_id` text NOT NULL,
	`reward` real,
	`answer` text,
	`comment` text,
	`captured` integer NOT NULL,
	`sampled` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `feedback_agent_request` ON `feedback` (`agent_id`,`request_id`);--> statement-breakpoint
CREATE TABLE `promotions` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`decided_by` text NOT NULL,
	`decision` text NOT NULL,
	`from_version` integer,
	`to_version` integer,
	`run_id` text,
	`evaluation_id` text,
	`figures` text,
	`reason` text DEFAULT '' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `promotions_agent` ON `promotions` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `protocols` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`kind` text NOT NULL,
	`params` text NOT NULL,
	`run_id` text NOT NULL,
	`evaluation_ids` text DEFAULT '[]' NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `protocols_agent` ON `protocols` (`agent_id`);--> statement-breakpoint
CREATE TABLE `recoveries` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`target_id` text NOT NULL,
	`action` text NOT NULL,
	`detail` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `recoveries_target` ON `recoveries` (`target_id`);--> statement-breakpoint
CREATE TABLE `scheduled_runs` (
	`agent_id` text NOT NULL,
	`period` integer NOT NULL,
	`status` text NOT NULL,
	`run_id` text,
	`dataset_id` text,
	`feedback_samples` integer DEFAULT 0 NOT NULL,
	`reason` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`agent_id`, `period`),
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `agents` ADD `gate` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `capture` text DEFAULT '{"enabled":false,"retentionDays":30}' NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `schedule` text;