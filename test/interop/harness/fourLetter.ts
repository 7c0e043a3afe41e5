// ZooKeeper's "four letter words" (ruok, srvr, mntr, stat, ...): the client sends four ASCII bytes
// on a fresh connection, the server writes its answer and closes the connection. So the whole
// answer is "everything received until the server closes".
//
// Apache 3.5+ only answers words listed in 4lw.commands.whitelist (default: just srvr); a word
// that is not allowed gets "<word> is not executed because it is not in the whitelist."

import { connect } from "node:net";

export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 5_000): Promise<string> {
  if (word.length !== 4) throw new Error(`four letter word must have 4 letters, got ${JSON.stringify(word)}`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`four letter word '${word}' to ${host}:${port}: no answer within ${timeoutMs} ms`));
    });
    socket.once("connect", () => socket.write(word));
    socket.on("data", (b) => chunks.push(b));
    socket.once("error", reject);
    socket.once("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
