// The learner's loop (DESIGN.md "The learner's loop"): non-TTY mode is plain, stable and has an exit code;
// watch mode runs in a pseudo-terminal, re-runs on save and answers keys.
import { spawn, spawnSync } from "node:child_process";
import { readFile, writeFile, rm, cp } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/workbook/run-lab.ts";

const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");
// A scratch progress file and, for the watch test, a scratch copy of labs/: tests never touch the learner's.
const scratch = path.join(projectRoot, ".zkbook", "test-runner");
const env = { ...process.env, NO_COLOR: "1", ZKBOOK_PROGRESS: path.join(scratch, "progress.json") };

function lab(args: string[]) {
  return spawnSync(tsx, ["src/cli/lab.ts", ...args], { cwd: projectRoot, encoding: "utf8", env, timeout: 60_000 });
}

describe("npm run lab (non-TTY)", () => {
  it("shows each exercise as TODO on the stubs, where to write the first one, and exits 1", () => {
    const run = lab(["1", "--once"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("Lab 1: Master election with an ephemeral /master");
    expect(run.stdout).toMatch(/TODO 1\.1 run for master/);
    expect(run.stdout).toMatch(/Next: exercise 1\.1\. Write it where the stub throws LabTodo:\n {2}labs\/01-master-election\/election\.ts:\d+:\d+/);
    expect(run.stdout).toContain("[--------------------] 0/3 exercises");
    expect(run.stdout).toContain("Stuck? `npm run lab 1 -- --hint` shows a hint.");
  });

  it("gives the hint of the first exercise that did not pass, without a terminal (--hint)", () => {
    // The run above left lab 1 with nothing passed in the scratch state file.
    const run = lab(["1", "--hint"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Hint for 1\.1 \(run for master: [^)]*\): client\.create\("\/master"/);
    expect(lab(["--hint"]).stderr).toContain("--hint needs a lab");
  });

  it("passes every exercise against the solution and exits 0", () => {
    const run = lab(["3", "--solution", "--once"]);
    expect(run.stdout).toMatch(/PASS 3\.1[\s\S]*PASS 3\.2[\s\S]*PASS 3\.3/);
    expect(run.stdout).toContain("Lab 3 is done.");
    expect(run.status).toBe(0);
  });

  it("lists the labs without an argument", () => {
    const run = lab([]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ 1 {2}Master election/);
    expect(run.stdout).toMatch(/ 4 {2}One-time watches/);
  });

  it("refuses a lab that does not exist, naming the labs there are", () => {
    const run = lab(["99"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/there is no lab 99; the labs are 1, 2, 3, 4/);
  });

  it("reports failure rates and seeds with --stress", () => {
    const run = lab(["1", "--solution", "--stress", "2", "--seed", "7"]);
    expect(run.stdout).toContain("Stress: 2 runs of lab 1, seeds 7..8");
    expect(run.stdout).toContain("1.1 failed 0/2 (0.0%)");
    expect(run.status).toBe(0);
  });
});

describe("npm run lab N (watch mode in a pseudo-terminal)", () => {
  it("answers h, n, c, l and r, re-runs when a lab file is saved, opens the next lab with n once this one passes, quits on q; progress survives the restart", async () => {
    const tree = path.join(scratch, "labs");
    await rm(tree, { recursive: true, force: true });
    await rm(path.join(scratch, "progress.json"), { force: true });
    for (const slug of ["01-master-election", "02-znodes"]) await cp(path.join(projectRoot, "labs", slug), path.join(tree, slug), { recursive: true });
    const file = path.join(tree, "01-master-election", "election.ts");
    const child = spawn("script", ["-qfec", `${tsx} src/cli/lab.ts 1`, "/dev/null"], {
      cwd: projectRoot,
      env: { ...env, CI: "", TERM: "dumb", ZKBOOK_LABS_TREE: path.relative(projectRoot, tree) },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const waitFor = async (pattern: RegExp, from = 0) => {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(out.slice(from))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    /** Presses `key` and waits for what it should print (only output after the key press counts). */
    const press = async (key: string, answer: RegExp) => {
      const mark = out.length;
      child.stdin.write(key);
      await waitFor(answer, mark);
      return out.slice(mark);
    };
    try {
      await waitFor(/h hint/);
      await press("h", /Hint for 1\.1:/);
      await press("n", /Finish this lab first \(every exercise ✓\), then n opens the next one\./);
      await press("c", /1\. INTRODUCTION[\s\S]*Lab 1: Master election/);
      await press("l", /zkbook labs[\s\S]* 1 {2}Master election with an ephemeral \/master +not started/);
      await press("r", /running lab 1[\s\S]*TODO 1\.1[\s\S]*h hint/);

      const mark = out.length;
      await writeFile(file, await readFile(path.join(projectRoot, "solutions", "01-master-election", "election.ts"), "utf8"));
      await waitFor(/running lab 1[\s\S]*PASS 1\.1[\s\S]*Lab 1 is done\. Next: lab 2, .*\(press n, or `npm run lab 2`\)[\s\S]*h hint/, mark);
      expect(JSON.parse(await readFile(path.join(scratch, "progress.json"), "utf8")).labs["1"].passed).toEqual(["1.1", "1.2", "1.3"]);
      await press("n", /Lab 2: Znodes, versions, the Stat and session states[\s\S]*running lab 2[\s\S]*TODO 2\.1[\s\S]*h hint/);
      child.stdin.write("q");
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code).toBe(0);
    } finally {
      child.kill();
    }
    // A new runner reads the same state file.
    expect(lab([]).stdout).toMatch(/ 1 {2}Master election with an ephemeral \/master +done\n 2 {2}Znodes, versions, the Stat and session states +not started/);
  }, 90_000);
});
