import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "e2e",
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file starts its own wrangler dev; running them one at a time keeps a 2-core machine responsive.
    fileParallelism: false,
  },
});
