// Differential test of the shell: each script (test/shell/scripts.ts, the book's master–worker walk-through first)
// runs through THIS shell against THIS server and through Apache's zkCli against Apache ZooKeeper 3.8, each on a
// fresh server, and the two outputs must agree line by line.
//
// Normalised, because it legitimately differs: the times of a Stat, session ids (ephemeralOwner), and the order of
// a getEphemerals list (Apache's comes from a HashSet). Zxids are compared as they are: fresh servers number the
// same transactions alike.
//
// Compared separately: watch events and everything else. zkCli prints events from its event thread while the
// main thread prints the command's own output, so the two interleave differently from run to run (the
// notification reaches the client before the reply, but "Created /x" may still be printed first). Each stream on
// its own is in a fixed order. Our shell's own order — an event always before the output of the command that
// caused it — is pinned in test/shell/cli.test.ts.
import { describe, expect, it } from "vitest";
import { startTestServer } from "../support/zk-server.ts";
import { normalize, runShell } from "../shell/helpers.ts";
import { deleteAll, errors, sameWatchTwice, walkthrough, watches } from "../shell/scripts.ts";
import {
  apacheAvailable,
  apacheSkipMessage,
  runZkCli,
  startApacheZooKeeper,
  type ApacheZooKeeper,
} from "./harness/index.ts";
import type { RunningServer } from "../../src/server/index.ts";

const available = apacheAvailable();
if (!available.ok) console.warn(apacheSkipMessage(available));

/** Session timeout for both shells: short, so nothing lingers, long enough for slow machines. */
const sessionTimeoutMs = 10_000;

interface Transcript {
  /** Everything but the watch events, in order. */
  readonly lines: string[];
  /** The "WatchedEvent ..." lines, in order. */
  readonly events: string[];
}

/**
 * Splits an output into events and the rest. zkCli prints an event as two writes, "\nWATCHER::" and
 * "\nWatchedEvent ...", each two lines; other output may come between them, never inside one.
 */
function transcript(output: string): Transcript {
  const all = normalize(output)
    .split("\n")
    .filter((line) => !/^(Connecting to |Welcome to ZooKeeper!$|JLine support is )/.test(line));
  const lines: string[] = [];
  const events: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const next = all[i + 1];
    if (all[i] === "" && (next === "WATCHER::" || next?.startsWith("WatchedEvent state:"))) {
      if (next !== "WATCHER::") events.push(next!);
      i++;
      continue;
    }
    lines.push(all[i]!.replace(/^\[(\/.*)\]$/, (_, items: string) => `[${items.split(", ").sort().join(", ")}]`));
  }
  return { lines, events };
}

async function bothShells(script: readonly string[]): Promise<{ theirs: Transcript; ours: Transcript }> {
  let apache: ApacheZooKeeper | undefined;
  let server: RunningServer | undefined;
  try {
    [apache, server] = await Promise.all([startApacheZooKeeper({ tickTimeMs: 500 }), startTestServer({ tickTimeMs: 500 })]);
    const [theirs, ours] = await Promise.all([
      runZkCli(apache.hostPort, [...script], { sessionTimeoutMs }),
      runShell(["-timeout", String(sessionTimeoutMs), server.connectString], script, { merge: true }),
    ]);
    expect(theirs.timedOut, theirs.raw).toBe(false);
    expect(ours.timedOut, ours.merged).toBe(false);
    return { theirs: transcript(theirs.raw), ours: transcript(ours.merged) };
  } finally {
    await Promise.all([apache?.stop(), server?.close()]);
  }
}

describe.skipIf(!available.ok)(
  available.ok ? "the zk shell and this server print what zkCli and Apache ZooKeeper 3.8 print" : apacheSkipMessage(available),
  () => {
    const scripts: Array<[string, readonly string[]]> = [
      ["the master–worker walk-through (book chapter 2)", walkthrough],
      ["every kind of watch, printwatches", watches],
      ["a watch set twice fires once", sameWatchTwice],
      ["errors: paths, ACLs, options, ephemeral parents, TTL", errors],
      ["deleteall in batches and half way", deleteAll],
    ];

    it.each(scripts)("%s", async (_name, script) => {
      // zkCli prints events from its own event thread and can drop one when its input ends first; a differing
      // transcript is run once more before it counts (ours is deterministic: a real difference shows both times).
      let { theirs, ours } = await bothShells(script);
      if (JSON.stringify([ours.lines, ours.events]) !== JSON.stringify([theirs.lines, theirs.events])) ({ theirs, ours } = await bothShells(script));
      expect(ours.lines).toEqual(theirs.lines);
      expect(ours.events).toEqual(theirs.events);
      // a comparison of nothing proves nothing
      expect(theirs.lines.length).toBeGreaterThan(script.length / 2);
      expect(theirs.events[0]).toBe("WatchedEvent state:SyncConnected type:None path:null");
    });
  },
);
