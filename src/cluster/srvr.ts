/**
 * Asking a member what it is: the `srvr` four letter word (always allowed, even by Apache's default whitelist).
 * The answer's `Mode:` line is the member's role — leader, follower, observer, or standalone for a server
 * that is not part of an ensemble — and `Zxid:` its last transaction id. A member that is up but not in a
 * quorum (electing) answers "This ZooKeeper instance is not currently serving requests".
 */
import { connect } from "node:net";

export type ServerMode = "leader" | "follower" | "observer" | "standalone" | "read-only";
const modes: readonly ServerMode[] = ["leader", "follower", "observer", "standalone", "read-only"];

export const fourLetterWordTimeoutMsDefault = 2_000;

/** What `srvr` told us, or why it told us nothing useful. */
export type Probe =
  | { readonly kind: "serving"; readonly mode: ServerMode; readonly zxid: bigint | undefined; readonly version: string | undefined }
  /** Up, but not serving clients: electing a leader, or syncing with it. */
  | { readonly kind: "not-serving"; readonly answer: string }
  /** No answer: nothing listens (down, or still starting), or no reply in time. */
  | { readonly kind: "unreachable"; readonly reason: string };

export function fourLetterWord(host: string, port: number, word: string, timeoutMs = fourLetterWordTimeoutMsDefault): Promise<string> {
  if (word.length !== 4) throw new Error(`a four letter word has 4 letters, got ${JSON.stringify(word)}`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to '${word}' within ${timeoutMs} ms`)));
    socket.once("connect", () => socket.write(word));
    socket.on("data", (b) => chunks.push(b));
    socket.once("error", reject);
    // The server writes its answer and closes: the answer is everything before the close.
    socket.once("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/** Parses a `srvr` (or `stat`) answer. Pure. */
export function parseSrvr(answer: string): Probe {
  const mode = /^Mode: (\S+)/m.exec(answer)?.[1];
  if (mode === undefined || !(modes as readonly string[]).includes(mode)) {
    return { kind: "not-serving", answer: answer.trim() || "(empty answer)" };
  }
  const zxidText = /^Zxid: (0x[0-9a-fA-F]+)/m.exec(answer)?.[1];
  return {
    kind: "serving",
    mode: mode as ServerMode,
    zxid: zxidText === undefined ? undefined : BigInt(zxidText),
    version: /^Zookeeper version: (.*)$/m.exec(answer)?.[1]?.trim(),
  };
}

export async function probe(host: string, port: number, timeoutMs = fourLetterWordTimeoutMsDefault): Promise<Probe> {
  try {
    return parseSrvr(await fourLetterWord(host, port, "srvr", timeoutMs));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: "unreachable", reason: code === "ECONNREFUSED" ? "connection refused" : (error as Error).message };
  }
}

/** 0x100000003 → "0x100000003" (epoch 1, counter 3), the way Apache prints zxids. */
export function formatZxid(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}
