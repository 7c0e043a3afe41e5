/**
 * kazoo 2.8 (Debian's python3-kazoo, an independent client implementation) against OUR server: sessions, ephemerals
 * on close and on expiry, one-time watches, transactions, ACLs and auth, sequential nodes, a dropped socket with
 * the session re-attached, and kazoo's recipes (Lock, Election, Barrier, DoubleBarrier, Queue, LockingQueue,
 * Counter, Semaphore, ChildrenWatch/DataWatch). Each script prints what it saw; the test compares that exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/index.ts";
import { startTestServer } from "../support/zk-server.ts";
import { apacheAvailable, apacheSkipMessage, runKazoo } from "./harness/index.ts";

const available = apacheAvailable();
const tickTimeMs = 250;

/** Helpers every script gets: a started client, and `out(...)` to print one line. */
const prelude = `
import json, sys, threading, time
from kazoo.client import KazooClient
from kazoo.exceptions import *
def client(**kw):
    kw.setdefault("timeout", 4.0)
    zk = KazooClient(hosts=HOSTS, **kw)
    zk.start(timeout=15)
    return zk
def out(*args):
    print(*args, flush=True)
`;

describe.skipIf(!available.has.kazoo)(available.has.kazoo ? "kazoo 2.8 against our server" : apacheSkipMessage(available), () => {
  let server: RunningServer;

  beforeAll(async () => {
    // A short tick so that session expiry can be seen in a second (timeouts are clamped to 2..20 ticks).
    server = await startTestServer({ tickTimeMs });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function kazoo(script: string, timeoutMs = 60_000): Promise<string[]> {
    const r = await runKazoo(server.connectString, prelude + "\n" + dedentBody(script), { timeoutMs });
    if (r.code !== 0 || r.timedOut) throw new Error(`kazoo script failed (code ${r.code}, timedOut ${r.timedOut}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n");
  }

  it("sessions: a session id with the server id on top, the timeout clamped to [2, 20] ticks, CRUD with Stat", async () => {
    const lines = await kazoo(`
      import logging
      logged = []
      class Keep(logging.Handler):
          def emit(self, record):
              logged.append(record.getMessage())
      logging.getLogger("kazoo.client").setLevel(1)
      logging.getLogger("kazoo.client").addHandler(Keep())
      zk = client(timeout=1000.0)
      sid, passwd = zk.client_id
      out("server id byte", sid >> 56, "passwd bytes", len(passwd))
      # kazoo keeps only the timeout it asked for; the negotiated one is in its connection's log record.
      negotiated = [m.split("negotiated session timeout: ")[1].split()[0] for m in logged if "negotiated session timeout" in m]
      out("asked", zk._session_timeout, "negotiated", negotiated)
      zk.create("/k-session", b"v0")
      data, stat = zk.get("/k-session")
      out("get", data.decode(), stat.version, stat.dataLength, stat.numChildren, stat.ephemeralOwner)
      stat = zk.set("/k-session", b"v1", version=0)
      out("set", stat.version, stat.mzxid > stat.czxid)
      try:
          zk.set("/k-session", b"v2", version=0)
      except BadVersionError:
          out("bad version")
      children = zk.get_children("/")
      out("children", "k-session" in children, "zookeeper" in children)
      out("exists", zk.exists("/k-session") is not None, zk.exists("/k-missing"))
      zk.delete("/k-session", version=1)
      out("deleted", zk.exists("/k-session"))
      try:
          zk.create("/k-missing/child")
      except NoNodeError:
          out("no parent")
      zk.stop(); zk.close()
    `);
    expect(lines).toEqual([
      "server id byte 1 passwd bytes 16",
      `asked 1000000 negotiated ['${20 * tickTimeMs}']`,
      "get v0 0 2 0 0",
      "set 1 True",
      "bad version",
      "children True True",
      "exists True None",
      "deleted None",
      "no parent",
    ]);
  });

  it("ephemerals vanish when their session closes, and when it expires (the client vanished without closing)", async () => {
    const lines = await kazoo(`
      import os
      watcher = client()
      watcher.ensure_path("/k-eph")
      owner = client()
      owner.create("/k-eph/closed", ephemeral=True)
      out("owner", owner.exists("/k-eph/closed").ephemeralOwner == owner.client_id[0])
      gone = threading.Event()
      watcher.exists("/k-eph/closed", watch=lambda e: gone.set())
      owner.stop(); owner.close()
      out("closed: deleted", gone.wait(5), watcher.exists("/k-eph/closed"))

      # A child process opens a session, makes an ephemeral and dies without closing it: only expiry removes it.
      r, w = os.pipe()
      pid = os.fork()
      if pid == 0:
          zk = KazooClient(hosts=HOSTS, timeout=1.0)
          zk.start(timeout=15)
          zk.create("/k-eph/expiring", ephemeral=True)
          os.write(w, b"x")
          os._exit(0)
      os.read(r, 1)
      os.waitpid(pid, 0)
      died = time.time()
      expired = threading.Event()
      out("expiring exists", watcher.exists("/k-eph/expiring", watch=lambda e: expired.set()) is not None)
      out("expired: deleted", expired.wait(10), watcher.exists("/k-eph/expiring"))
      elapsed = time.time() - died
      out("within timeout + a tick", 0.5 < elapsed < 1.0 + ${tickTimeMs / 1000} + 1.0)
      watcher.delete("/k-eph", recursive=True)
      watcher.stop(); watcher.close()
    `);
    expect(lines).toEqual([
      "owner True",
      "closed: deleted True None",
      "expiring exists True",
      "expired: deleted True None",
      "within timeout + a tick True",
    ]);
  });

  it("watches: data, child and exists watches fire once, with the right event types", async () => {
    const lines = await kazoo(`
      zk = client()
      other = client()
      events = []
      lock = threading.Lock()
      def record(name):
          def f(event):
              with lock:
                  events.append((name, event.type, event.path))
          return f
      zk.ensure_path("/k-w")
      zk.exists("/k-w/a", watch=record("exists"))
      zk.get_children("/k-w", watch=record("children"))
      other.create("/k-w/a", b"1")
      zk.get("/k-w/a", watch=record("data"))
      other.set("/k-w/a", b"2")
      other.set("/k-w/a", b"3")          # the data watch was used up: no second event
      other.create("/k-w/b")             # the child watch too
      zk.get_children("/k-w", watch=record("children-again"))
      zk.exists("/k-w/a", watch=record("exists-delete"))
      other.delete("/k-w/a")
      time.sleep(0.5)
      for e in sorted(events):
          out(*e)
      zk.delete("/k-w", recursive=True)
      zk.stop(); other.stop()
    `);
    expect(lines).toEqual([
      "children CHILD /k-w",
      "children-again CHILD /k-w",
      "data CHANGED /k-w/a",
      "exists CREATED /k-w/a",
      "exists-delete DELETED /k-w/a",
    ]);
  });

  it("transactions: all or nothing, with per-op results", async () => {
    const lines = await kazoo(`
      zk = client()
      zk.create("/k-tx", b"0")
      t = zk.transaction()
      t.create("/k-tx/a", b"a")
      t.set_data("/k-tx", b"1", version=0)
      t.check("/k-tx", 1)
      t.create("/k-tx/s-", sequence=True)
      out("ok", [r if isinstance(r, (str, bool)) else type(r).__name__ for r in t.commit()])
      t = zk.transaction()
      t.delete("/k-tx/a")
      t.check("/k-tx", 99)
      t.create("/k-tx/never")
      results = t.commit()
      out("failed", [type(r).__name__ if isinstance(r, Exception) else r for r in results])
      out("after", sorted(zk.get_children("/k-tx")), zk.get("/k-tx")[0].decode())
      zk.delete("/k-tx", recursive=True)
      zk.stop()
    `);
    expect(lines).toEqual([
      "ok ['/k-tx/a', 'ZnodeStat', True, '/k-tx/s-0000000001']",
      "failed ['RolledBackError', 'BadVersionError', 'RuntimeInconsistency']",
      "after ['a', 's-0000000001'] 1",
    ]);
  }, 60_000);

  it("ACLs and auth: digest ACLs, NoAuth, masked digests without ADMIN, auth: expanding to the caller", async () => {
    const lines = await kazoo(`
      from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE
      alice = client(auth_data=[("digest", "alice:secret")])
      alice.create("/k-acl", b"s", acl=[make_digest_acl("alice", "secret", all=True)])
      alice.create("/k-acl2", b"r", acl=[make_digest_acl("alice", "secret", read=True, write=True), make_acl("world", "anyone", read=True)])
      alice.create("/k-acl3", acl=[make_acl("auth", "", all=True)])
      anon = client()
      try:
          anon.get("/k-acl")
      except NoAuthError:
          out("anon get: NoAuth")
      out("anon get2", anon.get("/k-acl2")[0].decode())
      acls, _ = anon.get_acls("/k-acl2")
      out("masked", [(a.perms, a.id.scheme, a.id.id) for a in acls])
      acls, _ = alice.get_acls("/k-acl3")
      out("auth expanded", [(a.perms, a.id.scheme, a.id.id.split(":")[0]) for a in acls])
      anon.add_auth("digest", "alice:secret")
      out("after add_auth", anon.get("/k-acl")[0].decode())
      try:
          anon.set_acls("/k-acl2", OPEN_ACL_UNSAFE)
      except NoAuthError:
          out("no ADMIN: NoAuth")
      try:
          alice.create("/k-bad", acl=[make_acl("nosuchscheme", "x", all=True)])
      except InvalidACLError:
          out("unknown scheme: InvalidACL")
      for p in ("/k-acl", "/k-acl2", "/k-acl3"):
          alice.delete(p)
      alice.stop(); anon.stop()
    `);
    expect(lines).toEqual([
      "anon get: NoAuth",
      "anon get2 r",
      "masked [(3, 'digest', 'alice:x'), (1, 'world', 'anyone')]",
      "auth expanded [(31, 'digest', 'alice')]",
      "after add_auth s",
      "no ADMIN: NoAuth",
      "unknown scheme: InvalidACL",
    ]);
  });

  it("sequential nodes: %010d of the parent's child-create counter, shared by ephemeral and persistent", async () => {
    const lines = await kazoo(`
      zk = client()
      zk.create("/k-seq")
      names = [zk.create("/k-seq/n-", sequence=True) for _ in range(3)]
      names.append(zk.create("/k-seq/e-", sequence=True, ephemeral=True))
      zk.delete(names[0])
      names.append(zk.create("/k-seq/n-", sequence=True))
      out(*names)
      out("cversion", zk.exists("/k-seq").cversion)
      zk.delete("/k-seq", recursive=True)
      zk.stop()
    `);
    expect(lines).toEqual([
      "/k-seq/n-0000000000 /k-seq/n-0000000001 /k-seq/n-0000000002 /k-seq/e-0000000003 /k-seq/n-0000000004",
      // cversion as clients see it: stored (5 creates) * 2 - 4 children = 6.
      "cversion 6",
    ]);
  });

  it("a dropped socket: kazoo reconnects and re-attaches the same session; its ephemeral survives", async () => {
    const lines = await kazoo(`
      import socket
      from kazoo.protocol.states import KazooState
      zk = client()
      states = []
      zk.add_listener(lambda s: states.append(s))
      zk.create("/k-drop", ephemeral=True)
      before = zk.client_id
      zk._connection._socket.shutdown(socket.SHUT_RDWR)
      deadline = time.time() + 10
      while time.time() < deadline and (len(states) < 2 or states[-1] != KazooState.CONNECTED):
          time.sleep(0.05)
      out("states", [str(s) for s in states])
      out("same session", zk.client_id == before)
      out("ephemeral kept", zk.exists("/k-drop") is not None)
      zk.delete("/k-drop")
      zk.stop()
    `);
    expect(lines).toEqual(["states ['SUSPENDED', 'CONNECTED']", "same session True", "ephemeral kept True"]);
  });

  it("recipes: Lock, Election, Barrier, DoubleBarrier, Queue, LockingQueue, Counter, Semaphore, Data/ChildrenWatch", async () => {
    const lines = await kazoo(`
      zks = [client() for _ in range(3)]

      # Lock: three contenders, never two inside at once, every one gets in.
      inside, peak, done = [0], [0], []
      guard = threading.Lock()
      def contend(zk, name):
          with zk.Lock("/k-r/lock", name):
              with guard:
                  inside[0] += 1; peak[0] = max(peak[0], inside[0])
              time.sleep(0.1)
              with guard:
                  inside[0] -= 1; done.append(name)
      threads = [threading.Thread(target=contend, args=(zk, "c%d" % i)) for i, zk in enumerate(zks)]
      [t.start() for t in threads]; [t.join(20) for t in threads]
      out("lock", peak[0], sorted(done))

      # Election: the first contender leads; when it cancels, the next one does.
      leaders = []
      e0 = zks[0].Election("/k-r/election", "e0")
      e1 = zks[1].Election("/k-r/election", "e1")
      t0 = threading.Thread(target=e0.run, args=(lambda: (leaders.append("e0"), time.sleep(0.5)),))
      t0.start(); time.sleep(0.2)
      t1 = threading.Thread(target=e1.run, args=(lambda: leaders.append("e1"),))
      t1.start()
      out("contenders", e1.contenders()[:1])
      t0.join(10); t1.join(10)
      out("election", leaders)

      # Barrier: waiters block until it is removed.
      b = zks[0].Barrier("/k-r/barrier"); b.create()
      passed = threading.Event()
      threading.Thread(target=lambda: (zks[1].Barrier("/k-r/barrier").wait(10), passed.set())).start()
      time.sleep(0.3); out("barrier blocks", not passed.is_set())
      b.remove(); out("barrier opens", passed.wait(5))

      # DoubleBarrier for two: both enter, both leave.
      entered = []
      def party(zk, name):
          db = zk.DoubleBarrier("/k-r/double", 2, identifier=name)
          db.enter(); entered.append(name); db.leave()
      ts = [threading.Thread(target=party, args=(zks[i], "p%d" % i)) for i in range(2)]
      [t.start() for t in ts]; [t.join(10) for t in ts]
      out("double barrier", sorted(entered))

      # Queue: FIFO within a priority; a lower number is served first.
      q = zks[0].Queue("/k-r/queue")
      q.put(b"low", priority=50); q.put(b"a"); q.put(b"b"); q.put(b"urgent", priority=10)
      out("queue", len(q), [zks[1].Queue("/k-r/queue").get().decode() for _ in range(4)], q.get())

      # LockingQueue: an item is held by its consumer until consumed.
      lq = zks[0].LockingQueue("/k-r/lq"); lq.put(b"job")
      item = zks[1].LockingQueue("/k-r/lq").get(5)
      out("locking queue", item.decode(), zks[2].LockingQueue("/k-r/lq").get(0.5))

      # Counter.
      c = zks[0].Counter("/k-r/counter"); c += 5; c -= 2
      first = c.value
      c2 = zks[1].Counter("/k-r/counter"); c2 += 10
      out("counter", first, c.value)

      # Semaphore with 2 leases: a third holder must wait.
      s = [zks[i].Semaphore("/k-r/sem", identifier="s%d" % i, max_leases=2) for i in range(3)]
      out("semaphore", s[0].acquire(timeout=5), s[1].acquire(timeout=5), s[2].acquire(blocking=False))
      s[0].release(); out("semaphore after release", s[2].acquire(timeout=5))
      [x.release() for x in s]

      # DataWatch / ChildrenWatch keep watching (re-registering their one-time watches).
      seen_data, seen_children = [], []
      zks[0].ensure_path("/k-r/watched")
      zks[0].DataWatch("/k-r/watched", lambda data, stat: seen_data.append(data))
      zks[0].ChildrenWatch("/k-r/watched", lambda children: seen_children.append(sorted(children)))
      for i in range(3):
          zks[1].set("/k-r/watched", b"v%d" % i); time.sleep(0.3)
      zks[1].create("/k-r/watched/x"); time.sleep(0.3)
      zks[1].create("/k-r/watched/y"); time.sleep(0.4)
      out("data watch", seen_data)
      out("children watch", seen_children)

      zks[0].delete("/k-r", recursive=True)
      for zk in zks:
          zk.stop(); zk.close()
    `, 90_000);
    expect(lines).toEqual([
      "lock 1 ['c0', 'c1', 'c2']",
      "contenders ['e0']",
      "election ['e0', 'e1']",
      "barrier blocks True",
      "barrier opens True",
      "double barrier ['p0', 'p1']",
      "queue 4 ['urgent', 'low', 'a', 'b'] None",
      "locking queue job None",
      "counter 3 13",
      "semaphore True True False",
      "semaphore after release True",
      "data watch [b'', b'v0', b'v1', b'v2']",
      "children watch [[], ['x'], ['x', 'y']]",
    ]);
  }, 120_000);
});

/** Strips the indentation of a script written inside a template literal (runKazoo dedents again, harmlessly). */
function dedentBody(script: string): string {
  const lines = script.split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.match(/^ */)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n");
}
