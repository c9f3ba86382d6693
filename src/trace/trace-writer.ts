// Writes a trace directory while a recording runs. Every table is an Arrow IPC stream file (`<table>.arrows`)
// that grows by one record batch per writeBatch; every write is a synchronous write(2), so once a call returns
// its bytes are in the OS page cache and a SIGKILL loses nothing. meta.json is written first with
// complete=false and replaced atomically (write + rename) by close().
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatchStreamWriter } from 'apache-arrow';
import { arrowSchema, columnLevels, deltaEncode, toRecordBatch } from './arrow-io.js';
import { packCheckpoint } from './checkpoint.js';
import { tableCompression, withLevels } from './compression.js';
import { TableBuffer } from './table-buffer.js';
import { TableName, TABLES, TraceMeta } from './schema.js';

/** A RecordBatchStreamWriter whose output is collected in memory until take() instead of queued asynchronously. */
class ChunkWriter extends RecordBatchStreamWriter {
  private chunks: Uint8Array[] = [];

  protected override _write(chunk: ArrayBufferView): this {
    if (this._started && chunk.byteLength > 0) {
      this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }

  /** The bytes produced since the last call. */
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

/** Write every chunk at the end of fd (loops over short writes); returns the bytes written. */
function writeChunks(fd: number, chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const c of chunks) {
    let off = 0;
    while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    total += c.length;
  }
  return total;
}

/** The file of a checkpoint inside a trace directory. */
export function checkpointPath(dir: string, seq: number): string {
  return join(dir, 'checkpoints', `${String(seq).padStart(12, '0')}.msgpack`);
}

/** Write a file so that it is either absent, the old version or the complete new one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): number {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let n: number;
  try {
    n = writeChunks(fd, [typeof data === 'string' ? Buffer.from(data) : data]);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return n;
}

/**
 * Create a trace directory (it may exist if empty) with its checkpoints/ folder; null when done, else a one-line
 * error a user can act on (a non-empty directory, a file in the way, no permission).
 */
export function prepareTraceDir(dir: string): { error: string } | null {
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) return { error: `${dir} exists and is not a directory` };
      if (readdirSync(dir).length > 0) return { error: `${dir} is not empty (refusing to overwrite a trace)` };
    }
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  } catch (e) {
    return { error: `cannot create ${dir}: ${(e as Error).message}` };
  }
  return null;
}

/** Options of TraceWriter.create. */
export interface TraceWriterOptions {
  /** Compress table bodies with zstd when the codec is available (default true). */
  readonly compress?: boolean;
  /** The directory was made by prepareTraceDir already (files may have been added to it since). */
  readonly prepared?: boolean;
}

interface OpenTable {
  readonly fd: number;
  readonly writer: ChunkWriter;
}

/** An open trace directory being recorded. */
export class TraceWriter {
  /** The trace directory. */
  readonly dir: string;
  /** meta.json as last written. */
  private meta: TraceMeta;
  private readonly tables: Map<TableName, OpenTable>;
  private bytes = 0;
  private closed = false;

  private constructor(dir: string, meta: TraceMeta, tables: Map<TableName, OpenTable>, bytes: number) {
    this.dir = dir;
    this.meta = meta;
    this.tables = tables;
    this.bytes = bytes;
  }

  /**
   * Create the trace directory (it may exist if empty), write meta.json with complete=false and every table's
   * schema. Errors a user can cause (a non-empty directory, a file in the way, no permission) are values.
   */
  static create(dir: string, meta: TraceMeta, options: TraceWriterOptions = {}): TraceWriter | { error: string } {
    if (options.prepared !== true) {
      const prepared = prepareTraceDir(dir);
      if (prepared !== null) return prepared;
    }
    const m: TraceMeta = { ...meta, complete: false };
    let bytes = 0;
    const tables = new Map<TableName, OpenTable>();
    try {
      writeFileAtomic(join(dir, 'meta.json'), `${JSON.stringify(m, null, 2)}\n`);
      for (const spec of TABLES) {
        const fd = openSync(join(dir, `${spec.name}.arrows`), 'wx');
        const writer = new ChunkWriter({ compressionType: options.compress === false ? null : tableCompression, autoDestroy: false });
        tables.set(spec.name, { fd, writer });
        writer.reset(undefined, arrowSchema(spec));
        bytes += writeChunks(fd, writer.take());
      }
    } catch (e) {
      for (const t of tables.values()) closeSync(t.fd);
      return { error: `cannot write ${dir}: ${(e as Error).message}` };
    }
    return new TraceWriter(dir, m, tables, bytes);
  }

  /**
   * Append rows [0, buf.length) of the buffer's table as one record batch (none if empty), then clear it.
   * Delta-coded columns are encoded in the buffer itself.
   */
  writeBatch(buf: TableBuffer): void {
    if (this.closed) throw new Error('TraceWriter.writeBatch after close');
    if (buf.length > 0) {
      const t = this.tables.get(buf.spec.name)!;
      if (!buf.deltaCoded) buf.spec.columns.forEach((c, k) => { if (c.delta === true) deltaEncode(buf.cols[k] as Uint32Array, buf.length); });
      withLevels(columnLevels(buf.spec), () => t.writer.write(toRecordBatch(buf)));
      this.bytes += writeChunks(t.fd, t.writer.take());
    }
    buf.clear();
  }

  /**
   * Write the machine snapshot taken before step `seq`: the processor state buffer, the physical pages (frame
   * number → 4096 bytes) and any other plain data. Written to a temporary file and renamed into place.
   */
  writeCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): void {
    if (this.closed) throw new Error('TraceWriter.writeCheckpoint after close');
    this.bytes += writeFileAtomic(checkpointPath(this.dir, seq), packCheckpoint(seq, state, pages, extra));
  }

  /** End every table stream and rewrite meta.json with complete=true plus the update. */
  close(update: Partial<TraceMeta>): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tables.values()) {
      t.writer.finish();
      this.bytes += writeChunks(t.fd, t.writer.take());
      closeSync(t.fd);
    }
    this.meta = { ...this.meta, ...update, complete: true };
    writeFileAtomic(join(this.dir, 'meta.json'), `${JSON.stringify(this.meta, null, 2)}\n`);
  }

  /** Bytes of tables and checkpoints written so far (meta.json not counted). */
  bytesWritten(): number {
    return this.bytes;
  }
}
