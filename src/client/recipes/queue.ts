/**
 * A distributed FIFO queue (ZooKeeper's "Queues" recipe; kazoo `Queue`; Curator `DistributedQueue`).
 *
 * `put` creates a persistent sequential node under the queue path; the sequence number is the order. `take`
 * removes the lowest one. Both survive connection loss without losing or duplicating an item (as long as the
 * session lives):
 * - put: a protected create (a GUID in the name, support.ts), so a create whose reply was lost is found again
 *   instead of being made twice;
 * - take: the entry is deleted together with the creation of an ephemeral *claim* node, in one transaction. After a
 *   connection loss the claim tells whether the transaction happened (the claim exists, made by our session) or not
 *   (no claim: the entry is still there, or someone else took it). Without it, a lost reply to a plain delete
 *   leaves us unable to tell "I took it" from "someone else took it".
 */
import type { ZooKeeperClient } from "../client.ts";
import { BadVersionError, ConnectionLossError, NoNodeError, RequestTimeoutError } from "../errors.ts";
import { joinPath } from "../paths.ts";
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

const entrySuffix = "entry-";
const claimPrefix = "claim-";
const isEntry = (name: string): boolean => !name.startsWith(claimPrefix) && /-entry-\d{10}$/.test(name);

export class Queue {
  private readonly consumerId = newGuid();
  private pathMade: Promise<void> | null = null;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly options: RecipeOptions = {},
  ) {}

  /** Appends an item; returns its node's path. */
  async put(data: Buffer | string): Promise<string> {
    await this.ensureQueuePath();
    return createProtected(this.client, this.path, entrySuffix, newGuid(), data, "persistentSequential", this.options.retryPolicy);
  }

  /** The number of items waiting. */
  async size(): Promise<number> {
    return (await this.entries()).length;
  }

  /** Removes and returns the oldest item, or null when the queue is empty. */
  async poll(): Promise<Buffer | null> {
    for (const entry of await this.entries()) {
      const taken = await this.tryTake(entry);
      if (taken !== undefined) return taken;
    }
    return null;
  }

  /** Removes and returns the oldest item, waiting for one if the queue is empty. */
  async take(timeoutMs?: number): Promise<Buffer> {
    const deadlineMs = deadlineFrom(timeoutMs);
    await this.ensureQueuePath(); // a consumer may come before any producer: it needs a node to watch
    for (;;) {
      const item = await this.poll();
      if (item !== null) return item;
      // Empty: watch the children, and look once more in case an item arrived before the watch was set.
      const { watcher, fired } = watchOnce();
      const children = await retry(() => this.client.getChildren(this.path, { watch: watcher }), this.options.retryPolicy);
      if (children.some(isEntry)) continue;
      await untilDeadline(fired, deadlineMs, `waiting for an item in ${this.path}`);
    }
  }

  private ensureQueuePath(): Promise<void> {
    this.pathMade ??= ensurePath(this.client, this.path, this.options.retryPolicy).catch((error: unknown) => {
      this.pathMade = null;
      throw error;
    });
    return this.pathMade;
  }

  private async entries(): Promise<string[]> {
    try {
      const children = await retry(() => this.client.getChildren(this.path), this.options.retryPolicy);
      return children.filter(isEntry).sort(bySequence);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /** The item, or undefined if someone else took this entry first. */
  private async tryTake(entry: string): Promise<Buffer | null | undefined> {
    // lab 8.2: take an item: race for it with a delete; NoNode means someone else took it
    //   Read the entry (getData, with retry; NoNodeError: another consumer took it, return undefined). Then remove
    //   it in one transaction together with creating your claim node: this.client.transaction()
    //   .delete(entryPath, { version }).create(claimPath, this.consumerId, { mode: "ephemeral" }).commit().
    //   NoNodeError (or BadVersionError): someone else won the race, return undefined. ConnectionLossError or
    //   RequestTimeoutError: the transaction may have happened or not — a plain delete could not tell "I took it"
    //   from "someone else did", but your claim can: if this.ownsClaim(claimPath), it is yours, else return
    //   undefined. Once the item is yours, delete the claim (deleteIfExists) and return the data you read.
    const policy = this.options.retryPolicy;
    const entryPath = joinPath(this.path, entry);
    const claimPath = joinPath(this.path, `${claimPrefix}${entry}`);
    let snapshot;
    try {
      snapshot = await retry(() => this.client.getData(entryPath), policy);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    try {
      await this.client
        .transaction()
        .delete(entryPath, { version: snapshot.stat.version })
        .create(claimPath, this.consumerId, { mode: "ephemeral" })
        .commit();
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof BadVersionError) return undefined; // taken by another
      if (!(error instanceof ConnectionLossError || error instanceof RequestTimeoutError)) throw error;
      // Did our transaction happen? Only our claim can say.
      if (!(await this.ownsClaim(claimPath))) return undefined;
    }
    await deleteIfExists(this.client, claimPath, policy);
    return snapshot.data;
    // end lab 8.2
  }

  private async ownsClaim(claimPath: string): Promise<boolean> {
    try {
      const { data } = await retry(() => this.client.getData(claimPath), this.options.retryPolicy);
      return data?.toString() === this.consumerId;
    } catch (error) {
      if (error instanceof NoNodeError) return false;
      throw error;
    }
  }
}
