/**
 * The client's overhead (issue 3): the same getData workload against the same server (ours, in a child process)
 * through three clients — the raw protocol generator (the ceiling: no client library at all), this project's
 * client, and node-zookeeper-client — one request at a time and pipelined (64 outstanding). The client must not be
 * the bottleneck: its ops/s should be close to the raw generator's.
 *
 *   npm run bench:client [-- --ops 20000]
 */
import os from "node:os";
import zookeeper from "node-zookeeper-client";
import { createClient } from "../src/client/index.ts";
import { requests, run } from "./load.ts";
import { startOurs } from "./targets.ts";

const opsArg = process.argv.indexOf("--ops");
const ops = opsArg > 0 ? Number(process.argv[opsArg + 1]) : 20_000;
const depth = 64;
const path = "/bench-client";

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return ops / ((performance.now() - started) / 1000);
}

/** Runs `call` `ops` times with at most `window` calls outstanding. */
async function windowed(window: number, call: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < ops) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

const target = await startOurs();
try {
  const ours = createClient(`${target.host}:${target.port}`);
  await ours.connect();
  await ours.create(path, Buffer.alloc(100, 1)).catch(() => {});

  const nzc = zookeeper.createClient(`${target.host}:${target.port}`);
  await new Promise<void>((resolve) => {
    nzc.once("connected", () => resolve());
    nzc.connect();
  });
  const nzcGet = () => new Promise<void>((resolve, reject) => nzc.getData(path, undefined as never, (error: unknown) => (error ? reject(error) : resolve())));

  const rows: Array<[string, number, number]> = [];
  const raw = async (d: number) => {
    const result = await run(target.host, target.port, () => requests.getData(path), { connections: 1, depth: d, maxOps: ops, seconds: 60 });
    return result.ops / (result.elapsedMs / 1000);
  };
  // Warm up every path once (JIT), then measure.
  await raw(depth);
  await windowed(depth, () => ours.getData(path));
  await windowed(depth, nzcGet);
  rows.push(["raw protocol (ceiling)", await raw(1), await raw(depth)]);
  rows.push(["zkbook client", await timed(() => windowed(1, () => ours.getData(path))), await timed(() => windowed(depth, () => ours.getData(path)))]);
  rows.push(["node-zookeeper-client 1.1.3", await timed(() => windowed(1, nzcGet)), await timed(() => windowed(depth, nzcGet))]);

  console.log(`machine: ${os.cpus().length} cores, node ${process.version}; server: ${await target.describe()}`);
  console.log(`getData of a 100-byte node, ${ops} calls per cell, one session\n`);
  console.log(`${"client".padEnd(30)} ${"one at a time".padStart(14)} ${"pipelined (64)".padStart(15)}  ${"vs raw, 1 / 64".padStart(16)}`);
  const [ceiling1, ceiling64] = [rows[0]![1], rows[0]![2]];
  for (const [name, one, many] of rows) {
    const ratio = `${(one / ceiling1).toFixed(2)}x / ${(many / ceiling64).toFixed(2)}x`;
    console.log(`${name.padEnd(30)} ${Math.round(one).toLocaleString("en").padStart(14)} ${Math.round(many).toLocaleString("en").padStart(15)}  ${ratio.padStart(16)}`);
  }
  nzc.close();
  await ours.close();
} finally {
  await target.stop();
}
