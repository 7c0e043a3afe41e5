/**
 * A 3-server ensemble of our own server (`npm run server -- zoo.cfg` with server.N lines and myid, as zkServer.sh)
 * through the launcher: the case Apache's ensemble passes in test/interop/cluster.test.ts.
 *
 * Skipped, with the reason, (a) when ZKBOOK_SKIP_ENSEMBLE=1, e.g. on a machine too small to run three servers
 * beside the rest of `npm test`, and (b) by itself when our server does not run as a member: then it answers
 * `srvr` with "Mode: standalone" although its zoo.cfg has server.N lines, and the launcher reports that
 * (MemberModeUnavailableError) instead of passing off three standalone servers as an ensemble.
 */
import { describe } from "vitest";
import { ensembleCase } from "./ensemble.case.ts";

const skipReason = process.env.ZKBOOK_SKIP_ENSEMBLE === "1" ? "ZKBOOK_SKIP_ENSEMBLE=1" : undefined;

describe.skipIf(skipReason !== undefined)(skipReason ? `ensemble of our servers skipped: ${skipReason}` : "a 3-server ensemble of our servers through the launcher", () => {
  ensembleCase({ impl: "zkbook" });
});
