// Trace table write and read throughput with and without zstd body compression, on 1M-row regs-like rows (a step
// changes ~2.5 registers: rflags, rax, rsp and others; values are flags, stack and code pointers, small integers
// and some random 64-bit words) and 1M insns-like rows (a loop-heavy walk over 12 KiB of code, 6% kernel steps).
// Run: npm run build && node dist/bench/trace-write.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TableBuffer } from '../src/trace/table-buffer.js';
import { TableName, TRACE_VERSION } from '../src/trace/schema.js';
import { TraceReader } from '../src/trace/trace-reader.js';
import { TraceWriter } from '../src/trace/trace-writer.js';

/** One measured configuration. */
export interface TraceWriteResult {
  table: TableName;
  compressed: boolean;
  rows: number;
  bytes: number;
  writeSeconds: number;
  readSeconds: number;
}

function xorshift(seed: number): () => number {
  let s = seed;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

function set64(w: Uint32Array, i: number, lo: number, hi: number): void {
  w[2 * i] = lo >>> 0; w[2 * i + 1] = hi >>> 0;
}

/** Fill a buffer with `n` regs-like rows starting at step `seq`; returns the next step. */
function fillRegs(buf: TableBuffer, r: () => number, seq: number): number {
  const s = buf.col('seq') as Uint32Array, reg = buf.col('reg') as Uint8Array, v = buf.col('value') as Uint32Array;
  for (let i = 0; i < buf.capacity; i++) {
    if (r() < 0.4) seq++;
    set64(s, i, seq, 0);
    const x = r();
    const id = x < 0.3 ? 17 : x < 0.5 ? 0 : x < 0.6 ? 4 : Math.floor(r() * 16);
    reg[i] = id;
    if (id === 17) set64(v, i, [0x202, 0x246, 0x206, 0x287, 0x297][Math.floor(r() * 5)]!, 0);
    else if (id === 4) set64(v, i, 0xfffde000 + (Math.floor(r() * 4096) & ~7), 0x7fff);
    else {
      const y = r(); // 30% code pointers, 35% small integers, 17.5% data pointers, 17.5% random words
      if (y < 0.3) set64(v, i, 0x401000 + Math.floor(r() * 0x20000), 0);
      else if (y < 0.65) set64(v, i, Math.floor(r() * 256), 0);
      else if (y < 0.825) set64(v, i, 0x4c0000 + Math.floor(r() * 0x10000), 0);
      else set64(v, i, Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32));
    }
  }
  buf.length = buf.capacity;
  return seq;
}

/** Fill a buffer with insns-like rows for steps [seq, seq + capacity). */
function fillInsns(buf: TableBuffer, r: () => number, seq: number, walk: { rip: number; codes: Map<number, number> }): number {
  const s = buf.col('seq') as Uint32Array, rip = buf.col('rip') as Uint32Array, cpl = buf.col('cpl') as Uint8Array;
  const len = buf.col('length') as Uint8Array, code = buf.col('code') as Uint32Array;
  for (let i = 0; i < buf.capacity; i++, seq++) {
    const l = 1 + Math.floor(r() * 7);
    set64(s, i, seq, 0);
    set64(rip, i, walk.rip, 0);
    cpl[i] = seq % 5000 < 300 ? 0 : 3;
    len[i] = l;
    let c = walk.codes.get(walk.rip);
    if (c === undefined) { c = walk.codes.size; walk.codes.set(walk.rip, c); }
    code[i] = c;
    walk.rip += l;
    if (r() < 0.1) walk.rip = 0x401000 + Math.floor(r() * 0x3000);
  }
  buf.length = buf.capacity;
  return seq;
}

/** Write `batches` batches of `rowsPerBatch` rows of one table, then read the table back. */
export function benchTraceWrite(table: 'regs' | 'insns', compressed: boolean, rowsPerBatch = 1 << 16, batches = 16): TraceWriteResult {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-bench-'));
  try {
    const w = TraceWriter.create(join(dir, 't'), {
      version: TRACE_VERSION, tool: 'bench', image: '', imageSha256: '', argv: [], env: [], started: new Date().toISOString(),
      complete: false, kernelSymbols: [], loadBias: '0', checkpointEvery: 0,
    }, { compress: compressed });
    if ('error' in w) throw new Error(w.error);
    const buf = new TableBuffer(table, rowsPerBatch);
    const r = xorshift(12345);
    const walk = { rip: 0x401000, codes: new Map<number, number>() };
    let seq = 0, writeSeconds = 0;
    const before = w.bytesWritten();
    for (let b = 0; b < batches; b++) {
      seq = table === 'regs' ? fillRegs(buf, r, seq) : fillInsns(buf, r, seq, walk);
      const t0 = performance.now();
      w.writeBatch(buf);
      writeSeconds += (performance.now() - t0) / 1000;
    }
    const bytes = w.bytesWritten() - before;
    w.close({});
    const t0 = performance.now();
    const rd = TraceReader.open(join(dir, 't'));
    if ('error' in rd) throw new Error(rd.error);
    const t = rd.readTable(table);
    const readSeconds = (performance.now() - t0) / 1000;
    if (t.columns.length !== rowsPerBatch * batches) throw new Error(`read ${t.columns.length} rows`);
    return { table, compressed, rows: rowsPerBatch * batches, bytes, writeSeconds, readSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const table of ['regs', 'insns'] as const) {
    for (const compressed of [false, true]) {
      const x = benchTraceWrite(table, compressed);
      console.log(`${table.padEnd(6)} ${compressed ? 'zstd' : 'none'}  ${x.rows} rows  ${(x.bytes / x.rows).toFixed(2)} B/row  `
        + `write ${(x.rows / x.writeSeconds / 1e6).toFixed(1)} M rows/s  read ${(x.rows / x.readSeconds / 1e6).toFixed(1)} M rows/s`);
    }
  }
}
