/**
 * The slice of node-zookeeper-client 1.1.3 (npm, untyped) that the integration tests use. The package is a client
 * this project did not write: it is what proves our server speaks the protocol to somebody else's code.
 */
declare module "node-zookeeper-client" {
  import { EventEmitter } from "node:events";

  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    ctime: Buffer;
    mtime: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
    pzxid: Buffer;
  }
  export class Id {
    constructor(scheme: string, id: string);
    scheme: string;
    id: string;
  }
  export class ACL {
    constructor(permission: number, id: Id);
    permission: number;
    id: Id;
    static OPEN_ACL_UNSAFE: ACL[];
    static CREATOR_ALL_ACL: ACL[];
    static READ_ACL_UNSAFE: ACL[];
  }
  export class Exception extends Error {
    getCode(): number;
    getName(): string;
    code: number;
    static NO_NODE: number;
    static NODE_EXISTS: number;
    static BAD_VERSION: number;
    static NO_AUTH: number;
    static NOT_EMPTY: number;
    static INVALID_ACL: number;
    static AUTH_FAILED: number;
    static SESSION_EXPIRED: number;
    static CONNECTION_LOSS: number;
  }
  export interface Event {
    type: number;
    name: string;
    path: string;
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export interface State {
    name: string;
    code: number;
  }
  export interface Transaction {
    create(path: string, data?: Buffer, acls?: ACL[], mode?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(callback: (error: Exception | null, results: Array<{ type: number; path?: string; stat?: Stat; err?: number }>) => void): void;
  }
  type Watcher = (event: Event) => void;
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): State;
    getSessionId(): Buffer;
    getSessionPassword(): Buffer;
    getSessionTimeout(): number;
    addAuthInfo(scheme: string, auth: Buffer): void;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, callback: (error: Exception | null, path: string) => void): void;
    remove(path: string, version: number, callback: (error: Exception | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: (error: Exception | null, stat: Stat) => void): void;
    getData(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, data: Buffer, stat: Stat) => void): void;
    setACL(path: string, acls: ACL[], version: number, callback: (error: Exception | null, stat: Stat) => void): void;
    getACL(path: string, callback: (error: Exception | null, acls: ACL[], stat: Stat) => void): void;
    exists(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, stat: Stat | null) => void): void;
    getChildren(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, children: string[], stat: Stat) => void): void;
    transaction(): Transaction;
    connectionManager: { socket: import("node:net").Socket };
  }
  const zookeeper: {
    createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number; sessionId?: Buffer; sessionPassword?: Buffer }): Client;
    ACL: typeof ACL;
    Id: typeof Id;
    Exception: typeof Exception;
    Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
    CreateMode: { PERSISTENT: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL: number; EPHEMERAL_SEQUENTIAL: number };
    State: { DISCONNECTED: State; SYNC_CONNECTED: State; AUTH_FAILED: State; EXPIRED: State; CONNECTED_READ_ONLY: State };
    Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  };
  export default zookeeper;
}
