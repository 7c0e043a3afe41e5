/**
 * The message history of a simulated run, for people: a plain-text log and an SVG sequence diagram (wrapped in
 * an HTML page). A failing run writes both next to its seed so the failure can be read, not just replayed.
 */

export type Channel = "election" | "zab";

export type TimelineRecord =
  | { readonly t: number; readonly kind: "send"; readonly id: number; readonly from: number; readonly to: number; readonly channel: Channel; readonly label: string }
  | { readonly t: number; readonly kind: "recv"; readonly id: number; readonly from: number; readonly to: number; readonly channel: Channel; readonly label: string }
  | { readonly t: number; readonly kind: "lost"; readonly id: number; readonly from: number; readonly to: number; readonly channel: Channel; readonly label: string; readonly why: string }
  /** Something that happened at one server (`sid`) or to the whole cluster (null): role changes, crashes, faults. */
  | { readonly t: number; readonly kind: "note"; readonly sid: number | null; readonly text: string };

export class Timeline {
  readonly records: TimelineRecord[] = [];
  private nextId = 1;

  constructor(readonly servers: readonly number[]) {}

  newMessageId(): number {
    return this.nextId++;
  }

  add(record: TimelineRecord): void {
    this.records.push(record);
  }

  note(t: number, sid: number | null, text: string): void {
    this.records.push({ t, kind: "note", sid, text });
  }

  toText(): string {
    const lines: string[] = [];
    for (const r of this.records) {
      const t = r.t.toFixed(3).padStart(11);
      switch (r.kind) {
        case "send":
          lines.push(`${t}  s${r.from} → s${r.to}  #${r.id} ${r.label}`);
          break;
        case "recv":
          lines.push(`${t}  s${r.to} ⇐ s${r.from}  #${r.id} ${r.label}`);
          break;
        case "lost":
          lines.push(`${t}  s${r.from} ✗ s${r.to}  #${r.id} ${r.label}  (${r.why})`);
          break;
        case "note":
          lines.push(`${t}  ${r.sid === null ? "cluster" : `s${r.sid}     `}  ${r.text}`);
          break;
        default: {
          const never: never = r;
          lines.push(String(never));
        }
      }
    }
    return `${lines.join("\n")}\n`;
  }

  /**
   * An SVG sequence diagram: one lifeline per server, one row per event, an arrow per message from its sending row
   * to its receiving row (a cross where it was lost). Long runs keep the last `maxRows` rows.
   */
  toSvg(options: TimelineSvgOptions = {}): string {
    const hidePings = options.hidePings ?? true;
    const maxRows = options.maxRows ?? 3000;
    const shown = this.records.filter((r) => {
      if (r.t < (options.fromMs ?? -Infinity) || r.t > (options.toMs ?? Infinity)) return false;
      return !(hidePings && r.kind !== "note" && r.label === "PING");
    });
    const rows = shown.length > maxRows ? shown.slice(shown.length - maxRows) : shown;
    const colWidth = 150;
    const rowHeight = 15;
    const left = 80;
    const top = 40;
    const noteWidth = 340;
    const width = left + colWidth * this.servers.length + noteWidth;
    const height = top + rowHeight * (rows.length + 2);
    const x = (sid: number) => left + colWidth * Math.max(0, this.servers.indexOf(sid)) + colWidth / 2;
    const y = (row: number) => top + rowHeight * (row + 1);
    const sendRow = new Map<number, number>();
    rows.forEach((r, i) => {
      if (r.kind === "send") sendRow.set(r.id, i);
    });
    const parts: string[] = [];
    parts.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="10">`,
      `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
      `<rect width="100%" height="100%" fill="white"/>`,
    );
    for (const sid of this.servers) {
      parts.push(
        `<text x="${x(sid)}" y="${top - 14}" text-anchor="middle" font-size="13" font-weight="bold">s${sid}</text>`,
        `<line x1="${x(sid)}" y1="${top - 8}" x2="${x(sid)}" y2="${height}" stroke="#bbb"/>`,
      );
    }
    rows.forEach((r, i) => {
      parts.push(`<text x="4" y="${y(i) + 3}" fill="#888">${r.t.toFixed(1)}</text>`);
      switch (r.kind) {
        case "send":
          break; // drawn with its receive or loss
        case "recv":
        case "lost": {
          const from = sendRow.get(r.id);
          const y0 = from === undefined ? y(i) - rowHeight / 2 : y(from);
          const colour = colourOf(r.channel, r.label);
          const x0 = x(r.from);
          const x1 = r.kind === "recv" ? x(r.to) : x0 + (x(r.to) - x0) * 0.6;
          const y1 = r.kind === "recv" ? y(i) : y0 + (y(i) - y0) * 0.6;
          const dash = r.channel === "election" ? ` stroke-dasharray="4 2"` : "";
          parts.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y1}" stroke="${colour}"${dash}${r.kind === "recv" ? ` marker-end="url(#arrow)"` : ""}><title>#${r.id} ${escapeXml(r.label)}</title></line>`);
          if (r.kind === "lost") {
            parts.push(`<text x="${x1}" y="${y1 + 4}" text-anchor="middle" fill="red" font-size="12">✗</text>`);
          }
          const labelX = (x0 + x1) / 2;
          parts.push(`<text x="${labelX}" y="${(y0 + y1) / 2 - 2}" text-anchor="middle" fill="${colour}">${escapeXml(shorten(r.label))}</text>`);
          break;
        }
        case "note": {
          const nx = r.sid === null ? left : x(r.sid);
          const text = escapeXml(r.sid === null ? `▶ ${r.text}` : r.text);
          if (r.sid !== null) parts.push(`<circle cx="${nx}" cy="${y(i)}" r="3" fill="black"/>`);
          parts.push(`<text x="${r.sid === null ? nx : nx + 6}" y="${y(i) + 3}" fill="${r.sid === null ? "#b00" : "black"}">${text}</text>`);
          break;
        }
        default: {
          const never: never = r;
          return never;
        }
      }
    });
    parts.push(`</svg>`);
    return parts.join("\n");
  }

  /** A page with the diagram and the text log. */
  toHtml(title: string, options: TimelineSvgOptions = {}): string {
    return [
      `<!doctype html><html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>`,
      `<style>body{font-family:sans-serif;margin:1em} pre{font-size:11px;background:#f6f6f6;padding:1em}</style></head><body>`,
      `<h1>${escapeXml(title)}</h1>`,
      `<p>Dashed arrows: election notifications. Solid: Zab packets (PINGs hidden). ✗: lost. Times in virtual ms.</p>`,
      this.toSvg(options),
      `<h2>Text</h2><pre>${escapeXml(this.toText())}</pre>`,
      `</body></html>`,
    ].join("\n");
  }
}

export interface TimelineSvgOptions {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly hidePings?: boolean;
  readonly maxRows?: number;
}

function colourOf(channel: Channel, label: string): string {
  if (channel === "election") return "#1f6fb2";
  const kind = label.split(" ")[0];
  switch (kind) {
    case "PROPOSAL":
      return "#d9822b";
    case "ACK":
      return "#2b9348";
    case "COMMIT":
    case "INFORM":
      return "#7b2cbf";
    case "DIFF":
    case "TRUNC":
    case "SNAP":
    case "NEWLEADER":
    case "UPTODATE":
      return "#c1121f";
    default:
      return "#555";
  }
}

function shorten(label: string): string {
  return label.length > 38 ? `${label.slice(0, 37)}…` : label;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
