/**
 * A scripted server for driving `ClientCore` without sockets: decode what the core sends, encode what a
 * ZooKeeper server would answer. Times are plain numbers (a fake clock).
 */
import {
  ConnectRequest,
  ConnectResponse,
  JuteReader,
  JuteWriter,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  eventTypes,
  type EventTypeName,
  type RecordCodec,
} from "../../src/proto/index.ts";
import {
  ClientCore,
  type CoreConfig,
  type CoreInput,
  type CoreOutput,
  type CoreStep,
} from "../../src/client/core.ts";
import { Chroot } from "../../src/client/paths.ts";

export type Output = CoreOutput<string>;

export const threeHosts = [
  { host: "a", port: 1 },
  { host: "b", port: 2 },
  { host: "c", port: 3 },
];

export function makeCore(overrides: Partial<CoreConfig> = {}): ClientCore<string> {
  return new ClientCore<string>({
    hosts: threeHosts,
    chroot: new Chroot(""),
    sessionTimeoutMs: 9000,
    random: () => 0,
    reconnectDelayMsMax: 1000,
    hostCycleDelayMs: 1000,
    ...overrides,
  });
}

/** Drives a core and keeps every output, so tests can look at what happened since the last look. */
export class Driver {
  readonly log: Output[] = [];
  private seen = 0;
  lastStep: CoreStep<string> | null = null;

  constructor(readonly core: ClientCore<string>) {}

  feed(input: CoreInput<string>): Output[] {
    const step = this.core.handle(input);
    this.lastStep = step;
    this.log.push(...step.outputs);
    return [...step.outputs];
  }

  /** Outputs since the previous call. */
  fresh(): Output[] {
    const out = this.log.slice(this.seen);
    this.seen = this.log.length;
    return out;
  }

  /** The id of the socket the core most recently asked to open. */
  get lastConnectionId(): number {
    for (let i = this.log.length - 1; i >= 0; i--) {
      const o = this.log[i]!;
      if (o.kind === "openSocket") return o.connectionId;
    }
    throw new Error("no socket opened");
  }

  /** Every frame sent on a connection, in order. */
  sentOn(connectionId: number): Buffer[] {
    return this.log.flatMap((o) => (o.kind === "send" && o.connectionId === connectionId ? [o.bytes] : []));
  }

  /** connect → socket open → ConnectResponse: a connected core at time `nowMs`. */
  connectTo(nowMs: number, response: Partial<ConnectResponse> = {}): number {
    if (this.core.state.kind === "notConnected") this.feed({ kind: "connectRequested", nowMs });
    const connectionId = this.lastConnectionId;
    this.feed({ kind: "socketConnected", connectionId, nowMs });
    this.feed({ kind: "bytesReceived", connectionId, bytes: connectResponse(response), nowMs });
    return connectionId;
  }
}

/** The body of a frame (without its 4-byte length). */
export function body(frame: Buffer): Buffer {
  expectLength(frame);
  return frame.subarray(4);
}

function expectLength(frame: Buffer): void {
  if (frame.readInt32BE(0) !== frame.length - 4) throw new Error("bad frame length prefix");
}

export function decodeConnectRequest(frame: Buffer): ConnectRequest {
  return ConnectRequest.read(new JuteReader(body(frame)));
}

export interface SentRequest {
  readonly xid: number;
  readonly type: number;
  readonly reader: JuteReader;
}

export function decodeRequest(frame: Buffer): SentRequest {
  const reader = new JuteReader(body(frame));
  const header = RequestHeader.read(reader);
  return { xid: header.xid, type: header.type, reader };
}

export function frameOf(build: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  build(w);
  return w.toFrame();
}

export function connectResponse(fields: Partial<ConnectResponse> = {}): Buffer {
  return frameOf((w) =>
    ConnectResponse.write(w, {
      protocolVersion: 0,
      timeOut: 6000,
      sessionId: 0x1234n,
      passwd: Buffer.alloc(16, 7),
      readOnly: false,
      ...fields,
    }),
  );
}

export function reply<T>(xid: number, zxid: bigint, err = 0, record?: RecordCodec<T>, value?: T): Buffer {
  return frameOf((w) => {
    ReplyHeader.write(w, { xid, zxid, err });
    if (record !== undefined && err === 0) record.write(w, value as T);
  });
}

export function notification(type: EventTypeName, path: string): Buffer {
  return frameOf((w) => {
    ReplyHeader.write(w, { xid: -1, zxid: -1n, err: 0 });
    WatcherEvent.write(w, { type: eventTypes[type], state: 3, path });
  });
}

export const emptyStat = {
  czxid: 1n,
  mzxid: 1n,
  ctime: 0n,
  mtime: 0n,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 1n,
};

export function kinds(outputs: readonly Output[]): string[] {
  return outputs.map((o) => (o.kind === "stateChanged" ? `state:${o.state.kind}` : o.kind));
}
