/**
 * SessionTracker against Apache 3.8 `SessionTrackerImpl` + `ExpiryQueue` (reference §1 "Session id", §3
 * "Sessions"), and the session password of `ZooKeeperServer.generatePasswd`.
 *
 * Vectors marked "JDK" were computed with OpenJDK 17 (javac + java), independently of this code:
 *   new java.util.Random(id ^ 0xB3415C00L).nextBytes(new byte[16])
 *   ((now << 24) >>> 8) | (serverId << 56)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SessionTracker, initialSessionId, sessionPassword } from "../../src/server/sessions.ts";

describe("session ids (SessionTrackerImpl.initializeNextSessionId)", () => {
  it.each([
    [1, 0x018bcfe568000000n],
    [2, 0x028bcfe568000000n],
    [255, BigInt.asIntN(64, 0xff8bcfe568000000n)],
  ])("server %i at t=1.7e12 ms starts at the JDK value", (serverId, expected) => {
    expect(initialSessionId(serverId, 1_700_000_000_000)).toBe(expected);
  });

  it("allocates consecutive ids from the initial one, with the server id in the top byte", () => {
    const tracker = new SessionTracker(2000, 1, 1_700_000_000_000);
    const a = tracker.allocateSessionId();
    const b = tracker.allocateSessionId();
    expect(a).toBe(0x018bcfe568000000n);
    expect(b).toBe(a + 1n);
    expect(b >> 56n).toBe(1n);
  });

  it("never hands out the container marker Long.MIN_VALUE", () => {
    // serverId 128 with a time whose middle bits are all zero would produce exactly 0x8000_0000_0000_0000.
    expect(initialSessionId(128, 0)).toBe(-0x8000000000000000n + 1n);
  });
});

/** java.util.Random(seed).nextBytes(16), written from the JDK's documented algorithm, independently of src/. */
function javaRandomNextBytes(seed: bigint, length: number): Buffer {
  const M = 0x5deece66dn;
  const MASK = (1n << 48n) - 1n;
  let s = (seed ^ M) & MASK; // Random(long seed): initialScramble
  const next32 = (): number => {
    s = (s * M + 0xbn) & MASK;
    return Number(BigInt.asIntN(32, s >> 16n)); // next(32)
  };
  const bytes: number[] = [];
  while (bytes.length < length) {
    const rnd = next32();
    for (let k = 0; k < 4 && bytes.length < length; k++) bytes.push((rnd >> (8 * k)) & 0xff);
  }
  return Buffer.from(bytes);
}

describe("session passwords (ZooKeeperServer.generatePasswd)", () => {
  it.each([
    ["0x0100000000000001", "054cc74a37327db215e702e20c73f005"],
    ["0x0", "f22acd4a97e69d6d20a49bb638eadb38"],
    ["0x01234567890abcde", "26d2d12712427719854964451cfac688"],
    ["-1", "20f62cb5648dc2d771471c8a2486a9ee"],
  ])("id %s gives the JDK's bytes", (id, hex) => {
    expect(sessionPassword(BigInt(id)).toString("hex")).toBe(hex);
  });

  it("property: equals an independent java.util.Random(id ^ 0xB3415C00).nextBytes(16)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (id) => {
        expect(sessionPassword(id).equals(javaRandomNextBytes(id ^ 0xb3415c00n, 16))).toBe(true);
      }),
    );
  });

  it("is always 16 bytes (the C client reads a fixed-size reply)", () => {
    expect(sessionPassword(12345n).length).toBe(16);
  });
});

describe("bucketed expiry (ExpiryQueue)", () => {
  it("a session dies after timeout and no later than timeout + tickTime after its last touch", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }), // tickTime
        fc.integer({ min: 1, max: 20 }), // timeout in ticks (the negotiated timeout need not be a multiple)
        fc.integer({ min: 0, max: 4999 }), // extra ms of timeout
        fc.integer({ min: 0, max: 1_000_000 }), // creation time
        fc.integer({ min: 0, max: 100_000 }), // delay before the last touch
        (tick, ticks, extra, start, delay) => {
          const timeout = ticks * tick + (extra % tick);
          const tracker = new SessionTracker(tick, 1, start);
          const id = tracker.allocateSessionId();
          tracker.add(id, timeout, start);
          // The expirer runs every tick (as the runtime does), so buckets are polled as time passes.
          let now = start;
          const runTo = (target: number): bigint[] => {
            const expired: bigint[] = [];
            while (now < target) {
              now = Math.min(target, now + tick);
              expired.push(...tracker.expire(now));
            }
            return expired;
          };
          // Some traffic before the timeout: nothing dies, then the last touch.
          const lastTouch = start + (delay % timeout);
          expect(runTo(lastTouch)).toEqual([]);
          expect(tracker.touch(id, lastTouch)).toBe(true);
          expect(runTo(lastTouch + timeout)).toEqual([]);
          expect(tracker.get(id)!.closing).toBe(false);
          expect(runTo(lastTouch + timeout + tick)).toEqual([id]);
          expect(tracker.get(id)!.closing).toBe(true);
        },
      ),
    );
  });

  it("puts a session in bucket roundUp(now + timeout) = (floor((now+timeout)/tick) + 1) * tick", () => {
    const tracker = new SessionTracker(2000, 1, 0);
    const id = tracker.allocateSessionId();
    tracker.add(id, 4000, 1000);
    expect(tracker.get(id)!.expiresAtMs).toBe(6000);
    tracker.touch(id, 2000); // 6000 exactly is on a boundary: the next bucket
    expect(tracker.get(id)!.expiresAtMs).toBe(8000);
    expect(tracker.expire(7999)).toEqual([]);
    expect(tracker.expire(8000)).toEqual([id]);
  });

  it("a touch with a new timeout renegotiates it (a reconnect)", () => {
    const tracker = new SessionTracker(1000, 1, 0);
    const id = tracker.allocateSessionId();
    tracker.add(id, 2000, 0);
    tracker.touch(id, 0, 10_000);
    expect(tracker.get(id)!.timeoutMs).toBe(10_000);
    expect(tracker.expire(5000)).toEqual([]);
  });

  it("a closing session can no longer be touched and is not expired twice", () => {
    const tracker = new SessionTracker(1000, 1, 0);
    const id = tracker.allocateSessionId();
    tracker.add(id, 2000, 0);
    tracker.setClosing(id);
    expect(tracker.touch(id, 100)).toBe(false);
    expect(tracker.expire(10_000)).toEqual([]);
  });

  it("an expired session is reported once; a removed or unknown one never", () => {
    const tracker = new SessionTracker(1000, 1, 0);
    const a = tracker.allocateSessionId();
    const b = tracker.allocateSessionId();
    tracker.add(a, 2000, 0);
    tracker.add(b, 2000, 0);
    tracker.remove(b);
    expect(tracker.expire(3000)).toEqual([a]);
    expect(tracker.expire(10_000)).toEqual([]);
    expect(tracker.touch(99n, 0)).toBe(false);
    expect(tracker.size).toBe(1);
  });
});
