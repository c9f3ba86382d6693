// The message framing of an Arrow IPC stream file, read without decoding any body: where each complete message
// starts and ends, how many rows each record batch has, and whether the file ends inside a message (a recording
// killed in the middle of a write). Only complete messages are ever handed to Arrow's reader, so a truncated file
// yields every complete batch and never throws.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Message } from 'apache-arrow';
import { arrow } from './arrow.js';

/** One complete message: bytes [offset, end) of the file (continuation marker, length, metadata, body). */
export interface Frame {
  /** File offset of the message's first byte. */
  readonly offset: number;
  /** File offset just past the message's body. */
  readonly end: number;
  /** Rows of a record batch; 0 for the schema. */
  readonly rows: number;
  /** True if the batch's body buffers are compressed. */
  readonly compressed: boolean;
}

/** What the framing of one stream file says. */
export interface StreamScan {
  /** File size in bytes. */
  readonly bytes: number;
  /** The schema message, or null if the file ends before it is complete. */
  readonly schema: Frame | null;
  /** Complete record batches, in order. */
  readonly batches: readonly Frame[];
  /** Rows in the complete batches. */
  readonly rows: number;
  /** True if the end-of-stream marker was found (the writer closed the table). */
  readonly ended: boolean;
  /** True if the file ends inside a message (the bytes after the last complete one are ignored). */
  readonly truncated: boolean;
  /** Why scanning stopped early at a message that is complete but undecodable, if it did. */
  readonly corrupt?: string;
}

/** Read up to n bytes at pos (fewer only at the end of the file). */
export function readAt(fd: number, pos: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = readSync(fd, out, got, n - got, pos + got);
    if (k === 0) break;
    got += k;
  }
  return got === n ? out : out.subarray(0, got);
}

/** Frame every message of an open stream file. */
export function scanStream(fd: number): StreamScan {
  const bytes = fstatSync(fd).size;
  let schema: Frame | null = null;
  const batches: Frame[] = [];
  let rows = 0, pos = 0, ended = false, truncated = false, corrupt: string | undefined;
  for (;;) {
    if (pos === bytes) break;
    const head = readAt(fd, pos, 8);
    if (head.length < 8) { truncated = true; break; }
    const dv = new DataView(head.buffer, head.byteOffset, 8);
    if (dv.getInt32(0, true) !== -1) { corrupt = `no message marker at byte ${pos}`; break; }
    const metaLen = dv.getInt32(4, true);
    if (metaLen === 0) { ended = true; break; }
    if (metaLen < 0 || pos + 8 + metaLen > bytes) {
      if (metaLen < 0) corrupt = `negative message length at byte ${pos}`; else truncated = true;
      break;
    }
    let msg: Message;
    try {
      msg = arrow().Message.decode(readAt(fd, pos + 8, metaLen));
    } catch (e) {
      corrupt = `undecodable message at byte ${pos}: ${(e as Error).message}`;
      break;
    }
    const end = pos + 8 + metaLen + msg.bodyLength;
    if (end > bytes) { truncated = true; break; }
    if (msg.isSchema()) {
      if (schema !== null) { corrupt = `second schema at byte ${pos}`; break; }
      schema = { offset: pos, end, rows: 0, compressed: false };
    } else if (msg.isRecordBatch()) {
      if (schema === null) { corrupt = `record batch before the schema at byte ${pos}`; break; }
      const h = msg.header();
      batches.push({ offset: pos, end, rows: h.length, compressed: h.compression !== null });
      rows += h.length;
    } else {
      corrupt = `unexpected message type ${arrow().MessageHeader[msg.headerType]} at byte ${pos}`;
      break;
    }
    pos = end;
  }
  return corrupt === undefined ? { bytes, schema, batches, rows, ended, truncated } : { bytes, schema, batches, rows, ended, truncated, corrupt };
}

/** Frame a stream file by path; null if it cannot be opened. */
export function scanStreamFile(path: string): StreamScan | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return scanStream(fd);
  } finally {
    closeSync(fd);
  }
}
