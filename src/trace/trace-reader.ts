// Reads a trace directory, complete or not. Opening frames every table file (no body is decoded), so the row and
// batch counts are known at once; a table whose file ends inside a message (a killed recording) yields every
// complete batch and says `truncated`. Tables are read whole (columns concatenated across batches) or streamed one
// batch at a time with bounded memory. Nothing here throws for a bad trace: errors are values.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, RecordBatchReader } from 'apache-arrow';
import { batchStores, VERSION_KEY } from './arrow-io.js';
import { Checkpoint, unpackCheckpoint } from './checkpoint.js';
import { tableCompression } from './compression.js';
import { Frame, readAt, scanStream, StreamScan } from './ipc-frames.js';
import { allocate, ColumnStore, elementsPerRow } from './table-buffer.js';
import { TableColumns } from './table-columns.js';
import { TableName, TABLES, tableSpec, TRACE_VERSION, TraceMeta } from './schema.js';
import { checkpointPath } from './trace-writer.js';

/** What opening found about one table. */
export interface TableInfo {
  /** The table. */
  readonly name: TableName;
  /** False if `<name>.arrows` does not exist (then it counts as empty). */
  readonly present: boolean;
  /** File size in bytes. */
  readonly bytes: number;
  /** Complete record batches. */
  readonly batches: number;
  /** Rows in them. */
  readonly rows: number;
  /** True if the file ends inside a message (ignored). */
  readonly truncated: boolean;
  /** True if the writer closed the stream (end-of-stream marker present). */
  readonly ended: boolean;
  /** Why reading stopped at a complete but undecodable message, if it did (later bytes are ignored). */
  readonly corrupt?: string;
}

/** A whole table read into memory. */
export interface TableRead {
  /** The rows of every batch read, concatenated. */
  readonly columns: TableColumns;
  /** Batches read. */
  readonly batches: number;
  /** True if the file ends inside a message. */
  readonly truncated: boolean;
  /** Set if a batch could not be decoded: columns then hold the batches before it. */
  readonly error?: string;
}

/** The batches of a table, one at a time; `error` is set if iteration stopped at an undecodable batch. */
export interface TableStream extends Iterable<TableColumns> {
  /** Set once iteration stopped early. */
  readonly error: string | undefined;
}

function parseMeta(dir: string): TraceMeta | { error: string } {
  const path = join(dir, 'meta.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { error: `${dir} is not a trace: no meta.json` };
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return { error: `${path} is corrupt: ${(e as Error).message}` };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { error: `${path} is corrupt: not an object` };
  const o = m as Record<string, unknown>;
  if (typeof o.version !== 'number') return { error: `${path} is corrupt: no format version` };
  if (o.version !== TRACE_VERSION) return { error: `${dir}: trace format version ${o.version} is not supported (this build reads version ${TRACE_VERSION})` };
  if (typeof o.complete !== 'boolean') return { error: `${path} is corrupt: no "complete" field` };
  return m as TraceMeta;
}

/** A trace directory opened for reading. */
export class TraceReader {
  /** The trace directory. */
  readonly dir: string;
  /** meta.json. */
  readonly meta: TraceMeta;
  private readonly scans: Map<TableName, StreamScan | null>;

  private constructor(dir: string, meta: TraceMeta, scans: Map<TableName, StreamScan | null>) {
    this.dir = dir;
    this.meta = meta;
    this.scans = scans;
  }

  /** Open a trace directory; a one-line error if it is not a readable trace. */
  static open(dir: string): TraceReader | { error: string } {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return { error: `${dir}: no such directory` };
    }
    if (!st.isDirectory()) return { error: `${dir} is not a directory` };
    const meta = parseMeta(dir);
    if ('error' in meta) return meta;
    const scans = new Map<TableName, StreamScan | null>();
    for (const t of TABLES) {
      const path = join(dir, `${t.name}.arrows`);
      if (!existsSync(path)) { scans.set(t.name, null); continue; }
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        return { error: `cannot read ${path}: ${(e as Error).message}` };
      }
      try {
        scans.set(t.name, scanStream(fd));
      } finally {
        closeSync(fd);
      }
    }
    return new TraceReader(dir, meta, scans);
  }

  /** True once the recording ended normally (meta.complete). */
  get complete(): boolean {
    return this.meta.complete;
  }

  /** What opening found about a table. */
  table(name: TableName): TableInfo {
    const s = this.scans.get(name) ?? null;
    if (s === null) return { name, present: false, bytes: 0, batches: 0, rows: 0, truncated: false, ended: false };
    const info: TableInfo = { name, present: true, bytes: s.bytes, batches: s.batches.length, rows: s.rows, truncated: s.truncated, ended: s.ended };
    return s.corrupt === undefined ? info : { ...info, corrupt: s.corrupt };
  }

  /** Every table, in schema order. */
  tables(): TableInfo[] {
    return TABLES.map((t) => this.table(t.name));
  }

  /** The batches of a table one at a time (each read from disk when reached: memory stays one batch). */
  stream(name: TableName): TableStream {
    const scan = this.scans.get(name) ?? null;
    const path = join(this.dir, `${name}.arrows`);
    const spec = tableSpec(name);
    const state: { error: string | undefined } = { error: undefined };
    function* iterate(): Generator<TableColumns> {
      if (scan === null || scan.schema === null || scan.batches.length === 0) return;
      if (tableCompression === null && scan.batches.some((b) => b.compressed)) {
        state.error = `${path}: compressed with zstd, but zstd-napi is not installed (run npm ci)`;
        return;
      }
      const fd = openSync(path, 'r');
      try {
        const schemaFrame = scan.schema;
        function* messages(): Generator<Uint8Array> {
          yield frameBytes(fd, schemaFrame);
          for (const b of scan!.batches) yield frameBytes(fd, b);
        }
        const reader = RecordBatchReader.from(messages()) as unknown as Iterable<RecordBatch> & RecordBatchReader;
        let i = 0;
        const it = reader[Symbol.iterator]();
        for (;;) {
          let r: IteratorResult<RecordBatch>;
          try {
            r = it.next();
          } catch (e) {
            state.error = `${path}: batch ${i}: ${(e as Error).message}`;
            return;
          }
          if (r.done) return;
          if (i === 0) {
            const v = reader.schema.metadata.get(VERSION_KEY);
            if (v !== String(TRACE_VERSION)) {
              state.error = `${path}: table format version ${v ?? '(none)'} is not supported (this build reads ${TRACE_VERSION})`;
              return;
            }
          }
          const stores = batchStores(spec, r.value);
          if ('error' in stores) { state.error = `${path}: batch ${i}: ${stores.error}`; return; }
          yield new TableColumns(spec, r.value.numRows, stores);
          i++;
        }
      } finally {
        closeSync(fd);
      }
    }
    return { get error() { return state.error; }, [Symbol.iterator]: iterate };
  }

  /** A whole table in memory (columns concatenated across batches). */
  readTable(name: TableName): TableRead {
    const spec = tableSpec(name);
    const info = this.table(name);
    const total = info.rows;
    const cols: ColumnStore[] = spec.columns.map((c) => allocate(c, total));
    const s = this.stream(name);
    let rows = 0, batches = 0;
    for (const b of s) {
      b.cols.forEach((src, k) => {
        const dst = cols[k]!;
        if (Array.isArray(dst)) { for (const v of src as (string | Uint8Array)[]) dst.push(v); return; }
        (dst as Uint32Array).set(src as Uint32Array, rows * elementsPerRow(spec.columns[k]!));
      });
      rows += b.length;
      batches++;
    }
    const trimmed = rows === total ? cols : cols.map((c, k) => {
      if (Array.isArray(c)) return c;
      return c.subarray(0, rows * elementsPerRow(spec.columns[k]!));
    });
    const read: TableRead = { columns: new TableColumns(spec, rows, trimmed), batches, truncated: info.truncated };
    const error = s.error ?? info.corrupt;
    return error === undefined ? read : { ...read, error };
  }

  /** The seqs of the checkpoints, ascending. */
  listCheckpoints(): number[] {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, 'checkpoints'));
    } catch {
      return [];
    }
    return names.filter((n) => /^\d{12}\.msgpack$/.test(n)).map((n) => Number(n.slice(0, 12))).sort((a, b) => a - b);
  }

  /** The checkpoint taken before step seq. */
  readCheckpoint(seq: number): Checkpoint | { error: string } {
    const path = checkpointPath(this.dir, seq);
    let data: Uint8Array;
    try {
      data = readFileSync(path);
    } catch {
      return { error: `no checkpoint at step ${seq} (${path})` };
    }
    return unpackCheckpoint(data);
  }
}

function frameBytes(fd: number, f: Frame): Uint8Array {
  return readAt(fd, f.offset, f.end - f.offset);
}
