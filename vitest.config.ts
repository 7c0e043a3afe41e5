import { defineConfig } from "vitest/config";

// `npm test`: unit and integration tests. The interop run (Apache's own clients and server) has its own config.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/interop/**", "node_modules/**"],
    testTimeout: 30_000,
    // Two test files at a time even on a 2-core machine (vitest's default there is one): much of the suite waits
    // on child processes, sockets and fsync rather than on the CPU. 315 s → 201 s for the whole suite.
    maxWorkers: 2,
    minWorkers: 1,
    hookTimeout: 30_000,
  },
});
