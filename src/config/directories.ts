/**
 * checkDataDirectories: can this server keep its data where zoo.cfg says?
 *
 * Apache's FileTxnSnapLog creates dataDir and dataLogDir (with their version-2 folders) at start-up and dies with
 * "Unable to create data directory" when it cannot. We look before storage starts, so that the error names the key
 * at fault and its value instead of ending in an mkdir stack trace.
 */
import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { invalidValue } from "./errors.ts";
import type { ZooConfig } from "./types.ts";

/**
 * Creates dataDir and dataLogDir if they are missing and checks that this process may write in them. Throws
 * ConfigError naming the key (`source` is the zoo.cfg path, or what the settings came from).
 */
export async function checkDataDirectories(config: Pick<ZooConfig, "dataDir" | "dataLogDir">, source: string): Promise<void> {
  const dirs: Array<["dataDir" | "dataLogDir", string]> = [["dataDir", config.dataDir]];
  if (config.dataLogDir !== config.dataDir) dirs.push(["dataLogDir", config.dataLogDir]);
  for (const [key, dir] of dirs) {
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why = e.code === "ENOTDIR" || e.code === "EEXIST" ? "a file is in the way" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : (e.code ?? e.message);
      throw invalidValue(source, key, dir, `cannot create or write this directory (${why}); it must be a directory this user can create and write`);
    }
  }
}
