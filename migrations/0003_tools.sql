CREATE TABLE `tool_results` (
	`owner_id` text NOT NULL,
	`call_key` text NOT NULL,
	`tool` text NOT NULL,
	`state` text NOT NULL,
	`output` text,
	`is_error` integer DEFAULT false NOT NULL,
	`duration_ms` integer,
	PRIMARY KEY(`owner_id`, `call_key`)
);
--> statement-breakpoint
ALTER TABLE `agents` ADD `tools` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `max_turns` integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE `batches` ADD `avg_tool_calls` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `messages` text;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `tool_calls` integer DEFAULT 0 NOT NULL;