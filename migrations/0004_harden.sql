CREATE TABLE `idempotency_keys` (
	`route` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer,
	`response` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`route`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
-- Databases made before this index may hold two active runs of one agent: all but the newest fail.
UPDATE `runs` SET `status` = 'failed', `reason` = 'error', `error` = 'another run of this agent was active at the same time (one active run per agent since migration 0004)'
WHERE `status` IN ('queued', 'running') AND EXISTS (
  SELECT 1 FROM `runs` AS `newer` WHERE `newer`.`agent_id` = `runs`.`agent_id` AND `newer`.`status` IN ('queued', 'running')
  AND (`newer`.`created_at` > `runs`.`created_at` OR (`newer`.`created_at` = `runs`.`created_at` AND `newer`.`id` > `runs`.`id`))
);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_one_active_per_agent` ON `runs` (`agent_id`) WHERE status in ('queued', 'running');