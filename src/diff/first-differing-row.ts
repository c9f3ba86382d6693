// The first row at which the same table of two traces differs, without decoding what is equal: wherever both
// traces have a record batch starting at the same row with the same row count and byte-identical messages, the
// batch is skipped as a whole (identical bytes decode to identical rows: the byte comparison is the segment
// digest). Only batches whose bytes differ are decoded and compared row by row with the table's own equality.
import { Buffer } from 'node:buffer';
import { TableColumns } from '../trace/table-columns.js';
import { TableRows } from './table-rows.js';

/** Row equality: row i of batch a (trace A) against row j of batch b (trace B). */
export type RowEquals = (a: TableColumns, i: number, b: TableColumns, j: number) => boolean;

/** Where the scan stopped. */
export interface RowDifference {
  /** First differing row number (equal prefix length). */
  readonly row: number;
  /** seq of that row in A and in B (Infinity for a trace without the row). */
  readonly seqA: number;
  readonly seqB: number;
}

/** Counters of one scan (for the benchmark and tests). */
export interface ScanStats {
  /** Batches skipped by byte comparison. */
  skipped: number;
  /** Batches decoded and compared row by row. */
  decoded: number;
}

const seqAt = (c: TableColumns, i: number, col: string): number => {
  const w = c.words(col);
  return w[2 * i]! + w[2 * i + 1]! * 4294967296;
};

/**
 * The first row r at which A and B differ under `eq`, or where one of them ends; null if they are equal up to
 * `bound` (rows whose seq is >= bound in both traces are not compared) and end together or reach the bound.
 */
export function firstDifferingRow(a: TableRows, b: TableRows, eq: RowEquals, bound = Infinity, stats?: ScanStats, seqColumn = 'seq'): RowDifference | null {
  const na = a.rows, nb = b.rows;
  const n = Math.min(na, nb);
  const fa = a.batches.firstRow, fb = b.batches.firstRow;
  let r = 0, ba = 0, bb = 0;
  while (r < n) {
    while (fa[ba + 1]! <= r) ba++;
    while (fb[bb + 1]! <= r) bb++;
    const endA = fa[ba + 1]!, endB = fb[bb + 1]!;
    if (fa[ba] === r && fb[bb] === r && endA === endB && a.frameLength(ba) === b.frameLength(bb) &&
        Buffer.compare(a.frameBytes(ba), b.frameBytes(bb)) === 0) {
      if (stats) stats.skipped++;
      r = endA;
      continue;
    }
    if (stats) stats.decoded++;
    const ca = a.batches.batch(ba), cb = b.batches.batch(bb);
    const end = Math.min(endA, endB);
    const oa = fa[ba]!, ob = fb[bb]!;
    for (; r < end; r++) {
      const i = r - oa, j = r - ob;
      const sa = seqAt(ca, i, seqColumn), sb = seqAt(cb, j, seqColumn);
      if (sa >= bound && sb >= bound) return null;
      if (!eq(ca, i, cb, j)) return { row: r, seqA: sa, seqB: sb };
    }
  }
  if (na === nb) return null;
  const seqA = r < na ? a.seqOf(r, seqColumn) : Infinity, seqB = r < nb ? b.seqOf(r, seqColumn) : Infinity;
  if (Math.min(seqA, seqB) >= bound) return null;
  return { row: r, seqA, seqB };
}
