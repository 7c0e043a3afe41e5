// One SnapshotStore contract, every implementation (DESIGN.md: one shared conformance suite per interface).
import { diskKinds } from "./support/harnesses.ts";
import { snapshotStoreConformance } from "./snapshot-store.conformance.ts";

for (const kind of diskKinds) snapshotStoreConformance(kind);
