/**
 * Barriers (ZooKeeper's "Barriers" and "Double Barriers" recipes; Curator `DistributedBarrier` and
 * `DistributedDoubleBarrier`; kazoo `Barrier`, `DoubleBarrier`).
 *
 * - `Barrier`: while the barrier node exists, `wait()` blocks; removing the node lets everyone through.
 * - `DoubleBarrier`: `enter()` blocks until `participants` clients have entered; `leave()` blocks until all have
 *   left. Each participant's node has a fixed name (its id), not a sequential one, so after a connection loss the
 *   create can simply be repeated: NodeExists with our own session as owner means the first try worked.
 */
import type { ZooKeeperClient } from "../client.ts";
import { NoNodeError, NodeExistsError } from "../errors.ts";
import { joinPath } from "../paths.ts";
import { retry } from "../retry.ts";
import {
  deadlineFrom,
  deleteIfExists,
  ensurePath,
  newGuid,
  untilDeadline,
  watchOnce,
  type RecipeOptions,
} from "./support.ts";

export class Barrier {
  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly options: RecipeOptions = {},
  ) {}

  /** Raises the barrier (creates its node; already raised is fine). */
  async set(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    await ensurePath(this.client, parent, this.options.retryPolicy);
    try {
      await retry(() => this.client.create(this.path), this.options.retryPolicy);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /** Lowers the barrier: everyone waiting goes through. */
  async remove(): Promise<void> {
    await deleteIfExists(this.client, this.path, this.options.retryPolicy);
  }

  /** Resolves once the barrier is down (at once if it is not raised). */
  async wait(timeoutMs?: number): Promise<void> {
    const deadlineMs = deadlineFrom(timeoutMs);
    for (;;) {
      const { watcher, fired } = watchOnce();
      const stat = await retry(() => this.client.exists(this.path, { watch: watcher }), this.options.retryPolicy);
      if (stat === null) return;
      const event = await untilDeadline(fired, deadlineMs, `waiting on barrier ${this.path}`);
      if (event.type === "nodeDeleted") return;
    }
  }
}

export interface DoubleBarrierOptions extends RecipeOptions {
  /** This participant's node name (default: a GUID). */
  readonly id?: string;
}

const readyNode = "ready";

export class DoubleBarrier {
  readonly id: string;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    readonly participants: number,
    private readonly options: DoubleBarrierOptions = {},
  ) {
    if (!(participants >= 1)) throw new Error("a double barrier needs at least one participant");
    this.id = options.id ?? newGuid();
  }

  private get ourPath(): string {
    return joinPath(this.path, this.id);
  }

  private async members(): Promise<string[]> {
    const children = await retry(() => this.client.getChildren(this.path), this.options.retryPolicy);
    return children.filter((c) => c !== readyNode).sort();
  }

  /** Joins, and resolves once `participants` have joined. */
  async enter(timeoutMs?: number): Promise<void> {
    const deadlineMs = deadlineFrom(timeoutMs);
    await ensurePath(this.client, this.path, this.options.retryPolicy);
    await this.createOurNode();
    await this.passGate("enter", deadlineMs);
  }

  /** Leaves, and resolves once every participant has left. */
  async leave(timeoutMs?: number): Promise<void> {
    await this.passGate("leave", deadlineFrom(timeoutMs));
  }

  private async createOurNode(): Promise<void> {
    try {
      await retry(() => this.client.create(this.ourPath, "", { mode: "ephemeral" }), this.options.retryPolicy);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      // After a lost reply our first create may have worked: fine if the node is ours.
      const stat = await retry(() => this.client.exists(this.ourPath), this.options.retryPolicy);
      if (stat?.ephemeralOwner !== this.client.session?.sessionId) throw error;
    }
  }

  /**
   * The two gates. "enter" (our node is already there): resolves once `participants` members have joined.
   * "leave": takes our node away and resolves once every member has left.
   */
  private async passGate(gate: "enter" | "leave", deadlineMs: number | null): Promise<void> {
    // lab 8.3: a double barrier: enter once N have arrived, leave once all have left
    //   this.members() lists the members (the children but "ready"), sorted. Enter: loop { set an exists watch
    //   (watchOnce) on <path>/ready: there → return. Count the members: this.participants or more → you complete
    //   the group: create ready (NodeExistsError is fine) and return. Else wait for the watch (untilDeadline). }
    //   Watch first, count second: the last one may arrive between your count and your watch.
    //   Leave: loop { members; none left, or only you → delete yours and ready (deleteIfExists) and return. If you
    //   are the lowest, wait for the highest to go; otherwise delete your node and wait for the lowest to go: a
    //   getData watch on that one node (NoNodeError: look again at once), then look again. } So no one waits on the
    //   whole list (no herd), and the lowest goes last. Use retry(fn, this.options.retryPolicy) around reads.
    const policy = this.options.retryPolicy;
    if (gate === "enter") {
      const readyPath = joinPath(this.path, readyNode);
      for (;;) {
        // Watch for "ready" first, then count: whoever completes the group creates it, and we cannot miss it.
        const { watcher, fired } = watchOnce();
        if ((await retry(() => this.client.exists(readyPath, { watch: watcher }), policy)) !== null) return;
        if ((await this.members()).length >= this.participants) {
          try {
            await retry(() => this.client.create(readyPath), policy);
          } catch (error) {
            if (!(error instanceof NodeExistsError)) throw error;
          }
          return;
        }
        await untilDeadline(fired, deadlineMs, `entering double barrier ${this.path}`);
      }
    }
    for (;;) {
      const members = await this.members();
      const present = members.includes(this.id);
      if (members.length === 0 || (present && members.length === 1)) {
        if (present) await deleteIfExists(this.client, this.ourPath, policy);
        // The last one out takes the ready node down, so the path can be used again.
        await deleteIfExists(this.client, joinPath(this.path, readyNode), policy);
        return;
      }
      const lowest = members[0]!;
      const highest = members[members.length - 1]!;
      let waitFor: string;
      if (present && lowest === this.id) {
        waitFor = highest;
      } else {
        if (present) await deleteIfExists(this.client, this.ourPath, policy);
        waitFor = lowest;
      }
      const { watcher, fired } = watchOnce();
      try {
        await retry(() => this.client.getData(joinPath(this.path, waitFor), { watch: watcher }), policy);
      } catch (error) {
        if (error instanceof NoNodeError) continue;
        throw error;
      }
      await untilDeadline(fired, deadlineMs, `leaving double barrier ${this.path}`);
    }
    // end lab 8.3
  }
}
