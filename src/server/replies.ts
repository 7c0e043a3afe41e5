/**
 * Encoding what the server sends: a reply is `ReplyHeader{xid, zxid, err}` followed by a body only when err is 0
 * (reference §1); a notification is a reply with xid -1 and a WatcherEvent body.
 */
import { JuteWriter, ReplyHeader, WatcherEvent, eventTypes, keeperStates, xids, type EventTypeName } from "../proto/index.ts";

/** Writes a length-prefixed frame: the length is patched in after the body is known. */
export function encodeFrame(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  w.writeInt(0);
  write(w);
  // The writer is this call's alone, so its bytes are the frame: no copy.
  const frame = w.view();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

export function encodeReply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): Buffer {
  return encodeFrame((w) => {
    ReplyHeader.write(w, { xid, zxid, err });
    if (err === 0 && body !== undefined) body(w);
  });
}

/** A watch notification (NIOServerCnxn.process): header (-1, -1, 0), state SyncConnected. */
export function encodeNotification(type: EventTypeName, path: string): Buffer {
  return encodeFrame((w) => {
    ReplyHeader.write(w, { xid: xids.notification, zxid: -1n, err: 0 });
    WatcherEvent.write(w, { type: eventTypes[type], state: keeperStates.syncConnected, path });
  });
}
