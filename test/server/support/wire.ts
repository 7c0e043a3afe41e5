/**
 * Building and reading client-protocol packets by hand, for tests that must talk to the server byte by byte
 * (the handshake, bad input, the fuzzer). Everything is encoded with the project's jute records, but the
 * tests check the bytes against the facts of the reference (sizes, codes), not against the encoder.
 */
import {
  ConnectRequest,
  ConnectResponse,
  JuteReader,
  JuteWriter,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  type ConnectResponse as ConnectResponseT,
  type ReplyHeader as ReplyHeaderT,
  type WatcherEvent as WatcherEventT,
} from "../../../src/proto/index.ts";

export interface ConnectOptions {
  readonly lastZxidSeen?: bigint;
  readonly timeOut?: number;
  readonly sessionId?: bigint;
  readonly passwd?: Buffer | null;
  /** undefined = an "old" client (node-zookeeper-client) that sends no readOnly byte. */
  readonly readOnly?: boolean | undefined;
}

/** A length-prefixed ConnectRequest frame. */
export function connectFrame(options: ConnectOptions = {}): Buffer {
  const w = new JuteWriter();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: options.lastZxidSeen ?? 0n,
    timeOut: options.timeOut ?? 30_000,
    sessionId: options.sessionId ?? 0n,
    passwd: options.passwd === undefined ? Buffer.alloc(16) : options.passwd,
    readOnly: "readOnly" in options ? options.readOnly : false,
  });
  return w.toFrame();
}

/** A length-prefixed request frame: RequestHeader{xid, type} + body. */
export function requestFrame(xid: number, type: number, body?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  RequestHeader.write(w, { xid, type });
  body?.(w);
  return w.toFrame();
}

/** Prefixes raw bytes with their length. */
export function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Splits a byte stream into frame bodies; leftover bytes (an incomplete frame) are returned too. */
export function splitFrames(stream: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (stream.length - offset >= 4) {
    const length = stream.readInt32BE(offset);
    if (length < 0 || stream.length - offset - 4 < length) break;
    frames.push(stream.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { frames, rest: stream.subarray(offset) };
}

export function readConnectResponse(body: Buffer): ConnectResponseT {
  return ConnectResponse.read(new JuteReader(body));
}

/** A reply frame: its header, a reader positioned at the body, and the notification when xid is -1. */
export interface Reply {
  readonly header: ReplyHeaderT;
  readonly body: Buffer;
  readonly reader: JuteReader;
  readonly event?: WatcherEventT;
}

export function readReply(body: Buffer): Reply {
  const reader = new JuteReader(body);
  const header = ReplyHeader.read(reader);
  if (header.xid === -1) {
    const event = WatcherEvent.read(reader);
    return { header, body, reader, event };
  }
  return { header, body, reader };
}
