/** The data tree: znodes, paths, Stat, ACL checks and the transactions that change them (book chapters 2 and 6). */
export { DataTree, isSpecialPath, type ZNode, type TreeEvent, type WatchTrigger, type TxnResult } from "./data-tree.ts";
export { pathProblem, parentOf, nameOf, childPath } from "./paths.ts";
export { aclAllows, fixupAcl, authenticate, digestId, maskDigests, ipMatches, openAclUnsafe, type AuthOutcome } from "./acl.ts";
export { clientStat, ownerKind, ttlMsMax, containerOwner, ttlOfOwner, type OwnerKind } from "./stat.ts";
export { makeZxid, zxidEpoch, zxidCounter, type Txn, type TxnHeader, type TxnKind } from "./txn.ts";
