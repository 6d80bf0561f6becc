ALTER TABLE `agents` ADD `upstream_format` text DEFAULT 'openai' NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `max_tokens` integer;--> statement-breakpoint
ALTER TABLE `proxy_keys` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `proxy_keys` ADD `requests_per_minute` integer;--> statement-breakpoint
ALTER TABLE `proxy_keys` ADD `tokens_per_day` integer;--> statement-breakpoint
ALTER TABLE `usage_logs` ADD `surface` text DEFAULT 'chat' NOT NULL;--> statement-breakpoint
ALTER TABLE `usage_logs` ADD `usage_estimated` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `usage_key_time` ON `usage_logs` (`key_id`,`created_at`);