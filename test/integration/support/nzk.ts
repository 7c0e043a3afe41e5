/** node-zookeeper-client with promises, for tests. Errors are rejected with the client's Exception (its code). */
import zookeeper, { type ACL, type Client, type Event, type Exception, type Stat } from "node-zookeeper-client";

export { zookeeper };
export type { ACL, Client, Event, Stat };

export interface Nzk {
  readonly client: Client;
  create(path: string, data?: string | null, mode?: number, acls?: ACL[]): Promise<string>;
  remove(path: string, version?: number): Promise<void>;
  setData(path: string, data: string, version?: number): Promise<Stat>;
  getData(path: string, watcher?: (event: Event) => void): Promise<{ data: Buffer | undefined; stat: Stat }>;
  exists(path: string, watcher?: (event: Event) => void): Promise<Stat | null>;
  getChildren(path: string, watcher?: (event: Event) => void): Promise<{ children: string[]; stat: Stat }>;
  setACL(path: string, acls: ACL[], version?: number): Promise<Stat>;
  getACL(path: string): Promise<{ acls: ACL[]; stat: Stat }>;
  addAuthInfo(scheme: string, auth: string): void;
  sessionId(): bigint;
  close(): void;
}

/** The error code a rejected promise carried (e.g. -101), or "ok" when it resolved. */
export async function codeOf(promise: Promise<unknown>): Promise<number | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    const code = (error as Exception).getCode?.();
    if (typeof code !== "number") throw error;
    return code;
  }
}

/** A long in a node-zookeeper-client Stat (an 8-byte Buffer) as a bigint. */
export const long = (b: Buffer): bigint => b.readBigInt64BE(0);

function settle<T>(resolve: (v: T) => void, reject: (e: unknown) => void) {
  return (error: Exception | null, value: T) => (error ? reject(error) : resolve(value));
}

export function wrap(client: Client): Nzk {
  return {
    client,
    create: (path, data = null, mode = 0, acls = zookeeper.ACL.OPEN_ACL_UNSAFE) =>
      new Promise((resolve, reject) => client.create(path, data === null ? null : Buffer.from(data), acls, mode, settle(resolve, reject))),
    remove: (path, version = -1) => new Promise((resolve, reject) => client.remove(path, version, (e) => (e ? reject(e) : resolve()))),
    setData: (path, data, version = -1) => new Promise((resolve, reject) => client.setData(path, Buffer.from(data), version, settle(resolve, reject))),
    getData: (path, watcher) =>
      new Promise((resolve, reject) => client.getData(path, watcher, (e, data, stat) => (e ? reject(e) : resolve({ data, stat })))),
    exists: (path, watcher) => new Promise((resolve, reject) => client.exists(path, watcher, settle(resolve, reject))),
    getChildren: (path, watcher) =>
      new Promise((resolve, reject) => client.getChildren(path, watcher, (e, children, stat) => (e ? reject(e) : resolve({ children, stat })))),
    setACL: (path, acls, version = -1) => new Promise((resolve, reject) => client.setACL(path, acls, version, settle(resolve, reject))),
    getACL: (path) => new Promise((resolve, reject) => client.getACL(path, (e, acls, stat) => (e ? reject(e) : resolve({ acls, stat })))),
    addAuthInfo: (scheme, auth) => client.addAuthInfo(scheme, Buffer.from(auth)),
    sessionId: () => client.getSessionId().readBigInt64BE(0),
    close: () => client.close(),
  };
}

/** Connects and resolves once the session is established. */
export function connect(connectString: string, options: { sessionTimeout?: number; spinDelay?: number } = {}): Promise<Nzk> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 50, ...options });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`could not connect to ${connectString}`)), 5000);
    client.once("connected", () => {
      clearTimeout(timer);
      resolve(wrap(client));
    });
    client.connect();
  });
}

/** Resolves with the next state event of the given name ("connected", "disconnected", "expired", ...). */
export function nextState(client: Client, name: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' within ${timeoutMs} ms`)), timeoutMs);
    client.once(name, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
