// Conversion between the in-memory column layout of trace tables (TableBuffer, TableColumns: typed arrays, 64-bit
// columns as lo/hi u32 pairs) and Arrow record batches. Numeric columns are handed to Arrow without copying:
// a u64 column's Uint32Array pairs are the BigUint64Array Arrow stores (little-endian). Text and binary columns
// are packed into Arrow's offsets + bytes layout.
import type { Binary, Data, DataType, RecordBatch, Schema, Uint64, Uint8 } from 'apache-arrow';
import { arrow } from './arrow.js';
import { ColumnStore, TableBuffer } from './table-buffer.js';
import { ColumnSpec, ColumnType, TableName, TableSpec, TRACE_VERSION } from './schema.js';
import { ZSTD_LEVEL } from './compression.js';

/** Schema metadata key holding TRACE_VERSION. */
export const VERSION_KEY = 'itrace.trace_version';
/** Schema metadata key holding the table's comment; field metadata key holding a column's comment. */
export const COMMENT_KEY = 'comment';
/** Field metadata key marking a delta-coded column (value `delta`, see ColumnSpec.delta). */
export const ENCODING_KEY = 'encoding';

/** Delta-code rows [0, n) of a u64 column in place (lo/hi words): row 0 keeps its value, row i becomes v[i] - v[i-1] (mod 2^64). */
export function deltaEncode(w: Uint32Array, n: number): void {
  let pl = n > 0 ? w[0]! : 0, ph = n > 0 ? w[1]! : 0;
  for (let i = 1; i < n; i++) {
    const l = w[2 * i]!, h = w[2 * i + 1]!;
    w[2 * i] = (l - pl) >>> 0; w[2 * i + 1] = (h - ph - (l < pl ? 1 : 0)) >>> 0;
    pl = l; ph = h;
  }
}

/** Undo deltaEncode in place. */
export function deltaDecode(w: Uint32Array, n: number): void {
  let l = n > 0 ? w[0]! : 0, h = n > 0 ? w[1]! : 0;
  for (let i = 1; i < n; i++) {
    const s = l + w[2 * i]!;
    l = s >>> 0; h = (h + w[2 * i + 1]! + (s > 4294967295 ? 1 : 0)) >>> 0;
    w[2 * i] = l; w[2 * i + 1] = h;
  }
}

/** The zstd level of each compressed body of a batch of this table, in order (empty: the default for all). */
export function columnLevels(spec: TableSpec): readonly number[] {
  if (spec.columns.some((c) => c.type === 'utf8' || c.type === 'binary')) return [];
  return spec.columns.map((c) => c.level ?? ZSTD_LEVEL);
}

function arrowType(t: ColumnType): DataType {
  const { Binary, Int16, Int64, Uint16, Uint32, Uint64, Uint8, Utf8 } = arrow();
  switch (t) {
    case 'u8': return new Uint8();
    case 'u16': return new Uint16();
    case 'u32': return new Uint32();
    case 'u64': return new Uint64();
    case 'i16': return new Int16();
    case 'i64': return new Int64();
    case 'utf8': return new Utf8();
    case 'binary': return new Binary();
  }
}

const schemas = new Map<TableName, Schema>();

/** The Arrow schema of a table: non-nullable fields with their comments, TRACE_VERSION in the metadata. */
export function arrowSchema(spec: TableSpec): Schema {
  let s = schemas.get(spec.name);
  if (s === undefined) {
    const { Field, Schema } = arrow();
    const fields = spec.columns.map((c) => new Field(c.name, arrowType(c.type), false,
      new Map([[COMMENT_KEY, c.comment], ...(c.delta === true ? [[ENCODING_KEY, 'delta'] as [string, string]] : [])])));
    s = new Schema(fields, new Map([[VERSION_KEY, String(TRACE_VERSION)], [COMMENT_KEY, spec.comment]]));
    schemas.set(spec.name, s);
  }
  return s;
}

const encoder = new TextEncoder();

/** Arrow's offsets + bytes layout of text or binary values. */
function packVarBinary(values: readonly (string | Uint8Array)[], n: number): { valueOffsets: Int32Array; data: Uint8Array } {
  const parts: Uint8Array[] = new Array(n);
  const valueOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const b = typeof v === 'string' ? encoder.encode(v) : v;
    parts[i] = b;
    total += b.length;
    valueOffsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) data.set(parts[i]!, valueOffsets[i]!);
  return { valueOffsets, data };
}

function columnData(col: ColumnSpec, store: ColumnStore, n: number): Data {
  const { makeData } = arrow();
  const type = arrowType(col.type);
  switch (col.type) {
    case 'u64': case 'i64': {
      const w = store as Uint32Array;
      const data = col.type === 'u64' ? new BigUint64Array(w.buffer, w.byteOffset, n) : new BigInt64Array(w.buffer, w.byteOffset, n);
      return makeData({ type: type as Uint64, length: n, nullCount: 0, data: data as BigUint64Array });
    }
    case 'utf8': case 'binary': {
      const { valueOffsets, data } = packVarBinary(store as (string | Uint8Array)[], n);
      return makeData({ type: type as Binary, length: n, nullCount: 0, valueOffsets, data });
    }
    default: {
      const a = store as Uint8Array | Uint16Array | Uint32Array | Int16Array;
      return makeData({ type: type as Uint8, length: n, nullCount: 0, data: a.subarray(0, n) as Uint8Array });
    }
  }
}

/** Rows [0, buf.length) of a buffer as one record batch (numeric columns share the buffer's memory). */
export function toRecordBatch(buf: TableBuffer): RecordBatch {
  const { makeData, RecordBatch, Struct } = arrow();
  const schema = arrowSchema(buf.spec);
  const n = buf.length;
  const children = buf.spec.columns.map((c, k) => columnData(c, buf.cols[k]!, n));
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

const decoder = new TextDecoder();

/**
 * The columns of a record batch in TableBuffer layout. Numeric stores are views of Arrow's buffers when they are
 * 8-byte aligned, else copies; text and binary values are decoded (binary values are views).
 */
export function batchStores(spec: TableSpec, batch: RecordBatch): ColumnStore[] | { error: string } {
  const n = batch.numRows;
  const out: ColumnStore[] = [];
  for (const col of spec.columns) {
    const child = batch.getChild(col.name);
    if (child === null) return { error: `${spec.name}: the file has no column ${col.name}` };
    if (child.data.length !== 1) return { error: `${spec.name}.${col.name}: ${child.data.length} chunks in one batch` };
    const d = child.data[0]!;
    if (d.nullCount > 0) return { error: `${spec.name}.${col.name}: null values` };
    const want = arrowType(col.type);
    const { DataType } = arrow();
    if (!DataType.isInt(d.type) && !DataType.isUtf8(d.type) && !DataType.isBinary(d.type)) return { error: `${spec.name}.${col.name}: unexpected type ${d.type}` };
    if (String(d.type) !== String(want)) return { error: `${spec.name}.${col.name}: type ${d.type}, expected ${want}` };
    switch (col.type) {
      case 'u64': case 'i64': {
        const v = d.values as BigUint64Array;
        const w = wordsOf(v, n);
        if (col.delta === true) deltaDecode(w, n);
        out.push(w);
        break;
      }
      case 'utf8': case 'binary': {
        const offs = d.valueOffsets as Int32Array, bytes = d.values as Uint8Array;
        const vals: (string | Uint8Array)[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const b = bytes.subarray(offs[i]!, offs[i + 1]!);
          vals[i] = col.type === 'utf8' ? decoder.decode(b) : b;
        }
        out.push(vals);
        break;
      }
      default:
        out.push((d.values as Uint8Array).subarray(0, n));
    }
  }
  return out;
}

function wordsOf(v: BigUint64Array | BigInt64Array, n: number): Uint32Array {
  if (v.byteOffset % 4 === 0) return new Uint32Array(v.buffer, v.byteOffset, 2 * n);
  const w = new Uint32Array(2 * n);
  new Uint8Array(w.buffer).set(new Uint8Array(v.buffer, v.byteOffset, 8 * n));
  return w;
}
