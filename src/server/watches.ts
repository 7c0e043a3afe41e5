/**
 * Server-side watches (book chapter 4 "处理状态变化", notes §4): one-time triggers that a client sets with
 * exists/getData (data watches) or getChildren (child watches), plus the persistent and persistent-recursive
 * watches of `addWatch` (ZooKeeper 3.6+).
 *
 * Apache `WatchManager`: two tables, data and child, each path → watchers with a mode. When the tree announces a
 * change, the matching watchers are notified and standard (one-time) watches are removed. A watcher is a
 * connection; the same connection never gets two notifications for one change (delete fires data and child
 * watches on the node, "one event per watcher").
 */
import type { TreeEvent } from "../tree/data-tree.ts";
import type { ACL } from "../proto/records.ts";
import type { EventTypeName } from "../proto/opcodes.ts";

export type WatcherMode = "standard" | "persistent" | "persistentRecursive";

/** Who gets notified: in the server, a client connection. */
export interface Watcher {
  notify(type: EventTypeName, path: string): void;
  /** May this watcher READ a node with `acl`? (Absent: yes.) Notifications are filtered by it. */
  mayRead?(acl: readonly ACL[]): boolean;
}

/** One of the two watch tables (Apache `WatchManager`). */
class WatchTable {
  private readonly byPath = new Map<string, Map<Watcher, WatcherMode>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;
  /** Told how many watchers a change reached, when any (the `mntr` node_*_watch_count metrics). */
  onTriggered: (type: EventTypeName, watchers: number) => void = () => {};

  /** Adds or replaces a watch: the last mode set for (path, watcher) wins, as in Apache's WatcherModeManager. */
  add(path: string, watcher: Watcher, mode: WatcherMode): void {
    let watchers = this.byPath.get(path);
    if (watchers === undefined) this.byPath.set(path, (watchers = new Map()));
    const previous = watchers.get(watcher);
    if (previous === "persistentRecursive") this.recursiveCount--;
    if (mode === "persistentRecursive") this.recursiveCount++;
    watchers.set(watcher, mode);
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) this.byWatcher.set(watcher, (paths = new Set()));
    paths.add(path);
  }

  contains(path: string, watcher: Watcher): boolean {
    return this.byPath.get(path)?.has(watcher) ?? false;
  }

  /** Does anyone watch `path` in this table? */
  watched(path: string): boolean {
    return this.byPath.has(path);
  }

  remove(path: string, watcher: Watcher): boolean {
    const watchers = this.byPath.get(path);
    const mode = watchers?.get(watcher);
    if (watchers === undefined || mode === undefined) return false;
    if (mode === "persistentRecursive") this.recursiveCount--;
    watchers.delete(watcher);
    if (watchers.size === 0) this.byPath.delete(path);
    // The watcher keeps its (maybe empty) path set until its connection goes, as Apache's watch2Paths does:
    // `wchs` still counts it among the "connections watching" and `wchc` lists it with no paths.
    this.byWatcher.get(watcher)?.delete(path);
    return true;
  }

  /** Drops every watch of a closed connection (Apache `removeWatcher(Watcher)`). */
  removeWatcher(watcher: Watcher): void {
    // lab 4.3: watches belong to a connection: drop them all when it closes
    //   A closed connection can never be notified again, so every watch it has in this table must go,
    //   or the table leaks and `wchs` counts ghosts. `this.byWatcher` knows its paths; `this.remove` removes one.
    for (const path of [...(this.byWatcher.get(watcher) ?? [])]) this.remove(path, watcher);
    // end lab 4.3
    this.byWatcher.delete(watcher);
  }

  /**
   * The watchers a change at `path` reaches, removing fired one-time watches (WatchManager.triggerWatch).
   * Watches on `path` itself fire (recursive ones except for NodeChildrenChanged); so do recursive watches
   * on any ancestor.
   */
  collect(path: string, type: EventTypeName): Set<Watcher> {
    const reached = new Set<Watcher>();
    // lab 4.1: a watch table: set a watch, fire it once, then forget it
    //   Add to `reached` every watcher set on exactly `path` (see `this.byPath`) whose mode is "standard" or
    //   "persistent". A standard watch is a one-time trigger: remove it from the table (`this.remove`) as it
    //   fires. A persistent one stays. Recursive watches are handled after this region.
    const here = this.byPath.get(path);
    if (here !== undefined) {
      for (const [watcher, mode] of here) {
        if (mode === "persistentRecursive") continue;
        reached.add(watcher);
        if (mode === "standard") this.remove(path, watcher);
      }
    }
    // end lab 4.1
    this.collectRecursive(path, type, reached);
    if (reached.size > 0) this.onTriggered(type, reached.size);
    return reached;
  }

  /** Recursive watches on `path` and its ancestors match every event but NodeChildrenChanged. */
  private collectRecursive(path: string, type: EventTypeName, reached: Set<Watcher>): void {
    if (this.recursiveCount === 0 || type === "nodeChildrenChanged") return;
    for (let at: string | null = path; at !== null; at = at === "/" ? null : parentPathOf(at)) {
      for (const [watcher, mode] of this.byPath.get(at) ?? []) {
        if (mode === "persistentRecursive") reached.add(watcher);
      }
    }
  }

  get watchCount(): number {
    let count = 0;
    for (const watchers of this.byPath.values()) count += watchers.size;
    return count;
  }

  pathsOf(watcher: Watcher): ReadonlySet<string> {
    return this.byWatcher.get(watcher) ?? new Set();
  }

  watchersByPath(): ReadonlyMap<string, ReadonlyMap<Watcher, WatcherMode>> {
    return this.byPath;
  }

  watchers(): IterableIterator<Watcher> {
    return this.byWatcher.keys();
  }
}

function parentPathOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.substring(0, slash);
}

export type WatchKind = "data" | "child";

export class WatchManager {
  readonly data = new WatchTable();
  readonly child = new WatchTable();

  /** exists/getData (`data`) or getChildren (`child`) with watch=true. exists on a missing node watches too. */
  addWatch(kind: WatchKind, path: string, watcher: Watcher): void {
    (kind === "data" ? this.data : this.child).add(path, watcher, "standard");
  }

  /** addWatch: a persistent watch sits in both tables (DataTree.addWatch). */
  addPersistentWatch(path: string, watcher: Watcher, recursive: boolean): void {
    const mode: WatcherMode = recursive ? "persistentRecursive" : "persistent";
    this.data.add(path, watcher, mode);
    this.child.add(path, watcher, mode);
  }

  /** The ACL of the node the event being delivered is about, for `notifyAll`'s READ filter. */
  private eventAcl: readonly ACL[] | undefined;

  /** The tree changed: notify (DataTree.createNode/deleteNode/setData → triggerWatch). */
  readonly onTreeEvent = (event: TreeEvent, acl?: readonly ACL[]): void => {
    this.eventAcl = acl;
    try {
      this.deliver(event);
    } finally {
      this.eventAcl = undefined;
    }
  };

  private deliver(event: TreeEvent): void {
    switch (event.type) {
      case "nodeCreated":
      case "nodeDataChanged":
        this.notifyAll(this.data.collect(event.path, event.type), event.type, event.path);
        return;
      case "nodeChildrenChanged":
        this.notifyAll(this.child.collect(event.path, event.type), event.type, event.path);
        return;
      case "nodeDeleted": {
        // lab 4.2: a deleted node fires its data and child watches, once per watcher
        //   Both tables may hold watches on the deleted node: collect from `this.data` and `this.child`, merge
        //   them into one Set so that a connection with both kinds hears about the deletion once, and notify.
        const reached = this.data.collect(event.path, event.type);
        for (const watcher of this.child.collect(event.path, event.type)) reached.add(watcher);
        this.notifyAll(reached, event.type, event.path);
        // end lab 4.2
        return;
      }
    }
  }

  private notifyAll(watchers: Set<Watcher>, type: EventTypeName, path: string): void {
    for (const watcher of watchers) {
      // Apache NIOServerCnxn.process(event, znodeAcl): a watcher that may not READ the node does not hear of the
      // change — its one-time watch is used up all the same (WatchManager removed it before delivering).
      if (this.eventAcl !== undefined && watcher.mayRead?.(this.eventAcl) === false) continue;
      watcher.notify(type, path);
    }
  }

  /** checkWatches: type 1 children, 2 data, 3 any. */
  contains(path: string, watcher: Watcher, type: number): boolean {
    const inData = this.data.contains(path, watcher);
    const inChild = this.child.contains(path, watcher);
    return type === 1 ? inChild : type === 2 ? inData : inData || inChild;
  }

  /**
   * checkWatches as Apache 3.8.0 answers it (WatchManager.containsWatcher): true when *any* connection watches
   * `path` in the table of `type` (1 children, 2 data, 3 either) — not necessarily the asking one; "" never does
   * (its PathParentIterator yields nothing). A path without "/" makes Apache throw: the caller checks that first.
   */
  anyWatches(path: string, type: number): boolean {
    if (path === "") return false;
    const inData = this.data.watched(path);
    const inChild = this.child.watched(path);
    return type === 1 ? inChild : type === 2 ? inData : inData || inChild;
  }

  /** removeWatches: true when something was removed. */
  remove(path: string, watcher: Watcher, type: number): boolean {
    const fromChild = type === 1 || type === 3 ? this.child.remove(path, watcher) : false;
    const fromData = type === 2 || type === 3 ? this.data.remove(path, watcher) : false;
    return fromChild || fromData;
  }

  removeWatcher(watcher: Watcher): void {
    this.data.removeWatcher(watcher);
    this.child.removeWatcher(watcher);
  }

  /** Where each table reports how many watchers a change reached (WatchManager.triggerWatch's metrics). */
  set onTriggered(listener: (type: EventTypeName, watchers: number) => void) {
    this.data.onTriggered = listener;
    this.child.onTriggered = listener;
  }
}
