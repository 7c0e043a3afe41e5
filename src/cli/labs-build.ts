/**
 * `npm run labs:build`: writes labs/ and solutions/ from the marked regions in src/.
 * `npm run labs:check`: fails (exit 1) when the committed labs/ or solutions/ differ from what would be written.
 *
 * labs:build refuses to overwrite labs/ files that differ from git's copy (a learner's work) unless --force.
 */
import { execFileSync } from "node:child_process";
import { generateAll, outOfDate, writeAll } from "../workbook/build.ts";
import { projectRoot } from "../workbook/run-lab.ts";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const files = await generateAll(projectRoot);
  const stale = await outOfDate(projectRoot, files);
  if (check) {
    if (stale.length === 0) {
      console.log(`labs:check: labs/ and solutions/ are up to date (${files.length} files)`);
      return;
    }
    console.error(`labs:check: ${stale.length} generated file(s) are out of date; run \`npm run labs:build\`:\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
  if (!args.includes("--force")) {
    const edited = locallyEditedLabs();
    if (edited.length > 0) {
      console.error(
        `labs:build: these lab files have changes of yours that rebuilding would overwrite:\n  ${edited.join("\n  ")}\n` +
          "Commit or stash them first, or pass --force to overwrite them.",
      );
      process.exit(1);
    }
  }
  await writeAll(projectRoot, files);
  console.log(stale.length === 0 ? `labs:build: nothing changed (${files.length} files)` : `labs:build: wrote ${stale.length} file(s):\n  ${stale.join("\n  ")}`);
}

/** labs/ files with uncommitted changes, according to git (none when this is not a git checkout). */
function locallyEditedLabs(): string[] {
  try {
    const out = execFileSync("git", ["status", "--porcelain", "--", "labs"], { cwd: projectRoot, encoding: "utf8" });
    return out.split("\n").filter(Boolean).map((line) => line.slice(3));
  } catch {
    return [];
  }
}

main().catch((error: unknown) => {
  console.error(`labs:build: ${(error as Error).message}`);
  process.exit(1);
});
