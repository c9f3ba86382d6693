// Compiled logging blocks against the per-step path: the same program recorded twice, once with hot blocks
// logging their own steps (the default) and once with every step going through the monitor-trap-flag handler,
// must give the same rows in every table. The per-step path is the one checked against native single-stepping
// and the completeness test; this makes the fast path answer to it row for row.
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jitStats } from '../../src/cpu/jit/compile-block.js';
import { record } from '../../src/recorder/record.js';
import { TableName } from '../../src/trace/schema.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { ROOT } from '../helpers/run-both.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

/** Both recordings see the same host time, so clock values (and what the program derives from them) agree. */
const FIXED_CLOCK_NS = 1_700_000_000_000_000_000n;

const TABLES: TableName[] = ['insns', 'code', 'regs', 'mem', 'events', 'syscalls'];

function recordTo(dir: string, image: string, args: string[], loggingBlocks: boolean): TraceReader {
  const out = openSync('/dev/null', 'w');
  try {
    const s = record({ image, args, root: ROOT, out: dir, stdout: out, stderr: out, loggingBlocks, jitThreshold: 16, random: (n) => new Uint8Array(n).fill(7), clock: () => FIXED_CLOCK_NS });
    if ('error' in s) throw new Error(s.error);
  } finally {
    closeSync(out);
  }
  const r = TraceReader.open(dir);
  if ('error' in r) throw new Error(r.error);
  return r;
}

const CASES: [string, string[]][] = [
  ['compute-musl', ['300']],
  ['compute-glibc', ['200']],
  ['pages-musl', []],
  ['rep-musl', []],
  ['segv-musl', []],
  ['readfile-musl', ['/etc/passwd']],
];

describe('compiled logging blocks record exactly what the per-step handler records', () => {
  for (const [name, args] of CASES) {
    it(`${name} ${args.join(' ')}`, () => {
      const base = mkdtempSync(join(tmpdir(), 'itrace-lb-'));
      const image = resolve('guests/bin', name);
      const before = jitStats.logged;
      const fast = recordTo(join(base, 'blocks'), image, args, true);
      expect(jitStats.logged).toBeGreaterThan(before); // the fast path was taken
      const slow = recordTo(join(base, 'stepped'), image, args, false);
      expect(fast.meta.steps).toBe(slow.meta.steps);
      for (const t of TABLES) {
        const a = fast.readTable(t), b = slow.readTable(t);
        expect(a.columns.length, `${t} rows`).toBe(b.columns.length);
        for (let i = 0; i < a.columns.length; i++) {
          const ra = a.columns.row(i), rb = b.columns.row(i);
          if (JSON.stringify(ra, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) !== JSON.stringify(rb, (_, v) => (typeof v === 'bigint' ? v.toString() : v))) {
            expect(ra, `${t} row ${i}`).toEqual(rb);
          }
        }
      }
    }, SLOW_TEST_MS);
  }
});
