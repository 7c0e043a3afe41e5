// ZooKeeper's "four letter words" (ruok, srvr, mntr, stat, ...): the client sends four ASCII bytes
// on a fresh connection, the server writes its answer and closes the connection. So the whole
// answer is "everything received until the server closes".
//
// Apache 3.5+ only answers words listed in 4lw.commands.whitelist (default: just srvr); a word
// that is not allowed gets "<word> is not executed because it is not in the whitelist."
//
// The one client for them is src/cluster's (npm run cluster asks members with it); tests wait longer by
// default, for a JVM that is still warming up.

import { fourLetterWord as askFourLetterWord } from "../../../src/cluster/srvr.ts";

export const testFourLetterWordTimeoutMs = 5_000;

export function fourLetterWord(host: string, port: number, word: string, timeoutMs = testFourLetterWordTimeoutMs): Promise<string> {
  return askFourLetterWord(host, port, word, timeoutMs);
}
