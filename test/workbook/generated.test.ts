// labs:check in npm test: the committed labs/ and solutions/ are exactly what labs:build would write from src/,
// and every exercise in the catalog has its region (and every region its catalog entry).
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { labs } from "../../src/workbook/catalog.ts";
import { checksFile } from "../../src/workbook/checks.ts";
import { checkAgainstCatalog, collectLabSources, generateAll, outOfDate } from "../../src/workbook/build.ts";
import { projectRoot } from "../../src/workbook/run-lab.ts";

describe("generated labs", () => {
  it("regions and catalog agree", async () => {
    expect(checkAgainstCatalog(await collectLabSources(projectRoot))).toEqual([]);
  });

  it("every lab has checks and an honesty test file", () => {
    for (const lab of labs) {
      expect(existsSync(checksFile(projectRoot, lab)), `${lab.slug}: test/labs/${lab.slug}.checks.ts`).toBe(true);
      const honesty = path.join(projectRoot, "test", "labs", "honesty", `lab-${String(lab.number).padStart(2, "0")}.test.ts`);
      expect(existsSync(honesty), `${lab.slug}: ${path.relative(projectRoot, honesty)}`).toBe(true);
    }
  });

  it("labs/ and solutions/ are up to date (npm run labs:check)", async () => {
    expect(await outOfDate(projectRoot, await generateAll(projectRoot))).toEqual([]);
  });
});
