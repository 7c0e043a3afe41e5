/**
 * `npm run cluster`'s launcher (src/cluster) running a 3-server Apache ZooKeeper 3.8 ensemble from the Debian
 * package: one leader and two followers, a new leader after kill -9 of the old one, nothing left running after
 * stop. The same case runs against our implementation in test/cluster/ensemble.test.ts.
 */
import { describe } from "vitest";
import { apacheJvmFlagsQuickStart, apacheMissing } from "../../src/cluster/index.ts";
import { ensembleCase } from "../cluster/ensemble.case.ts";

const missing = apacheMissing();
if (missing) console.warn(`Apache ensemble test skipped: ${missing}`);

describe.skipIf(missing !== null)(missing ?? "a 3-server Apache ZooKeeper 3.8 ensemble through the launcher", () => {
  // C1-only JIT and a small heap: three JVMs start faster, and this test measures nothing.
  ensembleCase({ impl: "apache", jvmFlags: apacheJvmFlagsQuickStart });
});
