import { defineConfig } from "vitest/config";

// `npm run test:interop`: against Apache's own software from Debian — kazoo, the C client, zkCli, a differential
// run against Apache ZooKeeper 3.8 — and the client library's tests again, this time against Apache ZooKeeper 3.8.
export default defineConfig({
  test: {
    include: ["test/interop/**/*.test.ts", "test/client/**/*.test.ts"],
    env: { ZKBOOK_CLIENT_TEST_SERVER: "apache" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
