// The index's Parquet writer: every column kind, zstd-compressed and raw bodies, row counts that are not multiples
// of 8, and seq statistics, read back by DuckDB value for value.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ParquetWriter } from '../../src/query/parquet-writer.js';
import { RawColumn } from '../../src/query/raw-batches.js';
import { zstdCompress } from '../../src/trace/compression.js';

const dir = mkdtempSync(join(tmpdir(), 'itrace-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const raw = (a: ArrayBufferView): RawColumn => {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { stored: b, compressed: false, size: b.length };
};
const zstd = (a: ArrayBufferView): RawColumn => {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { stored: zstdCompress(b)!, compressed: true, size: b.length };
};

describe('ParquetWriter', () => {
  it('writes columns DuckDB reads back exactly', async () => {
    const path = join(dir, 't.parquet');
    const w = new ParquetWriter(path, [
      { name: 'seq', kind: 'u64', sorted: true }, { name: 'big', kind: 'u64' }, { name: 'n', kind: 'i64' }, { name: 'code', kind: 'u32' },
      { name: 'ring', kind: 'u8' }, { name: 'flag', kind: 'bool' }, { name: 'name', kind: 'names', names: ['r', 'w', 'x'] },
    ]);
    const expected: [bigint, bigint, bigint, number, number, boolean, string][] = [];
    let seq = 0n;
    for (const [rows, pack] of [[13, raw], [1000, zstd], [8, zstd], [3, raw]] as const) {
      const s = new BigUint64Array(rows), big = new BigUint64Array(rows), n = new BigInt64Array(rows), code = new Uint32Array(rows);
      const ring = new Uint8Array(rows), flag = new Uint8Array(rows), name = new Uint8Array(rows);
      for (let i = 0; i < rows; i++) {
        s[i] = seq + BigInt(i);
        big[i] = 0xffff_ffff_8000_0000n + BigInt(i * 7);
        n[i] = BigInt(i % 5) - 2n;
        code[i] = 0xffff_fff0 + (i % 16);
        ring[i] = i % 2 === 0 ? 3 : 0;
        flag[i] = i % 3 === 0 ? 1 : 0;
        name[i] = i % 3;
        expected.push([s[i]!, big[i]!, n[i]!, code[i]!, ring[i]!, flag[i] === 1, ['r', 'w', 'x'][name[i]!]!]);
      }
      const bytes = new Uint8Array(s.buffer);
      w.writeRowGroup(rows, [pack(s), pack(big), pack(n), pack(code), pack(ring), pack(flag), pack(name)], [[bytes.slice(0, 8), bytes.slice(8 * (rows - 1))]]);
      seq += BigInt(rows);
    }
    w.close();
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
      expect(r.columnTypes().map((t) => t.toString())).toEqual(['UBIGINT', 'UBIGINT', 'BIGINT', 'UINTEGER', 'UTINYINT', 'BOOLEAN', 'VARCHAR']);
      expect(r.getRows()).toEqual(expected);
      // the seq statistics let DuckDB skip row groups, and filters on them stay exact
      const f = await con.runAndReadAll(`SELECT count(*), min(seq) FROM read_parquet('${path}') WHERE seq >= 1013`);
      expect(f.getRows()).toEqual([[11n, 1013n]]);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });

  it('writes delta-coded seq columns as DELTA_BINARY_PACKED pages DuckDB reads back exactly', async () => {
    const path = join(dir, 'delta.parquet');
    const w = new ParquetWriter(path, [{ name: 'seq', kind: 'u64delta', sorted: true }, { name: 'x', kind: 'u32' }]);
    const expected: [bigint, number][] = [];
    let seq = 2n ** 40n + 5n; // first values beyond 32 bits
    // row counts around the 128-value blocks and 32-value miniblocks; steps of every bit width up to 32
    for (const [rows, widest] of [[1, 0], [2, 1], [129, 3], [1000, 17], [4097, 31], [300, 32], [33, 0]] as const) {
      const deltas = new BigUint64Array(rows), x = new Uint32Array(rows);
      for (let i = 0; i < rows; i++) {
        const step = i === 0 ? 0n : BigInt(((i * 2654435761) >>> 0) % 2 ** widest);
        seq += step;
        deltas[i] = i === 0 ? seq : step;
        x[i] = i;
        expected.push([seq, i]);
      }
      const first = new BigUint64Array([expected[expected.length - rows]![0]]), last = new BigUint64Array([seq]);
      w.writeRowGroup(rows, [zstd(deltas), raw(x)], [[new Uint8Array(first.buffer), new Uint8Array(last.buffer)]]);
    }
    w.close();
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const r = await con.runAndReadAll(`SELECT seq, x FROM read_parquet('${path}')`);
      expect(r.getRows()).toEqual(expected);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });
});
