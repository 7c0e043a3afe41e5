/**
 * The transaction builder (Apache `Transaction`, kazoo `TransactionRequest`): operations collected, then sent as
 * one multi request that the server applies atomically — all of them or none.
 *
 *   const results = await client.transaction()
 *     .check("/config", 3)
 *     .setData("/config", "v4", { version: 3 })
 *     .create("/config/history-", "v4", { mode: "persistentSequential" })
 *     .commit();
 */
import type { ACL, CreateModeName } from "../proto/index.ts";
import { acls } from "./acl.ts";
import { checkData } from "./arguments.ts";
import { toNodeBytes, type NodeData as Data, type TransactionOp, type TransactionResult } from "./operations.ts";


export class Transaction {
  private readonly ops: TransactionOp[] = [];
  private committed = false;

  constructor(private readonly run: (ops: readonly TransactionOp[], timeoutMs?: number) => Promise<TransactionResult[]>) {}

  create(path: string, data?: Data, options: { mode?: CreateModeName; acl?: readonly ACL[]; ttlMs?: number } = {}): this {
    checkData("transaction create", path, data);
    this.ops.push({
      op: "create",
      path,
      data: toNodeBytes(data),
      acl: options.acl ?? acls.openAclUnsafe,
      mode: options.mode ?? "persistent",
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    });
    return this;
  }

  delete(path: string, options: { version?: number } = {}): this {
    this.ops.push({ op: "delete", path, version: options.version ?? -1 });
    return this;
  }

  setData(path: string, data: Data, options: { version?: number } = {}): this {
    checkData("transaction setData", path, data);
    this.ops.push({ op: "setData", path, data: toNodeBytes(data), version: options.version ?? -1 });
    return this;
  }

  /** Fails the whole transaction unless the node's version is `version`. */
  check(path: string, version: number): this {
    this.ops.push({ op: "check", path, version });
    return this;
  }

  /** The operations so far. */
  get operations(): readonly TransactionOp[] {
    return this.ops;
  }

  /** Sends the transaction. A builder commits once. */
  commit(options: { timeoutMs?: number } = {}): Promise<TransactionResult[]> {
    if (this.committed) return Promise.reject(new Error("transaction already committed"));
    this.committed = true;
    return this.run(this.ops, options.timeoutMs);
  }
}
