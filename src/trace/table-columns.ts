// Rows of one trace table read back from disk, in the same layout as TableBuffer: integer columns as typed
// arrays, 64-bit columns as Uint32Array lo/hi pairs, text and binary columns as plain arrays. The typed accessors
// give each 64-bit column both as bigints (a BigUint64Array/BigInt64Array over the same memory, no copy) and as
// the lo/hi words (the fast path that never touches bigint or float).
import { ColumnStore } from './table-buffer.js';
import { ColumnSpec, TableSpec } from './schema.js';

/** The integer stores of columns narrower than 64 bits. */
export type IntStore = Uint8Array | Uint16Array | Uint32Array | Int16Array;

/** Rows of one table (a whole table or one batch). */
export class TableColumns {
  /** The table. */
  readonly spec: TableSpec;
  /** Rows. */
  readonly length: number;
  /** One store per column, in spec order (64-bit columns: 2 entries per row, lo then hi). */
  readonly cols: readonly ColumnStore[];

  constructor(spec: TableSpec, length: number, cols: readonly ColumnStore[]) {
    this.spec = spec;
    this.length = length;
    this.cols = cols;
  }

  /** A u64 column as bigints (same memory as words()). */
  u64(name: string): BigUint64Array {
    const w = this.wordStore(name, 'u64');
    return new BigUint64Array(w.buffer, w.byteOffset, this.length);
  }

  /** An i64 column as bigints (same memory as words()). */
  i64(name: string): BigInt64Array {
    const w = this.wordStore(name, 'i64');
    return new BigInt64Array(w.buffer, w.byteOffset, this.length);
  }

  /** A u64 or i64 column as lo/hi u32 pairs: row n is words[2n] + 2^32 * words[2n+1]. */
  words(name: string): Uint32Array {
    return this.wordStore(name, undefined);
  }

  /** A u8/u16/u32/i16 column. */
  ints(name: string): IntStore {
    const [col, store] = this.find(name);
    if (col.type === 'u64' || col.type === 'i64' || Array.isArray(store)) throw new Error(`${this.spec.name}.${name} is ${col.type}, not a narrow integer`);
    return store as IntStore;
  }

  /** A utf8 column. */
  strings(name: string): readonly string[] {
    const [col, store] = this.find(name);
    if (col.type !== 'utf8') throw new Error(`${this.spec.name}.${name} is ${col.type}, not utf8`);
    return store as string[];
  }

  /** A binary column. */
  bytes(name: string): readonly Uint8Array[] {
    const [col, store] = this.find(name);
    if (col.type !== 'binary') throw new Error(`${this.spec.name}.${name} is ${col.type}, not binary`);
    return store as Uint8Array[];
  }

  /** One row as plain values keyed by column name (bigint for 64-bit columns); for tests and printing. */
  row(i: number): Record<string, bigint | number | string | Uint8Array> {
    const out: Record<string, bigint | number | string | Uint8Array> = {};
    this.spec.columns.forEach((col, k) => {
      const s = this.cols[k]!;
      if (col.type === 'u64' || col.type === 'i64') {
        const w = s as Uint32Array;
        const u = BigInt(w[2 * i]!) | (BigInt(w[2 * i + 1]!) << 32n);
        out[col.name] = col.type === 'i64' ? BigInt.asIntN(64, u) : u;
      } else {
        out[col.name] = (s as IntStore | (string | Uint8Array)[])[i]!;
      }
    });
    return out;
  }

  private find(name: string): [ColumnSpec, ColumnStore] {
    const k = this.spec.columns.findIndex((c) => c.name === name);
    if (k < 0) throw new Error(`${this.spec.name} has no column ${name}`);
    return [this.spec.columns[k]!, this.cols[k]!];
  }

  private wordStore(name: string, type: 'u64' | 'i64' | undefined): Uint32Array {
    const [col, store] = this.find(name);
    const ok = type === undefined ? col.type === 'u64' || col.type === 'i64' : col.type === type;
    if (!ok) throw new Error(`${this.spec.name}.${name} is ${col.type}, not ${type ?? '64-bit'}`);
    return store as Uint32Array;
  }
}
