// One TxnLog contract, every implementation (DESIGN.md: one shared conformance suite per interface).
import { diskKinds } from "./support/harnesses.ts";
import { txnLogConformance } from "./txn-log.conformance.ts";

for (const kind of diskKinds) txnLogConformance(kind);
