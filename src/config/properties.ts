/**
 * A reader for the Java `.properties` format, the format of zoo.cfg.
 *
 * Apache loads zoo.cfg with `java.util.Properties.load`, so we follow its
 * rules:
 * - lines starting with `#` or `!` are comments; blank lines are skipped;
 * - the key ends at the first unescaped `=`, `:` or whitespace
 *   (`tickTime=2000`, `tickTime: 2000` and `tickTime 2000` are the same);
 * - a line ending in an odd number of backslashes continues on the next line;
 * - `\t \n \r \f \uXXXX` are escapes, and any other `\x` means plain `x`.
 *   (So a Windows path must be written `C:\\zk\\data` or `C:/zk/data`, as in
 *   Apache.)
 * Apache then trims every key and value, and so do we.
 *
 * Unlike `Properties`, we keep every entry in file order, with its line
 * number, so the caller can report duplicates instead of silently keeping the
 * last one.
 */

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line where the entry starts. */
  readonly line: number;
}

export function readJavaProperties(text: string): PropertyEntry[] {
  const entries: PropertyEntry[] = [];
  const physicalLines = text.split(/\r\n|\r|\n/);

  for (let index = 0; index < physicalLines.length; index++) {
    const startLine = index + 1;
    let logical = stripLeadingWhitespace(physicalLines[index]);
    if (logical === "" || logical.startsWith("#") || logical.startsWith("!")) continue;

    // Join continuation lines; leading whitespace of each continuation is dropped.
    while (endsWithContinuation(logical) && index + 1 < physicalLines.length) {
      index++;
      logical = logical.slice(0, -1) + stripLeadingWhitespace(physicalLines[index]);
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);

    const { rawKey, rawValue } = splitKeyAndValue(logical);
    entries.push({
      key: unescape(rawKey).trim(),
      value: unescape(rawValue).trim(),
      line: startLine,
    });
  }
  return entries;
}

function stripLeadingWhitespace(line: string): string {
  return line.replace(/^[ \t\f]+/, "");
}

function endsWithContinuation(line: string): boolean {
  const trailingBackslashes = /\\*$/.exec(line)![0].length;
  return trailingBackslashes % 2 === 1;
}

function splitKeyAndValue(line: string): { rawKey: string; rawValue: string } {
  let keyEnd = 0;
  while (keyEnd < line.length) {
    const char = line[keyEnd];
    if (char === "\\") {
      keyEnd += 2; // an escaped character is part of the key
      continue;
    }
    if (char === "=" || char === ":" || char === " " || char === "\t" || char === "\f") break;
    keyEnd++;
  }
  const rawKey = line.slice(0, Math.min(keyEnd, line.length));

  // Skip whitespace, then at most one '=' or ':', then whitespace again.
  let valueStart = keyEnd;
  while (valueStart < line.length && /[ \t\f]/.test(line[valueStart])) valueStart++;
  if (valueStart < line.length && (line[valueStart] === "=" || line[valueStart] === ":")) valueStart++;
  while (valueStart < line.length && /[ \t\f]/.test(line[valueStart])) valueStart++;

  return { rawKey, rawValue: line.slice(valueStart) };
}

const simpleEscapes: Readonly<Record<string, string>> = { t: "\t", n: "\n", r: "\r", f: "\f" };

function unescape(raw: string): string {
  return raw.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(parseInt(escaped.slice(1), 16));
    return simpleEscapes[escaped] ?? escaped;
  });
}
