import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            // 32 random bytes, as docs/security.md requires (a test-only key).
            ENCRYPTION_KEY: "og67OBwLEycR3udKhLt7g88m8WrTw+ZOoum5axLh7wo=",
            // Plain-http and loopback upstreams (the tests' spies and servers) are for local development only.
            LOCAL_DEVELOPMENT: "1",
            // Low enough that most texts of a simulated run go to R2 and some stay inline: every workers
            // test (the fault and replay ones included) runs with both (docs/architecture.md §11).
            TEXT_INLINE_MAX_BYTES: "256",
          },
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/workers/**/*.test.ts"],
      setupFiles: ["./test/workers/setup.ts"],
      testTimeout: 60_000,
    },
  };
});
