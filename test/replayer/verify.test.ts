// `trace replay --verify`: every sample recording re-executes step for step as recorded; a trace with one
// register value changed is reported as divergent at exactly that step.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatchStreamWriter, Table, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { verifyTrace } from '../../src/replayer/verify.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
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
    cpSync(dir, bad, { recursive: true });
    // change the value of regs row 5000 (and remember its step)
    const table = tableFromIPC(readFileSync(join(bad, 'regs.arrows')));
    let row = 5000, seq = -1n, reg = -1;
    for (const b of table.batches) {
      if (row < b.numRows) {
        const v = b.getChild('value')!.data[0]!.values as BigUint64Array;
        v[row] = v[row]! ^ 0x10n;
        // seq is stored delta-coded within a batch: the step is the sum of the column up to the row
        const deltas = b.getChild('seq')!;
        seq = 0n;
        for (let i = 0; i <= row; i++) seq += deltas.get(i) as bigint;
        reg = b.getChild('reg')!.get(row) as number;
        break;
      }
      row -= b.numRows;
    }
    expect(seq).toBeGreaterThan(0n);
    writeFileSync(join(bad, 'regs.arrows'), RecordBatchStreamWriter.writeAll(new Table(table.schema, table.batches)).toUint8Array(true));
    expect(verify(dir)).toMatchObject({ ok: true });
    const r = verify(bad);
    expect(r).toMatchObject({ ok: false, seq: Number(seq) });
    if ('what' in r) expect(r.what).toMatch(/^register /);
    expect(reg).toBeGreaterThanOrEqual(0);
  }, SLOW_TEST_MS);
});
