CREATE TABLE `signups` (
	`provider_id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`idempotency_key_hash` text,
	`fingerprint` text NOT NULL,
	`sealed_key` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signups_idempotency` ON `signups` (`idempotency_key_hash`);