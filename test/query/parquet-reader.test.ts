// The index's Parquet files read by a reader other than DuckDB: hyparquet (a pure-JavaScript Parquet reader, which
// shares no code with DuckDB or with our writer) reads query.steps.parquet and query.regs.parquet of a recording,
// with zstd pages inflated by libzstd (zstd-napi), and gets the same row counts and every value `trace query`
// (DuckDB, over the views on the same files) returns. Several row groups (one per trace batch), the unsigned
// 64-bit columns, the register names (a dictionary of strings) and the BOOLEAN column are all covered.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { INDEX_FILE } from '../../src/query/cache-key.js';
import { parquetPath, PARQUET_TABLES } from '../../src/query/index-tables.js';
import { QuerySession } from '../../src/query/query-session.js';
import { recordSample } from './record-sample.js';

const zstd = createRequire(import.meta.url)('zstd-napi') as typeof import('zstd-napi');

/** A Parquet file as hyparquet's input (an ArrayBuffer of exactly the file). */
function fileBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Every row of a Parquet file, read by hyparquet, as arrays in the file's column order. */
async function readParquet(path: string): Promise<{ columns: string[]; rows: unknown[][]; rowGroups: number }> {
  const file = fileBuffer(path);
  const meta = parquetMetadata(file);
  const columns = meta.schema.slice(1).map((s) => s.name);
  const objects = await parquetReadObjects({
    file, columns,
    compressors: {
      ZSTD: (input: Uint8Array, outputLength: number) => {
        const out = zstd.decompress(input);
        if (out.length !== outputLength) throw new Error(`zstd page: ${out.length} bytes, header says ${outputLength}`);
        return out;
      },
    },
  });
  expect(objects.length).toBe(Number(meta.num_rows));
  return { columns, rows: objects.map((o) => columns.map((c) => o[c])), rowGroups: meta.row_groups.length };
}

/** Integers as bigint (DuckDB gives UBIGINT as bigint and smaller integers as numbers; hyparquet INT32 as numbers). */
const norm = (v: unknown): unknown => (typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v);

describe('the index Parquet files read without DuckDB', () => {
  let dir: string;
  let session: QuerySession;
  beforeAll(async () => {
    // sync points every 8192 steps: several batches per table, so several row groups per file
    dir = recordSample('compute-musl', ['40'], { syncEvery: 8192 }).dir;
    const q = await QuerySession.open([{ alias: 't', dir }]);
    if ('error' in q) throw new Error(q.error);
    session = q;
    return () => session.closeSync();
  });

  it('lists the tables kept as Parquet files', () => {
    expect(PARQUET_TABLES.map((t) => t.table)).toEqual(['steps', 'regs']);
  });

  for (const table of ['steps', 'regs']) {
    it(`hyparquet reads query.${table}.parquet with the rows and values trace query returns`, async () => {
      const pq = await readParquet(parquetPath(join(dir, INDEX_FILE), table));
      const count = await session.run(`SELECT count(*) FROM ${table}`);
      if ('error' in count) throw new Error(count.error);
      expect(BigInt(count.rows[0]![0] as number | bigint)).toBe(BigInt(pq.rows.length));
      expect(pq.rows.length).toBeGreaterThan(10_000);
      expect(pq.rowGroups).toBeGreaterThan(1);
      // the view's columns by the Parquet file's names (the ENUM reg as its name), in file order (DuckDB preserves
      // the insertion order of a scan by default)
      const sql = await session.run(`SELECT ${pq.columns.map((c) => (c === 'reg' ? 'reg::VARCHAR AS reg' : c)).join(', ')} FROM ${table}`);
      if ('error' in sql) throw new Error(sql.error);
      expect(sql.columns).toEqual(pq.columns);
      let mismatches = 0;
      const first: string[] = [];
      for (let i = 0; i < pq.rows.length; i++) {
        const a = pq.rows[i]!.map(norm), b = sql.rows[i]!.map(norm);
        for (let k = 0; k < a.length; k++) {
          if (a[k] !== b[k]) {
            if (mismatches++ < 5) first.push(`row ${i} ${pq.columns[k]}: parquet ${String(a[k])}, query ${String(b[k])}`);
          }
        }
      }
      expect(first).toEqual([]);
      expect(mismatches).toBe(0);
    });
  }
});
