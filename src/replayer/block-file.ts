// Block-compressed files of the step index. A per-step column (4 bytes a step: 80 MB for 20 M steps) is stored as
// blocks of BLOCK values, each compressed on its own (zstd when the codec is available), optionally delta-coded
// (for ascending runs such as the steps grouped by instruction); opening reads only the small header (block
// offsets and each block's first value), and a value read decodes its block (a few recent blocks are cached).
// Chunk files (DeltaLog, delta-log.ts) use the same framing for variable-sized chunks of bytes.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { zstdCompress, zstdDecompress } from '../trace/compression.js';

type Zstd = typeof import('zstd-napi');
const zstd = ((): Zstd | null => {
  try { return createRequire(import.meta.url)('zstd-napi') as Zstd; } catch { return null; }
})();

/** Values per block. */
export const BLOCK = 65536;

/** Compressed-blocks framing: 'IXB1', codec (0 raw, 1 zstd), flags, count, block values, block count, then f64
 * offsets (block count + 1, relative to the data start), then u32 first values, then the data. */
const MAGIC = 0x31425849;
const HEAD = 6;

function compress(raw: Uint8Array, level: number): [Uint8Array, number] {
  // built once per trace, read often: a higher level than the trace's own costs build time only
  const z = zstd !== null ? zstd.compress(raw, { compressionLevel: level }) : zstdCompress(raw);
  return z !== null && z.length < raw.length ? [z, 1] : [raw, 0];
}

/** Writes a block file whose block count is known in advance: blocks go after the reserved header as they
 * come, the header is written by finish(). */
export class BlockWriter {
  private readonly fd: number;
  private readonly n: number;
  private readonly offs: Float64Array;
  private readonly firsts: Uint32Array;
  private readonly codecs: Uint8Array;
  private readonly dataStart: number;
  private added = 0;

  private readonly level: number;

  constructor(path: string, blocks: number, level = 3) {
    this.level = level;
    this.fd = openSync(path, 'w');
    this.n = blocks;
    this.offs = new Float64Array(blocks + 1);
    this.firsts = new Uint32Array(blocks);
    this.codecs = new Uint8Array(blocks + ((8 - (blocks % 8)) % 8));
    this.dataStart = HEAD * 4 + this.offs.byteLength + this.firsts.byteLength + this.codecs.byteLength;
  }

  /** Append the next block (raw bytes; compressed here) with its first value. */
  add(raw: Uint8Array, first = 0): void {
    if (this.added >= this.n) throw new Error('BlockWriter: more blocks than announced');
    const [body, codec] = compress(raw, this.level);
    const i = this.added++;
    writeSync(this.fd, body, 0, body.length, this.dataStart + this.offs[i]!);
    this.offs[i + 1] = this.offs[i]! + body.length;
    this.firsts[i] = first;
    this.codecs[i] = codec;
  }

  /** Write the header and close; returns the file size. */
  finish(count: number, blockValues: number, flags = 0): number {
    try {
      if (this.added !== this.n) throw new Error(`BlockWriter: ${this.added} blocks of ${this.n} announced`);
      const head = Uint32Array.from([MAGIC, 0, flags, count, blockValues, this.n]);
      let at = 0;
      for (const part of [head, this.offs, this.firsts, this.codecs]) {
        const b = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
        writeSync(this.fd, b, 0, b.length, at);
        at += b.length;
      }
      return this.dataStart + this.offs[this.n]!;
    } finally {
      closeSync(this.fd);
    }
  }
}

/** A block file opened for positioned reads of single blocks. */
export class BlockFile {
  /** Values (or bytes) stored. */
  readonly count: number;
  /** Values per block. */
  readonly blockValues: number;
  /** Flags given to writeBlocks. */
  readonly flags: number;
  /** Block count. */
  readonly blocks: number;
  /** First value of each block. */
  readonly firsts: Uint32Array;
  private readonly offs: Float64Array;
  private readonly codecs: Uint8Array;
  private readonly dataStart: number;
  private readonly fd: number;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly cacheSize: number;

  constructor(path: string, cacheSize = 4) {
    this.cacheSize = cacheSize;
    this.fd = openSync(path, 'r');
    try {
      const head = new Uint32Array(HEAD);
      readSync(this.fd, new Uint8Array(head.buffer), 0, HEAD * 4, 0);
      if (head[0] !== MAGIC || fstatSync(this.fd).size < HEAD * 4) throw new Error(`${path}: not a block file`);
      this.flags = head[2]!; this.count = head[3]!; this.blockValues = head[4]!; this.blocks = head[5]!;
      const n = this.blocks;
      const rest = new Uint8Array(8 * (n + 1) + 4 * n + n + ((8 - (n % 8)) % 8));
      readSync(this.fd, rest, 0, rest.length, HEAD * 4);
      this.offs = new Float64Array(rest.buffer, 0, n + 1);
      this.firsts = new Uint32Array(rest.buffer, 8 * (n + 1), n);
      this.codecs = new Uint8Array(rest.buffer, 8 * (n + 1) + 4 * n, n);
      this.dataStart = HEAD * 4 + rest.length;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  /** Decoded bytes of block i (cached if the file was opened with a cache; uncached blocks are the caller's). */
  block(i: number): Uint8Array {
    const hit = this.cache.get(i);
    if (hit !== undefined) return hit;
    const len = this.offs[i + 1]! - this.offs[i]!;
    const buf = new Uint8Array(len);
    readSync(this.fd, buf, 0, len, this.dataStart + this.offs[i]!);
    let out: Uint8Array;
    if (this.codecs[i] === 1) {
      const d = zstdDecompress(buf);
      if ('error' in d) throw new Error(d.error);
      // aligned copy (the typed views over it need 4-byte alignment)
      out = d.byteOffset % 8 === 0 ? d : d.slice();
    } else out = buf;
    if (this.cacheSize > 0) {
      this.cache.set(i, out);
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    }
    return out;
  }

  /** Close the file. */
  closeSync(): void {
    closeSync(this.fd);
  }
}

/** Flag: values are delta-coded within each block. */
const DELTA = 1;

/** Write a u32 column as a block file (delta-coded if `delta`). Returns the bytes written. */
export function writeU32Blocks(path: string, values: Uint32Array, delta = false): number {
  const n = Math.ceil(values.length / BLOCK);
  const w = new BlockWriter(path, n);
  for (let b = 0; b < n; b++) {
    const v = values.subarray(b * BLOCK, Math.min(values.length, (b + 1) * BLOCK));
    let out = v;
    if (delta) {
      out = new Uint32Array(v.length);
      out[0] = v[0]!;
      for (let k = 1; k < v.length; k++) out[k] = (v[k]! - v[k - 1]!) >>> 0;
    }
    w.add(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), v[0]!);
  }
  return w.finish(values.length, BLOCK, delta ? DELTA : 0);
}

/** Read-only u32 array backed by a block file (same interface as U32File). */
export class BlockU32File {
  /** Number of values. */
  readonly length: number;
  private readonly file: BlockFile;
  private readonly views = new Map<number, Uint32Array>();

  constructor(path: string) {
    this.file = new BlockFile(path);
    this.length = this.file.count;
  }

  /** First value of every block (block b starts at index b * BLOCK). */
  get firsts(): Uint32Array {
    return this.file.firsts;
  }

  private values(b: number): Uint32Array {
    let v = this.views.get(b);
    if (v !== undefined) return v;
    const bytes = this.file.block(b);
    v = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    if (this.file.flags & DELTA) {
      v = v.slice();
      for (let k = 1; k < v.length; k++) v[k] = (v[k]! + v[k - 1]!) >>> 0;
    }
    this.views.set(b, v);
    if (this.views.size > 4) this.views.delete(this.views.keys().next().value!);
    return v;
  }

  /** Value i. */
  get(i: number): number {
    return this.values(Math.floor(i / BLOCK))[i % BLOCK]!;
  }

  /** First index i in [from, to) with value > v, for values ascending over [from, to); decodes one block (the
   * block starts' values narrow the search first). */
  upperBound(from: number, to: number, v: number): number {
    const f = this.file.firsts;
    let lo = Math.ceil(from / BLOCK), hi = Math.floor((to - 1) / BLOCK) + 1;
    // aligned starts k * BLOCK within [from, to): the last one whose value is <= v
    let k = -1;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (f[m]! <= v) { k = m; lo = m + 1; } else hi = m; }
    let a = k >= 0 ? k * BLOCK : from, b = k >= 0 ? Math.min(to, (k + 1) * BLOCK) : Math.min(to, Math.ceil(from / BLOCK) * BLOCK);
    if (k < 0 && b === from) return from;
    while (a < b) { const m = Math.floor((a + b) / 2); if (this.get(m) <= v) a = m + 1; else b = m; }
    return a;
  }

  /** Values [from, to). */
  range(from: number, to: number): Uint32Array {
    const out = new Uint32Array(Math.max(0, to - from));
    for (let i = from; i < to;) {
      const b = Math.floor(i / BLOCK), v = this.values(b), start = b * BLOCK;
      const end = Math.min(to, start + v.length);
      out.set(v.subarray(i - start, end - start), i - from);
      i = end;
    }
    return out;
  }

  /** Close the file. */
  closeSync(): void {
    this.file.closeSync();
  }
}
