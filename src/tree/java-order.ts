/**
 * Iteration orders of Java's hash collections, where Apache ZooKeeper lets them reach the wire.
 *
 * Apache keeps a session's ephemeral paths in a `HashSet<String>` (DataTree.ephemerals) and a connection's
 * authenticated ids in a `ConcurrentHashMap` key set (ServerCnxn.authInfo). Their iteration order is observable:
 * closing a session deletes its ephemerals — and fires their watches — in the order of a clone of that HashSet
 * (PrepRequestProcessor writes it into the CloseSessionTxn); `whoAmI` lists, and an `auth:` ACL expands to, the
 * authInfo ids in map order. Clients see those orders, so we reproduce them.
 *
 * Both maps iterate their table from bucket 0 upwards, and a bucket's entries in insertion order (new entries go
 * at the tail of the bucket's list; a HashMap resize splits a bucket keeping relative order). So, as long as no
 * bucket grows long enough to become a tree (8 entries), the iteration order is: entries stably sorted by bucket
 * index, taken in insertion order.
 */

/** `String.hashCode()`: s[0]*31^(n-1) + ... over UTF-16 code units, in 32-bit arithmetic. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** HashMap.hash(key): the hash with its high bits folded into the low ones. */
function hashMapSpread(h: number): number {
  return h ^ (h >>> 16);
}

/** ConcurrentHashMap.spread(h): the same fold, kept non-negative. */
function concurrentSpread(h: number): number {
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

const defaultCapacity = 16;
const loadFactor = 0.75;

/** Entries in insertion order → iteration order, for a table of `capacity` buckets. */
function bucketOrder<T>(entries: readonly T[], hashOf: (entry: T) => number, capacity: number): T[] {
  const mask = capacity - 1;
  return entries
    .map((entry, index) => ({ entry, index, bucket: hashOf(entry) & mask }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((e) => e.entry);
}

/**
 * A `java.util.HashSet<String>`'s capacity history and order. The table only grows (16, then doubling whenever
 * size exceeds 3/4 of it) and never shrinks when entries are removed.
 */
export class JavaHashSetOrder {
  constructor(private capacity = defaultCapacity) {}

  /** Call after adding an entry; `size` is the set's size after the add. */
  added(size: number): void {
    while (size > this.capacity * loadFactor) this.capacity *= 2;
  }

  /** The set's iteration order, given its entries in insertion order. */
  order(insertionOrder: readonly string[]): string[] {
    return bucketOrder(insertionOrder, (s) => hashMapSpread(javaStringHash(s)), this.capacity);
  }

  /**
   * The iteration order of `(HashSet) set.clone()`: HashMap.clone re-inserts the entries, in the original's
   * iteration order, into a fresh table sized for them (`tableSizeFor(size / 0.75 + 1)`).
   */
  cloneOrder(insertionOrder: readonly string[]): string[] {
    const { clone, entries } = this.clone(insertionOrder);
    return clone.order(entries);
  }

  /** The clone as a set of its own (its capacity, and its entries in insertion order), to go on changing it. */
  clone(insertionOrder: readonly string[]): { clone: JavaHashSetOrder; entries: string[] } {
    const entries = this.order(insertionOrder);
    if (entries.length === 0) return { clone: new JavaHashSetOrder(), entries };
    return { clone: new JavaHashSetOrder(tableSizeFor(Math.fround(entries.length / loadFactor + 1))), entries };
  }
}

/** HashMap.tableSizeFor: the smallest power of two >= n (n is truncated to an int, as Java's cast does). */
function tableSizeFor(n: number): number {
  let cap = 1;
  while (cap < Math.trunc(n)) cap *= 2;
  return cap;
}

/** The jute-generated `Id.hashCode()`: 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(). */
export function javaIdHash(scheme: string, id: string): number {
  let result = 17;
  result = (Math.imul(37, result) + javaStringHash(scheme)) | 0;
  result = (Math.imul(37, result) + javaStringHash(id)) | 0;
  return result;
}

/**
 * The iteration order of a `ConcurrentHashMap.newKeySet()` holding `entries` (given in insertion order). The
 * table starts at 16 buckets and doubles when the count reaches 3/4 of it. (A resize can reverse parts of a
 * bucket in Java; with fewer than 12 entries — a connection's auth ids — there is no resize.)
 */
export function concurrentKeySetOrder<T>(entries: readonly T[], hashOf: (entry: T) => number): T[] {
  let capacity = defaultCapacity;
  while (entries.length >= capacity * loadFactor) capacity *= 2;
  return bucketOrder(entries, (e) => concurrentSpread(hashOf(e)), capacity);
}
