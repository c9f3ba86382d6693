// Rows of one trace table being collected in memory, column by column, until they are written as one Arrow
// record batch. Integer columns are typed arrays; 64-bit columns are Uint32Array lo/hi pairs (little-endian,
// so the same buffer is a BigUint64Array/BigInt64Array for Arrow without copying); text and binary columns
// are plain arrays.
import { ColumnSpec, TableName, tableSpec, TableSpec } from './schema.js';

/** The storage of one column. */
export type ColumnStore = Uint8Array | Uint16Array | Uint32Array | Int16Array | (string | Uint8Array)[];

/** Buffered rows of one table. */
export class TableBuffer {
  /** The table. */
  readonly spec: TableSpec;
  /** Rows the buffer holds before it must be written. */
  readonly capacity: number;
  /** Rows filled. */
  length = 0;
  /**
   * True when the columns the schema marks delta-coded already hold deltas (the recorder writes them that way);
   * false when they hold values, which the writer then encodes.
   */
  deltaCoded = false;
  /** One store per column, in spec order (64-bit columns: 2 entries per row). */
  readonly cols: ColumnStore[];

  constructor(name: TableName, capacity: number, cols?: ColumnStore[]) {
    this.spec = tableSpec(name);
    this.capacity = capacity;
    this.cols = cols ?? this.spec.columns.map((col) => allocate(col, capacity));
  }

  /** A full buffer over existing column stores (rows [0, length)). */
  static over(name: TableName, length: number, cols: ColumnStore[], deltaCoded = false): TableBuffer {
    const b = new TableBuffer(name, length, cols);
    b.length = length;
    b.deltaCoded = deltaCoded;
    return b;
  }

  /** Copies of the filled part of every column (for handing the rows to another thread). */
  copyRows(): ColumnStore[] {
    const n = this.length;
    return this.cols.map((c, k) => (Array.isArray(c) ? c.slice(0, n) : c.slice(0, elementsPerRow(this.spec.columns[k]!) * n)));
  }

  /** The store of a column by name. */
  col(name: string): ColumnStore {
    const i = this.spec.columns.findIndex((c) => c.name === name);
    if (i < 0) throw new Error(`${this.spec.name} has no column ${name}`);
    return this.cols[i]!;
  }

  /** True when no more rows fit. */
  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Forget the rows (after they were written); text/binary stores are emptied. */
  clear(): void {
    this.length = 0;
    for (const s of this.cols) if (Array.isArray(s)) s.length = 0;
  }

  /**
   * Append one row given as plain values (bigint or number for integers, string for utf8, Uint8Array for
   * binary), in column order. For the rare tables (events, syscalls, inputs, code); hot tables write the
   * typed arrays directly.
   */
  push(values: readonly (bigint | number | string | Uint8Array)[]): void {
    const i = this.length;
    this.spec.columns.forEach((col, k) => {
      const store = this.cols[k]!, v = values[k]!;
      switch (col.type) {
        case 'u64': case 'i64': {
          const b = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v as number));
          const s = store as Uint32Array;
          s[2 * i] = Number(b & 0xffffffffn); s[2 * i + 1] = Number(b >> 32n);
          break;
        }
        case 'utf8': case 'binary': (store as (string | Uint8Array)[])[i] = v as string | Uint8Array; break;
        default: (store as Uint32Array)[i] = Number(v);
      }
    });
    this.length++;
  }
}

/** Typed-array elements a row takes in a column's store (64-bit columns are lo/hi words). */
export function elementsPerRow(col: ColumnSpec): number {
  return col.type === 'u64' || col.type === 'i64' ? 2 : 1;
}

/** An empty store for `n` rows of a column. */
export function allocate(col: ColumnSpec, n: number): ColumnStore {
  switch (col.type) {
    case 'u8': return new Uint8Array(n);
    case 'u16': return new Uint16Array(n);
    case 'u32': return new Uint32Array(n);
    case 'i16': return new Int16Array(n);
    case 'u64': case 'i64': return new Uint32Array(elementsPerRow(col) * n);
    default: return [];
  }
}
