CREATE TABLE `disputes` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`transfer_id` text NOT NULL,
	`provider_id` text,
	`service_id` text,
	`reason` text NOT NULL,
	`detail` text,
	`amount` integer NOT NULL,
	`compensated` integer DEFAULT 0 NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`evidence` text,
	`contested_at` integer,
	`created_at` integer NOT NULL,
	`resolved_at` integer,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `disputes_transfer` ON `disputes` (`transfer_id`);--> statement-breakpoint
CREATE INDEX `disputes_provider` ON `disputes` (`provider_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `disputes_account` ON `disputes` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`seq` integer NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`reference` text,
	`idempotency_key` text,
	`fingerprint` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_seq` ON `payouts` (`provider_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_idempotency` ON `payouts` (`provider_id`,`idempotency_key`);--> statement-breakpoint
ALTER TABLE `services` ADD `sla` text;--> statement-breakpoint
ALTER TABLE `transfers` ADD `dispute_id` text;--> statement-breakpoint
CREATE INDEX `ledger_entries_balance` ON `ledger_entries` (`ledger_account`,`currency`,`created_at`);