/**
 * Writing a run's timeline for people: `<dir>/zkbook-sim-<seed>.txt` and `.html` (an SVG sequence diagram).
 * A run that was not recorded is replayed with recording on — the seed makes it the same run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeFailure, runSimulation, type ScenarioOptions, type SimulationResult } from "./scenario.ts";

export interface WrittenTimeline {
  readonly textPath: string;
  readonly htmlPath: string;
}

export function writeTimeline(result: SimulationResult, dir: string, options: ScenarioOptions = {}): WrittenTimeline {
  const recorded = result.cluster.timeline !== null ? result : runSimulation(result.seed, { ...options, record: true });
  const timeline = recorded.cluster.timeline!;
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `zkbook-sim-${result.seed}`);
  const header = `${recorded.ok ? `seed ${recorded.seed}: ${recorded.setup}\n  ok` : describeFailure(recorded)}\n\n`;
  writeFileSync(`${base}.txt`, header + timeline.toText());
  const title = recorded.ok ? `zkbook simulation, seed ${recorded.seed}` : `zkbook simulation, seed ${recorded.seed}: FAILED`;
  writeFileSync(`${base}.html`, timeline.toHtml(`${title}`).replace("<h1>", `<pre>${escapeHtml(header)}</pre><h1>`));
  return { textPath: `${base}.txt`, htmlPath: `${base}.html` };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
