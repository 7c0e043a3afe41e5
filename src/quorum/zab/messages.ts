/**
 * Zab's quorum packets (Apache `Leader` packet types, `QuorumPacket`) as a discriminated union. The numeric codes
 * (PROPOSAL 2, ACK 3, …; reference §6) exist only in a codec; the cores switch on `kind`.
 *
 * The cores never look inside a request, a txn or a snapshot, so the three are type parameters bundled in
 * `ZabTypes`: the simulator uses tiny records, a TCP runtime the real `Txn` and serialized `DataTree`s.
 */

/** What the cores carry without looking inside. */
export interface ZabTypes {
  /** A client write as a follower forwards it (REQUEST), before the leader's prepare step turned it into a txn. */
  readonly request: unknown;
  /** A prepared transaction, as proposed, logged, committed and delivered. */
  readonly txn: unknown;
  /** The state machine serialized as of a zxid, sent after a SNAP. */
  readonly snapshot: unknown;
}

/** One logged transaction. */
export interface LogEntry<T extends ZabTypes> {
  readonly zxid: bigint;
  readonly txn: T["txn"];
}

/** What a follower forwards to the leader (Apache sends both as REQUEST packets; sync is OpCode.sync). */
export type ForwardedRequest<T extends ZabTypes> =
  | { readonly op: "write"; readonly request: T["request"] }
  /** Client `sync`: the leader answers SYNC once every proposal outstanding now is committed. */
  | { readonly op: "sync" };

export type QuorumPacket<T extends ZabTypes> =
  // ---- discovery (Zab phase 1)
  /** Learner → leader, first packet on a new connection: the last epoch it accepted (Apache: zxid = (acceptedEpoch, 0)). */
  | { readonly kind: "FOLLOWERINFO"; readonly acceptedEpoch: number }
  /** The same from an observer. */
  | { readonly kind: "OBSERVERINFO"; readonly acceptedEpoch: number }
  /** Leader → learner: the epoch it proposes, above every acceptedEpoch of a quorum. */
  | { readonly kind: "LEADERINFO"; readonly newEpoch: number }
  /**
   * Learner → leader: it accepted the epoch. `currentEpoch` is -1 when it had already accepted this very epoch
   * (a reconnect): such an ack does not count toward the leader's quorum.
   */
  | { readonly kind: "ACKEPOCH"; readonly currentEpoch: number; readonly lastZxid: bigint }
  // ---- synchronization (Zab phase 2)
  /** The learner's log is a prefix of the leader's: the missing txns follow as PROPOSAL (+ COMMIT). */
  | { readonly kind: "DIFF"; readonly zxid: bigint }
  /** The learner has txns the leader does not: drop every entry after `zxid`, then the missing ones follow. */
  | { readonly kind: "TRUNC"; readonly zxid: bigint }
  /** The learner is too far behind: the leader's state machine as of `zxid` follows, then newer txns. */
  | { readonly kind: "SNAP"; readonly zxid: bigint; readonly snapshot: T["snapshot"] }
  /** End of the leader's initial history; zxid = (newEpoch, 0). The learner sets currentEpoch, then ACKs. */
  | { readonly kind: "NEWLEADER"; readonly zxid: bigint }
  /** A quorum accepted NEWLEADER: the initial history is committed; start serving. */
  | { readonly kind: "UPTODATE" }
  // ---- broadcast (Zab phase 3)
  | { readonly kind: "PROPOSAL"; readonly zxid: bigint; readonly txn: T["txn"] }
  /** Follower → leader: the proposal (or NEWLEADER) `zxid`, and everything before it, is logged and fsynced. */
  | { readonly kind: "ACK"; readonly zxid: bigint }
  | { readonly kind: "COMMIT"; readonly zxid: bigint }
  /** Leader → observer: a committed txn (observers get no PROPOSALs). */
  | { readonly kind: "INFORM"; readonly zxid: bigint; readonly txn: T["txn"] }
  // ---- liveness and forwarding
  /** Leader → learner every tickTime/2; the learner answers with a PING. */
  | { readonly kind: "PING" }
  | { readonly kind: "REQUEST"; readonly request: ForwardedRequest<T> }
  /** Leader → the learner that forwarded a sync: every proposal outstanding at that moment is committed. */
  | { readonly kind: "SYNC" };

export type QuorumPacketKind = QuorumPacket<ZabTypes>["kind"];

/**
 * A packet as a core emits it. A SNAP has no snapshot yet: the driver writes the state machine after it (Apache's
 * LearnerHandler serializes the DataTree straight onto the socket), which is exact because the driver has applied
 * every `deliver` before this send (see `Ready`).
 */
export type OutgoingPacket<T extends ZabTypes> =
  | Exclude<QuorumPacket<T>, { readonly kind: "SNAP" }>
  | { readonly kind: "SNAP"; readonly zxid: bigint };

/** One line for logs and timelines: "PROPOSAL 0x100000003". */
export function describePacket(p: QuorumPacket<ZabTypes> | OutgoingPacket<ZabTypes>): string {
  const hex = (z: bigint) => (z < 0n ? `-0x${(-z).toString(16)}` : `0x${z.toString(16)}`);
  switch (p.kind) {
    case "FOLLOWERINFO":
    case "OBSERVERINFO":
      return `${p.kind} acceptedEpoch=${p.acceptedEpoch}`;
    case "LEADERINFO":
      return `LEADERINFO newEpoch=${p.newEpoch}`;
    case "ACKEPOCH":
      return `ACKEPOCH currentEpoch=${p.currentEpoch} lastZxid=${hex(p.lastZxid)}`;
    case "DIFF":
    case "TRUNC":
    case "SNAP":
    case "NEWLEADER":
    case "PROPOSAL":
    case "ACK":
    case "COMMIT":
    case "INFORM":
      return `${p.kind} ${hex(p.zxid)}`;
    case "REQUEST":
      return `REQUEST ${p.request.op}`;
    case "UPTODATE":
    case "PING":
    case "SYNC":
      return p.kind;
    default: {
      const never: never = p;
      return String(never);
    }
  }
}
