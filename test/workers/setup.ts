import { applyD1Migrations, env } from "cloudflare:test";

// Storage is isolated per test file, so each file starts from freshly migrated tables.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
