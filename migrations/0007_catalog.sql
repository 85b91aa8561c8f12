ALTER TABLE `services` ADD `listed` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `services_listed` ON `services` (`listed`,`id`);