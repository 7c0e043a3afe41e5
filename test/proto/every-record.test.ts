/**
 * Every client-protocol record of reference §1, byte for byte: each is encoded with the project's codecs and
 * compared with bytes built here by a separate, naive BinaryOutputArchive (big-endian int/long, bool as one byte,
 * buffer/ustring/vector as an int length then the items, -1 for null) from the field list zookeeper.jute declares.
 * A field out of order, of the wrong width, or missing shows as a byte difference; then each record is read back.
 */
import { describe, expect, it } from "vitest";
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  ClientInfo,
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  Id,
  JuteReader,
  JuteWriter,
  MultiHeader,
  PathRequest,
  PathResponse,
  PathWatchRequest,
  ReplyHeader,
  RequestHeader,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  Stat,
  StatResponse,
  WatcherEvent,
  WatchesRequest,
  WhoAmIResponse,
} from "../../src/proto/index.ts";

// ---- a naive BinaryOutputArchive, independent of src/proto ----

type Field =
  | { t: "int"; v: number }
  | { t: "long"; v: bigint }
  | { t: "bool"; v: boolean }
  | { t: "buffer"; v: Buffer | null }
  | { t: "ustring"; v: string | null }
  | { t: "vector"; v: Field[][] | null }
  | { t: "record"; v: Field[] };

const i32 = (v: number): Field => ({ t: "int", v });
const i64 = (v: bigint): Field => ({ t: "long", v });
const bool = (v: boolean): Field => ({ t: "bool", v });
const buf = (v: Buffer | null): Field => ({ t: "buffer", v });
const str = (v: string | null): Field => ({ t: "ustring", v });
const vec = (v: Field[][] | null): Field => ({ t: "vector", v });
const rec = (v: Field[]): Field => ({ t: "record", v });

function archive(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  const int = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const put = (f: Field): void => {
    switch (f.t) {
      case "int":
        return int(f.v);
      case "long": {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(f.v);
        parts.push(b);
        return;
      }
      case "bool":
        parts.push(Buffer.from([f.v ? 1 : 0]));
        return;
      case "buffer":
      case "ustring": {
        if (f.v === null) return int(-1);
        const bytes = typeof f.v === "string" ? Buffer.from(f.v, "utf8") : f.v;
        int(bytes.length);
        parts.push(bytes);
        return;
      }
      case "vector":
        if (f.v === null) return int(-1);
        int(f.v.length);
        for (const element of f.v) for (const x of element) put(x);
        return;
      case "record":
        for (const x of f.v) put(x);
        return;
    }
  };
  for (const f of fields) put(f);
  return Buffer.concat(parts);
}

// ---- sample values and their zookeeper.jute field lists ----

const stat = {
  czxid: 0x100000001n, mzxid: 0x100000002n, ctime: 1_700_000_000_001n, mtime: 1_700_000_000_002n, version: 3,
  cversion: -1, aversion: 5, ephemeralOwner: -0x7f00000000000000n, dataLength: 7, numChildren: 8, pzxid: 0x100000009n,
};
const statFields = (s: typeof stat): Field[] => [
  i64(s.czxid), i64(s.mzxid), i64(s.ctime), i64(s.mtime), i32(s.version), i32(s.cversion), i32(s.aversion),
  i64(s.ephemeralOwner), i32(s.dataLength), i32(s.numChildren), i64(s.pzxid),
];
const acl = [
  { perms: 31, id: { scheme: "world", id: "anyone" } },
  { perms: 1, id: { scheme: "digest", id: "alice:Zm9v" } },
];
const aclFields = acl.map((a) => [i32(a.perms), rec([str(a.id.scheme), str(a.id.id)])]);
const data = Buffer.from([0, 1, 2, 0xff]);
const passwd = Buffer.alloc(16, 0xab);

interface Writable {
  write(w: JuteWriter, value: never): void;
  read(r: JuteReader): unknown;
}

const cases: Array<[string, Writable, unknown, Field[]]> = [
  ["Id", Id, { scheme: "ip", id: "127.0.0.1" }, [str("ip"), str("127.0.0.1")]],
  ["ACL", ACL, acl[1], aclFields[1]!],
  ["Stat", Stat, stat, statFields(stat)],
  [
    "ConnectRequest (with readOnly)",
    ConnectRequest,
    { protocolVersion: 0, lastZxidSeen: 0x10000002an, timeOut: 30_000, sessionId: 0x1000000abcdn, passwd, readOnly: true },
    [i32(0), i64(0x10000002an), i32(30_000), i64(0x1000000abcdn), buf(passwd), bool(true)],
  ],
  [
    "ConnectResponse (old client: no readOnly)",
    ConnectResponse,
    { protocolVersion: 0, timeOut: 4000, sessionId: 0x1000000abcdn, passwd, readOnly: undefined },
    [i32(0), i32(4000), i64(0x1000000abcdn), buf(passwd)],
  ],
  ["RequestHeader", RequestHeader, { xid: 7, type: 4 }, [i32(7), i32(4)]],
  ["ReplyHeader", ReplyHeader, { xid: -1, zxid: -1n, err: 0 }, [i32(-1), i64(-1n), i32(0)]],
  ["MultiHeader", MultiHeader, { type: -1, done: true, err: -1 }, [i32(-1), bool(true), i32(-1)]],
  ["AuthPacket", AuthPacket, { type: 0, scheme: "digest", auth: Buffer.from("u:p") }, [i32(0), str("digest"), buf(Buffer.from("u:p"))]],
  ["CreateRequest", CreateRequest, { path: "/a", data, acl, flags: 3 }, [str("/a"), buf(data), vec(aclFields), i32(3)]],
  [
    "CreateTTLRequest",
    CreateTTLRequest,
    { path: "/t", data: null, acl, flags: 5, ttl: 60_000n },
    [str("/t"), buf(null), vec(aclFields), i32(5), i64(60_000n)],
  ],
  ["DeleteRequest", DeleteRequest, { path: "/a", version: -1 }, [str("/a"), i32(-1)]],
  ["SetDataRequest", SetDataRequest, { path: "/a", data, version: 2 }, [str("/a"), buf(data), i32(2)]],
  ["GetDataRequest / ExistsRequest / GetChildren(2)Request", PathWatchRequest, { path: "/中", watch: true }, [str("/中"), bool(true)]],
  ["SyncRequest / GetACLRequest", PathRequest, { path: "/a" }, [str("/a")]],
  ["CheckVersionRequest", CheckVersionRequest, { path: "/a", version: 4 }, [str("/a"), i32(4)]],
  ["SetACLRequest", SetACLRequest, { path: "/a", acl, version: 0 }, [str("/a"), vec(aclFields), i32(0)]],
  [
    "SetWatches",
    SetWatches,
    { relativeZxid: 0x105n, dataWatches: ["/d"], existWatches: [], childWatches: ["/c1", "/c2"] },
    [i64(0x105n), vec([[str("/d")]]), vec([]), vec([[str("/c1")], [str("/c2")]])],
  ],
  [
    "SetWatches2",
    SetWatches2,
    { relativeZxid: 0n, dataWatches: [], existWatches: ["/e"], childWatches: [], persistentWatches: ["/p"], persistentRecursiveWatches: ["/r"] },
    [i64(0n), vec([]), vec([[str("/e")]]), vec([]), vec([[str("/p")]]), vec([[str("/r")]])],
  ],
  ["AddWatchRequest", AddWatchRequest, { path: "/w", mode: 1 }, [str("/w"), i32(1)]],
  ["CheckWatchesRequest / RemoveWatchesRequest", WatchesRequest, { path: "/w", type: 3 }, [str("/w"), i32(3)]],
  ["WatcherEvent", WatcherEvent, { type: 4, state: 3, path: "/p" }, [i32(4), i32(3), str("/p")]],
  ["ErrorResponse", ErrorResponse, { err: -101 }, [i32(-101)]],
  ["CreateResponse / SyncResponse", PathResponse, { path: "/s-0000000001" }, [str("/s-0000000001")]],
  ["Create2Response", Create2Response, { path: "/a", stat }, [str("/a"), rec(statFields(stat))]],
  ["ExistsResponse / SetDataResponse / SetACLResponse", StatResponse, { stat }, [rec(statFields(stat))]],
  ["GetDataResponse", GetDataResponse, { data, stat }, [buf(data), rec(statFields(stat))]],
  ["GetChildrenResponse", GetChildrenResponse, { children: ["a", "b"] }, [vec([[str("a")], [str("b")]])]],
  ["GetChildren2Response", GetChildren2Response, { children: [], stat }, [vec([]), rec(statFields(stat))]],
  ["GetACLResponse", GetACLResponse, { acl, stat }, [vec(aclFields), rec(statFields(stat))]],
  ["GetAllChildrenNumberResponse", GetAllChildrenNumberResponse, { totalNumber: 12 }, [i32(12)]],
  ["GetEphemeralsResponse", GetEphemeralsResponse, { ephemerals: ["/e1"] }, [vec([[str("/e1")]])]],
  ["ClientInfo", ClientInfo, { authScheme: "digest", user: "alice" }, [str("digest"), str("alice")]],
  [
    "WhoAmIResponse",
    WhoAmIResponse,
    { clientInfo: [{ authScheme: "ip", user: "127.0.0.1" }] },
    [vec([[str("ip"), str("127.0.0.1")]])],
  ],
];

describe("every record of reference §1, against zookeeper.jute's field lists", () => {
  it.each(cases)("%s", (_name, codec, value, fields) => {
    const w = new JuteWriter();
    codec.write(w, value as never);
    const bytes = Buffer.from(w.view());
    expect(bytes.toString("hex")).toBe(archive(fields).toString("hex"));
    const reader = new JuteReader(bytes);
    expect(codec.read(reader)).toEqual(value);
    expect(reader.remaining).toBe(0);
  });

  it("a Stat is 68 bytes and a readOnly ConnectResponse 37 (reference §1, [checked])", () => {
    expect(archive(statFields(stat)).length).toBe(68);
    const w = new JuteWriter();
    ConnectResponse.write(w, { protocolVersion: 0, timeOut: 4000, sessionId: 1n, passwd, readOnly: false });
    expect(w.length).toBe(37);
  });
});
