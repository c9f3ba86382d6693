// One table of one trace for the diff: its record-batch frames (to compare raw bytes without decoding) and
// random access to its rows by row number (batches decoded on demand through the replayer's BatchTable).
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { BatchTable } from '../replayer/batch-table.js';
import { readAt, scanStreamFile, StreamScan } from '../trace/ipc-frames.js';
import { TableName } from '../trace/schema.js';
import { TableColumns } from '../trace/table-columns.js';

/** A row located in its decoded batch. */
export interface RowAt {
  /** Decoded batch. */
  readonly cols: TableColumns;
  /** Row within it. */
  readonly i: number;
  /** Row number of the batch's first row. */
  readonly first: number;
}

/** Rows of one table with batch-level access. */
export class TableRows {
  /** The table. */
  readonly name: TableName;
  /** Decoded batches. */
  readonly batches: BatchTable;
  /** Frames of the file (null if absent). */
  readonly scan: StreamScan | null;
  private readonly path: string;
  private fd = -1;

  constructor(dir: string, name: TableName) {
    this.name = name;
    this.path = join(dir, `${name}.arrows`);
    this.batches = new BatchTable(dir, name);
    this.scan = scanStreamFile(this.path);
  }

  /** Total rows in complete batches. */
  get rows(): number {
    return this.batches.firstRow[this.batches.batches]!;
  }

  /** Index of the batch holding row r (r < rows). */
  batchOf(r: number): number {
    const f = this.batches.firstRow;
    let lo = 0, hi = this.batches.batches - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (f[mid]! <= r) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  /** Row r, decoded. */
  at(r: number): RowAt {
    const b = this.batchOf(r);
    const first = this.batches.firstRow[b]!;
    return { cols: this.batches.batch(b), i: r - first, first };
  }

  /** The raw bytes of batch b's message (metadata and body, as stored). */
  frameBytes(b: number): Uint8Array {
    const f = this.scan!.batches[b]!;
    if (this.fd < 0) this.fd = openSync(this.path, 'r');
    return readAt(this.fd, f.offset, f.end - f.offset);
  }

  /** Byte length of batch b's message. */
  frameLength(b: number): number {
    const f = this.scan!.batches[b]!;
    return f.end - f.offset;
  }

  /** The seq column value (first u64 column `seq`/`entry_seq`) of row r. */
  seqOf(r: number, column = 'seq'): number {
    const a = this.at(r);
    const w = a.cols.words(column);
    return w[2 * a.i]! + w[2 * a.i + 1]! * 4294967296;
  }

  /** The first row whose seq >= s (rows, if none); rows are in seq order. */
  lowerBound(s: number): number {
    let lo = 0, hi = this.rows;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.seqOf(mid) < s) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Release the file. */
  closeSync(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
