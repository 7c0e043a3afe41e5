/**
 * Leader election (ZooKeeper's "Leader Election" recipe; Curator `LeaderLatch`; kazoo `Election`; book chapter 1
 * "master election" and chapter 6 "a recovered master must not assume it is still master").
 *
 * Each participant creates an ephemeral sequential node; the lowest is the leader. The others each watch the node
 * just before their own, so a leader's departure wakes only its successor (no herd effect).
 *
 * Leadership is only as certain as the session:
 * - connection lost (state "connecting"): we may still be leader, or our session may be expiring right now.
 *   Like Curator's LeaderLatch we stop claiming leadership until we are connected again;
 * - reconnected: our node is still there (the session lived), we check again and may be leader again;
 * - session expired: our node is gone; leadership is over for good, and `closed` rejects with SessionExpiredError.
 */
import type { ZooKeeperClient } from "../client.ts";
import { NoNodeError } from "../errors.ts";
import { joinPath, nodeName } from "../paths.ts";
import { retry } from "../retry.ts";
import {
  bySequence,
  createProtected,
  deadlineFrom,
  deleteIfExists,
  ensurePath,
  newGuid,
  untilDeadline,
  watchOnce,
  type RecipeOptions,
} from "./support.ts";

export interface LeaderElectionOptions extends RecipeOptions {
  /** This participant's id, stored in its node (who the leader is: `leaderId()`). */
  readonly id?: string;
}

const participantSuffix = "latch-";
const isParticipant = (name: string): boolean => /-latch-\d{10}$/.test(name);

export class LeaderElection {
  private readonly guid = newGuid();
  private ourPath: string | null = null;
  private leader = false;
  private stopped = false;
  private checking = false;
  private checkAgain = false;
  private failure: unknown = null;
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  private unsubscribeState: (() => void) | null = null;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly options: LeaderElectionOptions = {},
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** Our node's path, once started. */
  get nodePath(): string | null {
    return this.ourPath;
  }

  /** The error that ended the election (e.g. SessionExpiredError), if one did. */
  get error(): unknown {
    return this.failure;
  }

  /** Joins the election. Resolves once our node exists and the first check ran. */
  async start(): Promise<void> {
    if (this.ourPath !== null) throw new Error("election already started");
    const policy = this.options.retryPolicy;
    await ensurePath(this.client, this.path, policy);
    this.ourPath = await createProtected(this.client, this.path, participantSuffix, this.guid, this.options.id ?? "", "ephemeralSequential", policy);
    this.unsubscribeState = this.client.onStateChange((state) => {
      if (state.kind === "connecting") this.setLeader(false);
      else if (state.kind === "connected") void this.check();
      else if (state.kind === "expired" || state.kind === "closed" || state.kind === "authFailed") {
        this.setLeader(false);
        this.stopped = true;
      }
    });
    await this.check();
  }

  /** Called with true when we become leader and false when we stop being leader; returns the unsubscribe. */
  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when we are leader (at once if we are); RecipeTimeoutError after `timeoutMs`. */
  async waitForLeadership(timeoutMs?: number): Promise<void> {
    if (this.leader) return;
    const deadlineMs = deadlineFrom(timeoutMs);
    let unsubscribe = (): void => {};
    const becameLeader = new Promise<void>((resolve) => {
      unsubscribe = this.onChange((isLeader) => isLeader && resolve());
    });
    try {
      await untilDeadline(becameLeader, deadlineMs, `waiting for leadership of ${this.path}`);
    } finally {
      unsubscribe();
    }
  }

  /** The current leader's id (its node's data), or null when nobody takes part. */
  async leaderId(): Promise<string | null> {
    const ids = await this.participants();
    return ids[0] ?? null;
  }

  /** Every participant's id, leader first. */
  async participants(): Promise<string[]> {
    const names = (await retry(() => this.client.getChildren(this.path), this.options.retryPolicy))
      .filter(isParticipant)
      .sort(bySequence);
    const ids: string[] = [];
    for (const name of names) {
      try {
        ids.push((await this.client.getData(joinPath(this.path, name))).data?.toString() ?? "");
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return ids;
  }

  /** Leaves the election (deletes our node, so the next participant takes over). */
  async close(): Promise<void> {
    this.stopped = true;
    this.unsubscribeState?.();
    this.setLeader(false);
    const ours = this.ourPath;
    this.ourPath = null;
    if (ours !== null) await deleteIfExists(this.client, ours, this.options.retryPolicy).catch(() => {});
  }

  /**
   * Looks at the participants once; if we are not first, watches our predecessor and checks again when it goes.
   * Checks never overlap: a check requested while one runs makes that one run again.
   */
  private async check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.checkAgain = false;
        await this.checkOnce();
      } while (this.checkAgain && !this.stopped);
    } catch (error) {
      this.failure = error;
      this.setLeader(false);
    } finally {
      this.checking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped || this.ourPath === null) return;
    if (this.client.state.kind !== "connected") return; // checked again on reconnect
    // lab 8.1: leader election: the lowest sequence number leads, every other participant watches the one before it
    //   List the participants under this.path (retry(fn, this.options.retryPolicy) around the call), keep those
    //   isParticipant() accepts, sort them bySequence and find your node (nodeName(this.ourPath)); missing: throw
    //   new NoNodeError(this.ourPath). First in line: this.setLeader(true), done. Otherwise this.setLeader(false)
    //   and watch only your predecessor: getData(its path, { watch: watcher }) with watchOnce(); when it fires,
    //   call this.check() again — do not await it here (this check must end), and give fired a rejection handler.
    //   The predecessor going away does not make you leader: it may have been a participant that left, not the
    //   leader, so the check looks again. Gone before you could watch it (NoNodeError): set this.checkAgain = true.
    const ourName = nodeName(this.ourPath);
    const names = (await retry(() => this.client.getChildren(this.path), this.options.retryPolicy))
      .filter(isParticipant)
      .sort(bySequence);
    const ourIndex = names.indexOf(ourName);
    if (ourIndex === -1) throw new NoNodeError(this.ourPath);
    if (ourIndex === 0) {
      this.setLeader(true);
      return;
    }
    this.setLeader(false);
    const { watcher, fired } = watchOnce();
    try {
      await retry(() => this.client.getData(joinPath(this.path, names[ourIndex - 1]!), { watch: watcher }), this.options.retryPolicy);
    } catch (error) {
      if (error instanceof NoNodeError) {
        this.checkAgain = true;
        return;
      }
      throw error;
    }
    // Not awaited inside this check: the next check starts when the predecessor goes.
    fired.then(
      () => void this.check(),
      () => {}, // session events are handled by the state listener
    );
    // end lab 8.1
  }

  private setLeader(isLeader: boolean): void {
    if (this.leader === isLeader) return;
    this.leader = isLeader;
    for (const listener of [...this.listeners]) listener(isLeader);
  }
}
