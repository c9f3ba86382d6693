// Writes a trace directory while a recording runs. Every table is an Arrow IPC stream file (`<table>.arrows`)
// that grows by one record batch per writeBatch; every write is a synchronous write(2), so once a call returns
// its bytes are in the OS page cache and a SIGKILL loses nothing. After the bytes of each schema, batch,
// end-of-stream marker and checkpoint, a record with their CRC-32 is appended to manifest.bin; sync() records
// that every table holds exactly the rows of the steps so far. meta.json (with its own checksum) is written
// first with complete=false and replaced atomically (write + rename) by close().
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CompressionType, RecordBatchStreamWriter } from 'apache-arrow';
import { arrow } from './arrow.js';
import { arrowSchema, columnLevels, deltaEncode, toRecordBatch } from './arrow-io.js';
import { packCheckpoint } from './checkpoint.js';
import { tableCompression, withLevels } from './compression.js';
import { crc32 } from './crc32.js';
import { Kind, ManifestWriter } from './manifest.js';
import { sealJson } from './sealed-json.js';
import { TableBuffer } from './table-buffer.js';
import { TableName, TABLES, TraceMeta } from './schema.js';

/** A RecordBatchStreamWriter whose output is collected in memory until take() instead of queued asynchronously. */
interface ChunkWriter extends RecordBatchStreamWriter {
  /** The bytes produced since the last call. */
  take(): Uint8Array[];
}

let chunkWriterClass: (new (options: { compressionType: CompressionType | null; autoDestroy: boolean }) => ChunkWriter) | undefined;

/** A new ChunkWriter (the class extends Arrow's writer, so it is made when Arrow is first loaded, see arrow.ts). */
function newChunkWriter(options: { compressionType: CompressionType | null; autoDestroy: boolean }): ChunkWriter {
  chunkWriterClass ??= class extends arrow().RecordBatchStreamWriter implements ChunkWriter {
    private chunks: Uint8Array[] = [];

    protected override _write(chunk: ArrayBufferView): this {
      if (this._started && chunk.byteLength > 0) {
        this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        this._position += chunk.byteLength;
      }
      return this;
    }

    take(): Uint8Array[] {
      const c = this.chunks;
      this.chunks = [];
      return c;
    }
  };
  return new chunkWriterClass(options);
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

/** CRC-32 of the chunks, in order. */
function chunksCrc(chunks: readonly Uint8Array[]): number {
  let c = 0;
  for (const x of chunks) c = crc32(x, c);
  return c;
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
  /** Index in TABLES (the manifest's table number). */
  readonly index: number;
  readonly fd: number;
  readonly writer: ChunkWriter;
  /** Bytes written to the file so far. */
  pos: number;
  /** Rows written so far. */
  rows: number;
  /** Record batches written so far. */
  batches: number;
}

/** An open trace directory being recorded. */
export class TraceWriter {
  /** The trace directory. */
  readonly dir: string;
  /** meta.json as last written. */
  private meta: TraceMeta;
  private readonly tables: Map<TableName, OpenTable>;
  /** The checksums of everything written. */
  private readonly manifest: ManifestWriter;
  private bytes = 0;
  private closed = false;

  private constructor(dir: string, meta: TraceMeta, tables: Map<TableName, OpenTable>, manifest: ManifestWriter, bytes: number) {
    this.dir = dir;
    this.meta = meta;
    this.tables = tables;
    this.manifest = manifest;
    this.bytes = bytes;
  }

  /** Write the chunks at the end of a table's file and append their manifest record. */
  private append(t: OpenTable, chunks: readonly Uint8Array[], kind: Kind.SCHEMA | Kind.BATCH | Kind.END, rows: number): void {
    const n = writeChunks(t.fd, chunks);
    const range = { table: t.index, offset: t.pos, end: t.pos + n, crc: chunksCrc(chunks) };
    t.pos += n;
    this.bytes += n;
    if (kind === Kind.BATCH) { t.rows += rows; this.manifest.append({ kind, ...range, index: t.batches++, rows }); }
    else if (kind === Kind.END) this.manifest.append({ kind, ...range, rows: t.rows });
    else this.manifest.append({ kind, ...range });
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
    const tables = new Map<TableName, OpenTable>();
    let manifest: ManifestWriter | undefined;
    try {
      writeFileAtomic(join(dir, 'meta.json'), sealJson(m));
      // no symbols until the recorder writes them (writeSymbols replaces this file)
      writeFileAtomic(join(dir, 'symbols.json'), sealJson({ symbols: [] }));
      manifest = new ManifestWriter(dir);
      TABLES.forEach((spec, index) => {
        const fd = openSync(join(dir, `${spec.name}.arrows`), 'wx');
        const writer = newChunkWriter({ compressionType: options.compress === false ? null : tableCompression, autoDestroy: false });
        tables.set(spec.name, { index, fd, writer, pos: 0, rows: 0, batches: 0 });
      });
    } catch (e) {
      for (const t of tables.values()) closeSync(t.fd);
      manifest?.close();
      return { error: `cannot write ${dir}: ${(e as Error).message}` };
    }
    const w = new TraceWriter(dir, m, tables, manifest, 0);
    try {
      for (const spec of TABLES) {
        const t = tables.get(spec.name)!;
        t.writer.reset(undefined, arrowSchema(spec));
        w.append(t, t.writer.take(), Kind.SCHEMA, 0);
      }
    } catch (e) {
      for (const t of tables.values()) closeSync(t.fd);
      manifest.close();
      return { error: `cannot write ${dir}: ${(e as Error).message}` };
    }
    return w;
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
      this.append(t, t.writer.take(), Kind.BATCH, buf.length);
    }
    buf.clear();
  }

  /**
   * Record a sync point: every table now holds exactly the rows of steps [0, through) (the caller has written
   * every buffered row of those steps and none of later ones).
   */
  sync(through: number): void {
    if (this.closed) throw new Error('TraceWriter.sync after close');
    this.manifest.append({ kind: Kind.SYNC, through, rows: TABLES.map((s) => this.tables.get(s.name)!.rows) });
  }

  /**
   * Write the machine snapshot taken before step `seq`: the processor state buffer, the physical pages (frame
   * number → 4096 bytes) and any other plain data. Written to a temporary file and renamed into place.
   */
  writeCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): void {
    if (this.closed) throw new Error('TraceWriter.writeCheckpoint after close');
    const data = packCheckpoint(seq, state, pages, extra);
    this.bytes += writeFileAtomic(checkpointPath(this.dir, seq), data);
    this.manifest.append({ kind: Kind.CHECKPOINT, seq, bytes: data.length, crc: crc32(data) });
  }

  /** End every table stream and rewrite meta.json with the update (complete=true unless it says otherwise). */
  close(update: Partial<TraceMeta>): void {
    if (this.closed) return;
    // a finished recording's last sync point: all of it (a failed one keeps its last sync point as the prefix)
    if (update.complete !== false && update.steps !== undefined) this.sync(update.steps);
    this.closed = true;
    for (const t of this.tables.values()) {
      t.writer.finish();
      this.append(t, t.writer.take(), Kind.END, 0);
      closeSync(t.fd);
    }
    this.manifest.close();
    this.meta = { ...this.meta, ...update, complete: update.complete ?? true };
    writeFileAtomic(join(this.dir, 'meta.json'), sealJson(this.meta));
  }

  /** Bytes of tables and checkpoints written so far (meta.json not counted). */
  bytesWritten(): number {
    return this.bytes;
  }
}
