CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`upstream_base_url` text NOT NULL,
	`upstream_model` text NOT NULL,
	`upstream_key_cipher` text,
	`upstream_key_secret` text,
	`allowed_models` text DEFAULT '[]' NOT NULL,
	`system_prompt` text DEFAULT '' NOT NULL,
	`objective` text DEFAULT '' NOT NULL,
	`verifier` text NOT NULL,
	`training_defaults` text DEFAULT '{}' NOT NULL,
	`inject_position` text DEFAULT 'after' NOT NULL,
	`allow_version_pin` integer DEFAULT false NOT NULL,
	`active_version` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_name_unique` ON `agents` (`name`);--> statement-breakpoint
CREATE TABLE `batches` (
	`run_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`batch` integer NOT NULL,
	`status` text NOT NULL,
	`mean_at_g` real NOT NULL,
	`pass_at_g` real NOT NULL,
	`groups_kept` integer NOT NULL,
	`groups_skipped` integer NOT NULL,
	`groups_dropped` integer NOT NULL,
	`plan` text,
	`ops_by_kind` text DEFAULT '{}' NOT NULL,
	`version` integer,
	`reason` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`run_id`, `epoch`, `batch`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`attribution` text,
	`sample_count` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_name_unique` ON `datasets` (`name`);--> statement-breakpoint
CREATE TABLE `groups` (
	`run_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`batch` integer NOT NULL,
	`sample_idx` integer NOT NULL,
	`status` text NOT NULL,
	`mean_reward` real NOT NULL,
	`passed` integer NOT NULL,
	`advantage` text,
	`experiences` text,
	`operations` text,
	`reason` text,
	PRIMARY KEY(`run_id`, `epoch`, `sample_idx`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `library_items` (
	`agent_id` text NOT NULL,
	`version` integer NOT NULL,
	`position` integer NOT NULL,
	`item_id` text NOT NULL,
	`name` text NOT NULL,
	`text` text NOT NULL,
	`provenance` text NOT NULL,
	PRIMARY KEY(`agent_id`, `version`, `item_id`)
);
--> statement-breakpoint
CREATE TABLE `library_versions` (
	`agent_id` text NOT NULL,
	`version` integer NOT NULL,
	`parent_version` integer,
	`run_id` text,
	`origin_key` text NOT NULL,
	`item_count` integer NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`agent_id`, `version`),
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `library_versions_origin` ON `library_versions` (`agent_id`,`origin_key`);--> statement-breakpoint
CREATE TABLE `llm_calls` (
	`owner_id` text NOT NULL,
	`call_key` text NOT NULL,
	`stage` text NOT NULL,
	`attempts` integer NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`cached_tokens` integer NOT NULL,
	`response` text,
	`error` text,
	PRIMARY KEY(`owner_id`, `call_key`)
);
--> statement-breakpoint
CREATE TABLE `proxy_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`name` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`last_used_at` text,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `proxy_keys_hash_unique` ON `proxy_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `proxy_keys_agent` ON `proxy_keys` (`agent_id`);--> statement-breakpoint
CREATE TABLE `rollouts` (
	`run_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`batch` integer NOT NULL,
	`sample_idx` integer NOT NULL,
	`rollout_idx` integer NOT NULL,
	`prompt_version` integer NOT NULL,
	`response` text NOT NULL,
	`reward` real NOT NULL,
	`critique` text,
	`summary` text,
	PRIMARY KEY(`run_id`, `epoch`, `sample_idx`, `rollout_idx`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rollouts_batch` ON `rollouts` (`run_id`,`epoch`,`batch`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`dataset_id` text NOT NULL,
	`kind` text DEFAULT 'manual' NOT NULL,
	`params` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`from_version` integer,
	`latest_version` integer,
	`progress` text DEFAULT '{}' NOT NULL,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_agent` ON `runs` (`agent_id`);--> statement-breakpoint
CREATE INDEX `runs_dataset_status` ON `runs` (`dataset_id`,`status`);--> statement-breakpoint
CREATE TABLE `samples` (
	`dataset_id` text NOT NULL,
	`idx` integer NOT NULL,
	`sample_id` text NOT NULL,
	`question` text NOT NULL,
	`answer` text NOT NULL,
	`extras` text,
	PRIMARY KEY(`dataset_id`, `idx`),
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `samples_dataset_sample` ON `samples` (`dataset_id`,`sample_id`);--> statement-breakpoint
CREATE TABLE `usage_logs` (
	`request_id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`key_id` text,
	`model` text,
	`version` integer,
	`status` integer NOT NULL,
	`stream` integer NOT NULL,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`cached_tokens` integer,
	`latency_ms` real NOT NULL,
	`ttfb_ms` real,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_agent_time` ON `usage_logs` (`agent_id`,`created_at`);