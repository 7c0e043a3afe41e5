// labs:check in npm test: the committed labs/ and solutions/ are exactly what labs:build would write from src/,
// and every exercise in the catalog has its region (and every region its catalog entry).
import { describe, expect, it } from "vitest";
import { checkAgainstCatalog, collectLabSources, generateAll, outOfDate } from "../../src/workbook/build.ts";
import { projectRoot } from "../../src/workbook/run-lab.ts";

describe("generated labs", () => {
  it("regions and catalog agree", async () => {
    expect(checkAgainstCatalog(await collectLabSources(projectRoot))).toEqual([]);
  });

  it("labs/ and solutions/ are up to date (npm run labs:check)", async () => {
    expect(await outOfDate(projectRoot, await generateAll(projectRoot))).toEqual([]);
  });
});
