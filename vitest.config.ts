import { defineConfig } from "vitest/config";

// `npm test`: unit and integration tests. The interop run (Apache's own clients and server) has its own config.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/interop/**", "node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
