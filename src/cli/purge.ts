/**
 * `npm run purge -- <dataDir> [-n count] [--log-dir <dataLogDir>]`: keeps the newest `count` (default 3, at least 3)
 * snapshots and the logs needed to recover from them, deletes the rest — what Apache's zkCleanup.sh
 * (PurgeTxnLog) does, and what the server does by itself every autopurge.purgeInterval hours.
 */
import { FileDisk } from "../storage/disk.ts";
import { resolveVersionDir } from "../storage/dirs.ts";
import { purgeRetainCountMin } from "../storage/limits.ts";
import { purge } from "../storage/purge.ts";

const usage = `usage: npm run purge -- <dataDir> [-n count] [--log-dir <dataLogDir>]
  dataDir   -- where the snapshots are (and the logs, unless --log-dir)
  count     -- the number of snapshots (and the logs they need) to keep, at least ${purgeRetainCountMin}; default ${purgeRetainCountMin}`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let dataDir: string | undefined;
  let logDir: string | undefined;
  let count = purgeRetainCountMin;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-n") count = Number(args[++i]);
    else if (arg === "--log-dir") logDir = args[++i];
    else if (arg === "-h" || arg === "--help") dataDir = undefined;
    else if (dataDir === undefined && !arg.startsWith("-")) dataDir = arg;
    else {
      console.error(`unexpected argument ${arg}\n${usage}`);
      return 2;
    }
  }
  if (dataDir === undefined || !Number.isInteger(count)) {
    console.error(usage);
    return 2;
  }
  if (count < purgeRetainCountMin) {
    console.error(`count should be greater than or equal to ${purgeRetainCountMin}\n${usage}`);
    return 2;
  }
  const snapDisk = new FileDisk(resolveVersionDir(dataDir));
  const logDisk = logDir === undefined ? snapDisk : new FileDisk(resolveVersionDir(logDir));
  const report = await purge(snapDisk, logDisk, count, (location, file) => {
    console.log(`Removing file: ${location}/${file.name}`);
  });
  if (report.plan.leastZxid === null) console.log(`No valid snapshot in ${snapDisk.location}: nothing purged.`);
  else {
    console.log(`Kept ${report.plan.retained.map((s) => s.name).join(", ")} and the logs from the one that covers zxid 0x${report.plan.leastZxid.toString(16)}; removed ${report.removed.length} files.`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
