/**
 * loadZooCfg: read a zoo.cfg from disk, then the myid file it implies.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError, invalidValue } from "./errors.ts";
import { freezeConfig } from "./defaults.ts";
import { parseZooCfg } from "./parse.ts";
import type { ParsedZooCfg, ZooConfig } from "./types.ts";

export const myIdFileName = "myid";

/**
 * Reads and parses the file at `path`.
 *
 * - dataDir and dataLogDir become absolute. A relative path is taken from
 *   the process's working directory, which is what Java's File does in
 *   Apache (it only logs a warning about it).
 * - When the file has server.N lines, `<dataDir>/myid` is read: one line
 *   with this server's id. It is required when the server must join a
 *   quorum; with a single server line Apache runs standalone and so do we.
 */
export async function loadZooCfg(path: string): Promise<ParsedZooCfg> {
  const text = await readConfigText(path);
  const withoutMyId = parseZooCfg(text, { source: path });
  const dataDir = resolve(withoutMyId.config.dataDir);

  let parsed = withoutMyId;
  if (withoutMyId.config.servers.length > 0) {
    const myId = await readMyId(dataDir, withoutMyId.config, path);
    if (myId !== undefined) parsed = parseZooCfg(text, { source: path, myId });
  }

  return {
    ...parsed,
    config: freezeConfig({ ...parsed.config, dataDir, dataLogDir: resolve(parsed.config.dataLogDir) }),
  };
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${path}: cannot read the config file: ${(error as Error).message}`, undefined, undefined);
  }
}

/** Apache's setupMyId: the first line of the file, as a number. */
async function readMyId(dataDir: string, config: ZooConfig, source: string): Promise<number | undefined> {
  const myIdPath = join(dataDir, myIdFileName);
  let content: string;
  try {
    content = await readFile(myIdPath, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    if (missing && !config.distributed) return undefined;
    const ids = config.servers.map((server) => server.id).join(", ");
    const problem = missing ? "is missing" : `cannot be read (${(error as Error).message})`;
    throw new ConfigError(
      `${source}: myid file ${myIdPath} ${problem}; with server.N lines it must hold this server's id (one of ${ids})`,
      "myid",
      undefined,
    );
  }
  const firstLine = content.split(/\r?\n/)[0].trim();
  if (!/^\d+$/.test(firstLine)) {
    throw invalidValue(myIdPath, "myid", firstLine, "expected this server's id, a whole number like 1, on the first line");
  }
  return Number(firstLine);
}
