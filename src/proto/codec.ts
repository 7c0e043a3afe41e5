/**
 * A tiny schema language for jute records, so that every record is declared once (like `zookeeper.jute`) and the
 * reader and writer are generic over the declaration instead of hand-written per record.
 *
 *   const Id = record("Id", { scheme: ustring, id: ustring });
 *   type Id = RecordOf<typeof Id>;           // { scheme: string | null; id: string | null }
 *   Id.write(writer, { scheme: "world", id: "anyone" });
 *
 * Field order is the object's key order, which is the wire order.
 */
import { JuteDecodeError, JuteReader, JuteWriter } from "./jute.ts";

export interface Codec<T> {
  readonly read: (reader: JuteReader) => T;
  readonly write: (writer: JuteWriter, value: T) => void;
}

export type TypeOf<C> = C extends Codec<infer T> ? T : never;

export const int: Codec<number> = {
  read: (r) => r.readInt(),
  write: (w, v) => void w.writeInt(v),
};

export const long: Codec<bigint> = {
  read: (r) => r.readLong(),
  write: (w, v) => void w.writeLong(v),
};

export const bool: Codec<boolean> = {
  read: (r) => r.readBool(),
  write: (w, v) => void w.writeBool(v),
};

/** `buffer`: null (length -1) is distinct from empty (length 0), and Apache preserves the difference. */
export const buffer: Codec<Buffer | null> = {
  read: (r) => r.readBuffer(),
  write: (w, v) => void w.writeBuffer(v),
};

/** `ustring`: UTF-8, null (length -1) is distinct from "". */
export const ustring: Codec<string | null> = {
  read: (r) => r.readString(),
  write: (w, v) => void w.writeString(v),
};

/** `vector<T>`: int count + elements; -1 is null. */
export function vector<T>(element: Codec<T>): Codec<T[] | null> {
  return {
    read(r) {
      // lab 7.3: read a vector: a count (-1 is null), then that many elements
      //   r.readVectorLength() gives the count, or null for -1. Every element takes at least one byte, so a count
      //   larger than r.remaining is a lie: throw a JuteDecodeError before allocating anything. Then read `count`
      //   elements with element.read(r), in order.
      const count = r.readVectorLength();
      if (count === null) return null;
      if (count > r.remaining) throw new JuteDecodeError(`vector of ${count} elements with ${r.remaining} bytes left`);
      const items: T[] = new Array(count);
      for (let i = 0; i < count; i++) items[i] = element.read(r);
      return items;
      // end lab 7.3
    },
    write(w, items) {
      w.writeVectorLength(items === null ? null : items.length);
      if (items !== null) for (const item of items) element.write(w, item);
    },
  };
}

export interface RecordCodec<T> extends Codec<T> {
  readonly recordName: string;
  /** Encodes one record on its own. */
  encode(value: T): Buffer;
  /** Decodes one record from the start of `bytes`; trailing bytes are ignored, as Apache's readers ignore them. */
  decode(bytes: Buffer, maxLengthBytes?: number): T;
}

type Fields = Record<string, Codec<any>>;
export type RecordOf<R> = R extends RecordCodec<infer T> ? T : never;

export function record<F extends Fields>(
  recordName: string,
  fields: F,
): RecordCodec<{ [K in keyof F]: TypeOf<F[K]> }> {
  type T = { [K in keyof F]: TypeOf<F[K]> };
  const { read, write } = compileRecord<T>(fields);
  return {
    recordName,
    read,
    write,
    encode(value) {
      const w = new JuteWriter();
      write(w, value);
      return Buffer.from(w.view());
    },
    decode(bytes, maxLengthBytes) {
      return read(new JuteReader(bytes, maxLengthBytes));
    },
  };
}

/** The JuteReader/JuteWriter method of each primitive codec, so compiled records call it directly. */
const primitives = new Map<Codec<any>, { read: string; write: string }>([
  [int, { read: "readInt", write: "writeInt" }],
  [long, { read: "readLong", write: "writeLong" }],
  [bool, { read: "readBool", write: "writeBool" }],
  [buffer, { read: "readBuffer", write: "writeBuffer" }],
  [ustring, { read: "readString", write: "writeString" }],
]);

/**
 * A record's reader and writer as straight-line code, one statement per field in wire order:
 *
 *   read:  (r) => ({ czxid: r.readLong(), mzxid: r.readLong(), ..., pzxid: r.readLong() })
 *   write: (w, v) => { w.writeLong(v.czxid); ...; w.writeLong(v.pzxid); }
 *
 * A loop over the fields would do the same work, but through one property access with a varying key and one
 * call site for every codec, which V8 cannot specialise: on the server's reply path (a Stat in nearly every
 * reply) that loop was most of the cost of encoding. Field names come from the record declarations in this
 * package and are quoted with JSON.stringify; nested records and vectors are called through `codecs[i]`.
 */
function compileRecord<T>(fields: Fields): { read: (r: JuteReader) => T; write: (w: JuteWriter, value: T) => void } {
  const names = Object.keys(fields);
  const codecs = names.map((name) => fields[name]!);
  const readParts = names.map((name, i) => {
    const primitive = primitives.get(codecs[i]!);
    return `${JSON.stringify(name)}: ${primitive ? `r.${primitive.read}()` : `codecs[${i}].read(r)`}`;
  });
  const writeParts = names.map((name, i) => {
    const primitive = primitives.get(codecs[i]!);
    const field = `v[${JSON.stringify(name)}]`;
    return primitive ? `w.${primitive.write}(${field});` : `codecs[${i}].write(w, ${field});`;
  });
  const make = new Function(
    "codecs",
    `"use strict";\nreturn {\n  read: function read(r) { return { ${readParts.join(", ")} }; },\n  write: function write(w, v) { ${writeParts.join(" ")} },\n};`,
  ) as (codecs: Codec<unknown>[]) => { read: (r: JuteReader) => T; write: (w: JuteWriter, value: T) => void };
  return make(codecs);
}
