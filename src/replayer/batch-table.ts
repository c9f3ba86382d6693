// Random access to the record batches of one trace table: the file is framed once (no body decoded), and any
// batch can then be decoded on its own (its schema message plus its own bytes), so the replayer reads only the
// batches that cover the steps it needs. A small cache keeps the most recently decoded batches.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { arrow } from '../trace/arrow.js';
import { batchStores } from '../trace/arrow-io.js';
import { readAt, scanStream, StreamScan } from '../trace/ipc-frames.js';
import { TableName, tableSpec } from '../trace/schema.js';
import { TableColumns } from '../trace/table-columns.js';

/** Decoded batches kept per table. */
const CACHE = 8;

/** One table file with per-batch access. */
export class BatchTable {
  /** The table. */
  readonly name: TableName;
  /** Row count of each complete batch. */
  readonly batchRows: readonly number[];
  /** First row number of each batch (and the total row count at the end). */
  readonly firstRow: Float64Array;
  private readonly path: string;
  private readonly scan: StreamScan | null;
  private readonly cache = new Map<number, TableColumns>();

  constructor(dir: string, name: TableName) {
    this.name = name;
    this.path = join(dir, `${name}.arrows`);
    let scan: StreamScan | null;
    try {
      const fd = openSync(this.path, 'r');
      try { scan = scanStream(fd); } finally { closeSync(fd); }
    } catch {
      scan = null;
    }
    this.scan = scan;
    this.batchRows = scan?.schema ? scan.batches.map((b) => b.rows) : [];
    this.firstRow = new Float64Array(this.batchRows.length + 1);
    this.batchRows.forEach((n, i) => { this.firstRow[i + 1] = this.firstRow[i]! + n; });
  }

  /** Number of complete batches. */
  get batches(): number {
    return this.batchRows.length;
  }

  /** Decode batch i (cached). */
  batch(i: number): TableColumns {
    const hit = this.cache.get(i);
    if (hit !== undefined) { this.cache.delete(i); this.cache.set(i, hit); return hit; }
    const scan = this.scan!;
    const fd = openSync(this.path, 'r');
    let rb: RecordBatch | undefined;
    try {
      const frames = [scan.schema!, scan.batches[i]!].map((f) => readAt(fd, f.offset, f.end - f.offset));
      const reader = arrow().RecordBatchReader.from(frames) as unknown as Iterable<RecordBatch>;
      for (const b of reader) { rb = b; break; }
    } finally {
      closeSync(fd);
    }
    if (rb === undefined) throw new Error(`${this.path}: batch ${i} is unreadable`);
    const spec = tableSpec(this.name);
    const stores = batchStores(spec, rb);
    if ('error' in stores) throw new Error(`${this.path}: batch ${i}: ${stores.error}`);
    const cols = new TableColumns(spec, rb.numRows, stores);
    this.cache.set(i, cols);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value!);
    return cols;
  }
}
