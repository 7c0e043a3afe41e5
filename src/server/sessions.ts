/**
 * Sessions (book chapter 2 "会话", notes §2): a session outlives connections, times out if its client is silent
 * for longer than its negotiated timeout, and takes its ephemeral znodes with it.
 *
 * Apache `SessionTrackerImpl` + `ExpiryQueue`: expiry is checked in buckets of `tickTime`. Touching a session moves
 * it to the bucket `roundUp(now + timeout)`; each tick the expirer takes the bucket whose time has come. So a
 * session dies between `timeout` and `timeout + tickTime` after its last packet.
 *
 * No I/O and no clock here: every method takes `nowMs`.
 */

export interface Session {
  readonly id: bigint;
  timeoutMs: number;
  /** The bucket (an expiry time in ms) the session is in. */
  expiresAtMs: number;
  /** Set once a closeSession is on its way; a closing session accepts no more requests. */
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, Session>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextBucketMs: number;
  private nextSessionId: bigint;

  /**
   * `nowMs` is the monotonic clock that `touch` and `expire` are given; `wallMs` (epoch ms) only seeds the session
   * ids. Mixing them up puts the first bucket ~1.7e12 ms away and no session ever expires.
   */
  constructor(
    private readonly tickTimeMs: number,
    serverId: number,
    nowMs: number,
    wallMs: number = nowMs,
  ) {
    this.nextBucketMs = this.roundUp(nowMs);
    this.nextSessionId = initialSessionId(serverId, wallMs);
  }

  /** ExpiryQueue.roundToNextInterval */
  private roundUp(timeMs: number): number {
    return (Math.floor(timeMs / this.tickTimeMs) + 1) * this.tickTimeMs;
  }

  /** A fresh id for a new session (SessionTrackerImpl.createSession). */
  allocateSessionId(): bigint {
    const id = this.nextSessionId;
    this.nextSessionId = BigInt.asIntN(64, this.nextSessionId + 1n);
    return id;
  }

  /** Starts tracking a session (on createSession, and when recovering sessions from disk). */
  add(id: bigint, timeoutMs: number, nowMs: number): void {
    if (!this.sessions.has(id)) {
      this.sessions.set(id, { id, timeoutMs, expiresAtMs: 0, closing: false });
    }
    this.touch(id, nowMs, timeoutMs);
  }

  get(id: bigint): Session | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** A packet from the session's client: push its expiry back. False for an unknown or closing session. */
  touch(id: bigint, nowMs: number, timeoutMs?: number): boolean {
    const session = this.sessions.get(id);
    if (session === undefined || session.closing) return false;
    if (timeoutMs !== undefined) session.timeoutMs = timeoutMs;
    const bucket = this.roundUp(nowMs + session.timeoutMs);
    if (bucket !== session.expiresAtMs) {
      this.buckets.get(session.expiresAtMs)?.delete(id);
      let set = this.buckets.get(bucket);
      if (set === undefined) this.buckets.set(bucket, (set = new Set()));
      set.add(id);
      session.expiresAtMs = bucket;
    }
    return true;
  }

  setClosing(id: bigint): void {
    const session = this.sessions.get(id);
    if (session !== undefined) session.closing = true;
  }

  remove(id: bigint): void {
    const session = this.sessions.get(id);
    if (session === undefined) return;
    this.buckets.get(session.expiresAtMs)?.delete(id);
    this.sessions.delete(id);
  }

  /**
   * The expiry buckets (time in ms → sessions), for the `dump` four-letter word. Like Apache's ExpiryQueue, a
   * bucket a session moved out of stays, empty, until the expirer passes its time.
   */
  expiryBuckets(): ReadonlyMap<number, ReadonlySet<bigint>> {
    return this.buckets;
  }

  /** When the expirer should next look (ms). */
  get nextCheckMs(): number {
    return this.nextBucketMs;
  }

  /**
   * The sessions whose time is up at `nowMs`, marked closing (ExpiryQueue.poll, one bucket per tick). The caller
   * submits a closeSession for each, which deletes their ephemerals.
   */
  expire(nowMs: number): bigint[] {
    const expired: bigint[] = [];
    while (nowMs >= this.nextBucketMs) {
      const set = this.buckets.get(this.nextBucketMs);
      this.buckets.delete(this.nextBucketMs);
      this.nextBucketMs += this.tickTimeMs;
      for (const id of set ?? []) {
        const session = this.sessions.get(id);
        if (session === undefined || session.closing) continue;
        session.closing = true;
        expired.push(id);
      }
    }
    return expired;
  }
}

/**
 * The first session id of a server: `((now << 24) >>> 8) | (serverId << 56)` — a time stamp in the middle bits so
 * that a restarted server does not reuse ids, the server id on top so that servers of an ensemble never collide
 * (SessionTrackerImpl.initializeNextSessionId).
 */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  const shifted = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
  let id = BigInt.asIntN(64, shifted | (BigInt(serverId) << 56n));
  if (id === -0x8000000000000000n) id += 1n; // never the container marker
  return id;
}

/** ZooKeeperServer.superSecret: mixed into the password seed. */
const passwordSecret = 0xb3415c00n;
export const sessionPasswordBytes = 16;

/**
 * A session's password (ZooKeeperServer.generatePasswd): 16 bytes of `new java.util.Random(id ^ secret)`. It is a
 * pure function of the id, so every server of an ensemble — and Apache's own — computes the same password.
 */
export function sessionPassword(sessionId: bigint): Buffer {
  return javaRandomBytes(sessionId ^ passwordSecret, sessionPasswordBytes);
}

/** java.util.Random(seed).nextBytes(count): a 48-bit linear congruential generator. */
function javaRandomBytes(seed: bigint, count: number): Buffer {
  const multiplier = 0x5deece66dn;
  const mask = (1n << 48n) - 1n;
  let state = (seed ^ multiplier) & mask;
  const out = Buffer.alloc(count);
  let i = 0;
  while (i < count) {
    state = (state * multiplier + 0xbn) & mask;
    let random = Number(BigInt.asIntN(32, state >> 16n));
    for (let n = Math.min(count - i, 4); n-- > 0; random >>= 8) out[i++] = random & 0xff;
  }
  return out;
}
