// The register changes and memory writes of a trace, re-chunked for state reconstruction: one chunk per
// snapshot interval (the steps [k * every, (k + 1) * every)), in the order the index builder applied them (a
// step's memory writes before its register changes), each chunk compressed on its own in `deltas.blk`. Seeking
// applies the rows between a snapshot and the target from one small chunk, instead of decoding the trace's
// 65,536-row Arrow batches (regs and mem with their read rows and old values) that cover it. For compression the
// chunk stores steps as differences, register values XORed with the register's previous value in the chunk, and
// write addresses as differences from the previous write's (47 MB instead of 77 for 21 M steps).
import { BlockFile, BlockWriter } from './block-file.js';
import { Growable } from './growable.js';

/** Tag of a memory write record (register records carry the register id). */
export const WRITE_TAG = 255;

/** Collects the records of consecutive chunks and writes them. */
export class DeltaLogWriter {
  private readonly out: BlockWriter;
  private readonly every: number;
  private chunk = 0;
  private readonly tag = new Growable((n) => new Uint8Array(n), 1 << 14);
  private readonly dseq = new Growable((n) => new Uint32Array(n), 1 << 14);
  private readonly lo = new Growable((n) => new Uint32Array(n), 1 << 14);
  private readonly hi = new Growable((n) => new Uint32Array(n), 1 << 14);
  private readonly aLo = new Growable((n) => new Uint32Array(n), 1 << 12);
  private readonly aHi = new Growable((n) => new Uint32Array(n), 1 << 12);
  private readonly size = new Growable((n) => new Uint8Array(n), 1 << 12);

  constructor(path: string, steps: number, every: number) {
    this.every = every;
    this.out = new BlockWriter(path, chunkCount(steps, every), LEVEL);
  }

  /** A register change of step seq (in apply order). */
  reg(seq: number, reg: number, lo: number, hi: number): void {
    this.tag.push(reg); this.dseq.push(seq - this.chunk * this.every); this.lo.push(lo); this.hi.push(hi);
  }

  /** A memory write of step seq (in apply order). */
  write(seq: number, addrLo: number, addrHi: number, size: number, lo: number, hi: number): void {
    this.tag.push(WRITE_TAG); this.dseq.push(seq - this.chunk * this.every); this.lo.push(lo); this.hi.push(hi);
    this.aLo.push(addrLo); this.aHi.push(addrHi); this.size.push(size);
  }

  /** End the current chunk (call once per chunk, in order). */
  flush(): void {
    const n = this.tag.length, w = this.aLo.length;
    const tag = this.tag.view(), dseq = this.dseq.view().slice(), lo = this.lo.view().slice(), hi = this.hi.view().slice();
    const aLo = this.aLo.view().slice(), aHi = this.aHi.view().slice();
    for (let i = n - 1; i > 0; i--) dseq[i] = dseq[i]! - dseq[i - 1]!;
    const prevLo = new Uint32Array(256), prevHi = new Uint32Array(256);
    for (let i = 0; i < n; i++) {
      const t = tag[i]!;
      if (t === WRITE_TAG) continue;
      const l = lo[i]!, h = hi[i]!;
      lo[i] = (l ^ prevLo[t]!) >>> 0; hi[i] = (h ^ prevHi[t]!) >>> 0;
      prevLo[t] = l; prevHi[t] = h;
    }
    for (let i = w - 1; i > 0; i--) { aLo[i] = (aLo[i]! - aLo[i - 1]!) >>> 0; aHi[i] = (aHi[i]! ^ aHi[i - 1]!) >>> 0; }
    const parts: ArrayBufferView[] = [Uint32Array.from([n, w]), dseq, lo, hi, aLo, aHi, tag, this.size.view()];
    let len = 0;
    for (const p of parts) len += p.byteLength;
    const raw = new Uint8Array(len);
    let at = 0;
    for (const p of parts) { raw.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at); at += p.byteLength; }
    this.out.add(raw, this.chunk * this.every);
    this.chunk++;
    for (const g of [this.tag, this.dseq, this.lo, this.hi, this.aLo, this.aHi, this.size]) g.length = 0;
  }

  /** Write the header; returns the file size. */
  finish(steps: number): number {
    return this.out.finish(steps, this.every);
  }
}

/** zstd level of the chunks. */
const LEVEL = 3;

/** Chunks of a log over `steps` steps. */
export function chunkCount(steps: number, every: number): number {
  return Math.max(1, Math.ceil(steps / every));
}

/** One decoded chunk: records in apply order. */
export interface DeltaChunk {
  /** First step of the chunk. */
  readonly base: number;
  /** Records. */
  readonly n: number;
  /** Step of each record minus base (ascending). */
  readonly dseq: Uint32Array;
  /** Register id, or WRITE_TAG. */
  readonly tag: Uint8Array;
  /** Value lo/hi words. */
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  /** Per write record, in order: linear address lo/hi and size. */
  readonly addrLo: Uint32Array;
  readonly addrHi: Uint32Array;
  readonly size: Uint8Array;
}

/** The log of an index, read a chunk at a time. */
export class DeltaLog {
  /** Steps per chunk. */
  readonly every: number;
  private readonly file: BlockFile;
  private readonly chunks = new Map<number, DeltaChunk>();

  constructor(path: string) {
    this.file = new BlockFile(path, 0); // no cache there: chunks are decoded in place and cached here
    this.every = this.file.blockValues;
  }

  /** Chunks. */
  get length(): number {
    return this.file.blocks;
  }

  /** Chunk k (cached). */
  chunk(k: number): DeltaChunk {
    const hit = this.chunks.get(k);
    if (hit !== undefined) return hit;
    const b = this.file.block(k);
    const head = new Uint32Array(b.buffer, b.byteOffset, 2);
    const n = head[0]!, w = head[1]!;
    let at = b.byteOffset + 8;
    const u32 = (len: number): Uint32Array => { const a = new Uint32Array(b.buffer, at, len); at += 4 * len; return a; };
    const dseq = u32(n), lo = u32(n), hi = u32(n), addrLo = u32(w), addrHi = u32(w);
    const tag = new Uint8Array(b.buffer, at, n); at += n;
    // undo the coding of DeltaLogWriter.flush (in place: the decoded block is cached here only)
    for (let i = 1; i < n; i++) dseq[i] = dseq[i]! + dseq[i - 1]!;
    const prevLo = new Uint32Array(256), prevHi = new Uint32Array(256);
    for (let i = 0; i < n; i++) {
      const t = tag[i]!;
      if (t === WRITE_TAG) continue;
      lo[i] = (lo[i]! ^ prevLo[t]!) >>> 0; hi[i] = (hi[i]! ^ prevHi[t]!) >>> 0;
      prevLo[t] = lo[i]!; prevHi[t] = hi[i]!;
    }
    for (let i = 1; i < w; i++) { addrLo[i] = (addrLo[i]! + addrLo[i - 1]!) >>> 0; addrHi[i] = (addrHi[i]! ^ addrHi[i - 1]!) >>> 0; }
    const size = new Uint8Array(b.buffer, at, w);
    const c: DeltaChunk = { base: k * this.every, n, dseq, tag, lo, hi, addrLo, addrHi, size };
    this.chunks.set(k, c);
    if (this.chunks.size > 4) this.chunks.delete(this.chunks.keys().next().value!);
    return c;
  }

  /** Close the file. */
  closeSync(): void {
    this.file.closeSync();
  }
}
