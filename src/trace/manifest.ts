// manifest.bin: the checksums of a trace, written with it. An append-only file of fixed-size records, each
// written by the writer thread right after the bytes it describes, so a record means "these bytes are on disk":
// the schema, each record batch and the end-of-stream marker of every table (file range, rows, CRC-32 of the
// bytes), each checkpoint file (seq, size, CRC-32), and sync points (every table holds exactly the rows of steps
// [0, through) — the consistent prefixes readers cut a killed recording to). Each record carries its own CRC,
// so a torn or damaged record is detected and nothing after it is trusted.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from './crc32.js';

/** File name of the manifest inside a trace directory. */
export const MANIFEST_FILE = 'manifest.bin';

/** Bytes per record. */
export const RECORD_BYTES = 88;

/** Constant in every record (ASCII "ITRC"). */
const MAGIC = 0x43525449;

/** Record kinds (ASCII letters, stored as u32). */
export const enum Kind {
  /** A table's schema message: table, offset, end, crc. */
  SCHEMA = 0x53,
  /** A record batch: table, batch index, offset, end, rows, crc. */
  BATCH = 0x42,
  /** A table's end-of-stream marker (the writer closed it): table, offset, end, total rows, crc. */
  END = 0x45,
  /** A sync point: every table holds the rows of steps [0, through) and no others: through, rows per table. */
  SYNC = 0x57,
  /** A checkpoint file: seq, size in bytes, crc of the file. */
  CHECKPOINT = 0x43,
}

/** A byte range of a table file with its checksum. */
export interface FileRange {
  /** The table's index in TABLES. */
  readonly table: number;
  /** First byte. */
  readonly offset: number;
  /** One past the last byte. */
  readonly end: number;
  /** CRC-32 of bytes [offset, end). */
  readonly crc: number;
}

/** One manifest record. */
export type ManifestRecord =
  | ({ readonly kind: Kind.SCHEMA } & FileRange)
  | ({ readonly kind: Kind.BATCH; readonly index: number; readonly rows: number } & FileRange)
  | ({ readonly kind: Kind.END; readonly rows: number } & FileRange)
  | { readonly kind: Kind.SYNC; readonly through: number; readonly rows: readonly number[] }
  | { readonly kind: Kind.CHECKPOINT; readonly seq: number; readonly bytes: number; readonly crc: number };

/** Encode one record. */
export function encodeRecord(r: ManifestRecord): Uint8Array {
  const b = new Uint8Array(RECORD_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, r.kind, true);
  const v = (k: number, x: number): void => dv.setFloat64(16 + 8 * k, x, true);
  switch (r.kind) {
    case Kind.SYNC:
      if (r.rows.length > 7) throw new Error('manifest: more than 7 tables');
      v(0, r.through);
      r.rows.forEach((n, k) => v(k + 1, n));
      break;
    case Kind.CHECKPOINT:
      dv.setUint32(12, r.crc, true); v(0, r.seq); v(1, r.bytes);
      break;
    default:
      dv.setUint32(4, r.table, true);
      dv.setUint32(8, r.kind === Kind.BATCH ? r.index : 0, true);
      dv.setUint32(12, r.crc, true);
      v(0, r.offset); v(1, r.end);
      if (r.kind !== Kind.SCHEMA) v(2, r.rows);
  }
  dv.setUint32(80, MAGIC, true);
  dv.setUint32(84, crc32(b.subarray(0, 84)), true);
  return b;
}

/** Decode the record at `b` (RECORD_BYTES bytes); null if its checksum or contents are wrong. */
export function decodeRecord(b: Uint8Array, tables: number): ManifestRecord | null {
  const dv = new DataView(b.buffer, b.byteOffset, RECORD_BYTES);
  if (dv.getUint32(80, true) !== MAGIC || dv.getUint32(84, true) !== crc32(b.subarray(0, 84))) return null;
  const kind = dv.getUint32(0, true), table = dv.getUint32(4, true), crc = dv.getUint32(12, true);
  const v = (k: number): number => dv.getFloat64(16 + 8 * k, true);
  const count = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;
  switch (kind) {
    case Kind.SYNC: {
      const rows = Array.from({ length: tables }, (_, k) => v(k + 1));
      return count(v(0)) && rows.every(count) ? { kind, through: v(0), rows } : null;
    }
    case Kind.CHECKPOINT:
      return count(v(0)) && count(v(1)) ? { kind, seq: v(0), bytes: v(1), crc } : null;
    case Kind.SCHEMA: case Kind.BATCH: case Kind.END: {
      const offset = v(0), end = v(1);
      if (table >= tables || !count(offset) || !count(end) || end < offset) return null;
      if (kind === Kind.SCHEMA) return { kind, table, offset, end, crc };
      if (!count(v(2))) return null;
      return kind === Kind.BATCH ? { kind, table, index: dv.getUint32(8, true), offset, end, rows: v(2), crc } : { kind, table, offset, end, rows: v(2), crc };
    }
    default:
      return null;
  }
}

/** What reading a manifest found. */
export interface ManifestRead {
  /** The records up to the first bad one. */
  readonly records: readonly ManifestRecord[];
  /** Size of the file. */
  readonly bytes: number;
  /** Index of the first record that failed its checksum, if one did (nothing from it on is used). */
  readonly corruptRecord?: number;
  /** Bytes after the last whole record (a write cut short), if any. */
  readonly tornBytes: number;
}

/** Read a trace's manifest; null if there is none. */
export function readManifest(dir: string, tables: number): ManifestRead | null {
  let data: Uint8Array;
  try {
    data = readFileSync(join(dir, MANIFEST_FILE));
  } catch {
    return null;
  }
  const whole = Math.floor(data.length / RECORD_BYTES);
  const records: ManifestRecord[] = [];
  for (let i = 0; i < whole; i++) {
    const r = decodeRecord(data.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES), tables);
    if (r === null) return { records, bytes: data.length, corruptRecord: i, tornBytes: data.length - whole * RECORD_BYTES };
    records.push(r);
  }
  return { records, bytes: data.length, tornBytes: data.length - whole * RECORD_BYTES };
}

/** Appends records to a trace's manifest (synchronous writes: once a call returns the record is in the page cache). */
export class ManifestWriter {
  private readonly fd: number;

  constructor(dir: string) {
    this.fd = openSync(join(dir, MANIFEST_FILE), 'wx');
  }

  /** Append one record. */
  append(r: ManifestRecord): void {
    const b = encodeRecord(r);
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
  }

  /** Close the file. */
  close(): void {
    closeSync(this.fd);
  }
}
