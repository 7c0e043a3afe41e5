/**
 * The client's table of watches (Apache `ZKWatchManager`): for each kind of watch, which watchers wait on which path.
 *
 * Why the client keeps one: a watch set on the server lives in that server's memory, tied to the connection. When
 * the client moves to another server it must tell the new one which watches it had (SetWatches, see
 * `set-watches.ts`), and when a notification arrives it must find the watchers to call: the server only says
 * "NodeDataChanged /a", not who asked (book chapter 4; notes §4 "跨服务器生效").
 *
 * The kinds, and what sets them:
 * - data:  getData on an existing node, or exists on an existing node;
 * - exist: exists on a missing node (it fires on NodeCreated);
 * - child: getChildren;
 * - persistent, persistentRecursive: addWatch. These stay after firing; recursive ones cover the whole subtree.
 *
 * Standard watches are one-time: `materialize` removes the watchers it returns.
 */
import type { EventTypeName } from "../proto/index.ts";
import { pathAndAncestors } from "./paths.ts";

export type WatchKind = "data" | "exist" | "child" | "persistent" | "persistentRecursive";
export const watchKinds: readonly WatchKind[] = ["data", "exist", "child", "persistent", "persistentRecursive"];

/** A watcher taken out of the table by removeWatches, and the event it is told so with. */
export interface RemovedWatcher<W> {
  readonly watcher: W;
  readonly eventType: "dataWatchRemoved" | "childWatchRemoved" | "persistentWatchRemoved";
}

export class WatchRegistry<W> {
  private readonly tables: Record<WatchKind, Map<string, Set<W>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };

  add(kind: WatchKind, path: string, watcher: W): void {
    const table = this.tables[kind];
    let watchers = table.get(path);
    if (watchers === undefined) table.set(path, (watchers = new Set()));
    watchers.add(watcher);
  }

  /** The watched paths of one kind, for SetWatches. */
  paths(kind: WatchKind): string[] {
    return [...this.tables[kind].keys()];
  }

  get isEmpty(): boolean {
    return watchKinds.every((kind) => this.tables[kind].size === 0);
  }

  /** Every (kind, path, watcher) entry, for tests and debugging. */
  entries(): Array<{ kind: WatchKind; path: string; watcher: W }> {
    const result: Array<{ kind: WatchKind; path: string; watcher: W }> = [];
    for (const kind of watchKinds) {
      for (const [path, watchers] of this.tables[kind]) for (const watcher of watchers) result.push({ kind, path, watcher });
    }
    return result;
  }

  has(kind: WatchKind, path: string, watcher?: W): boolean {
    const watchers = this.tables[kind].get(path);
    if (watchers === undefined) return false;
    return watcher === undefined ? watchers.size > 0 : watchers.has(watcher);
  }

  /**
   * The watchers a notification triggers, each once (a Set, as in Apache), removing the one-time ones.
   * Apache `ZKWatchManager.materialize`:
   * - NodeCreated, NodeDataChanged: data and exist watches on the path;
   * - NodeChildrenChanged: child watches on the path;
   * - NodeDeleted: data, exist and child watches on the path;
   * plus persistent watches on the path, and persistent recursive watches on the path or any ancestor — except for
   * NodeChildrenChanged, which recursive watches never get (the creation or deletion of the child is reported
   * instead).
   */
  materialize(type: EventTypeName, path: string): W[] {
    const result = new Set<W>();
    const take = (kind: WatchKind): void => {
      const watchers = this.tables[kind].get(path);
      if (watchers === undefined) return;
      this.tables[kind].delete(path);
      for (const w of watchers) result.add(w);
    };
    switch (type) {
      case "nodeCreated":
      case "nodeDataChanged":
        take("data");
        take("exist");
        break;
      case "nodeChildrenChanged":
        take("child");
        break;
      case "nodeDeleted":
        take("data");
        take("exist");
        take("child");
        break;
      default:
        // Watch-removed events and "none" are produced by the client itself, never by a server notification.
        return [];
    }
    for (const w of this.tables.persistent.get(path) ?? []) result.add(w);
    if (type !== "nodeChildrenChanged") {
      for (const ancestor of pathAndAncestors(path)) {
        for (const w of this.tables.persistentRecursive.get(ancestor) ?? []) result.add(w);
      }
    }
    return [...result];
  }

  /**
   * Removes watches after a successful removeWatches/checkWatches (Apache `ZKWatchManager.removeWatcher`):
   * "children" removes child watches, "data" data and exist watches, "any" all of them and the persistent ones.
   * With a watcher, only that watcher; without, every watcher of those kinds on the path.
   */
  remove(path: string, watcherType: "children" | "data" | "any", watcher?: W): RemovedWatcher<W>[] {
    const kinds: WatchKind[] =
      watcherType === "children"
        ? ["child"]
        : watcherType === "data"
          ? ["data", "exist"]
          : ["child", "data", "exist", "persistent", "persistentRecursive"];
    const removed: RemovedWatcher<W>[] = [];
    for (const kind of kinds) {
      const watchers = this.tables[kind].get(path);
      if (watchers === undefined) continue;
      const eventType =
        kind === "child" ? "childWatchRemoved" : kind === "data" || kind === "exist" ? "dataWatchRemoved" : "persistentWatchRemoved";
      const chosen = watcher === undefined ? [...watchers] : watchers.has(watcher) ? [watcher] : [];
      for (const w of chosen) {
        watchers.delete(w);
        removed.push({ watcher: w, eventType });
      }
      if (watchers.size === 0) this.tables[kind].delete(path);
    }
    return removed;
  }

  /** Every watcher, each once, and empties the table: what session expiry and close do. */
  drain(): W[] {
    const result = new Set<W>();
    for (const kind of watchKinds) {
      for (const watchers of this.tables[kind].values()) for (const w of watchers) result.add(w);
      this.tables[kind].clear();
    }
    return [...result];
  }
}
