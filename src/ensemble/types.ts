/**
 * What the Zab cores carry in a real ensemble (src/quorum's `ZabTypes` made concrete). The cores never look
 * inside these; the runtime (src/ensemble) encodes them on the quorum port in Apache's QuorumPacket layout and
 * applies them to the DataTree.
 */
import type { Id } from "../proto/records.ts";
import type { Txn, TxnHeader } from "../tree/txn.ts";
import type { ZabTypes } from "../quorum/index.ts";

/**
 * A client write a follower or observer hands to the leader (Apache `Request` in a REQUEST packet:
 * sessionId, cxid, type, the request body as the client sent it, and the connection's auth ids).
 * Session creation and closing travel the same way (createSession: the body is the negotiated timeout).
 */
export interface ForwardedWrite {
  readonly sessionId: bigint;
  readonly cxid: number;
  /** The opcode (proto opCodes), e.g. 1 for create, -10 for createSession. */
  readonly type: number;
  /** The request body after its RequestHeader, exactly as the client sent it. */
  readonly body: Buffer;
  readonly authIds: readonly Id[];
}

/** A proposed / committed transaction: its header and the txn, as in a log entry. */
export interface MemberTxn {
  readonly header: TxnHeader;
  readonly txn: Txn;
}

export interface MemberTypes extends ZabTypes {
  readonly request: ForwardedWrite;
  readonly txn: MemberTxn;
  /** The leader's state machine as of the SNAP's zxid, in Apache's snapshot file format. */
  readonly snapshot: Buffer;
}

/** One session a learner reports alive in its PING answer (Apache LearnerHandler: sessionId + timeout pairs). */
export interface SessionTouch {
  readonly sessionId: bigint;
  readonly timeoutMs: number;
}

/**
 * Apache REVALIDATE (quorum packet type 6): a client re-attaches to its session on a follower or observer, and the
 * learner asks the leader — which owns every session — whether the session is still alive, rather than trusting
 * its own table, which may not have applied the session's creation yet (LearnerZooKeeperServer.revalidateSession).
 * Not a Zab packet: the cores never see it.
 */
export type Revalidation =
  /** Learner → leader (Learner.validateSession): data = long sessionId, int timeout. */
  | { readonly kind: "ask"; readonly sessionId: bigint; readonly timeoutMs: number }
  /** Leader → learner (Leader.revalidateSession): data = long sessionId, boolean valid. */
  | { readonly kind: "answer"; readonly sessionId: bigint; readonly valid: boolean };
