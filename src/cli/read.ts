/** `npm run read N`: chapter N in the terminal. Without N: the list of chapters. */
import { listChapters, renderChapterForTerminal } from "../workbook/chapters.ts";
import { projectRoot } from "../workbook/run-lab.ts";

const which = process.argv[2];
const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
if (which === undefined) {
  for (const c of await listChapters(projectRoot)) console.log(`${c.number === 0 ? "  " : String(c.number).padStart(2)}  ${c.title}`);
  console.log("\nRead one with `npm run read N` (or `npm run read glossary`).");
} else {
  const chapters = await listChapters(projectRoot);
  if (!chapters.some((c) => String(c.number) === which || c.file === which || (which === "glossary" && c.number === 0))) {
    const names = chapters.map((c) => (c.number === 0 ? "glossary" : String(c.number)));
    console.error(`npm run read: there is no chapter ${JSON.stringify(which)}; the chapters are ${names.join(", ")}`);
    process.exit(2);
  }
  console.log(await renderChapterForTerminal(projectRoot, which, color));
}
