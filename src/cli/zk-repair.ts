/**
 * `npm run zk-repair -- <dataLogDir> [--data-dir <dataDir>] [--dry-run | --yes]`
 *
 * When the server refuses to start because its transaction log is damaged (a CRC mismatch before the tail, a hole
 * in the zxids), this truncates the log at the last good transaction — after saying exactly which files change
 * and which transactions are dropped. Nothing is changed without confirmation: `--yes` skips the question,
 * `--dry-run` only reports; without a terminal and without `--yes`, nothing is done.
 */
import { createInterface } from "node:readline/promises";
import { FileDisk } from "../storage/disk.ts";
import { resolveVersionDir } from "../storage/dirs.ts";
import { formatEntry } from "../storage/inspect.ts";
import { applyRepair, planRepair, type DroppedFile, type RepairPlan } from "../storage/repair.ts";
import { hex } from "../storage/txn-codec.ts";

const usage = `usage: npm run zk-repair -- <dataLogDir> [--data-dir <dataDir>] [--dry-run | --yes]
  dataLogDir -- where the transaction logs are (dataLogDir, or dataDir when they share it)
  dataDir    -- where the snapshots are, when not in dataLogDir`;

function describeDropped(file: DroppedFile): string[] {
  const lines: string[] = [];
  for (const t of file.txns) {
    const what = t.entry === null ? "(unreadable entry)" : formatEntry(t.entry.header, t.entry.txn, null);
    lines.push(`      offset ${t.offset}: ${what}${t.damaged ? "   <- damaged" : ""}`);
  }
  if (file.unparsedBytes > 0) lines.push(`      and ${file.unparsedBytes} more non-zero bytes that do not parse as entries`);
  if (lines.length === 0) lines.push("      (no readable txns)");
  return lines;
}

/** Every txn the plan drops that recovery had not already covered with the snapshot. */
function lostTxns(plan: RepairPlan): bigint[] {
  const floor = plan.lastGood?.zxid ?? plan.snapshot?.zxid ?? 0n;
  const files = [...(plan.truncate === null ? [] : [plan.truncate.dropped]), ...plan.remove];
  return files.flatMap((f) => f.txns.flatMap((t) => (t.entry !== null && t.entry.header.zxid > floor ? [t.entry.header.zxid] : [])));
}

function report(plan: RepairPlan, dataDirLocation: string): string[] {
  const lines = [`Transaction logs: ${plan.logLocation}`, `Snapshots:        ${dataDirLocation}`];
  lines.push(
    plan.snapshot === null
      ? "No valid snapshot: recovery reads every log."
      : `Recovery starts from ${plan.snapshot.name} (zxid 0x${hex(plan.snapshot.zxid)}) and reads ${plan.files.join(", ") || "no logs"}.`,
  );
  if (plan.problem === null) {
    lines.push(`Every log recovery reads is intact${plan.lastGood === null ? "" : ` up to zxid 0x${hex(plan.lastGood.zxid)}`}: nothing to repair.`);
    return lines;
  }
  lines.push(`Damage: ${plan.problem.file} at offset ${plan.problem.offset}: ${plan.problem.reason}.`);
  lines.push(
    plan.lastGood === null
      ? "No transaction after the snapshot is readable before the damage."
      : `The last good transaction is zxid 0x${hex(plan.lastGood.zxid)} (in ${plan.lastGood.file}).`,
  );
  lines.push("Repair will:");
  const t = plan.truncate!;
  lines.push(
    t.offset <= 16
      ? `  delete ${t.file} (${t.sizeBefore} bytes: nothing before the damage survives), dropping:`
      : `  truncate ${t.file} from ${t.sizeBefore} to ${t.offset} bytes, dropping:`,
  );
  lines.push(...describeDropped(t.dropped));
  for (const file of plan.remove) {
    lines.push(`  delete ${file.name}, which comes after the damage, dropping:`);
    lines.push(...describeDropped(file));
  }
  const lost = lostTxns(plan);
  lines.push(
    lost.length === 0
      ? "No transaction newer than the last good one is lost."
      : `${lost.length} transactions after the last good one are lost (zxid 0x${hex(lost[0]!)} to 0x${hex(lost[lost.length - 1]!)}); clients may have been told they succeeded.`,
  );
  return lines;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let logDir: string | undefined;
  let dataDir: string | undefined;
  let mode: "ask" | "yes" | "dry" = "ask";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--data-dir") dataDir = args[++i];
    else if (arg === "--yes" || arg === "-y") mode = "yes";
    else if (arg === "--dry-run" || arg === "-n") mode = "dry";
    else if (!arg.startsWith("-") && logDir === undefined) logDir = arg;
    else {
      console.error(usage);
      return 2;
    }
  }
  if (logDir === undefined) {
    console.error(usage);
    return 2;
  }
  const logDisk = new FileDisk(resolveVersionDir(logDir));
  const snapDisk = dataDir === undefined ? logDisk : new FileDisk(resolveVersionDir(dataDir));
  const plan = await planRepair(logDisk, snapDisk);
  for (const line of report(plan, snapDisk.location)) console.log(line);
  if (plan.problem === null) return 0;
  if (mode === "dry") {
    console.log("Dry run: nothing changed.");
    return 1;
  }
  if (mode === "ask") {
    if (!process.stdin.isTTY) {
      console.log("Nothing changed: run again with --yes to do this (or --dry-run to only see it).");
      return 1;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("Proceed? [y/N] ");
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log("Nothing changed.");
      return 1;
    }
  }
  await applyRepair(logDisk, plan);
  console.log(`Repaired: the log now ends at zxid 0x${hex(plan.lastGood?.zxid ?? plan.snapshot?.zxid ?? 0n)}. The server will start from here.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
