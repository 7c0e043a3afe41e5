/**
 * The chapters (chapters/NN-*.md): rendered for the terminal (`npm run read N`, and `c` in the lab runner) and as
 * linked HTML pages (`npm run book`). Markdown is parsed by marked; the terminal renderer walks its tokens.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Marked, marked, type Token, type Tokens } from "marked";

export interface ChapterFile {
  readonly number: number;
  readonly file: string;
  readonly title: string;
}

const glossaryFile = "glossary.md";

export async function listChapters(projectRoot: string): Promise<ChapterFile[]> {
  const dir = path.join(projectRoot, "chapters");
  const all = await readdir(dir).catch(() => [] as string[]);
  // The numbered chapters in order, then the glossary (number 0: it has no chapter number of its own).
  const names = [...all.filter((n) => /^\d\d-.*\.md$/.test(n)).sort(), ...all.filter((n) => n === glossaryFile)];
  const chapters: ChapterFile[] = [];
  for (const file of names) {
    const text = await readFile(path.join(dir, file), "utf8");
    const title = /^#\s+(.+)$/m.exec(text)?.[1] ?? file;
    chapters.push({ number: file === glossaryFile ? 0 : Number(file.slice(0, 2)), file, title });
  }
  return chapters;
}

const ansi = (on: number, off: number) => (color: boolean, text: string) => (color ? `\u001b[${on}m${text}\u001b[${off}m` : text);
const bold = ansi(1, 22);
const italic = ansi(3, 23);
const cyan = ansi(36, 39);
const dim = ansi(2, 22);

function inline(tokens: readonly Token[] | undefined, color: boolean): string {
  return (tokens ?? [])
    .map((t) => {
      switch (t.type) {
        case "strong":
          return bold(color, inline((t as Tokens.Strong).tokens, color));
        case "em":
          return italic(color, inline((t as Tokens.Em).tokens, color));
        case "codespan":
          return cyan(color, (t as Tokens.Codespan).text);
        case "link": {
          const link = t as Tokens.Link;
          return `${inline(link.tokens, color)}${link.href.startsWith("#") ? "" : dim(color, ` (${link.href})`)}`;
        }
        case "br":
          return "\n";
        case "text":
          return "tokens" in t && t.tokens ? inline(t.tokens, color) : unescape((t as Tokens.Text).text);
        default:
          return "raw" in t ? unescape(String(t.raw)) : "";
      }
    })
    .join("");
}

function unescape(text: string): string {
  return text.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

function block(token: Token, color: boolean, indent = ""): string[] {
  switch (token.type) {
    case "heading": {
      const h = token as Tokens.Heading;
      const text = inline(h.tokens, color);
      return h.depth === 1 ? ["", bold(color, text.toUpperCase()), ""] : ["", bold(color, text), ""];
    }
    case "paragraph":
      return [indent + inline((token as Tokens.Paragraph).tokens, color), ""];
    case "code":
      return [...(token as Tokens.Code).text.split("\n").map((line) => `${indent}    ${cyan(color, line)}`), ""];
    case "blockquote":
      return (token as Tokens.Blockquote).tokens.flatMap((t) => block(t, color, indent + "│ "));
    case "list": {
      const list = token as Tokens.List;
      const lines = list.items.flatMap((item, i) => {
        const bullet = list.ordered ? `${Number(list.start || 1) + i}.` : "•";
        const inner = item.tokens.flatMap((t) => (t.type === "text" ? [inline((t as Tokens.Text).tokens, color)] : block(t, color, indent + "   ")));
        const [first = "", ...rest] = inner.filter((l, k, all) => !(l === "" && k === all.length - 1));
        // An item's wrapped lines line up under its text, not under the bullet.
        const hang = `\n${indent}${" ".repeat(bullet.length + 1)}`;
        return [`${indent}${bullet} ${first.trimStart().split("\n").join(hang)}`, ...rest];
      });
      return [...lines, ""];
    }
    case "table": {
      const table = token as Tokens.Table;
      const rows = [table.header.map((c) => inline(c.tokens, false)), ...table.rows.map((r) => r.map((c) => inline(c.tokens, false)))];
      const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
      const fmt = (r: string[]) => indent + r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
      return [bold(color, fmt(rows[0]!)), ...rows.slice(1).map(fmt), ""];
    }
    case "hr":
      return [dim(color, "─".repeat(60)), ""];
    case "space":
      return [];
    default:
      return "raw" in token ? [String(token.raw)] : [];
  }
}

export function markdownForTerminal(markdown: string, color: boolean): string {
  return marked
    .lexer(markdown)
    .flatMap((t) => block(t, color))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n");
}

/** Finds a chapter by number (4) or file name (04-watches.md). */
export async function findChapter(projectRoot: string, which: string | number): Promise<ChapterFile | undefined> {
  const chapters = await listChapters(projectRoot);
  if (which === "glossary") return chapters.find((c) => c.file === glossaryFile);
  return chapters.find((c) => c.file === which || (c.file !== glossaryFile && c.number === Number(which)));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes ("## 2.3 Sessions" → "23-sessions"). */
export function headingSlug(text: string): string {
  return unescape(text.replace(/<[^>]*>/g, ""))
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

/** marked with ids on headings, so that links like 04-watches.html#the-herd-effect land on the section. */
const htmlMarked = new Marked({
  renderer: {
    heading({ tokens, depth }) {
      const text = this.parser.parseInline(tokens);
      return `<h${depth} id="${headingSlug(text)}">${text}</h${depth}>\n`;
    },
  },
});

export async function renderChapterForTerminal(projectRoot: string, which: string | number, color: boolean): Promise<string> {
  const chapter = await findChapter(projectRoot, which);
  if (chapter === undefined) return `There is no chapter ${which} yet.`;
  return markdownForTerminal(await readFile(path.join(projectRoot, "chapters", chapter.file), "utf8"), color);
}

const pageStyle = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.55;color:#222}
pre{background:#f5f5f5;padding:.8rem;overflow:auto}code{font-family:ui-monospace,monospace}nav{display:flex;justify-content:space-between;margin:2rem 0;border-top:1px solid #ddd;padding-top:1rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .6rem}`;

/** Writes every chapter as an HTML page with previous/next links and an index; returns the index path. */
export async function writeBook(projectRoot: string, outDir: string): Promise<string> {
  const chapters = await listChapters(projectRoot);
  await mkdir(outDir, { recursive: true });
  const pageName = (c: ChapterFile) => c.file.replace(/\.md$/, ".html");
  for (const [i, chapter] of chapters.entries()) {
    const markdown = await readFile(path.join(projectRoot, "chapters", chapter.file), "utf8");
    // Links between chapters point at the .md files; in the book they point at the pages.
    const body = (await htmlMarked.parse(markdown)).replace(/href="(?:\.\/)?(\d\d-[^"#]+|glossary)\.md(#[^"]*)?"/g, 'href="$1.html$2"');
    const prev = chapters[i - 1];
    const next = chapters[i + 1];
    const nav = `<nav><span>${prev ? `<a href="${pageName(prev)}">← ${prev.title}</a>` : ""}</span><a href="index.html">Contents</a><span>${next ? `<a href="${pageName(next)}">${next.title} →</a>` : ""}</span></nav>`;
    await writeFile(path.join(outDir, pageName(chapter)), page(chapter.title, body + nav));
  }
  const list = chapters.map((c) => `<li><a href="${pageName(c)}">${c.title}</a></li>`).join("\n");
  const index = path.join(outDir, "index.html");
  await writeFile(index, page("zkbook", `<h1>zkbook</h1><p>Learning Apache ZooKeeper by building it.</p><ol>${list}</ol>`));
  return index;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${pageStyle}</style></head><body>${body}</body></html>\n`;
}
