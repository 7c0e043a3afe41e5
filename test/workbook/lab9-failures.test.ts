// Lab 9's failures as a learner meets them (issue 7: "a first failure that says in words which Zab property broke,
// with the seed to replay it"). Deliberately wrong pieces for the follower (9.5) and the election's rounds (9.6) must
// fail with the property they break in words; and end to end, `npm run lab 9` on a follower that ACKs before it logs
// must print the broken property, the simulation's seed, the timeline file it wrote and the replay command — and
// replaying with that seed must print the same failure.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collectLabSources, generateLabFiles } from "../../src/workbook/build.ts";
import { labs } from "../../src/workbook/catalog.ts";
import { projectRoot, runLab } from "../../src/workbook/run-lab.ts";

const lab9 = labs.find((l) => l.number === 9)!;
const scratch = path.join(projectRoot, ".zkbook", "test-lab9");
const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");

/** The solutions of lab 9 with exercise `id`'s region in `file` replaced by `body`; returns the tree root. */
async function wrongTree(name: string, file: string, id: string, body: string): Promise<string> {
  const root = path.join(scratch, name);
  const dir = path.join(root, lab9.slug);
  await rm(root, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const sources = (await collectLabSources(projectRoot)).get(9) ?? [];
  for (const f of generateLabFiles(lab9, sources, "solution", new Set())) {
    let content = f.content;
    if (f.name === file) {
      const at = id.replace(".", "\\.");
      const region = new RegExp(`(// lab ${at}:[^\\n]*\\n(?:[ \\t]*//[^\\n]*\\n)*)[\\s\\S]*?([ \\t]*// end lab ${at})`);
      expect(region.test(content), `region ${id} in ${file}`).toBe(true);
      content = content.replace(region, (_m, head: string, end: string) => `${head}${body}\n${end}`);
    }
    await writeFile(path.join(dir, f.name), content);
  }
  return root;
}

/** A follower that ACKs a proposal at once and writes it to its log only when it is committed. */
const ackBeforeLog = `
    const self = this as unknown as { unlogged?: Map<bigint, { zxid: bigint; txn: T["txn"] }> };
    const unlogged = (self.unlogged ??= new Map());
    if (packet.kind === "PROPOSAL") {
      unlogged.set(packet.zxid, { zxid: packet.zxid, txn: packet.txn });
      io.ack(packet.zxid); // ACK now; write it when it commits
      return;
    }
    if (packet.zxid <= io.lastDelivered) return;
    for (const [zxid, entry] of unlogged) {
      if (zxid > packet.zxid) break;
      io.log(entry);
      unlogged.delete(zxid);
    }
    if (!io.isLogged(packet.zxid)) io.protocolError("never logged");
    for (const entry of io.loggedAfter(io.lastDelivered)) {
      if (entry.zxid > packet.zxid) break;
      io.deliver(entry);
    }`;

const wrongPieces: Array<{ name: string; file: string; id: string; body: string; says: RegExp }> = [
  {
    name: "9.5 ACK before the proposal is logged",
    file: "learner.ts",
    id: "9.5",
    body: ackBeforeLog,
    says: /Zab property broken: committed txns are on a quorum \(a txn was delivered that a quorum of voters had not logged — an ACK sent before the txn was logged/,
  },
  {
    name: "9.5 deliver the committed txns newest first",
    file: "learner.ts",
    id: "9.5",
    body: `
    if (packet.kind === "PROPOSAL") {
      io.log({ zxid: packet.zxid, txn: packet.txn });
      io.ack(packet.zxid);
      return;
    }
    if (packet.zxid <= io.lastDelivered) return;
    if (!io.isLogged(packet.zxid)) io.protocolError("never logged");
    for (const entry of io.loggedAfter(io.lastDelivered).filter((e) => e.zxid <= packet.zxid).reverse()) io.deliver(entry);`,
    says: /Zab property broken: delivered out of zxid order \(0x[0-9a-f]+(, 0x[0-9a-f]+)+\); deliver strictly in zxid order\nwhen COMMIT 0x/,
  },
  {
    name: "9.5 deliver only the txn the COMMIT names",
    file: "learner.ts",
    id: "9.5",
    body: `
    if (packet.kind === "PROPOSAL") {
      io.log({ zxid: packet.zxid, txn: packet.txn });
      io.ack(packet.zxid);
      return;
    }
    if (packet.zxid <= io.lastDelivered) return;
    if (!io.isLogged(packet.zxid)) io.protocolError("never logged");
    const entry = io.loggedAfter(io.lastDelivered).find((e) => e.zxid === packet.zxid);
    if (entry !== undefined) io.deliver(entry);`,
    says: /Zab property broken: COMMIT 0x[0-9a-f]+ also commits every logged txn before it/,
  },
  {
    name: "9.5 deliver a proposal before it is committed",
    file: "learner.ts",
    id: "9.5",
    body: `
    if (packet.kind === "PROPOSAL") {
      io.log({ zxid: packet.zxid, txn: packet.txn });
      io.ack(packet.zxid);
      io.deliver({ zxid: packet.zxid, txn: packet.txn });
    }`,
    // Which property breaks first depends on the ensemble: a txn delivered before a quorum logged it, or two histories.
    says: /simulation seed \d+ .* failed\.\nZab property broken: (committed txns are on a quorum|committed logs are prefixes) \(/,
  },
  {
    name: "9.6 keep the old round's votes",
    file: "fle.ts",
    id: "9.6",
    body: `
  if (n.electionEpoch > round.round) {
    round.round = n.electionEpoch;
    round.vote = ctx.better(n, ctx.own) ? { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch } : ctx.own;
    ctx.sendVote();
  } else if (n.electionEpoch < round.round) {
    return false;
  } else if (ctx.better(n, round.vote)) {
    round.vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
    ctx.sendVote();
  }
  round.votes.set(from, { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch, state: "LOOKING" });
  const mine = { ...round.vote, electionEpoch: round.round, state: "LOOKING" as const };
  return ctx.isQuorum([...round.votes].filter(([, v]) => sameVote(v, mine)).map(([sid]) => sid));`,
    says: /moving to round \d+ forgets every vote of round \d+/,
  },
  {
    name: "9.6 decide on a quorum for the same leader, whatever its zxid or round",
    file: "fle.ts",
    id: "9.6",
    body: `
  if (n.electionEpoch > round.round) {
    round.round = n.electionEpoch;
    round.votes.clear();
    round.vote = ctx.better(n, ctx.own) ? { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch } : ctx.own;
    ctx.sendVote();
  } else if (n.electionEpoch < round.round) {
    return false;
  } else if (ctx.better(n, round.vote)) {
    round.vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
    ctx.sendVote();
  }
  round.votes.set(from, { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch, state: "LOOKING" });
  return ctx.isQuorum([...round.votes].filter(([, v]) => v.leader === round.vote.leader).map(([sid]) => sid));`,
    says: /termination: the votes of round \d+ equal to yours — same leader, zxid, peerEpoch and round — do not form a quorum, so return false/,
  },
  {
    name: "9.6 stay in my round",
    file: "fle.ts",
    id: "9.6",
    body: `
  if (n.electionEpoch !== round.round) return false;
  if (ctx.better(n, round.vote)) {
    round.vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
    ctx.sendVote();
  }
  round.votes.set(from, { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch, state: "LOOKING" });
  const mine = { ...round.vote, electionEpoch: round.round, state: "LOOKING" as const };
  return ctx.isQuorum([...round.votes].filter(([, v]) => sameVote(v, mine)).map(([sid]) => sid));`,
    says: /a notification from round \d+, above yours \(\d+\): your logical clock moves to \d+; your round became \d+/,
  },
];

describe("lab 9: a wrong piece fails with the property it breaks, in words", () => {
  for (const piece of wrongPieces) {
    it.concurrent(piece.name, async () => {
      const tree = await wrongTree(piece.name.replace(/\W+/g, "-"), piece.file, piece.id, piece.body);
      const run = await runLab(lab9, { treeRoot: tree, seed: 11, exercises: [piece.id] });
      const outcome = run.outcomes[0]!;
      expect(outcome.status, JSON.stringify(outcome)).toBe("fail");
      expect(outcome.status === "fail" ? outcome.message : "").toMatch(piece.says);
    }, 120_000);
  }
});

describe("npm run lab 9 on a follower that ACKs before it logs", () => {
  it("prints the broken Zab property, the seed, the timeline file and the replay command; the seed replays it", async () => {
    const tree = await wrongTree("cli-ack-before-log", "learner.ts", "9.5", ackBeforeLog);
    const env = {
      ...process.env,
      NO_COLOR: "1",
      ZKBOOK_PROGRESS: path.join(scratch, "progress.json"),
      ZKBOOK_LABS_TREE: path.relative(projectRoot, tree),
    };
    const lab = (args: string[]) => spawnSync(tsx, ["src/cli/lab.ts", "9", "--once", ...args], { cwd: projectRoot, encoding: "utf8", env, timeout: 150_000 });

    const first = lab(["--seed", "5"]);
    expect(first.status, first.stderr).toBe(1);
    const out = first.stdout;
    // Every other exercise is the solution: 9.5 is the first failure, and the runner shows its whole explanation.
    expect(out).toMatch(/PASS 9\.4[\s\S]*FAIL 9\.5 Zab on the follower[\s\S]*PASS 9\.6/);
    const failure = /Exercise 9\.5 fails: Zab with your follower's broadcast step: simulation seed (\d+) \(lab seed 5, run \d+ of 60\) failed\.\n/.exec(out);
    expect(failure, out).not.toBeNull();
    const simSeed = failure![1]!;
    expect(out).toMatch(/\nZab property broken: committed txns are on a quorum \(a txn was delivered that a quorum of voters had not logged — an ACK sent before the txn was logged, or ACKs counted that are not a quorum\) — first at [\d.]+ ms: 0x[0-9a-f]+ delivered by \d+ while durable only on \[[\d,]*\]/);
    expect(out).toMatch(/\nthe run: (majority|hierarchical)/);
    const timeline = /\ntimeline: (\S+\.txt) \(and (\S+\.html)\); replay with `npm run lab 9 -- --seed (\d+)`/.exec(out);
    expect(timeline, out).not.toBeNull();
    const [, textPath, htmlPath, replaySeed] = timeline!;
    expect(replaySeed).toBe("5");
    expect(textPath).toContain(`zkbook-sim-${simSeed}.txt`);
    expect(existsSync(textPath!) && existsSync(htmlPath!)).toBe(true);
    const text = readFileSync(textPath!, "utf8");
    expect(text).toContain(`seed ${simSeed}:`);
    expect(text).toContain('violated "committed txns are on a quorum"');
    expect(text).toMatch(/ACK 0x[0-9a-f]+/);
    expect(out).toContain("seed 5 (replay with --seed 5)");

    // The replay the message asks for: the same lab seed gives the same simulation and the same report, line for line.
    const again = lab(["--seed", replaySeed!]);
    expect(again.status).toBe(1);
    expect(again.stdout).toBe(out);
  }, 300_000);
});
