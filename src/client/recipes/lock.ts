/**
 * Locks (ZooKeeper's "Locks" recipe; Curator `InterProcessMutex` / `InterProcessReadWriteLock`; kazoo `Lock`;
 * book chapter 6 and lab 6).
 *
 * To take the lock a client creates an ephemeral sequential node under the lock path. The node with the lowest
 * sequence number holds the lock. Every other client watches **only the node just before its own** — not the
 * lock path's children — so when the holder leaves, one client wakes up, not all of them (no herd effect).
 * Ephemeral, so a holder that crashes releases the lock when its session ends.
 *
 * Read/write: a reader waits only for the last *writer* before it (readers share); a writer waits for whoever is
 * just before it.
 *
 * Connection loss: the create is protected (a GUID in the name, see support.ts), reads are retried, and a watch
 * survives the reconnect (the client re-registers it with SetWatches). Session expiry is the end: our node is gone,
 * so `acquire` fails with SessionExpiredError, and a holder has lost the lock — listen for it with
 * `client.onStateChange` (state "expired"); while the state is "connecting" the holder cannot know.
 */
import type { ZooKeeperClient } from "../client.ts";
import { NoNodeError } from "../errors.ts";
import { joinPath, nodeName } from "../paths.ts";
import { retry } from "../retry.ts";
import {
  bySequence,
  deadlineFrom,
  deleteIfExists,
  ensurePath,
  findProtected,
  newGuid,
  protectedPrefix,
  untilDeadline,
  watchOnce,
  type RecipeOptions,
} from "./support.ts";

export interface LockOptions extends RecipeOptions {
  /** Stored in the lock node, so others can see who holds or waits (kazoo's identifier). */
  readonly identifier?: string;
}

export interface AcquireOptions {
  /** Give up (RecipeTimeoutError) after this long; our node is removed. */
  readonly timeoutMs?: number;
}

type Kind = "lock" | "read" | "write";

/** The node that must go before `ours` may hold the lock, or undefined if it may hold it now. */
type Blocker = (sorted: readonly string[], ourIndex: number) => string | undefined;

/** The kind of a contender's node from its name (`_c_<guid>-write-0000000007` → "write"); undefined for others. */
export const kindOf = (name: string): Kind | undefined => {
  const match = /-(lock|read|write)-\d+$/.exec(name);
  return match ? (match[1] as Kind) : undefined;
};

/** Exclusive: the node just before ours, whatever it is. */
const exclusiveBlocker: Blocker = (sorted, ourIndex) => (ourIndex === 0 ? undefined : sorted[ourIndex - 1]);

/**
 * Read/write: `sorted` holds read and write nodes in sequence order, ours at `ourIndex`. The node we must wait for
 * (and the only one we watch), or undefined when we may hold the lock now.
 */
export const readWriteBlocker: Blocker = (sorted, ourIndex) => {
  // lab 6.4: the read–write lock rule: a reader waits only for earlier writers, a writer for everyone earlier
  //   Use kindOf(name) ("read" | "write"). A writer excludes everybody: it waits for the node just before its
  //   own, whatever that is (none before it: its turn). A reader shares with readers: it waits only for the
  //   *last* write node before its own (the earlier writers go before that one anyway) and holds the lock
  //   together with every reader around it; no writer before it: its turn.
  if (kindOf(sorted[ourIndex]!) === "write") return exclusiveBlocker(sorted, ourIndex);
  for (let i = ourIndex - 1; i >= 0; i--) if (kindOf(sorted[i]!) === "write") return sorted[i];
  return undefined;
  // end lab 6.4
};

class SequentialLock {
  private ourPath: string | null = null;
  private acquired = false;
  private readonly guid = newGuid();

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly kind: Kind,
    private readonly blocker: Blocker,
    private readonly options: LockOptions,
  ) {}

  get isAcquired(): boolean {
    return this.acquired;
  }

  /** Our node, while acquiring or holding. */
  get nodePath(): string | null {
    return this.ourPath;
  }

  async acquire(options: AcquireOptions = {}): Promise<void> {
    if (this.ourPath !== null) throw new Error(`lock ${this.path} is already held or being acquired by this object`);
    const policy = this.options.retryPolicy;
    const deadlineMs = deadlineFrom(options.timeoutMs);
    await ensurePath(this.client, this.path, policy);
    try {
      await this.enqueueAndWait(deadlineMs);
      this.acquired = true;
    } catch (error) {
      // Timed out or failed: leave the queue, or we would block everyone after us.
      const ours = this.ourPath;
      this.ourPath = null;
      if (ours !== null) await deleteIfExists(this.client, ours, policy).catch(() => {});
      throw error;
    }
  }

  /** Joins the contenders (our node's path goes in `this.ourPath`) and resolves when it is our turn. */
  private async enqueueAndWait(deadlineMs: number | null): Promise<void> {
    // lab 6.3: the lock recipe: an ephemeral sequential node, and a watch on the node just before it
    //   1. Create an "ephemeralSequential" node under this.path named protectedPrefix(this.guid) + `${this.kind}-`
    //      (data: this.options.identifier ?? null); store its path in this.ourPath. A create that failed with
    //      ConnectionLossError may have happened all the same: before creating again, look for the child whose
    //      name carries your guid (findProtected) and take that one, or you leave an orphan that blocks everyone.
    //      retry(fn, this.options.retryPolicy) calls fn again after a connection loss.
    //   2. Then loop: list the children (retry again), keep those kindOf() knows, sort them bySequence and find
    //      yours (missing: throw new NoNodeError(this.ourPath)). this.blocker(sorted, yourIndex) names the node
    //      to wait for; undefined means the lock is yours: return. Watch that node only — not the whole list, or
    //      every release wakes every waiter (the herd effect): getData with the watcher of watchOnce(), then
    //      untilDeadline(fired, deadlineMs, "...") and look again. If it is gone before you set the watch
    //      (NoNodeError), look again at once.
    const policy = this.options.retryPolicy;
    const prefix = protectedPrefix(this.guid);
    let createdBefore = false;
    this.ourPath = await retry(async () => {
      if (createdBefore) {
        const mine = findProtected(await this.client.getChildren(this.path), this.guid);
        if (mine !== undefined) return joinPath(this.path, mine);
      }
      createdBefore = true;
      return await this.client.create(joinPath(this.path, `${prefix}${this.kind}-`), this.options.identifier ?? null, { mode: "ephemeralSequential" });
    }, policy);
    const ourName = nodeName(this.ourPath);
    for (;;) {
      const contenders = (await retry(() => this.client.getChildren(this.path), policy))
        .filter((name) => kindOf(name) !== undefined)
        .sort(bySequence);
      const ourIndex = contenders.indexOf(ourName);
      if (ourIndex === -1) throw new NoNodeError(this.ourPath!); // deleted by someone else, or our session ended
      const blocking = this.blocker(contenders, ourIndex);
      if (blocking === undefined) return;
      // getData, not exists: on a node already gone it sets no watch (exists would leave an exist watch behind).
      const { watcher, fired } = watchOnce();
      try {
        await retry(() => this.client.getData(joinPath(this.path, blocking), { watch: watcher }), policy);
      } catch (error) {
        if (error instanceof NoNodeError) continue; // it left meanwhile: look again
        throw error;
      }
      await untilDeadline(fired, deadlineMs, `waiting for ${this.path}`);
    }
    // end lab 6.3
  }

  async release(): Promise<void> {
    const ours = this.ourPath;
    if (ours === null) return;
    await deleteIfExists(this.client, ours, this.options.retryPolicy);
    this.ourPath = null;
    this.acquired = false;
  }

  /** Runs `fn` while holding the lock. */
  async withLock<T>(fn: () => Promise<T>, options: AcquireOptions = {}): Promise<T> {
    await this.acquire(options);
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

/** An exclusive lock. One `Lock` object is one participant: it is not re-entrant and not shared between tasks. */
export class Lock extends SequentialLock {
  constructor(client: ZooKeeperClient, path: string, options: LockOptions = {}) {
    super(client, path, "lock", exclusiveBlocker, options);
  }
}

/** The identifiers of everyone holding or waiting, holder first (kazoo `Lock.contenders`). */
export async function lockContenders(client: ZooKeeperClient, path: string): Promise<string[]> {
  const names = (await client.getChildren(path)).filter((n) => kindOf(n) !== undefined).sort(bySequence);
  const result: string[] = [];
  for (const name of names) {
    try {
      result.push((await client.getData(joinPath(path, name))).data?.toString() ?? "");
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }
  return result;
}

/**
 * Readers share, writers exclude everyone (Curator `InterProcessReadWriteLock`). Use `readLock` and `writeLock`
 * from different ReadWriteLock objects in different participants; each is one participant.
 */
export class ReadWriteLock {
  readonly readLock: SequentialLock;
  readonly writeLock: SequentialLock;

  constructor(client: ZooKeeperClient, path: string, options: LockOptions = {}) {
    this.readLock = new SequentialLock(client, path, "read", readWriteBlocker, options);
    this.writeLock = new SequentialLock(client, path, "write", readWriteBlocker, options);
  }
}

export type { SequentialLock };
