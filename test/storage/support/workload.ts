/**
 * A workload that makes a server log every kind of txn Apache 3.8 logs — createSession; create (persistent,
 * ephemeral, sequential, with digest ACLs); setData; delete; setACL; multi, committed and failed; error txns;
 * closeSession with ephemerals — and leaves one session alive with an ephemeral. Run with kazoo (runKazoo), then
 * `zkCliWorkload` with zkCli for containers and TTL nodes (needs extendedTypesEnabled=true).
 * Used for the Apache fixture (fixtures/generate.ts) and the interop test, against Apache and against us.
 */
export const kazooWorkload = `
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl
a = KazooClient(hosts=HOSTS); a.start(timeout=10)
b = KazooClient(hosts=HOSTS); b.start(timeout=10)
a.create("/app", b"application root")
a.create("/app/config", b'{"workers": 3}')
a.create("/app/q")
for i in range(40):
    a.create("/app/q/item-", b"task %d" % i, sequence=True)
for i in range(0, 40, 3):
    a.delete("/app/q/item-%010d" % i)
for v in range(10):
    a.set("/app/config", b'{"workers": %d}' % v, version=v)
a.create("/app/lock", b"a", ephemeral=True)
b.create("/app/members")
b.create("/app/members/m-", b"b", ephemeral=True, sequence=True)
b.create("/app/members/m-", b"b2", ephemeral=True, sequence=True)
try:
    a.create("/app", b"again")
except Exception as e:
    print("expected", type(e).__name__)
try:
    a.delete("/app/missing")
except Exception as e:
    print("expected", type(e).__name__)
a.add_auth("digest", "admin:secret")
a.create("/secure", b"s", acl=[make_digest_acl("admin", "secret", all=True)])
a.set_acls("/app/q", [make_digest_acl("admin", "secret", all=True)])
t = a.transaction(); t.create("/app/t1", b"1"); t.create("/app/t2", b"2"); t.set_data("/app/config", b"multi"); t.commit()
t = a.transaction(); t.create("/app/t3", b"3"); t.delete("/app/nothing"); print("failed multi", t.commit())
t = a.transaction(); t.delete("/app/t1"); t.check("/app/t2", 0); t.commit()
b.stop(); b.close()
c = KazooClient(hosts=HOSTS, timeout=30); c.start(timeout=10)
c.create("/app/alive", b"c", ephemeral=True)
print("alive session", hex(c.client_id[0]))
import os; os._exit(0)
`;

export const zkCliWorkload: readonly string[] = [
  "create -c /containers ''",
  "create -c /containers/c1 ''",
  "create /containers/c1/child x",
  "create -t 3600000 /ttl-node 'lives an hour'",
  "delete /containers/c1/child",
  "quit",
];
