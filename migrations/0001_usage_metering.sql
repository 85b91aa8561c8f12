ALTER TABLE `services` ADD `hold_timeout_s` integer DEFAULT 3600 NOT NULL;--> statement-breakpoint
ALTER TABLE `transfers` ADD `usage` text;--> statement-breakpoint
ALTER TABLE `transfers` ADD `shortfall` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `transfers` ADD `reason` text;--> statement-breakpoint
ALTER TABLE `transfers` ADD `fee` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `transfers_service` ON `transfers` (`service_id`,`created_at`);