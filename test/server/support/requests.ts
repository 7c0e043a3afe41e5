/** Request bodies for hand-built packets (the records of zookeeper.jute, written with the project's codecs). */
import {
  AuthPacket,
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  JuteWriter,
  MultiHeader,
  PathRequest,
  PathWatchRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  AddWatchRequest,
  opCodes,
  type ACL,
} from "../../../src/proto/index.ts";
import { openAclUnsafe } from "../../../src/tree/acl.ts";

type Body = (w: JuteWriter) => void;

export const body = {
  create: (path: string, data = "", flags = 0, acl: ACL[] | null = [...openAclUnsafe]): Body => (w) =>
    CreateRequest.write(w, { path, data: Buffer.from(data), acl, flags }),
  createTTL: (path: string, ttl: bigint, flags = 5, data = ""): Body => (w) =>
    CreateTTLRequest.write(w, { path, data: Buffer.from(data), acl: [...openAclUnsafe], flags, ttl }),
  delete: (path: string, version = -1): Body => (w) => DeleteRequest.write(w, { path, version }),
  setData: (path: string, data: string, version = -1): Body => (w) => SetDataRequest.write(w, { path, data: Buffer.from(data), version }),
  path: (path: string): Body => (w) => PathRequest.write(w, { path }),
  pathWatch: (path: string, watch = false): Body => (w) => PathWatchRequest.write(w, { path, watch }),
  setACL: (path: string, acl: ACL[], version = -1): Body => (w) => SetACLRequest.write(w, { path, acl, version }),
  auth: (scheme: string, auth: string): Body => (w) => AuthPacket.write(w, { type: 0, scheme, auth: Buffer.from(auth) }),
  setWatches: (relativeZxid: bigint, data: string[], exist: string[], child: string[]): Body => (w) =>
    SetWatches.write(w, { relativeZxid, dataWatches: data, existWatches: exist, childWatches: child }),
  addWatch: (path: string, mode: number): Body => (w) => AddWatchRequest.write(w, { path, mode }),
  /** MultiOperationRecord: (MultiHeader, op)* then MultiHeader(-1, true, -1). */
  multi: (ops: Array<[number, Body]>): Body => (w) => {
    for (const [type, write] of ops) {
      MultiHeader.write(w, { type, done: false, err: -1 });
      write(w);
    }
    MultiHeader.write(w, { type: -1, done: true, err: -1 });
  },
  check: (path: string, version: number): Body => (w) => CheckVersionRequest.write(w, { path, version }),
};

export { opCodes };
