// Shared helpers of the trace tests: a TraceMeta, random rows of every table (full 64-bit values included) and a
// temporary directory per test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TableName, TraceMeta, TRACE_VERSION, tableSpec } from '../../src/trace/schema.js';

/** A meta.json for tests. */
export function testMeta(over: Partial<TraceMeta> = {}): TraceMeta {
  return {
    version: TRACE_VERSION, tool: 'itrace-test', image: 'guests/bin/hello-musl', imageSha256: 'ab'.repeat(32),
    argv: ['hello-musl', 'x y'], env: ['A=1'], started: '2026-01-02T03:04:05.000Z', complete: false,
    kernelSymbols: [{ name: 'syscall_entry', address: '0xffff800000001000', size: 64 }], loadBias: '0', checkpointEvery: 1000,
    ...over,
  };
}

/** A deterministic PRNG (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

const CHARS = ['a', 'Z', '_', 'é', '€', '𝄞', ' ', '\n'];
const EDGE64 = [0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 32n - 1n, 2n ** 32n];

/** One random row of a table as plain values (u64 edge values and empty strings/bytes come up often). */
export function randomRow(name: TableName, r: () => number): (bigint | number | string | Uint8Array)[] {
  return tableSpec(name).columns.map((c) => {
    const u32 = (): number => Math.floor(r() * 2 ** 32);
    switch (c.type) {
      case 'u8': return Math.floor(r() * 256);
      case 'u16': return Math.floor(r() * 65536);
      case 'u32': return u32();
      case 'i16': return Math.floor(r() * 65536) - 32768;
      case 'u64': return r() < 0.3 ? EDGE64[Math.floor(r() * EDGE64.length)]! : (BigInt(u32()) << 32n) | BigInt(u32());
      case 'i64': return BigInt.asIntN(64, r() < 0.3 ? EDGE64[Math.floor(r() * EDGE64.length)]! : (BigInt(u32()) << 32n) | BigInt(u32()));
      case 'utf8': {
        const n = r() < 0.3 ? 0 : Math.floor(r() * 12);
        return Array.from({ length: n }, () => CHARS[Math.floor(r() * CHARS.length)]).join('');
      }
      case 'binary': {
        const n = r() < 0.3 ? 0 : Math.floor(r() * 16);
        return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      }
    }
  });
}

/** Fill a buffer with n random rows; returns them. */
export function fillRandom(buf: TableBuffer, n: number, r: () => number): (bigint | number | string | Uint8Array)[][] {
  const rows: (bigint | number | string | Uint8Array)[][] = [];
  for (let i = 0; i < n; i++) {
    const row = randomRow(buf.spec.name, r);
    buf.push(row);
    rows.push(row);
  }
  return rows;
}

/** A fresh temporary directory and its removal. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
