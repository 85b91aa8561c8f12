import { V9_DISPUTES } from "./schema/disputes";
import { EARLY } from "./schema/early";
import { V10_PASSES_TIPS } from "./schema/passes-tips";
import { V11_SHARDS } from "./schema/shards";

/**
 * The AccountLedger's SQLite schema, versioned in `meta.schema_version`. Each entry of
 * MIGRATIONS moves the schema one version up and runs inside one transaction; a version, once
 * released, is never changed (objects that ran it will not run it again).
 */
export const MIGRATIONS: readonly string[] = [...EARLY, V9_DISPUTES, V10_PASSES_TIPS, V11_SHARDS];
