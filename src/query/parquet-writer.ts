// A minimal Parquet writer for the per-step tables of an index, made to cost next to nothing: every column is
// REQUIRED and each row group is one record batch of the trace, whose column bodies become the data pages as they
// are stored in the trace (the zstd frame Arrow wrote is a valid ZSTD-compressed Parquet page of PLAIN values: the
// little-endian bytes of the typed array), so nothing is decompressed or compressed again. One-byte columns
// (rings, lengths, register numbers, access kinds) are dictionary-encoded with a bit width of 8, whose
// RLE/bit-packed hybrid body is again the bytes themselves (one bit-packed run) behind a 1-3 byte prefix, sent as
// its own small zstd frame (a page may hold several concatenated frames); the dictionary maps each byte to its
// integer or to a name (register names, 'r'/'w': read as strings). Flags (BOOLEAN) are PLAIN, one bit per value:
// the common readers (parquet-mr, Arrow's C++ reader, hyparquet) do not take a dictionary-encoded BOOLEAN column. Sorted columns (seq) get their
// first and last values as row-group statistics, so DuckDB skips row groups when filtering on them.
// Format: https://parquet.apache.org/docs/file-format/ (thrift compact protocol for the page headers and footer).
import { closeSync, openSync, writeSync } from 'node:fs';
import { zstdCompress } from '../trace/compression.js';
import { columnBytes, RawColumn } from './raw-batches.js';

/** Values per block and miniblocks per block of the DELTA_BINARY_PACKED pages written here. */
const DBP_BLOCK = 128, DBP_MINI = 4, DBP_MINI_VALUES = DBP_BLOCK / DBP_MINI;

/**
 * A DELTA_BINARY_PACKED page body of `n` values given delta-coded as the trace stores them (lo/hi words: row 0
 * the first value, row i the difference from row i-1; differences below 2^32, values below 2^53).
 */
export function deltaBinaryPacked(w: Uint32Array, n: number): Uint8Array {
  // at most 5 bytes of min delta, 4 of widths and 4 * 32 * 4 of values per block, plus the header
  const out = new Uint8Array(40 + Math.ceil(n / DBP_BLOCK) * (9 + 4 * DBP_BLOCK));
  let o = 0;
  const varint = (v: number): void => {
    while (v >= 0x80) { out[o++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80); }
    out[o++] = v;
  };
  varint(DBP_BLOCK); varint(DBP_MINI); varint(n);
  varint(n > 0 ? 2 * (w[0]! + w[1]! * 4294967296) : 0); // zigzag of a non-negative first value
  for (let b = 1; b < n; b += DBP_BLOCK) {
    const end = Math.min(b + DBP_BLOCK, n);
    let min = 0xffffffff;
    for (let i = b; i < end; i++) {
      if (w[2 * i + 1] !== 0) throw new Error('a seq column step of 2^32 or more cannot be indexed');
      const v = w[2 * i]!;
      if (v < min) min = v;
    }
    varint(2 * min);
    const widthsAt = o;
    o += DBP_MINI;
    for (let m = 0; m < DBP_MINI; m++) {
      const start = b + m * DBP_MINI_VALUES, stop = Math.min(start + DBP_MINI_VALUES, end);
      let bitsOr = 0;
      for (let i = start; i < stop; i++) bitsOr |= w[2 * i]! - min;
      const width = bitsOr === 0 ? 0 : 32 - Math.clz32(bitsOr);
      out[widthsAt + m] = width;
      if (start >= end || width === 0) continue;
      // 32 values of `width` bits, least significant bit first (padding values are 0)
      if (width <= 24) { // fewer than 8 pending bits plus the value fit in 32
        let acc = 0, nbits = 0;
        for (let i = start; i < start + DBP_MINI_VALUES; i++) {
          acc |= (i < stop ? w[2 * i]! - min : 0) << nbits;
          nbits += width;
          while (nbits >= 8) { out[o++] = acc & 0xff; acc >>>= 8; nbits -= 8; }
        }
        continue;
      }
      let byte = 0, nbits = 0;
      for (let i = start; i < start + DBP_MINI_VALUES; i++) {
        let v = i < stop ? (w[2 * i]! - min) >>> 0 : 0, rem = width;
        while (rem > 0) {
          const take = Math.min(8 - nbits, rem);
          byte |= (v & ((1 << take) - 1)) << nbits;
          v >>>= take; rem -= take; nbits += take;
          if (nbits === 8) { out[o++] = byte; byte = 0; nbits = 0; }
        }
      }
    }
  }
  return out.subarray(0, o);
}

/** How one column is stored. */
export type ParquetColumnKind =
  /** INT64 as UINT_64 (8 bytes per value). */
  | 'u64'
  /** INT64 as UINT_64 from a trace column stored delta-coded: written DELTA_BINARY_PACKED, uncompressed. */
  | 'u64delta'
  /** INT64, signed. */
  | 'i64'
  /** INT32 as UINT_32 (4 bytes per value). */
  | 'u32'
  /** INT32 as UINT_8, from one byte per value (dictionary 0..255). */
  | 'u8'
  /** BOOLEAN from one byte per value (0 or 1). */
  | 'bool'
  /** UTF8 strings from one byte per value, byte i standing for names[i]. */
  | 'names';

/** One column of a Parquet file. */
export interface ParquetColumn {
  readonly name: string;
  readonly kind: ParquetColumnKind;
  /** For 'names': the string of each byte value. */
  readonly names?: readonly string[];
  /** True if values never decrease (min/max of a row group are its first and last values; written as statistics). */
  readonly sorted?: boolean;
}

// Parquet enums
const T_BOOLEAN = 0, T_INT32 = 1, T_INT64 = 2, T_BYTE_ARRAY = 6;
const C_UTF8 = 0, C_UINT_8 = 11, C_UINT_32 = 13, C_UINT_64 = 14;
const E_PLAIN = 0, E_RLE = 3, E_DELTA_BINARY_PACKED = 5, E_RLE_DICTIONARY = 8;
const PAGE_DATA = 0, PAGE_DICTIONARY = 2;

// thrift compact types
const CT_TRUE = 1, CT_FALSE = 2, CT_I32 = 5, CT_I64 = 6, CT_BINARY = 8, CT_LIST = 9, CT_STRUCT = 12;

/** Writes thrift compact protocol into a growing byte buffer. */
class Thrift {
  private buf = new Uint8Array(256);
  private len = 0;
  private last: number[] = [0];

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private byte(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  private varint(v: bigint | number): void {
    let x = BigInt(v);
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private zigzag(v: bigint | number): void {
    const x = BigInt(v);
    this.varint(x >= 0n ? x << 1n : ((-x) << 1n) - 1n);
  }

  private field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }

  i32(id: number, v: number): this {
    this.field(id, CT_I32);
    this.zigzag(v);
    return this;
  }

  i64(id: number, v: number | bigint): this {
    this.field(id, CT_I64);
    this.zigzag(v);
    return this;
  }

  bool(id: number, v: boolean): this {
    this.field(id, v ? CT_TRUE : CT_FALSE);
    return this;
  }

  binary(id: number, v: Uint8Array | string): this {
    this.field(id, CT_BINARY);
    this.rawBinary(v);
    return this;
  }

  private rawBinary(v: Uint8Array | string): void {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.varint(b.length);
    for (const x of b) this.byte(x);
  }

  /** A struct field: `body` writes its fields. */
  struct(id: number, body: (t: this) => void): this {
    this.field(id, CT_STRUCT);
    this.structBody(body);
    return this;
  }

  private structBody(body: (t: this) => void): void {
    this.last.push(0);
    body(this);
    this.byte(0);
    this.last.pop();
  }

  /** A list of structs. */
  structs<T>(id: number, items: readonly T[], body: (t: this, item: T) => void): this {
    this.listHeader(id, items.length, CT_STRUCT);
    for (const it of items) this.structBody((t) => body(t, it));
    return this;
  }

  /** A list of i32. */
  i32s(id: number, items: readonly number[]): this {
    this.listHeader(id, items.length, CT_I32);
    for (const v of items) this.zigzag(v);
    return this;
  }

  /** A list of strings. */
  strings(id: number, items: readonly string[]): this {
    this.listHeader(id, items.length, CT_BINARY);
    for (const v of items) this.rawBinary(v);
    return this;
  }

  private listHeader(id: number, n: number, type: number): void {
    this.field(id, CT_LIST);
    if (n < 15) this.byte((n << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(n);
    }
  }

  /** End the top-level struct. */
  end(): Uint8Array {
    this.byte(0);
    return this.bytes();
  }
}

interface ChunkMeta {
  readonly offset: number;
  readonly dictOffset: number | undefined;
  readonly dataOffset: number;
  readonly codec: number;
  /** Bytes of the chunk in the file (headers included) and uncompressed. */
  readonly size: number;
  readonly rawSize: number;
  readonly rows: number;
  readonly bounds: readonly [Uint8Array, Uint8Array] | undefined;
}

const CODEC_UNCOMPRESSED = 0, CODEC_ZSTD = 6;

const physical = (k: ParquetColumnKind): number =>
  k === 'u64' || k === 'u64delta' || k === 'i64' ? T_INT64 : k === 'bool' ? T_BOOLEAN : k === 'names' ? T_BYTE_ARRAY : T_INT32;
const converted = (k: ParquetColumnKind): number | undefined =>
  ({ u64: C_UINT_64, u64delta: C_UINT_64, i64: undefined, u32: C_UINT_32, u8: C_UINT_8, bool: undefined, names: C_UTF8 })[k];
const dataEncoding = (k: ParquetColumnKind): number => (k === 'u64delta' ? E_DELTA_BINARY_PACKED : dictionaryKind(k) ? E_RLE_DICTIONARY : E_PLAIN);
const dictionaryKind = (k: ParquetColumnKind): boolean => k === 'u8' || k === 'names';

/** The PLAIN-encoded dictionary page body of a one-byte column. */
function dictionary(c: ParquetColumn): { values: number; body: Uint8Array } {
  if (c.kind === 'u8') {
    const v = new Int32Array(256);
    for (let i = 0; i < 256; i++) v[i] = i;
    return { values: 256, body: new Uint8Array(v.buffer) };
  }
  const parts = (c.names ?? []).map((n) => Buffer.from(n, 'utf8'));
  const body = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0));
  const view = new DataView(body.buffer);
  let o = 0;
  for (const p of parts) {
    view.setUint32(o, p.length, true);
    body.set(p, o + 4);
    o += 4 + p.length;
  }
  return { values: parts.length, body };
}

function pageHeader(type: number, rawSize: number, size: number, rows: number, encoding: number): Uint8Array {
  const t = new Thrift().i32(1, type).i32(2, rawSize).i32(3, size);
  if (type === PAGE_DATA) t.struct(5, (s) => s.i32(1, rows).i32(2, encoding).i32(3, E_RLE).i32(4, E_RLE));
  else t.struct(7, (s) => s.i32(1, rows).i32(2, E_PLAIN));
  return t.end();
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function compress(b: Uint8Array): Uint8Array {
  const c = zstdCompress(b);
  if (c === null) throw new Error('zstd-napi is not installed (run npm ci)');
  return c;
}

const MAGIC = Buffer.from('PAR1', 'latin1');

/** A page body ready to write: its parts (concatenated), its size in the file and uncompressed. */
interface Body {
  readonly parts: readonly Uint8Array[];
  readonly size: number;
  readonly rawSize: number;
}

/** Writes one Parquet file, a row group per call of writeRowGroup. */
export class ParquetWriter {
  private readonly fd: number;
  private readonly columns: readonly ParquetColumn[];
  /** Per column: the dictionary page body, raw and as a zstd frame (undefined for PLAIN columns). */
  private readonly dicts: ({ values: number; raw: Uint8Array; zstd: Uint8Array | undefined } | undefined)[];
  /** zstd frames of zero runs (padding of one-byte columns to a multiple of 8 values), by length. */
  private readonly zeroFrames = new Map<number, Uint8Array>();
  private pos = 0;
  private rows = 0;
  private readonly groups: { rows: number; bytes: number; rawBytes: number; chunks: ChunkMeta[] }[] = [];

  constructor(path: string, columns: readonly ParquetColumn[]) {
    this.columns = columns;
    this.dicts = columns.map((c) => {
      if (!dictionaryKind(c.kind)) return undefined;
      const d = dictionary(c);
      return { values: d.values, raw: d.body, zstd: undefined };
    });
    this.fd = openSync(path, 'w');
    this.write(MAGIC);
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.pos += b.length;
  }

  private body(c: ParquetColumn, col: RawColumn, rows: number): Body {
    if (c.kind === 'u64delta') {
      const b = columnBytes(col);
      const page = deltaBinaryPacked(new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), rows);
      return { parts: [page], size: page.length, rawSize: page.length };
    }
    if (c.kind === 'bool') {
      // PLAIN booleans: bit-packed, least significant bit first
      const b = columnBytes(col), bits = new Uint8Array(Math.ceil(rows / 8));
      for (let i = 0; i < rows; i++) if (b[i] !== 0) bits[i >> 3]! |= 1 << (i & 7);
      const page = col.compressed ? compress(bits) : bits;
      return { parts: [page], size: page.length, rawSize: bits.length };
    }
    if (!dictionaryKind(c.kind)) return { parts: [col.stored], size: col.stored.length, rawSize: col.size };
    // bit width 8, one bit-packed run of ceil(rows / 8) groups of 8 values: the bytes, padded with zeros
    const groups = Math.ceil(rows / 8);
    const prefix = Uint8Array.from([8, ...varintBytes(groups * 2 + 1)]);
    const pad = groups * 8 - rows;
    const rawSize = prefix.length + groups * 8;
    if (!col.compressed) {
      const parts = pad > 0 ? [prefix, col.stored, new Uint8Array(pad)] : [prefix, col.stored];
      return { parts, size: rawSize, rawSize };
    }
    const parts = [compress(prefix), col.stored];
    if (pad > 0) {
      let z = this.zeroFrames.get(pad);
      if (z === undefined) this.zeroFrames.set(pad, z = compress(new Uint8Array(pad)));
      parts.push(z);
    }
    return { parts, size: parts.reduce((s, p) => s + p.length, 0), rawSize };
  }

  /**
   * Append a row group of `rows` rows: one stored column body per column, in column order, and for the sorted
   * columns the little-endian bytes of their first and last values.
   */
  writeRowGroup(rows: number, cols: readonly RawColumn[], bounds: readonly (readonly [Uint8Array, Uint8Array] | undefined)[] = []): void {
    if (rows === 0) return;
    const start = this.pos;
    let rawBytes = 0;
    const chunks = this.columns.map((c, k): ChunkMeta => {
      const col = cols[k]!;
      const codec = col.compressed && c.kind !== 'u64delta' ? CODEC_ZSTD : CODEC_UNCOMPRESSED;
      const offset = this.pos;
      let dictOffset: number | undefined;
      let rawSize = 0;
      const dict = this.dicts[k];
      if (dict !== undefined) {
        dictOffset = this.pos;
        let page = dict.raw;
        if (col.compressed) page = dict.zstd ??= compress(dict.raw);
        this.write(pageHeader(PAGE_DICTIONARY, dict.raw.length, page.length, dict.values, E_PLAIN));
        this.write(page);
        rawSize += dict.raw.length;
      }
      const dataOffset = this.pos;
      const b = this.body(c, col, rows);
      this.write(pageHeader(PAGE_DATA, b.rawSize, b.size, rows, dataEncoding(c.kind)));
      for (const p of b.parts) this.write(p);
      rawSize += b.rawSize;
      rawBytes += rawSize;
      return { offset, dictOffset, dataOffset, codec, size: this.pos - offset, rawSize, rows, bounds: c.sorted === true ? bounds[k] : undefined };
    });
    this.groups.push({ rows, bytes: this.pos - start, rawBytes, chunks });
    this.rows += rows;
  }

  /** Write the footer and close the file. */
  close(): void {
    try {
      const footer = this.footer();
      this.write(footer);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, footer.length, true);
      this.write(len);
      this.write(MAGIC);
    } finally {
      closeSync(this.fd);
    }
  }

  /** Close without a footer (the file is to be removed). */
  abandon(): void {
    closeSync(this.fd);
  }

  private footer(): Uint8Array {
    const t = new Thrift().i32(1, 1);
    const schema: { name: string; kind?: ParquetColumnKind; children?: number }[] = [{ name: 'schema', children: this.columns.length }, ...this.columns];
    t.structs(2, schema, (s, e) => {
      if (e.kind !== undefined) s.i32(1, physical(e.kind)).i32(3, 0);
      s.binary(4, e.name);
      if (e.children !== undefined) s.i32(5, e.children);
      const conv = e.kind === undefined ? undefined : converted(e.kind);
      if (conv !== undefined) s.i32(6, conv);
    });
    t.i64(3, this.rows);
    t.structs(4, this.groups, (g, group) => {
      g.structs(1, group.chunks.map((ch, k) => ({ ch, c: this.columns[k]! })), (cc, { ch, c }) => {
        cc.i64(2, ch.offset);
        cc.struct(3, (m) => {
          m.i32(1, physical(c.kind));
          m.i32s(2, dictionaryKind(c.kind) ? [E_PLAIN, E_RLE, E_RLE_DICTIONARY] : [dataEncoding(c.kind), E_RLE]);
          m.strings(3, [c.name]);
          m.i32(4, ch.codec);
          m.i64(5, ch.rows).i64(6, ch.rawSize).i64(7, ch.size).i64(9, ch.dataOffset);
          if (ch.dictOffset !== undefined) m.i64(11, ch.dictOffset);
          if (ch.bounds !== undefined) {
            const [mn, mx] = ch.bounds;
            m.struct(12, (st) => st.binary(1, mx).binary(2, mn).i64(3, 0).binary(5, mx).binary(6, mn));
          }
        });
      });
      g.i64(2, group.rawBytes).i64(3, group.rows);
    });
    t.binary(6, 'itrace');
    return t.end();
  }
}
