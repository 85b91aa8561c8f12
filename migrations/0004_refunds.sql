ALTER TABLE `transfers` ADD `refund_of` text;--> statement-breakpoint
CREATE INDEX `transfers_refund_of` ON `transfers` (`refund_of`);