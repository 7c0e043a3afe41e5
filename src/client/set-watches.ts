/**
 * Re-registering watches on a new connection (Apache `ClientCnxn.SendThread.primeConnection`).
 *
 * The client sends every path it watches with `relativeZxid` = the last zxid it saw. The server compares each
 * watched node with that zxid and fires at once the watches whose node changed since (e.g. a data watch whose node's
 * mzxid > relativeZxid gets NodeDataChanged), and re-arms the others (reference §3). So no change is missed while
 * the client was away, and no event is invented for one it already saw.
 *
 * Persistent watches are the exception: Apache 3.8 re-adds them without looking at relativeZxid, so a change made
 * while the client was away is not reported to them. An application that must not miss one re-reads after a
 * reconnect.
 *
 * SetWatches (opcode 101) knows data, exist and child watches; SetWatches2 (105) adds persistent and persistent
 * recursive ones, and is only used for a packet that holds some (older servers do not know it). A client can watch
 * more paths than fit in one packet (jute.maxbuffer), so, like Apache, the paths are sent in batches of about
 * `setWatchesPacketBytesMax` (the last path added may overshoot a little, as in Apache).
 */
import { JuteWriter, SetWatches, SetWatches2, opCodes } from "../proto/index.ts";
import type { EncodedRequest } from "./operations.ts";

/** Apache `ClientCnxn.SET_WATCHES_MAX_LENGTH`: 128 KB of path text per packet. */
export const setWatchesPacketBytesMax = 128 * 1024;

export interface WatchedPaths {
  readonly data: readonly string[];
  readonly exist: readonly string[];
  readonly child: readonly string[];
  readonly persistent: readonly string[];
  readonly persistentRecursive: readonly string[];
}

const order = ["data", "exist", "child", "persistent", "persistentRecursive"] as const;

/** The SetWatches/SetWatches2 packets for these (server) paths; none when nothing is watched. */
export function setWatchesPackets(
  paths: WatchedPaths,
  relativeZxid: bigint,
  packetBytesMax: number = setWatchesPacketBytesMax,
): EncodedRequest[] {
  // lab 5.3: re-register watches: SetWatches relative to the last zxid seen, SetWatches2 when persistent, split by size
  //   Return the packets (opCode + body) that tell a new server which watches this client holds. Every packet
  //   carries `relativeZxid` (the last zxid the client saw): the server fires at once each watch whose node
  //   changed after it, and re-arms the others. No paths: no packets at all.
  //   Take the paths in this order: data, exist, child, persistent, persistentRecursive (the `order` above),
  //   each list in its given order, and cut them into batches: keep adding paths to a batch while the UTF-8
  //   bytes of the paths already in it (Buffer.byteLength(path, "utf8")) are below packetBytesMax — so the
  //   path that crosses the limit still goes in, as in Apache, and every batch holds at least one path.
  //   A batch with no persistent and no persistentRecursive paths is a SetWatches record (opCodes.setWatches,
  //   fields relativeZxid, dataWatches, existWatches, childWatches); one with some is a SetWatches2
  //   (opCodes.setWatches2, the same plus persistentWatches, persistentRecursiveWatches): older servers do not
  //   know SetWatches2. Encode with `const w = new JuteWriter(); SetWatches.write(w, {...})` and the body is
  //   Buffer.from(w.view()).
  const queue: Array<{ kind: (typeof order)[number]; path: string }> = [];
  for (const kind of order) for (const path of paths[kind]) queue.push({ kind, path });

  const packets: EncodedRequest[] = [];
  let at = 0;
  while (at < queue.length) {
    const batch: Record<(typeof order)[number], string[]> = {
      data: [],
      exist: [],
      child: [],
      persistent: [],
      persistentRecursive: [],
    };
    let batchBytes = 0;
    while (at < queue.length && batchBytes < packetBytesMax) {
      const { kind, path } = queue[at++]!;
      batch[kind].push(path);
      batchBytes += Buffer.byteLength(path, "utf8");
    }
    const w = new JuteWriter();
    const common = {
      relativeZxid,
      dataWatches: batch.data,
      existWatches: batch.exist,
      childWatches: batch.child,
    };
    if (batch.persistent.length === 0 && batch.persistentRecursive.length === 0) {
      SetWatches.write(w, common);
      packets.push({ opCode: opCodes.setWatches, body: Buffer.from(w.view()) });
    } else {
      SetWatches2.write(w, {
        ...common,
        persistentWatches: batch.persistent,
        persistentRecursiveWatches: batch.persistentRecursive,
      });
      packets.push({ opCode: opCodes.setWatches2, body: Buffer.from(w.view()) });
    }
  }
  return packets;
  // end lab 5.3
}
