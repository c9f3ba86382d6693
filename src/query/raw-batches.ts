// The record batches of a trace table with their column bodies as stored: for each fixed-width column, the zstd
// frame Arrow wrote (or the raw bytes when Arrow stored it uncompressed), so the index can put the same frames into
// its Parquet pages without recompressing. Columns are decompressed only on request (the call tree needs insns
// and regs; statistics need seq). Like TraceReader.stream, only the trace's consistent prefix is read (the last
// batch cut to it, then stored uncompressed), every batch is checked against its CRC-32 from the manifest, and the
// table format version is checked.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Schema } from 'apache-arrow';
import { arrow } from '../trace/arrow.js';
import { deltaDecode, VERSION_KEY } from '../trace/arrow-io.js';
import { zstdDecompress } from '../trace/compression.js';
import { ColumnStore } from '../trace/table-buffer.js';
import { TraceReader } from '../trace/trace-reader.js';
import { TableColumns } from '../trace/table-columns.js';
import { TableName, tableSpec, readableVersion, TRACE_VERSION } from '../trace/schema.js';

/** The stored body of one column of one batch. */
export interface RawColumn {
  /** The bytes stored: a zstd frame if `compressed`, else the values themselves. */
  readonly stored: Uint8Array;
  /** True if `stored` is a zstd frame. */
  readonly compressed: boolean;
  /** Bytes of the values (uncompressed). */
  readonly size: number;
}

/** One record batch. */
export interface RawBatch {
  /** Rows. */
  readonly length: number;
  /** One entry per column of the table, in schema order. */
  readonly cols: readonly RawColumn[];
}

const WIDTH: Record<string, number> = { u8: 1, u16: 2, u32: 4, i16: 2, u64: 8, i64: 8 };

/** The values of a stored column (decompressed if needed). */
export function columnBytes(c: RawColumn): Uint8Array {
  if (!c.compressed) return c.stored;
  const d = zstdDecompress(c.stored);
  if ('error' in d) throw new Error(d.error);
  if (d.length !== c.size) throw new Error(`column body is ${d.length} bytes once decompressed, expected ${c.size}`);
  return d;
}

/**
 * A batch decompressed as TableColumns (the layout TraceReader.stream yields: 64-bit columns as lo/hi words);
 * with `only`, the other columns are left empty (length 0).
 */
export function decodeBatch(name: TableName, b: RawBatch, only?: readonly string[]): TableColumns {
  const spec = tableSpec(name);
  const stores: ColumnStore[] = spec.columns.map((c, k) => {
    const bytes = only === undefined || only.includes(c.name) ? columnBytes(b.cols[k]!) : new Uint8Array(0);
    const n = bytes.length === 0 ? 0 : b.length;
    // typed arrays need aligned offsets: decompressed buffers are fresh, raw ones may not be
    // (delta-coded columns are decoded in place: never in the stored bytes, which the index reuses)
    const own = bytes.byteOffset % 8 === 0 && (c.delta !== true || b.cols[k]!.compressed) ? bytes : bytes.slice();
    switch (c.type) {
      case 'u8': return own;
      case 'u16': return new Uint16Array(own.buffer, own.byteOffset, n);
      case 'i16': return new Int16Array(own.buffer, own.byteOffset, n);
      case 'u32': return new Uint32Array(own.buffer, own.byteOffset, n);
      default: {
        const w = new Uint32Array(own.buffer, own.byteOffset, 2 * n);
        if (c.delta === true) deltaDecode(w, n);
        return w;
      }
    }
  });
  return new TableColumns(spec, b.length, stores);
}

/** A table's batches, read one at a time; `error` is set when reading stops early (the caller must fail). */
export function rawBatches(source: TraceReader | string, name: TableName): { readonly error: string | undefined; [Symbol.iterator](): Iterator<RawBatch> } {
  const spec = tableSpec(name);
  const state: { error: string | undefined } = { error: undefined };
  for (const c of spec.columns) if (WIDTH[c.type] === undefined) throw new Error(`${name}.${c.name} is not fixed-width`);
  function* iterate(): Generator<RawBatch> {
    const reader = typeof source === 'string' ? TraceReader.open(source) : source;
    if ('error' in reader) { state.error = reader.error; return; }
    const path = join(reader.dir, `${name}.arrows`);
    const { schema: schemaFrame, batches } = reader.frames(name);
    if (schemaFrame === null || batches.length === 0) return;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      state.error = `cannot read ${path}: ${(e as Error).message}`;
      return;
    }
    try {
      const schemaBytes = reader.readFrame(name, fd, schemaFrame, 'schema');
      if ('error' in schemaBytes) { state.error = schemaBytes.error; return; }
      const schema = arrow().Message.decode(schemaBytes.subarray(8)).header() as Schema;
      const v = schema.metadata.get(VERSION_KEY);
      if (!readableVersion(v)) { state.error = `${path}: table format version ${v ?? '(none)'} is not supported (this build reads ${TRACE_VERSION})`; return; }
      for (let i = 0; i < batches.length; i++) {
        const { frame: f, take } = batches[i]!;
        const bytes = reader.readFrame(name, fd, f, `batch ${i}`);
        if ('error' in bytes) { state.error = bytes.error; return; }
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const metaLen = dv.getInt32(4, true);
        const msg = arrow().Message.decode(bytes.subarray(8, 8 + metaLen));
        if (!msg.isRecordBatch()) { state.error = `${path}: batch ${i} is not a record batch`; return; }
        const h = msg.header();
        const body = 8 + metaLen;
        const n = Number(h.length);
        if (n !== f.rows) { state.error = `${path}: batch ${i}: ${n} rows, ${f.rows} recorded`; return; }
        const compressed = h.compression !== null;
        if (h.buffers.length !== 2 * spec.columns.length) { state.error = `${path}: batch ${i}: ${h.buffers.length} buffers for ${spec.columns.length} columns`; return; }
        const cols = spec.columns.map((c, k): RawColumn => {
          const r = h.buffers[2 * k + 1]!;
          const size = n * WIDTH[c.type]!;
          const at = body + Number(r.offset), len = Number(r.length);
          if (!compressed) return { stored: bytes.subarray(at, at + size), compressed: false, size };
          if (len === 0) return { stored: new Uint8Array(0), compressed: false, size: 0 };
          const prefix = dv.getBigInt64(at, true);
          const stored = bytes.subarray(at + 8, at + len);
          if (prefix === -1n) return { stored: stored.subarray(0, size), compressed: false, size };
          // (apache-arrow's writer puts the compressed length in the prefix where the format says the uncompressed
          // one: either way, it is not -1 and the zstd frame itself records its content size)
          return { stored, compressed: true, size };
        });
        if (take === n) { yield { length: n, cols }; continue; }
        // the batch reaches past the consistent prefix: its first `take` rows, uncompressed
        yield {
          length: take,
          cols: spec.columns.map((c, k): RawColumn => {
            const size = take * WIDTH[c.type]!;
            return { stored: columnBytes(cols[k]!).slice(0, size), compressed: false, size };
          }),
        };
      }
    } catch (e) {
      state.error = `${path}: ${(e as Error).message}`;
    } finally {
      closeSync(fd);
    }
  }
  return { get error() { return state.error; }, [Symbol.iterator]: iterate };
}
