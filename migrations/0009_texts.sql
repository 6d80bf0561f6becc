CREATE TABLE `text_sweeps` (
	`prefix` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `groups` ADD `advantage_ref` text;--> statement-breakpoint
ALTER TABLE `llm_calls` ADD `response_ref` text;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `response_ref` text;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `critique_ref` text;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `summary_ref` text;--> statement-breakpoint
ALTER TABLE `rollouts` ADD `messages_ref` text;--> statement-breakpoint
ALTER TABLE `tool_results` ADD `output_ref` text;