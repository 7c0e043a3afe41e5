/**
 * `npm run bench`: every benchmark, one after the other, each in its own process:
 *   1. the server, read and write throughput and latency, ours vs Apache ZooKeeper 3.8 (bench/server-bench.ts);
 *   2. durable writes and recovery time, ours vs Apache (bench/storage-bench.ts);
 *   3. the client's overhead: this client vs node-zookeeper-client vs the raw protocol (bench/client-bench.ts);
 *   4. the learner's loop: `npm run lab 4 --once` to verdict, save to verdict (bench/lab-loop.ts);
 *   5. a 3-server ensemble, ours vs Apache: write and read throughput, kill -9 leader to first write (bench/ensemble-bench.ts).
 *
 * Arguments go to the server benchmark (`npm run bench -- --target host:port` measures a running server only;
 * then the others are skipped, as they start servers of their own).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const steps: Array<[string, string[]]> = [["server-bench.ts", args]];
if (!args.includes("--target")) steps.push(["storage-bench.ts", []], ["client-bench.ts", []], ["lab-loop.ts", []], ["ensemble-bench.ts", []]);

let failed = 0;
for (const [file, stepArgs] of steps) {
  console.log(`\n=== ${file} ===\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(here, file), ...stepArgs], { stdio: "inherit" });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
