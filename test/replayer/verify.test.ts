// `trace replay --verify`: every sample recording re-executes step for step as recorded; a trace with one
// register value changed is reported as divergent at exactly that step.
import { describe, expect, it } from 'vitest';
import { verifyTrace } from '../../src/replayer/verify.js';
import { TABLES } from '../../src/trace/schema.js';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { recordSample } from './recordings.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

function verify(dir: string): ReturnType<typeof verifyTrace> {
  const r = TraceReader.open(dir);
  if ('error' in r) throw new Error(r.error);
  return verifyTrace(r);
}

const SAMPLES: [string, string[]][] = [
  ['hello-musl', []], ['hello-glibc', []], ['hello-musl-pie', []], ['compute-musl', ['30']], ['compute-glibc', ['30']],
  ['args-musl', ['a', 'b']], ['readfile-musl', []], ['readfile-glibc', []], ['pages-musl', []], ['segv-musl', []], ['rep-musl', ['6000']],
];

describe('trace replay --verify', () => {
  for (const [name, args] of SAMPLES) {
    it(`verifies ${name} ${args.join(' ')}`, () => {
      const { dir, summary } = recordSample(name, args);
      const r = verify(dir);
      expect(r).toMatchObject({ ok: true, steps: summary.steps });
    }, SLOW_TEST_MS);
  }

  it('reports a corrupted register value at its step', () => {
    const { dir } = recordSample('compute-musl', ['20']);
    const bad = `${dir}-corrupt`;
    // write the trace again with the value of regs row 5000 changed (and remember its step): a trace whose checksums
    // are right but whose rows are wrong, as a recorder bug would make it (damage on disk is refused before replay)
    const rd = TraceReader.open(dir);
    if ('error' in rd) throw new Error(rd.error);
    const w = TraceWriter.create(bad, rd.meta);
    if ('error' in w) throw new Error(w.error);
    let seq = -1, reg = -1, row = 0;
    for (const t of TABLES) {
      for (const b of rd.stream(t.name)) {
        const cols = b.cols.map((c) => c.slice());
        if (t.name === 'regs' && row <= 5000 && 5000 < row + b.length) {
          const i = 5000 - row, k = t.columns.findIndex((c) => c.name === 'value');
          const v = cols[k] as Uint32Array;
          v[2 * i] = v[2 * i]! ^ 0x10;
          seq = b.words('seq')[2 * i]!;
          reg = b.ints('reg')[i]!;
        }
        if (t.name === 'regs') row += b.length;
        w.writeBatch(TableBuffer.over(t.name, b.length, cols));
      }
    }
    for (const c of rd.listCheckpoints()) {
      const cp = rd.readCheckpoint(c);
      if ('error' in cp) throw new Error(cp.error);
      w.writeCheckpoint(c, cp.state, new Map([...cp.pages].map(([f, p]) => [f, p.slice()])), cp.extra);
    }
    w.close({ steps: rd.meta.steps, exitStatus: rd.meta.exitStatus });
    expect(seq).toBeGreaterThan(0);
    expect(verify(dir)).toMatchObject({ ok: true });
    const r = verify(bad);
    expect(r).toMatchObject({ ok: false, seq });
    if ('what' in r) expect(r.what).toMatch(/^register /);
    expect(reg).toBeGreaterThanOrEqual(0);
  }, SLOW_TEST_MS);
});
