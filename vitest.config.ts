import { defineConfig } from "vitest/config";

/** Three layers: pure unit tests (node), workerd tests (routes, D1, Workflows), end-to-end over real HTTP. */
export default defineConfig({
  test: {
    projects: ["./vitest.unit.config.ts", "./vitest.workers.config.ts", "./vitest.e2e.config.ts"],
  },
});
