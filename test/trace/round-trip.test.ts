// Every table written with TraceWriter and read back with TraceReader: random rows with full 64-bit values
// (0, 2^63, 2^64-1), negative i64, empty strings and byte strings, several batches, an empty table; the Arrow
// schema's comments and version; meta.json before and after close; checkpoints.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arrow } from '../../src/trace/arrow.js';
import { COMMENT_KEY, ENCODING_KEY, VERSION_KEY } from '../../src/trace/arrow-io.js';
import { tableCompression } from '../../src/trace/compression.js';
import { scanStreamFile } from '../../src/trace/ipc-frames.js';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TABLES, TRACE_VERSION, TableName } from '../../src/trace/schema.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { rawBatches } from '../../src/query/raw-batches.js';
import { fillRandom, rng, tempDir, testMeta } from './helpers.js';

const tmp = tempDir('itrace-rt-');
afterAll(tmp.cleanup);

function open(dir: string): TraceReader {
  const r = TraceReader.open(dir);
  if ('error' in r) throw new Error(r.error);
  return r;
}

for (const compress of [true, false]) describe(`TraceWriter → TraceReader round trip (${compress ? 'zstd bodies' : 'uncompressed'})`, () => {
  const dir = join(tmp.dir, `all-${compress}`);
  const expected = new Map<TableName, (bigint | number | string | Uint8Array)[][]>();
  const sizes: Record<TableName, number[]> = { insns: [1000, 1, 777], code: [5], regs: [300, 300], mem: [64, 0, 65], events: [9], syscalls: [3, 4], inputs: [] };

  it('writes every table in several batches and closes', () => {
    const w = TraceWriter.create(dir, testMeta(), { compress });
    if ('error' in w) throw new Error(w.error);
    expect(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).complete).toBe(false);
    const r = rng(7);
    for (const t of TABLES) {
      const buf = new TableBuffer(t.name, 1000);
      const all: (bigint | number | string | Uint8Array)[][] = [];
      for (const n of sizes[t.name]) {
        all.push(...fillRandom(buf, n, r));
        w.writeBatch(buf);
        expect(buf.length).toBe(0);
      }
      expected.set(t.name, all);
    }
    const before = w.bytesWritten();
    expect(before).toBeGreaterThan(0);
    w.close({ steps: 1778, exitStatus: 3 });
    expect(w.bytesWritten()).toBeGreaterThan(before); // the end-of-stream markers
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.arrows')).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    expect(w.bytesWritten()).toBe(onDisk);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    expect(meta).toEqual({ ...testMeta({ complete: true, steps: 1778, exitStatus: 3 }), checksum: expect.stringMatching(/^crc32:[0-9a-f]{8}$/) });
  });

  it('reads every value back, whole and batch by batch', () => {
    const rd = open(dir);
    expect(rd.complete).toBe(true);
    expect(rd.meta.steps).toBe(1778);
    for (const t of TABLES) {
      const info = rd.table(t.name);
      const rows = expected.get(t.name)!;
      expect(info).toMatchObject({ present: true, rows: rows.length, batches: sizes[t.name].filter((n) => n > 0).length, truncated: false, ended: true });
      const read = rd.readTable(t.name);
      expect(read.error).toBeUndefined();
      expect(read.columns.length).toBe(rows.length);
      rows.forEach((row, i) => {
        const want: Record<string, unknown> = {};
        t.columns.forEach((c, k) => {
          const v = row[k]!;
          want[c.name] = c.type === 'u64' ? BigInt.asUintN(64, v as bigint) : c.type === 'i64' ? BigInt.asIntN(64, v as bigint) : v;
        });
        expect(read.columns.row(i), `${t.name} row ${i}`).toEqual(want);
      });
      let n = 0;
      const s = rd.stream(t.name);
      for (const b of s) {
        for (let i = 0; i < b.length; i++) expect(b.row(i)).toEqual(read.columns.row(n + i));
        n += b.length;
      }
      expect(s.error).toBeUndefined();
      expect(n).toBe(rows.length);
    }
  });

  it('gives 64-bit columns as bigints and as lo/hi words over the same memory', () => {
    const rd = open(dir);
    const c = rd.readTable('regs').columns;
    const big = c.u64('value'), words = c.words('value');
    expect(big.buffer).toBe(words.buffer);
    for (let i = 0; i < c.length; i++) expect(BigInt(words[2 * i]!) + (BigInt(words[2 * i + 1]!) << 32n)).toBe(big[i]);
    const sc = rd.readTable('syscalls').columns;
    expect(sc.i64('result').length).toBe(sc.length);
    expect(() => c.u64('reg')).toThrow(/not u64/);
    expect(c.ints('reg')).toBeInstanceOf(Uint8Array);
  });

  it('the Arrow schema carries every column comment and the trace version', async () => {
    for (const t of TABLES) {
      const bytes = readFileSync(join(dir, `${t.name}.arrows`));
      const reader = arrow().RecordBatchReader.from(bytes);
      reader.open();
      expect(reader.schema.metadata.get(VERSION_KEY)).toBe(String(TRACE_VERSION));
      expect(reader.schema.fields.map((f) => [f.name, f.metadata.get(COMMENT_KEY), f.nullable]))
        .toEqual(t.columns.map((c) => [c.name, c.comment, false]));
    }
  });

  it(`${compress && tableCompression !== null ? 'compresses' : 'does not compress'} the bodies`, () => {
    const scan = scanStreamFile(join(dir, 'insns.arrows'))!;
    expect(scan.batches.map((b) => b.compressed)).toEqual([true, true, true].map(() => compress && tableCompression !== null));
  });

  it('stores seq delta-coded: consecutive steps cost next to nothing, and a plain Arrow reader sees the deltas', () => {
    const d = join(tmp.dir, `seq-${compress}`);
    const w = TraceWriter.create(d, testMeta(), { compress });
    if ('error' in w) throw new Error(w.error);
    const buf = new TableBuffer('insns', 4096);
    const r = rng(11);
    for (let i = 0; i < 4096; i++) buf.push([BigInt(1_000_000 + i), BigInt(Math.floor(r() * 2 ** 32)), 3, 4, i % 7, 0]);
    w.writeBatch(buf);
    w.close({});
    const raw = arrow().RecordBatchReader.from(readFileSync(join(d, 'insns.arrows')));
    raw.open();
    expect(raw.schema.fields.find((f) => f.name === 'seq')!.metadata.get(ENCODING_KEY)).toBe('delta');
    const batch = [...raw][0]!;
    const seq = batch.getChild('seq')!;
    expect([seq.get(0), seq.get(1), seq.get(4095)]).toEqual([1_000_000n, 1n, 1n]);
    const back = open(d).readTable('insns').columns;
    expect([back.row(0).seq, back.row(4095).seq]).toEqual([1_000_000n, 1_004_095n]);
    // 4096 seq values (32 kB) are stored in a few dozen bytes
    if (compress && tableCompression !== null) {
      const [stored] = [...rawBatches(d, 'insns')];
      expect(stored!.cols[0]!.size).toBe(8 * 4096);
      expect(stored!.cols[0]!.stored.length).toBeLessThan(100);
    }
  });
});

describe('checkpoints', () => {
  it('round-trip state, pages and extra data (Maps, bigints, typed arrays)', () => {
    const dir = join(tmp.dir, 'cp');
    const w = TraceWriter.create(dir, testMeta());
    if ('error' in w) throw new Error(w.error);
    const r = rng(3);
    const state = Uint8Array.from({ length: 3000 }, () => Math.floor(r() * 256));
    const pages = new Map<number, Uint8Array>();
    for (const pfn of [7, 0, 0xfffff, 12345]) pages.set(pfn, Uint8Array.from({ length: 4096 }, (_, i) => (i * pfn) & 0xff));
    const extra = { fds: new Map([[0, 'stdin'], [1, 'stdout']]), brk: 0xffff_ffff_ffff_f000n, small: 5, list: [1, 'two'], words: new Uint32Array([1, 2, 3]) };
    w.writeCheckpoint(0, state, pages, extra);
    w.writeCheckpoint(1000, state, new Map(), {});
    w.close({});
    const rd = open(dir);
    expect(rd.listCheckpoints()).toEqual([0, 1000]);
    const cp = rd.readCheckpoint(0);
    if ('error' in cp) throw new Error(cp.error);
    expect(cp.seq).toBe(0);
    expect(new Uint8Array(cp.state)).toEqual(state);
    expect([...cp.pages.keys()]).toEqual([0, 7, 12345, 0xfffff]);
    for (const [pfn, p] of pages) expect(new Uint8Array(cp.pages.get(pfn)!)).toEqual(p);
    expect(cp.extra).toEqual(extra);
    const empty = rd.readCheckpoint(1000);
    if ('error' in empty) throw new Error(empty.error);
    expect(empty.pages.size).toBe(0);
    expect(rd.readCheckpoint(5)).toEqual({ error: expect.stringMatching(/^no checkpoint at step 5/) });
  });
});
