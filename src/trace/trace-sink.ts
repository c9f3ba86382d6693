// What the recorder writes a trace through: the synchronous TraceWriter, or the BackgroundTraceWriter that
// does the encoding, compression and file writes on a worker thread.
import type { TraceMeta } from './schema.js';
import type { TableBuffer } from './table-buffer.js';

/** A trace being written. */
export interface TraceSink {
  /** Append the buffer's rows as one record batch, then clear the buffer. */
  writeBatch(buf: TableBuffer): void;
  /** Record that every table now holds exactly the rows of steps [0, through) (after writing every buffer). */
  sync(through: number): void;
  /** Write the machine snapshot taken before step `seq`. */
  writeCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): void;
  /** Finish every table and mark the trace complete (plus the update); returns once everything is on disk. */
  close(update: Partial<TraceMeta>): void;
  /** Bytes written to disk so far. */
  bytesWritten(): number;
}
