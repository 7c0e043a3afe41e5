/**
 * One fuzz session, shared by the test (test/fuzz/fuzz.test.ts) and the long runner (scripts/fuzz.ts): start a
 * server, throw a campaign at it, then check that it never crashed or hit an internal error, never sat on a
 * connection, kept its tree sound, expired the fuzzers' sessions with their ephemerals, and still serves a normal
 * client correctly. Returns the problems found (empty = pass) and the campaign's numbers.
 */
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { RecordingLogger } from "../server/support/fake.ts";
import { describeStats, runCampaign, type CampaignStats } from "./campaign.ts";
import { exerciseNormalClient, orphanedEphemerals, treeProblems } from "./checks.ts";

export interface FuzzSessionOptions {
  readonly seed: number;
  readonly mutatedPackets: number;
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface FuzzSessionResult {
  readonly stats: CampaignStats;
  readonly framesDecoded: number;
  readonly problems: string[];
  readonly report: string;
}

/** The server's jute.maxbuffer during fuzzing: small, so a length lie is refused or completed by the flush. */
const maxFrameBytes = 4096;

/** The server's log lines "closing connection ...: <reason>", grouped by the reason's first words. */
export function closeReasons(lines: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const m = /closing connection [^:]+:\d+(?: session 0x[0-9a-f]+)?: (.*)$/.exec(line);
    if (m === null) continue;
    const reason = m[1]!.replace(/-?\d+/g, "N").replace(/"[^"]*"/g, "S").split(/[:(]/)[0]!.trim().slice(0, 60);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ×${n}`).join("; ");
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

export async function runFuzzSession(options: FuzzSessionOptions): Promise<FuzzSessionResult> {
  const log = options.log ?? (() => {});
  const processErrors: unknown[] = [];
  const onError = (error: unknown) => processErrors.push(error);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  const logger = new RecordingLogger();
  const problems: string[] = [];
  let server: RunningServer | undefined;
  try {
    server = await startTestServer(
      {
        tickTimeMs: 100, // sessions time out in 200..1000 ms: the fuzzers' sessions expire during and after the run
        maxSessionTimeoutMs: 1000,
        extendedTypesEnabled: true,
        containerCheckIntervalMs: 50,
        maxClientCnxns: 0,
        fourLetterWordWhitelist: ["*"],
        juteMaxBufferBytes: maxFrameBytes,
      },
      { logger },
    );
    const zk = server.zk;
    const decodedBefore = zk.stats.packetsReceived;
    const stats = await runCampaign({
      seed: options.seed,
      port: server.port,
      maxFrameBytes,
      mutatedPackets: options.mutatedPackets,
      concurrency: options.concurrency ?? 24,
      lastZxid: () => zk.lastZxid,
    });
    const framesDecoded = zk.stats.packetsReceived - decodedBefore;
    const internalErrors = () => logger.lines.filter((l) => l.includes("internal error"));

    if (stats.mutatedPackets < options.mutatedPackets) problems.push(`only ${stats.mutatedPackets} mutated packets sent`);
    if (stats.hung > 0) problems.push(`${stats.hung} connections hung: the server neither answered nor closed`);
    if (!(await until(() => zk.connections.size === 0, 5000))) problems.push(`${zk.connections.size} fuzz connections still open on the server`);
    if (zk.outstandingRequests !== 0) problems.push(`${zk.outstandingRequests} requests still outstanding`);
    problems.push(...treeProblems(zk).map((p) => `tree after the campaign: ${p}`));
    try {
      await exerciseNormalClient(server.connectString, `/after-fuzz-${options.seed}`);
    } catch (error) {
      problems.push(String((error as Error).message ?? error));
    }
    if (!(await until(() => zk.sessions.size === 0, 5000))) problems.push(`${zk.sessions.size} sessions never expired`);
    const orphans = orphanedEphemerals(zk);
    if (orphans.length > 0) problems.push(`ephemerals that outlived their session: ${orphans.join(", ")}`);
    if (zk.tree.ephemeralsBySession().size > 0) problems.push(`ephemerals left after every session ended`);
    problems.push(...treeProblems(zk).map((p) => `tree at the end: ${p}`));
    problems.push(...internalErrors().slice(0, 20).map((l) => `internal error in the server: ${l}`));
    problems.push(...processErrors.slice(0, 20).map((e) => `uncaught in the process: ${(e as Error).stack ?? e}`));

    const report = [
      describeStats(stats),
      `  the server decoded ${framesDecoded} frames; last zxid 0x${zk.lastZxid.toString(16)}, ${zk.tree.nodeCount} nodes`,
      `  why the server closed connections: ${closeReasons(logger.lines)}`,
    ].join("\n");
    log(report);
    return { stats, framesDecoded, problems, report };
  } finally {
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
    await server?.close();
  }
}
