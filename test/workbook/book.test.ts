// `npm run book` and `npm run read`: every chapter renders, and every link between pages lands on a page and a
// heading that exist.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { headingSlug, listChapters, markdownForTerminal, renderChapterForTerminal, writeBook } from "../../src/workbook/chapters.ts";
import { projectRoot } from "../../src/workbook/run-lab.ts";

describe("the book", () => {
  it("links only to pages and headings that exist", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "zkbook-book-"));
    await writeBook(projectRoot, out);
    const pages = new Map<string, string>();
    for (const name of await readdir(out)) pages.set(name, await readFile(path.join(out, name), "utf8"));
    const chapters = await listChapters(projectRoot);
    expect(pages.size).toBe(chapters.length + 1); // + index.html
    const broken: string[] = [];
    for (const [name, html] of pages) {
      for (const [, href] of html.matchAll(/href="([^"]+)"/g)) {
        if (/^https?:/.test(href!)) continue;
        const [page, anchor] = href!.split("#") as [string, string | undefined];
        const target = page === "" ? name : page;
        const targetHtml = pages.get(target);
        if (targetHtml === undefined) broken.push(`${name} → ${href} (no page)`);
        else if (anchor && !targetHtml.includes(`id="${anchor}"`)) broken.push(`${name} → ${href} (no heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("renders every chapter for the terminal without markdown syntax left over", async () => {
    for (const chapter of await listChapters(projectRoot)) {
      const text = await renderChapterForTerminal(projectRoot, chapter.file, false);
      expect(text.length, chapter.file).toBeGreaterThan(500);
      expect(text, chapter.file).not.toMatch(/^#{1,6} /m);
      expect(text, chapter.file).not.toContain("```");
    }
  });

  it("makes GitHub-style heading anchors", () => {
    expect(headingSlug("4.2 How to set watches")).toBe("42-how-to-set-watches");
    expect(headingSlug("The two Java forms, and this client&#39;s <code>{ watch }</code>")).toBe("the-two-java-forms-and-this-clients--watch");
    expect(markdownForTerminal("**bold** and `code`", false)).toBe("bold and code\n");
  });

  it("lines a list item's wrapped lines up under its text", () => {
    expect(markdownForTerminal("- one\n  two\n- three\n", false)).toBe("• one\n  two\n• three\n");
    expect(markdownForTerminal("1. one\n   two\n", false)).toBe("1. one\n   two\n");
  });
});
