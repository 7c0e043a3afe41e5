import { defineConfig } from "vitest/config";

// `npm run test:interop`: kazoo, the C client and a differential run against Apache ZooKeeper 3.8 (Debian packages).
export default defineConfig({
  test: {
    include: ["test/interop/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
