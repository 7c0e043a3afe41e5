/**
 * The learner's loop, timed (issue 6): how long `npm run lab 4 --once` takes from start to verdict (goal ≤ 3 s),
 * and, in watch mode, how long from saving a lab file to the new verdict (goal ≤ 1 s). Medians of several runs.
 *
 * Each is measured twice: on the stubs (every exercise stops at its LabTodo: the runner's own cost) and on solved
 * files (every check really runs, with its server and clients: what a learner who has done the lab waits for).
 *
 *   npm run bench:lab [-- --runs 5]
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFile, cp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../src/workbook/run-lab.ts";

const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const scratch = path.join(projectRoot, ".zkbook", "bench-lab");
const env = { ...process.env, NO_COLOR: "1", ZKBOOK_PROGRESS: path.join(scratch, "progress.json") };

function onceTimes(extra: readonly string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync("npm", ["run", "--silent", "lab", "4", "--", "--once", ...extra], { cwd: projectRoot, env, encoding: "utf8" });
    times.push(performance.now() - started);
    if (!/exercises/.test(result.stdout)) throw new Error(`npm run lab 4 --once gave no verdict:\n${result.stdout}\n${result.stderr}`);
  }
  return times;
}

async function saveToVerdictTimes(from: "labs" | "solutions"): Promise<number[]> {
  const tree = path.join(scratch, "labs");
  await rm(tree, { recursive: true, force: true });
  await cp(path.join(projectRoot, from, "04-watches"), path.join(tree, "04-watches"), { recursive: true });
  const file = path.join(tree, "04-watches", "watches.ts");
  const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");
  const child = spawn("script", ["-qfec", `${tsx} src/cli/lab.ts 4`, "/dev/null"], {
    cwd: projectRoot,
    env: { ...env, CI: "", TERM: "dumb", ZKBOOK_LABS_TREE: path.relative(projectRoot, tree) },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const verdicts = () => out.split("h hint · r re-run").length - 1;
  const waitForVerdict = async (count: number) => {
    const deadline = Date.now() + 30_000;
    while (verdicts() < count) {
      if (Date.now() > deadline) throw new Error(`no verdict in 30 s:\n${out.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const times: number[] = [];
  try {
    await waitForVerdict(1);
    for (let i = 0; i < runs; i++) {
      const before = verdicts();
      const saved = performance.now();
      await appendFile(file, `\n// edit ${i}\n`);
      await waitForVerdict(before + 1);
      times.push(performance.now() - saved);
    }
  } finally {
    child.stdin.write("q");
    child.kill();
  }
  return times;
}

const seconds = (times: number[]) => `median ${(median(times) / 1000).toFixed(2)} s`;
const onceStubs = onceTimes([]);
const onceSolved = onceTimes(["--solution"]);
const saveStubs = await saveToVerdictTimes("labs");
const saveSolved = await saveToVerdictTimes("solutions");
console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`npm run lab 4 --once, start to verdict (goal ≤ 3 s), over ${runs} runs:`);
console.log(`  stubs:  ${seconds(onceStubs)}`);
console.log(`  solved: ${seconds(onceSolved)}`);
console.log(`watch mode, save to new verdict (goal ≤ 1 s), over ${runs} saves:`);
console.log(`  stubs:  ${seconds(saveStubs)}`);
console.log(`  solved: ${seconds(saveSolved)}`);
await rm(scratch, { recursive: true, force: true });
