/**
 * `npm run grade -- <submission> [<submission> ...] [--json out.json] [--junit out.xml] [--labs 1,2] [--seed S]`
 *
 * A submission is a learner's copy of the project; only its labs/ is used. Prints a table of points per lab,
 * and per exercise for a single submission.
 */
import { writeFile } from "node:fs/promises";
import { exerciseReport, gradeSubmission, gradeTable, junitReport, type SubmissionGrade } from "../workbook/grade.ts";
import { labs } from "../workbook/catalog.ts";
import { projectRoot } from "../workbook/run-lab.ts";

const usage = "usage: npm run grade -- <submission> [<submission> ...] [--json out.json] [--junit out.xml] [--labs 1,2] [--seed S]";

function parse(argv: readonly string[]) {
  const submissions: string[] = [];
  let json: string | undefined;
  let junit: string | undefined;
  let chosen: number[] | undefined;
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${usage}`);
      return v;
    };
    if (arg === "--json") json = next();
    else if (arg === "--junit") junit = next();
    else if (arg === "--seed") seed = Number(next());
    else if (arg === "--labs") {
      chosen = next().split(",").map(Number);
      const unknown = chosen.filter((n) => !labs.some((l) => l.number === n));
      if (unknown.length > 0) throw new Error(`--labs: there is no lab ${unknown.join(", ")}`);
    } else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}\n${usage}`);
    else submissions.push(arg);
  }
  if (submissions.length === 0) throw new Error(`no submission given\n${usage}`);
  if (!Number.isInteger(seed)) throw new Error("--seed needs a whole number");
  return { submissions, json, junit, chosen, seed };
}

async function main(): Promise<void> {
  const { submissions, json, junit, chosen, seed } = parse(process.argv.slice(2));
  const grades: SubmissionGrade[] = [];
  for (const [i, submission] of submissions.entries()) {
    process.stderr.write(`grading ${submission} ...\n`);
    grades.push(
      await gradeSubmission(projectRoot, submission, String(i), {
        seed,
        labs: chosen,
        onLab: (name, g) => process.stderr.write(`  ${name} lab ${g.lab}: ${g.points}/${g.max}\n`),
      }),
    );
  }
  console.log(gradeTable(grades));
  if (grades.length === 1) console.log("\n" + exerciseReport(grades[0]!));
  for (const g of grades) if (g.problem) console.log(`\nnote: ${g.problem}`);
  if (json) await writeFile(json, JSON.stringify({ seed, submissions: grades }, null, 2) + "\n");
  if (junit) await writeFile(junit, junitReport(grades));
}

main().catch((error: unknown) => {
  console.error(`npm run grade: ${(error as Error).message}`);
  process.exit(2);
});
