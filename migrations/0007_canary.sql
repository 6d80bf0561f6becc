CREATE TABLE `canaries` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`version` integer NOT NULL,
	`base_version` integer,
	`percent` real NOT NULL,
	`sticky_by` text NOT NULL,
	`rules` text NOT NULL,
	`status` text NOT NULL,
	`started_by` text NOT NULL,
	`run_id` text,
	`reason` text,
	`ended_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `canaries_agent` ON `canaries` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `canaries_one_running_per_agent` ON `canaries` (`agent_id`) WHERE status = 'running';--> statement-breakpoint
ALTER TABLE `usage_logs` ADD `canary_id` text;--> statement-breakpoint
CREATE INDEX `usage_canary` ON `usage_logs` (`canary_id`) WHERE canary_id is not null;