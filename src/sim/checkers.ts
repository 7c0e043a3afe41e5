/**
 * Safety properties checked while a simulation runs (Zab paper §3, "Properties"; book chapter 9):
 *
 *  - one leader per epoch: at most one server completes discovery for an epoch, and at most one is established
 *    in it; a server of weight 0 never leads (reference §6);
 *  - a zxid names one txn: no two servers ever log different txns under the same zxid;
 *  - integrity and total order: every server's delivered txns (per incarnation, a snapshot standing for its
 *    prefix) are a prefix of one sequence, in increasing zxid order, each txn once ("all servers' committed logs
 *    are prefixes of one another");
 *  - durability: when a txn is first delivered anywhere it is durable (fsynced) on a quorum of voters, and it still
 *    is at the end of the run (no crash or TRUNC took it from a quorum).
 */
import { hexZxid, type PeerEvent, type PersistOp, type QuorumVerifier } from "../quorum/index.ts";
import type { SimApplied, SimTypes } from "./types.ts";

export interface Violation {
  readonly atMs: number;
  readonly property: string;
  readonly detail: string;
}

/** What the checker needs to know about disks: is `zxid` durable on server `sid`? */
export type DurableProbe = (sid: number, zxid: bigint) => boolean;

export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** The one committed sequence every server's deliveries must be a prefix of. */
  readonly committed: SimApplied[] = [];
  private readonly discoveredBy = new Map<number, number>();
  private readonly establishedBy = new Map<number, number>();
  private readonly txnOfZxid = new Map<bigint, number>();
  private readonly committedIds = new Set<number>();
  /** Which voters delivered each txn id (any incarnation): liveness asks for a quorum. */
  readonly deliveredBy = new Map<number, Set<number>>();

  constructor(
    private readonly verifier: QuorumVerifier,
    private readonly durable: DurableProbe,
  ) {}

  get ok(): boolean {
    return this.violations.length === 0;
  }

  private fail(atMs: number, property: string, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ atMs, property, detail });
  }

  onEvent(sid: number, event: PeerEvent, atMs: number): void {
    switch (event.kind) {
      case "role":
        if (event.role === "leading" && this.verifier.weight(sid) === 0) {
          this.fail(atMs, "weight-0 never leads", `server ${sid} (weight 0) became leader`);
        }
        break;
      case "discovered":
        this.onePerEpoch(this.discoveredBy, "one leader per epoch (discovery)", sid, event.epoch, atMs);
        break;
      case "established":
        this.onePerEpoch(this.establishedBy, "one leader per epoch (established)", sid, event.epoch, atMs);
        if (!this.verifier.containsQuorum(event.quorum)) this.fail(atMs, "established on a quorum", `epoch ${event.epoch}: ${event.quorum.join(",")}`);
        break;
      case "sync":
      case "uptodate":
      case "rejected":
        break;
      default: {
        const never: never = event;
        this.fail(atMs, "known events", JSON.stringify(never));
      }
    }
  }

  /** The newest epoch a leader has been established in so far (-1: none). */
  get latestEstablishedEpoch(): number {
    let latest = -1;
    for (const e of this.establishedBy.keys()) latest = Math.max(latest, e);
    return latest;
  }

  /**
   * A client sync answered at server `sid` in `epoch` left it behind writes committed before the sync was issued.
   * Excused only when a newer epoch was already established — the caveat of book chapter 6 (notes: sync "在遇到更换
   * leader时的情况时会出现一些问题"): a deposed leader that has not noticed yet answers from its old view.
   */
  onStaleSync(sid: number, epoch: number, detail: string, atMs: number): boolean {
    if (this.latestEstablishedEpoch > epoch) return false;
    this.fail(atMs, "sync sees every write committed before it", `${detail} (no newer leader than epoch ${epoch})`);
    return true;
  }

  private onePerEpoch(map: Map<number, number>, property: string, sid: number, epoch: number, atMs: number): void {
    const other = map.get(epoch);
    if (other !== undefined && other !== sid) this.fail(atMs, property, `servers ${other} and ${sid} both led epoch ${epoch}`);
    map.set(epoch, sid);
  }

  onPersist(sid: number, op: PersistOp<SimTypes>, atMs: number): void {
    if (op.kind !== "append") return;
    const { zxid, txn } = op.entry;
    const known = this.txnOfZxid.get(zxid);
    if (known === undefined) this.txnOfZxid.set(zxid, txn.id);
    else if (known !== txn.id) this.fail(atMs, "a zxid names one txn", `server ${sid} logged txn ${txn.id} as ${hexZxid(zxid)}, which is txn ${known} elsewhere`);
  }

  /** Server `sid` applied `entry` as the `position`-th txn of its state machine. */
  onCommit(sid: number, position: number, entry: SimApplied, atMs: number): void {
    const seq = this.committed;
    if (position < seq.length) {
      const expected = seq[position]!;
      if (expected.zxid !== entry.zxid || expected.id !== entry.id) {
        this.fail(atMs, "committed logs are prefixes", `server ${sid} applied txn ${entry.id}@${hexZxid(entry.zxid)} at position ${position}, where others have txn ${expected.id}@${hexZxid(expected.zxid)}`);
      }
    } else if (position > seq.length) {
      this.fail(atMs, "committed logs are prefixes", `server ${sid} applied position ${position} past the known ${seq.length}`);
    } else {
      const last = seq[seq.length - 1];
      if (last !== undefined && last.zxid >= entry.zxid) this.fail(atMs, "commit in zxid order", `${hexZxid(entry.zxid)} after ${hexZxid(last.zxid)}`);
      if (this.committedIds.has(entry.id)) this.fail(atMs, "each txn committed once", `txn ${entry.id} committed twice`);
      this.committedIds.add(entry.id);
      seq.push(entry);
      // First delivery anywhere: it must already be durable on a quorum of voters.
      const holders = this.verifier.votingMembers.filter((v) => this.durable(v, entry.zxid));
      if (!this.verifier.containsQuorum(holders)) {
        this.fail(atMs, "committed txns are on a quorum", `${hexZxid(entry.zxid)} delivered by ${sid} while durable only on [${holders.join(",")}]`);
      }
    }
    if (this.verifier.isVotingMember(sid)) {
      let set = this.deliveredBy.get(entry.id);
      if (set === undefined) this.deliveredBy.set(entry.id, (set = new Set()));
      set.add(sid);
    }
  }

  /** Server `sid`'s state machine became `applied` (a SNAP, or a restart from its snapshot). */
  onInstall(sid: number, applied: readonly SimApplied[], atMs: number): void {
    const seq = this.committed;
    if (applied.length > seq.length) {
      this.fail(atMs, "committed logs are prefixes", `server ${sid} installed ${applied.length} txns, more than the ${seq.length} committed`);
      return;
    }
    for (let i = 0; i < applied.length; i++) {
      if (applied[i]!.zxid !== seq[i]!.zxid || applied[i]!.id !== seq[i]!.id) {
        this.fail(atMs, "committed logs are prefixes", `server ${sid} installed a snapshot that differs at position ${i}`);
        return;
      }
    }
  }

  /** At the end: every committed txn is still durable on a quorum of voters. */
  finish(atMs: number): void {
    for (const e of this.committed) {
      const holders = this.verifier.votingMembers.filter((v) => this.durable(v, e.zxid));
      if (!this.verifier.containsQuorum(holders)) {
        this.fail(atMs, "committed txns stay on a quorum", `${hexZxid(e.zxid)} (txn ${e.id}) is durable only on [${holders.join(",")}]`);
        return;
      }
    }
  }
}
