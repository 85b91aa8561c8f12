CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`currency` text NOT NULL,
	`owner_key_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`leg` integer NOT NULL,
	`transfer_id` text NOT NULL,
	`ledger_account` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `seq`, `leg`)
);
--> statement-breakpoint
CREATE INDEX `ledger_entries_account` ON `ledger_entries` (`ledger_account`);--> statement-breakpoint
CREATE TABLE `providers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `service_hostnames` (
	`hostname` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `service_hostnames_service` ON `service_hostnames` (`service_id`);--> statement-breakpoint
CREATE TABLE `services` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`origin` text NOT NULL,
	`prices` text NOT NULL,
	`timeout_ms` integer NOT NULL,
	`fee_bps` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `services_slug` ON `services` (`slug`);--> statement-breakpoint
CREATE INDEX `services_provider` ON `services` (`provider_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `transfers` (
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`kind` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`request_id` text,
	`hold_id` text,
	`service_id` text,
	`provider_id` text,
	`agent_key_id` text,
	`reference` text,
	`created_at` integer NOT NULL,
	`exported_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`account_id`, `seq`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transfers_id` ON `transfers` (`id`);--> statement-breakpoint
CREATE INDEX `transfers_provider` ON `transfers` (`provider_id`,`created_at`);