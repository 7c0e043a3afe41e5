/** `npm run book [-- outDir]`: the chapters as linked HTML pages (default ./book), and where they are. */
import path from "node:path";
import { writeBook } from "../workbook/chapters.ts";
import { projectRoot } from "../workbook/run-lab.ts";

const outDir = path.resolve(process.argv[2] ?? path.join(projectRoot, "book"));
const index = await writeBook(projectRoot, outDir);
console.log(`The book is at ${index}`);
