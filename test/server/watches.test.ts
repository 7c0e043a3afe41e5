/**
 * WatchManager against Apache 3.8 `WatchManager` / `WatcherModeManager` / `DataTree.addWatch` (book chapter 4,
 * reference §3 "Watch triggers"): one-time watches, persistent and persistent-recursive ones, one event per
 * watcher on delete, the last mode set for (path, watcher) wins.
 */
import { describe, expect, it } from "vitest";
import { WatchManager, type Watcher } from "../../src/server/watches.ts";
import { DataTree } from "../../src/tree/data-tree.ts";
import { openAclUnsafe } from "../../src/tree/acl.ts";
import type { EventTypeName } from "../../src/proto/opcodes.ts";
import type { TxnHeader } from "../../src/tree/txn.ts";

class Recorder implements Watcher {
  readonly events: Array<[EventTypeName, string]> = [];
  notify(type: EventTypeName, path: string): void {
    this.events.push([type, path]);
  }
  take(): Array<[EventTypeName, string]> {
    return this.events.splice(0);
  }
}

/** A tree wired to a watch manager, as the server wires them. */
function setup() {
  const tree = new DataTree({ extendedTypesEnabled: false });
  const watches = new WatchManager();
  tree.setWatchTrigger(watches.onTreeEvent);
  let zxid = 0n;
  const h = (): TxnHeader => ({ sessionId: 1n, cxid: 0, zxid: ++zxid, timeMs: 0n, type: "create" });
  const ops = {
    create: (path: string) => expect(tree.processTxn(h(), { kind: "create", path, data: null, acl: openAclUnsafe, ephemeral: false, parentCVersion: -1 }).err).toBe("ok"),
    del: (path: string) => expect(tree.processTxn(h(), { kind: "delete", path }).err).toBe("ok"),
    set: (path: string) => expect(tree.processTxn(h(), { kind: "setData", path, data: Buffer.from("x"), version: 1 }).err).toBe("ok"),
    setAcl: (path: string) => expect(tree.processTxn(h(), { kind: "setACL", path, acl: openAclUnsafe, version: 1 }).err).toBe("ok"),
  };
  return { tree, watches, ...ops };
}

describe("standard (one-time) watches", () => {
  it("a data watch fires once on setData, then is gone", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    watches.addWatch("data", "/a", w);
    set("/a");
    set("/a");
    expect(w.take()).toEqual([["nodeDataChanged", "/a"]]);
    expect(watches.contains("/a", w, 2)).toBe(false);
  });

  it("an exists watch on a missing node fires NodeCreated (exists and getData share the data table)", () => {
    const { watches, create } = setup();
    const w = new Recorder();
    watches.addWatch("data", "/later", w);
    create("/later");
    expect(w.take()).toEqual([["nodeCreated", "/later"]]);
  });

  it("a child watch fires NodeChildrenChanged on a child's create or delete, not on the child's data", () => {
    const { watches, create, del, set } = setup();
    const w = new Recorder();
    create("/p");
    create("/p/c");
    watches.addWatch("child", "/p", w);
    set("/p/c");
    expect(w.take()).toEqual([]);
    del("/p/c");
    expect(w.take()).toEqual([["nodeChildrenChanged", "/p"]]);
    create("/p/d");
    expect(w.take()).toEqual([]);
  });

  it("setACL triggers nothing", () => {
    const { watches, create, setAcl } = setup();
    const w = new Recorder();
    create("/a");
    watches.addWatch("data", "/a", w);
    watches.addWatch("child", "/a", w);
    setAcl("/a");
    expect(w.take()).toEqual([]);
  });

  it("deleting a node with a data and a child watch by the same watcher sends one NodeDeleted", () => {
    const { watches, create, del } = setup();
    const w = new Recorder();
    const other = new Recorder();
    create("/a");
    watches.addWatch("data", "/a", w);
    watches.addWatch("child", "/a", w);
    watches.addWatch("child", "/a", other);
    del("/a");
    expect(w.take()).toEqual([["nodeDeleted", "/a"]]);
    expect(other.take()).toEqual([["nodeDeleted", "/a"]]);
    expect(watches.contains("/a", w, 3)).toBe(false);
  });

  it("every watcher of a path is notified, each once", () => {
    const { watches, create, set } = setup();
    const ws = [new Recorder(), new Recorder(), new Recorder()];
    create("/a");
    for (const w of ws) {
      watches.addWatch("data", "/a", w);
      watches.addWatch("data", "/a", w); // setting it twice is still one watch
    }
    set("/a");
    for (const w of ws) expect(w.take()).toEqual([["nodeDataChanged", "/a"]]);
  });

  it("a watch on /a is not reached by changes to /a/b or /ab", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    create("/ab");
    create("/a/b");
    watches.addWatch("data", "/a", w);
    set("/ab");
    set("/a/b");
    expect(w.take()).toEqual([]);
  });
});

describe("persistent watches (addWatch mode 0)", () => {
  it("stay after firing and get data, create, delete and child events for their own path", () => {
    const { watches, create, set, del } = setup();
    const w = new Recorder();
    watches.addPersistentWatch("/a", w, false);
    create("/a");
    set("/a");
    set("/a");
    create("/a/c");
    del("/a/c");
    set("/a");
    expect(w.take()).toEqual([
      ["nodeCreated", "/a"],
      ["nodeDataChanged", "/a"],
      ["nodeDataChanged", "/a"],
      ["nodeChildrenChanged", "/a"],
      ["nodeChildrenChanged", "/a"],
      ["nodeDataChanged", "/a"],
    ]);
    del("/a");
    expect(w.take()).toEqual([["nodeDeleted", "/a"]]);
    // Still there after the node is gone: it fires again when the node comes back.
    create("/a");
    expect(w.take()).toEqual([["nodeCreated", "/a"]]);
  });

  it("do not reach descendants", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    create("/a/b");
    watches.addPersistentWatch("/a", w, false);
    set("/a/b");
    expect(w.take()).toEqual([]);
  });
});

describe("persistent recursive watches (addWatch mode 1)", () => {
  it("reach every descendant for created/deleted/dataChanged, and never get NodeChildrenChanged", () => {
    const { watches, create, set, del } = setup();
    const w = new Recorder();
    create("/r");
    watches.addPersistentWatch("/r", w, true);
    create("/r/a");
    create("/r/a/b");
    set("/r/a/b");
    del("/r/a/b");
    set("/r");
    create("/rx"); // a sibling whose name starts the same is not a descendant
    expect(w.take()).toEqual([
      ["nodeCreated", "/r/a"],
      ["nodeCreated", "/r/a/b"],
      ["nodeDataChanged", "/r/a/b"],
      ["nodeDeleted", "/r/a/b"],
      ["nodeDataChanged", "/r"],
    ]);
  });

  it("a recursive watch on / sees everything", () => {
    const { watches, create } = setup();
    const w = new Recorder();
    watches.addPersistentWatch("/", w, true);
    create("/x");
    create("/x/y");
    expect(w.take()).toEqual([
      ["nodeCreated", "/x"],
      ["nodeCreated", "/x/y"],
    ]);
  });

  it("a watcher with a recursive watch on an ancestor and a standard watch on the node hears the event once", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/r");
    create("/r/a");
    watches.addPersistentWatch("/r", w, true);
    watches.addWatch("data", "/r/a", w);
    set("/r/a");
    expect(w.take()).toEqual([["nodeDataChanged", "/r/a"]]);
  });
});

describe("the last mode set for (path, watcher) wins (WatcherModeManager.setWatcherMode)", () => {
  it("a standard watch set after a persistent one makes it one-time", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    watches.addPersistentWatch("/a", w, false);
    watches.addWatch("data", "/a", w);
    set("/a");
    set("/a");
    expect(w.take()).toEqual([["nodeDataChanged", "/a"]]);
  });

  it("a persistent watch set after a standard one makes it stay", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    watches.addWatch("data", "/a", w);
    watches.addPersistentWatch("/a", w, false);
    set("/a");
    set("/a");
    expect(w.take()).toEqual([
      ["nodeDataChanged", "/a"],
      ["nodeDataChanged", "/a"],
    ]);
  });

  it("switching recursive → persistent stops events from descendants", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    create("/a/b");
    watches.addPersistentWatch("/a", w, true);
    watches.addPersistentWatch("/a", w, false);
    set("/a/b");
    expect(w.take()).toEqual([]);
  });
});

describe("checkWatches / removeWatches / closed connections", () => {
  it("type 1 = children, 2 = data, 3 = any", () => {
    const { watches } = setup();
    const w = new Recorder();
    watches.addWatch("child", "/a", w);
    expect(watches.contains("/a", w, 1)).toBe(true);
    expect(watches.contains("/a", w, 2)).toBe(false);
    expect(watches.contains("/a", w, 3)).toBe(true);
    expect(watches.remove("/a", w, 2)).toBe(false);
    expect(watches.remove("/a", w, 1)).toBe(true);
    expect(watches.remove("/a", w, 3)).toBe(false);
  });

  it("a removed watch does not fire", () => {
    const { watches, create, set } = setup();
    const w = new Recorder();
    create("/a");
    watches.addWatch("data", "/a", w);
    watches.remove("/a", w, 3);
    set("/a");
    expect(w.take()).toEqual([]);
  });

  it("removeWatcher drops every watch of a closed connection, including recursive ones", () => {
    const { watches, create } = setup();
    const gone = new Recorder();
    const stays = new Recorder();
    watches.addWatch("data", "/a", gone);
    watches.addWatch("child", "/", gone);
    watches.addPersistentWatch("/", gone, true);
    watches.addWatch("data", "/a", stays);
    watches.removeWatcher(gone);
    create("/a");
    expect(gone.take()).toEqual([]);
    expect(stays.take()).toEqual([["nodeCreated", "/a"]]);
    expect(watches.data.watchCount + watches.child.watchCount).toBe(0);
  });
});
