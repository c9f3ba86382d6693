// trace diff on real recordings: another argument (the divergence is the first read of the differing argv
// byte, found independently from the trace's memory rows), identical runs, another stdin (the read() is named),
// and a rebuilt binary (aligned by symbol; the changed function leads the profile).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffTraces, DiffResult } from '../../src/diff/diff-traces.js';
import { readTraceSymbols } from '../../src/trace/symbols.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { recordRun, SAMPLE_ROOT } from './record-run.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const ok = (r: DiffResult | { error: string }): DiffResult => {
  if ('error' in r) throw new Error(r.error);
  return r;
};

describe('trace diff', () => {
  let c200: string, c201: string, c200again: string;
  beforeAll(() => {
    c200 = recordRun('compute-musl', ['200']);
    c201 = recordRun('compute-musl', ['201']);
    c200again = recordRun('compute-musl', ['200']);
  }, SLOW_TEST_MS);

  it('another argument: first divergence at the first read of the differing argv byte, cause argv[1]', () => {
    const r = ok(diffTraces(c200, c201));
    expect(r.identical).toBe(false);
    const d = r.firstDivergence!;
    // independently: the first memory read (in row order) whose value differs between the runs' mem tables
    const reader = TraceReader.open(c200);
    if ('error' in reader) throw new Error(reader.error);
    const readerB = TraceReader.open(c201);
    if ('error' in readerB) throw new Error(readerB.error);
    const ma = reader.readTable('mem').columns, mb = readerB.readTable('mem').columns;
    let expected = -1;
    const sa = ma.u64('seq'), va = ma.u64('value'), vb = mb.u64('value'), acc = ma.ints('access');
    for (let i = 0; i < ma.length; i++) {
      if (acc[i] === 0 && va[i] !== vb[i]) { expected = Number(sa[i]); break; }
    }
    expect(d.seq).toBe(expected);
    expect(d.kinds[0]).toBe('memory');
    expect(d.a.symbol).toMatch(/strto|intscan/);
    const readA = d.a.memory.find((m) => m.access === 'r')!, readB = d.b.memory.find((m) => m.access === 'r')!;
    expect(readA.address).toBe(readB.address);
    expect([readA.value, readB.value]).toEqual(['30', '31']); // '0' vs '1'
    expect(d.cause?.kind).toBe('argv');
    expect(d.cause?.what).toBe('argv[1]');
    expect(d.cause?.a).toBe('"200"');
    expect(d.cause?.b).toBe('"201"');
    // alignment and profile
    expect(r.profile.length).toBeGreaterThan(0);
    const ms = r.profile.find((p) => p.symbol === 'merge_sort')!;
    expect(ms.callsB).toBeGreaterThan(ms.callsA);
    expect(r.regions.length).toBeGreaterThan(0);
  });

  it('identical runs report no difference', () => {
    const r = ok(diffTraces(c200, c200again));
    expect(r.identical).toBe(true);
    expect(r.firstDivergence).toBeNull();
    expect(r.causes).toEqual([]);
  });

  it('another file content: the divergence names the read() that returned different bytes', () => {
    const roots = ['x', 'y'].map((k) => {
      const root = mkdtempSync(join(tmpdir(), `itrace-diff-root-${k}-`));
      cpSync(SAMPLE_ROOT, root, { recursive: true });
      return root;
    });
    const file = join(roots[1]!, 'data/input.txt');
    writeFileSync(file, readFileSync(file, 'latin1').replace('a', 'b'), 'latin1');
    const a = recordRun('readfile-musl', [], { root: roots[0] }), b = recordRun('readfile-musl', [], { root: roots[1] });
    const r = ok(diffTraces(a, b));
    const d = r.firstDivergence!;
    expect(d.cause?.kind).toBe('input');
    expect(d.cause?.what).toBe('read');
    expect(d.cause?.description).toMatch(/^readv?\(\) on fd 3 at seq [\d,]+ returned different bytes \(first at byte 39\)$/);
    expect(d.cause?.reason).toBe('received at the divergent step');
    // later, getdents64 of data/sub differs too (the copies have other inode numbers), but after the divergence
    expect(r.causes.filter((c) => Math.min(c.seqA, c.seqB) <= d.seq).map((c) => c.what)).toEqual(['read']);
    expect(d.a.memory.some((m) => m.access === 'w')).toBe(true); // the host's writes of the read() data
  });

  it('a rebuilt binary is aligned by symbol and the changed function leads the profile', () => {
    const a = recordRun('diffdemo-a-musl', ['300']);
    const b = recordRun('diffdemo-b-musl', ['300']);
    const r = ok(diffTraces(a, b));
    expect(r.sameImage).toBe(false);
    const d = r.firstDivergence!;
    expect(d.bySymbol).toBe(true);
    expect(d.a.symbol).toMatch(/^checksum/);
    expect(d.b.symbol).toMatch(/^checksum/);
    expect(r.profile[0]!.symbol).toBe('checksum');
    expect(r.profile[0]!.stepsB).toBeGreaterThan(r.profile[0]!.stepsA);
    // every other function ran the same number of steps
    // every other function of the program ran the same number of steps (only kernel page-fault paths differ:
    // the code layout decides which pages fault)
    const symbols = readTraceSymbols(a);
    const others = r.profile.slice(1).filter((p) => p.stepsA !== p.stepsB).map((p) => p.symbol);
    for (const s of others) expect([s, s === '(fetch faulted)' || symbols.byName(s)[0]?.source === 'kernel']).toEqual([s, true]);
    const region = r.regions.find((g) => g.kind === 'steps' && g.symbol === 'checksum')!;
    expect(region.b![1] - region.b![0]).toBeGreaterThan(region.a![1] - region.a![0]);
    expect(r.converge).not.toBeNull();
    expect(r.converge!.seqA).toBeGreaterThan(region.a![1]);
  }, SLOW_TEST_MS);
});
