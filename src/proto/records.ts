/**
 * Every jute record ZooKeeper 3.8 puts on the wire or on disk, declared once, in the order and with the field names
 * of Apache's `zookeeper-jute/src/main/resources/zookeeper.jute`. Reader and writer come from `codec.ts`.
 */
import { bool, buffer, int, long, record, ustring, vector, type RecordOf } from "./codec.ts";
import { JuteReader, JuteWriter } from "./jute.ts";

// ---- org.apache.zookeeper.data ----

export const Id = record("Id", { scheme: ustring, id: ustring });
export type Id = RecordOf<typeof Id>;

export const ACL = record("ACL", { perms: int, id: Id });
export type ACL = RecordOf<typeof ACL>;
export const ACLList = vector(ACL);

/** What clients see: 68 bytes. `cversion` and `numChildren` are derived (see tree/stat.ts). */
export const Stat = record("Stat", {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});
export type Stat = RecordOf<typeof Stat>;

/** What the server stores (and snapshots): no dataLength or numChildren, cversion as stored. */
export const StatPersisted = record("StatPersisted", {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  pzxid: long,
});
export type StatPersisted = RecordOf<typeof StatPersisted>;

// ---- org.apache.zookeeper.proto: session handshake ----

const ConnectRequestBase = record("ConnectRequest", {
  protocolVersion: int,
  lastZxidSeen: long,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
/**
 * The connect request has an optional trailing `readOnly` byte that is not in zookeeper.jute: old clients
 * (node-zookeeper-client) omit it, and the server must then omit it from its reply too (ClientCnxn / ZooKeeperServer).
 */
export type ConnectRequest = RecordOf<typeof ConnectRequestBase> & { readOnly: boolean | undefined };
export const ConnectRequest = {
  recordName: "ConnectRequest",
  read(r: JuteReader): ConnectRequest {
    const base = ConnectRequestBase.read(r);
    return { ...base, readOnly: r.remaining > 0 ? r.readBool() : undefined };
  },
  write(w: JuteWriter, v: ConnectRequest): void {
    ConnectRequestBase.write(w, v);
    if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  },
};

const ConnectResponseBase = record("ConnectResponse", {
  protocolVersion: int,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectResponse = RecordOf<typeof ConnectResponseBase> & { readOnly: boolean | undefined };
export const ConnectResponse = {
  recordName: "ConnectResponse",
  read(r: JuteReader): ConnectResponse {
    const base = ConnectResponseBase.read(r);
    return { ...base, readOnly: r.remaining > 0 ? r.readBool() : undefined };
  },
  write(w: JuteWriter, v: ConnectResponse): void {
    ConnectResponseBase.write(w, v);
    if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  },
};

// ---- headers ----

export const RequestHeader = record("RequestHeader", { xid: int, type: int });
export type RequestHeader = RecordOf<typeof RequestHeader>;

export const ReplyHeader = record("ReplyHeader", { xid: int, zxid: long, err: int });
export type ReplyHeader = RecordOf<typeof ReplyHeader>;

export const MultiHeader = record("MultiHeader", { type: int, done: bool, err: int });
export type MultiHeader = RecordOf<typeof MultiHeader>;

// ---- requests ----

export const AuthPacket = record("AuthPacket", { type: int, scheme: ustring, auth: buffer });
export type AuthPacket = RecordOf<typeof AuthPacket>;

export const CreateRequest = record("CreateRequest", { path: ustring, data: buffer, acl: ACLList, flags: int });
export type CreateRequest = RecordOf<typeof CreateRequest>;

export const CreateTTLRequest = record("CreateTTLRequest", {
  path: ustring,
  data: buffer,
  acl: ACLList,
  flags: int,
  ttl: long,
});
export type CreateTTLRequest = RecordOf<typeof CreateTTLRequest>;

export const DeleteRequest = record("DeleteRequest", { path: ustring, version: int });
export type DeleteRequest = RecordOf<typeof DeleteRequest>;

export const SetDataRequest = record("SetDataRequest", { path: ustring, data: buffer, version: int });
export type SetDataRequest = RecordOf<typeof SetDataRequest>;

/** getData, exists, getChildren and getChildren2 requests share this shape. */
export const PathWatchRequest = record("GetDataRequest", { path: ustring, watch: bool });
export type PathWatchRequest = RecordOf<typeof PathWatchRequest>;

/** getACL, sync, getAllChildrenNumber and getEphemerals requests: just a path. */
export const PathRequest = record("SyncRequest", { path: ustring });
export type PathRequest = RecordOf<typeof PathRequest>;

export const CheckVersionRequest = record("CheckVersionRequest", { path: ustring, version: int });
export type CheckVersionRequest = RecordOf<typeof CheckVersionRequest>;

export const SetACLRequest = record("SetACLRequest", { path: ustring, acl: ACLList, version: int });
export type SetACLRequest = RecordOf<typeof SetACLRequest>;

const paths = vector(ustring);

export const SetWatches = record("SetWatches", {
  relativeZxid: long,
  dataWatches: paths,
  existWatches: paths,
  childWatches: paths,
});
export type SetWatches = RecordOf<typeof SetWatches>;

export const SetWatches2 = record("SetWatches2", {
  relativeZxid: long,
  dataWatches: paths,
  existWatches: paths,
  childWatches: paths,
  persistentWatches: paths,
  persistentRecursiveWatches: paths,
});
export type SetWatches2 = RecordOf<typeof SetWatches2>;

export const AddWatchRequest = record("AddWatchRequest", { path: ustring, mode: int });
export type AddWatchRequest = RecordOf<typeof AddWatchRequest>;

/** checkWatches and removeWatches requests share this shape. */
export const WatchesRequest = record("RemoveWatchesRequest", { path: ustring, type: int });
export type WatchesRequest = RecordOf<typeof WatchesRequest>;

export const ReconfigRequest = record("ReconfigRequest", {
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: long,
});
export type ReconfigRequest = RecordOf<typeof ReconfigRequest>;

// ---- responses ----

export const WatcherEvent = record("WatcherEvent", { type: int, state: int, path: ustring });
export type WatcherEvent = RecordOf<typeof WatcherEvent>;

export const ErrorResponse = record("ErrorResponse", { err: int });
export const PathResponse = record("CreateResponse", { path: ustring });
export type PathResponse = RecordOf<typeof PathResponse>;
export const Create2Response = record("Create2Response", { path: ustring, stat: Stat });
export type Create2Response = RecordOf<typeof Create2Response>;
export const StatResponse = record("ExistsResponse", { stat: Stat });
export const GetDataResponse = record("GetDataResponse", { data: buffer, stat: Stat });
export type GetDataResponse = RecordOf<typeof GetDataResponse>;
export const GetChildrenResponse = record("GetChildrenResponse", { children: paths });
export type GetChildrenResponse = RecordOf<typeof GetChildrenResponse>;
export const GetChildren2Response = record("GetChildren2Response", { children: paths, stat: Stat });
export type GetChildren2Response = RecordOf<typeof GetChildren2Response>;
export const GetACLResponse = record("GetACLResponse", { acl: ACLList, stat: Stat });
export type GetACLResponse = RecordOf<typeof GetACLResponse>;
export const GetAllChildrenNumberResponse = record("GetAllChildrenNumberResponse", { totalNumber: int });
export const GetEphemeralsResponse = record("GetEphemeralsResponse", { ephemerals: paths });
export const ClientInfo = record("ClientInfo", { authScheme: ustring, user: ustring });
export type ClientInfo = RecordOf<typeof ClientInfo>;
export const WhoAmIResponse = record("WhoAmIResponse", { clientInfo: vector(ClientInfo) });

// ---- org.apache.zookeeper.txn: what the transaction log and snapshots hold ----

export const TxnHeader = record("TxnHeader", { clientId: long, cxid: int, zxid: long, time: long, type: int });
export type TxnHeader = RecordOf<typeof TxnHeader>;
export const CreateTxn = record("CreateTxn", {
  path: ustring,
  data: buffer,
  acl: ACLList,
  ephemeral: bool,
  parentCVersion: int,
});
export const CreateTTLTxn = record("CreateTTLTxn", {
  path: ustring,
  data: buffer,
  acl: ACLList,
  parentCVersion: int,
  ttl: long,
});
export const CreateContainerTxn = record("CreateContainerTxn", {
  path: ustring,
  data: buffer,
  acl: ACLList,
  parentCVersion: int,
});
export const DeleteTxn = record("DeleteTxn", { path: ustring });
export const SetDataTxn = record("SetDataTxn", { path: ustring, data: buffer, version: int });
export const CheckVersionTxn = record("CheckVersionTxn", { path: ustring, version: int });
export const SetACLTxn = record("SetACLTxn", { path: ustring, acl: ACLList, version: int });
export const CreateSessionTxn = record("CreateSessionTxn", { timeOut: int });
export const CloseSessionTxn = record("CloseSessionTxn", { paths2Delete: paths });
export const ErrorTxn = record("ErrorTxn", { err: int });
export const TxnEntry = record("Txn", { type: int, data: buffer });
export const MultiTxn = record("MultiTxn", { txns: vector(TxnEntry) });
export const FileHeader = record("FileHeader", { magic: int, version: int, dbid: long });
