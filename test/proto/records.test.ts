// Jute encoding (Apache BinaryOutputArchive): big-endian, length -1 = null, records are fields in order.
import { describe, expect, it } from "vitest";
import {
  ConnectRequest,
  ConnectResponse,
  JuteDecodeError,
  JuteReader,
  JuteWriter,
  Stat,
  CreateRequest,
  GetChildrenResponse,
} from "../../src/proto/index.ts";

describe("jute records", () => {
  it("encodes a Stat in 68 bytes, fields in zookeeper.jute order", () => {
    const bytes = Stat.encode({
      czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7,
      ephemeralOwner: 8n, dataLength: 9, numChildren: 10, pzxid: 11n,
    });
    expect(bytes.length).toBe(68);
    expect(bytes.readBigInt64BE(0)).toBe(1n);
    expect(bytes.readInt32BE(32)).toBe(5);
    expect(bytes.readBigInt64BE(60)).toBe(11n);
  });

  it("keeps null and empty distinct for buffers, strings and vectors", () => {
    const w = new JuteWriter();
    CreateRequest.write(w, { path: "/a", data: null, acl: [], flags: 0 });
    const decoded = CreateRequest.decode(Buffer.from(w.view()));
    expect(decoded.data).toBeNull();
    expect(decoded.acl).toEqual([]);
    expect(GetChildrenResponse.decode(GetChildrenResponse.encode({ children: null })).children).toBeNull();
  });

  it("round-trips UTF-8 paths", () => {
    const path = "/zoo/中文/ü";
    expect(CreateRequest.decode(CreateRequest.encode({ path, data: Buffer.from("x"), acl: null, flags: 3 })).path).toBe(path);
  });

  it("reads the connect request with and without the optional readOnly byte", () => {
    const base = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16) };
    const w1 = new JuteWriter();
    ConnectRequest.write(w1, { ...base, readOnly: false });
    expect(w1.length).toBe(45); // the C client's fixed 45-byte handshake
    expect(ConnectRequest.read(new JuteReader(Buffer.from(w1.view()))).readOnly).toBe(false);
    const w2 = new JuteWriter();
    ConnectRequest.write(w2, { ...base, readOnly: undefined });
    expect(w2.length).toBe(44);
    expect(ConnectRequest.read(new JuteReader(Buffer.from(w2.view()))).readOnly).toBeUndefined();
    const w3 = new JuteWriter();
    ConnectResponse.write(w3, { protocolVersion: 0, timeOut: 4000, sessionId: 1n, passwd: Buffer.alloc(16), readOnly: false });
    expect(w3.length).toBe(37); // reference §1, [checked]
  });

  it("rejects truncated records and lying lengths with JuteDecodeError", () => {
    const full = CreateRequest.encode({ path: "/abc", data: Buffer.from("data"), acl: [], flags: 0 });
    for (let cut = 0; cut < full.length; cut++) {
      expect(() => CreateRequest.decode(full.subarray(0, cut))).toThrow(JuteDecodeError);
    }
    const lying = Buffer.alloc(8);
    lying.writeInt32BE(1_000_000, 0);
    expect(() => CreateRequest.decode(lying)).toThrow(/invalid ustring length/);
  });

  it("reads any non-zero boolean byte as true", () => {
    expect(new JuteReader(Buffer.from([7])).readBool()).toBe(true);
    expect(new JuteReader(Buffer.from([0])).readBool()).toBe(false);
  });
});
