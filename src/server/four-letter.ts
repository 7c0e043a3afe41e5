/**
 * Four-letter words (Apache `server/command/*`): a client that sends one of these four ASCII bytes instead of a
 * ConnectRequest gets a text answer and the connection is closed. `srvr` is always allowed (zkServer.sh needs it);
 * the rest need `4lw.commands.whitelist`.
 */
import type { ZooKeeperServer } from "./server.ts";

export const fourLetterWords = ["ruok", "srvr", "stat", "cons", "wchs", "wchc", "wchp", "dump", "conf", "envi", "mntr", "isro"] as const;
export type FourLetterWord = (typeof fourLetterWords)[number];

const wordsByCode = new Map<number, FourLetterWord>(fourLetterWords.map((w) => [Buffer.from(w, "ascii").readInt32BE(0), w]));

/** The word whose four bytes, read as a big-endian int, are `code` (ServerCnxn.checkFourLetterWord). */
export function fourLetterWordOf(code: number): FourLetterWord | undefined {
  return wordsByCode.get(code);
}

export function isFourLetterWordAllowed(word: string, whitelist: readonly string[]): boolean {
  return word === "srvr" || whitelist.includes("*") || whitelist.includes(word);
}

export function runFourLetterWord(word: FourLetterWord, server: ZooKeeperServer): string {
  switch (word) {
    case "ruok":
      return "imok";
    case "isro":
      return "rw";
    default:
      return `Zxid: 0x${server.lastZxid.toString(16)}\nMode: standalone\nNode count: ${server.tree.nodeCount}\n`;
  }
}
