// Reads a trace directory, complete or not, serving only its consistent prefix (trace-check.ts): every table cut to
// the rows of the same steps [0, steps), so a killed recording reads as a shorter trace, never an uneven one.
// Opening checks the manifest, file sizes and JSON files; every batch's CRC-32 is compared when it is read, and
// a mismatch stops reading with an error. A damaged trace is refused at open unless `allowPartial` (then every CRC
// is compared first and the prefix is the part every table holds intact). Tables are read whole (columns
// concatenated across batches) or streamed one batch at a time with bounded memory. Nothing here throws for a bad
// trace: errors are values.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RecordBatch, RecordBatchReader } from 'apache-arrow';
import { arrow } from './arrow.js';
import { batchStores, VERSION_KEY } from './arrow-io.js';
import { Checkpoint, unpackCheckpoint } from './checkpoint.js';
import { crc32 } from './crc32.js';
import { readAt } from './ipc-frames.js';
import { allocate, ColumnStore, elementsPerRow } from './table-buffer.js';
import { TableColumns } from './table-columns.js';
import { TableName, TABLES, tableSpec, readableVersion, TRACE_VERSION, TraceMeta } from './schema.js';
import { checkTrace, RecordedFrame, TableCheck, TraceCheck } from './trace-check.js';
import { checkpointPath } from './trace-writer.js';

/** What opening found about one table (the part readers serve). */
export interface TableInfo {
  /** The table. */
  readonly name: TableName;
  /** False if `<name>.arrows` does not exist. */
  readonly present: boolean;
  /** File size in bytes. */
  readonly bytes: number;
  /** Record batches holding the rows served. */
  readonly batches: number;
  /** Rows served (the table's part of the consistent prefix). */
  readonly rows: number;
  /** True if the table is not closed or is cut (rows beyond the prefix are not served). */
  readonly truncated: boolean;
  /** True if the writer closed the stream (end-of-stream marker recorded). */
  readonly ended: boolean;
  /** What is wrong with the file, if it is damaged. */
  readonly corrupt?: string;
}

/** A whole table read into memory. */
export interface TableRead {
  /** The rows of every batch read, concatenated. */
  readonly columns: TableColumns;
  /** Batches read. */
  readonly batches: number;
  /** True if the file holds more than the rows served (an interrupted or damaged recording). */
  readonly truncated: boolean;
  /** Set if a batch could not be read or failed its checksum: columns then hold the batches before it. */
  readonly error?: string;
}

/** The batches of a table, one at a time; `error` is set if iteration stopped at an undecodable batch. */
export interface TableStream extends Iterable<TableColumns> {
  /** Set once iteration stopped early. */
  readonly error: string | undefined;
}

/** Options of TraceReader.open. */
export interface OpenOptions {
  /** Serve the consistent prefix of a damaged trace instead of refusing it (default: allowPartial() for the dir). */
  readonly allowPartial?: boolean;
}

/** Trace directories (resolved) a command admitted with --allow-partial. */
const partialDirs = new Set<string>();

/** Let readers of `dir` in this process serve the consistent prefix of a damaged trace (--allow-partial), or not. */
export function allowPartial(dir: string, allow = true): void {
  if (allow) partialDirs.add(resolve(dir));
  else partialDirs.delete(resolve(dir));
}

/** True if `dir` was admitted with allowPartial. */
export function partialAllowed(dir: string): boolean {
  return partialDirs.has(resolve(dir));
}

/**
 * Check a trace for reading: the check, or a one-line refusal (not a trace, another format version, damaged
 * without allowPartial).
 */
export function admitCheck(dir: string, allow: boolean): TraceCheck | { error: string } {
  const light = checkTrace(dir, false);
  if ('error' in light) return light;
  if (light.damage.length === 0) return light;
  if (!allow) {
    const more = light.damage.length > 1 ? ` (and ${light.damage.length - 1} more problem${light.damage.length > 2 ? 's' : ''})` : '';
    return { error: `damaged trace: ${light.damage[0]}${more}; see trace fsck ${dir}, or use --allow-partial` };
  }
  return checkTrace(dir, true);
}

/** A table's rows cut to the first n. */
function firstRows(t: TableColumns, n: number): TableColumns {
  if (n >= t.length) return t;
  return new TableColumns(t.spec, n, t.cols.map((c, k) => (Array.isArray(c) ? c.slice(0, n) : c.subarray(0, n * elementsPerRow(t.spec.columns[k]!)))));
}

/** A trace directory opened for reading. */
export class TraceReader {
  /** The trace directory. */
  readonly dir: string;
  /** meta.json. */
  readonly meta: TraceMeta;
  /** What checking the trace found (the prefix served, each table's status, damage). */
  readonly check: TraceCheck;

  private constructor(dir: string, check: TraceCheck) {
    this.dir = dir;
    this.meta = check.meta;
    this.check = check;
  }

  /** Open a trace directory; a one-line error if it is not a readable trace or is damaged (see OpenOptions). */
  static open(dir: string, opts: OpenOptions = {}): TraceReader | { error: string } {
    const c = admitCheck(dir, opts.allowPartial ?? partialAllowed(dir));
    if ('error' in c) return c;
    return new TraceReader(dir, c);
  }

  /** True once the recording ended normally and the whole of it is served (meta.complete, nothing damaged). */
  get complete(): boolean {
    return this.meta.complete && this.check.whole;
  }

  /** Steps served: the consistent prefix. */
  get steps(): number {
    return this.check.steps;
  }

  private tableCheck(name: TableName): TableCheck {
    return this.check.tables[TABLES.findIndex((t) => t.name === name)]!;
  }

  /** The recorded batches holding the rows served, with the rows to take from each (the last may be cut). */
  frames(name: TableName): { schema: RecordedFrame | null; batches: { frame: RecordedFrame; take: number }[] } {
    const t = this.tableCheck(name);
    const out: { frame: RecordedFrame; take: number }[] = [];
    let left = t.prefixRows;
    for (const b of t.batches) {
      if (left <= 0) break;
      const take = Math.min(left, b.rows);
      if (b.rows > 0) out.push({ frame: b, take });
      left -= take;
    }
    return { schema: t.schema, batches: out };
  }

  /** The bytes of a recorded frame of a table file, checked against its CRC-32; or what is wrong. */
  readFrame(name: TableName, fd: number, f: RecordedFrame, what: string): Uint8Array | { error: string } {
    const b = readAt(fd, f.offset, f.end - f.offset);
    const path = join(this.dir, `${name}.arrows`);
    if (b.length !== f.end - f.offset) return { error: `${path}: truncated at byte ${f.offset + b.length} (${what})` };
    if (crc32(b) !== f.crc) return { error: `${path}: corrupt ${what}: checksum mismatch` };
    return b;
  }

  /** What opening found about a table. */
  table(name: TableName): TableInfo {
    const t = this.tableCheck(name);
    const f = this.frames(name);
    const info: TableInfo = {
      name, present: t.status !== 'missing', bytes: t.bytes, batches: f.batches.length, rows: t.prefixRows,
      truncated: t.prefixRows < t.rows || !t.ended, ended: t.ended,
    };
    return t.problem === undefined ? info : { ...info, corrupt: t.problem };
  }

  /** Every table, in schema order. */
  tables(): TableInfo[] {
    return TABLES.map((t) => this.table(t.name));
  }

  /** The batches of a table one at a time (each read from disk and checked when reached: memory stays one batch). */
  stream(name: TableName): TableStream {
    const path = join(this.dir, `${name}.arrows`);
    const spec = tableSpec(name);
    const state: { error: string | undefined } = { error: undefined };
    const { schema, batches } = this.frames(name);
    const readFrame = (fd: number, f: RecordedFrame, what: string): Uint8Array | { error: string } => this.readFrame(name, fd, f, what);
    function* iterate(): Generator<TableColumns> {
      if (schema === null || batches.length === 0) return;
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        state.error = `cannot read ${path}: ${(e as Error).message}`;
        return;
      }
      try {
        const first = readFrame(fd, schema, 'schema');
        if ('error' in first) { state.error = first.error; return; }
        let failed = false;
        function* messages(): Generator<Uint8Array> {
          yield first as Uint8Array;
          for (let k = 0; k < batches.length; k++) {
            const b = readFrame(fd, batches[k]!.frame, `batch ${k}`);
            if ('error' in b) { state.error = b.error; failed = true; return; }
            yield b;
          }
        }
        const reader = arrow().RecordBatchReader.from(messages()) as unknown as Iterable<RecordBatch> & RecordBatchReader;
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
          if (failed) return;
          if (r.done) {
            if (i < batches.length) state.error = `${path}: batch ${i}: not a record batch`;
            return;
          }
          if (i === 0) {
            const v = reader.schema.metadata.get(VERSION_KEY);
            if (!readableVersion(v)) {
              state.error = `${path}: table format version ${v ?? '(none)'} is not supported (this build reads ${TRACE_VERSION})`;
              return;
            }
          }
          if (i >= batches.length || r.value.numRows !== batches[i]!.frame.rows) {
            state.error = `${path}: batch ${i}: ${r.value.numRows} rows, ${batches[i]?.frame.rows ?? 0} recorded`;
            return;
          }
          const stores = batchStores(spec, r.value);
          if ('error' in stores) { state.error = `${path}: batch ${i}: ${stores.error}`; return; }
          yield firstRows(new TableColumns(spec, r.value.numRows, stores), batches[i]!.take);
          i++;
          if (i === batches.length) return;
        }
      } catch (e) {
        state.error = `${path}: ${(e as Error).message}`;
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
    const error = s.error ?? (rows !== total ? `${join(this.dir, `${name}.arrows`)}: ${rows} rows read, ${total} expected` : undefined);
    return error === undefined ? read : { ...read, error };
  }

  /** The seqs of the checkpoints the manifest records (intact as far as checked; within the prefix when a prefix is
   * served), ascending. */
  listCheckpoints(): number[] {
    return this.check.checkpoints.filter((c) => c.problem === undefined && (this.check.whole || c.seq <= this.check.steps)).map((c) => c.seq);
  }

  /** The checkpoint taken before step seq, checked against its recorded size and CRC-32. */
  readCheckpoint(seq: number): Checkpoint | { error: string } {
    const path = checkpointPath(this.dir, seq);
    const rec = this.check.checkpoints.find((c) => c.seq === seq);
    if (rec === undefined) return { error: `no checkpoint at step ${seq} is recorded (${path})` };
    if (rec.problem !== undefined) return { error: rec.problem };
    let data: Uint8Array;
    try {
      data = readFileSync(path);
    } catch {
      return { error: `no checkpoint at step ${seq} (${path})` };
    }
    if (data.length !== rec.bytes || crc32(data) !== rec.crc) return { error: `${path}: checksum mismatch` };
    return unpackCheckpoint(data);
  }
}
