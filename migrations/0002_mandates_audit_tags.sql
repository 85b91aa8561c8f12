CREATE TABLE `audit_events` (
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`event` text NOT NULL,
	`agent_key_id` text,
	`mandate_id` text,
	`intent_hash` text,
	`service_id` text,
	`request_id` text,
	`amount` integer,
	`outcome` text NOT NULL,
	`reason` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`account_id`, `seq`)
);
--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `tags` text;--> statement-breakpoint
CREATE INDEX `ledger_entries_created` ON `ledger_entries` (`created_at`);--> statement-breakpoint
ALTER TABLE `transfers` ADD `mandate_id` text;--> statement-breakpoint
ALTER TABLE `transfers` ADD `tags` text;