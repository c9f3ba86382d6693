// One definition of a call frame: `trace step --out` (the step index, src/replayer/index-builder.ts) and the `calls`
// relation of `trace query` (src/query/call-tree.ts) agree on every frame of the sample recordings. For every CALL
// step c of the trace: the index and the relation list the same CALL steps; from the first step of the callee,
// step-out backwards lands on c; step-out forwards lands on the step after the frame ends (its RET, or the step that
// unwound it) or at the end of the trace when the frame never ends, exactly where the relation says.
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, haveTool } from '../native/native-tools.js';
import { QuerySession } from '../../src/query/query-session.js';
import { NO_RETURN } from '../../src/replayer/step-index.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { record } from '../../src/recorder/record.js';
import { recordSample, SAMPLE_ROOT } from './record-sample.js';

/** A frame as the `calls` relation has it. */
interface Frame { call: number; ret: number | null; end: number; ended: string; ring: number }

async function framesOf(dir: string): Promise<Frame[]> {
  const q = await QuerySession.open([{ alias: 't', dir }]);
  if ('error' in q) throw new Error(q.error);
  try {
    const r = await q.run('SELECT call_seq, return_seq, end_seq, ended, ring FROM calls ORDER BY call_seq');
    if ('error' in r) throw new Error(r.error);
    return r.rows.map((row) => ({
      call: Number(row[0]), ret: row[1] === null ? null : Number(row[1]), end: Number(row[2]), ended: String(row[3]), ring: Number(row[4]),
    }));
  } finally {
    q.closeSync();
  }
}

const SAMPLES: [string, string[]][] = [
  ['hello-musl', []], ['hello-glibc', []], ['compute-musl', ['40']], ['compute-glibc', ['40']], ['rep-musl', ['3000']],
  ['readfile-musl', []], ['pages-musl', []], ['segv-musl', []], ['simd-musl', []], ['args-glibc', ['a', 'b']],
];

/** Checks the agreement on the trace in `dir`; returns the frames' counts by ring and ending. */
async function checkFrames(dir: string): Promise<Record<string, number>> {
  const frames = await framesOf(dir);
  const s = StepSession.open(dir);
  if ('error' in s) throw new Error(s.error);
  const ix = s.index, nav = s.nav, last = ix.steps - 1;
  expect(frames.length).toBeGreaterThan(0);
  expect(frames.map((f) => f.call)).toEqual([...ix.callSeq]);
  const problems: string[] = [];
  frames.forEach((f, k) => {
    // what step --out forwards from inside the frame must reach: the step after its last one
    const after = f.ended === 'open' ? ix.steps : f.end + 1;
    const indexAfter = ix.callRet[k] === NO_RETURN ? ix.steps : ix.callRet[k]!;
    if (indexAfter !== after) problems.push(`CALL at ${f.call} (ring ${f.ring}, ${f.ended} at ${f.end}): index returns at ${indexAfter}, calls at ${after}`);
    // the first step of the callee in the frame's ring
    const inside = nav.nextInRing(f.call, f.ring);
    if (inside > f.end || inside >= ix.steps) return;
    const out = nav.move(inside, 'out', false), back = nav.move(inside, 'out', true);
    if (back.seq !== f.call) problems.push(`CALL at ${f.call}: step --back --out from ${inside} lands at ${back.seq}`);
    const want = Math.min(after, last);
    if (out.seq !== want) problems.push(`CALL at ${f.call}: step --out from ${inside} lands at ${out.seq}, calls says ${want}`);
  });
  s.closeSync();
  expect(problems.slice(0, 20)).toEqual([]);
  return frames.reduce((m, f) => { m[`ring ${f.ring} ${f.ended}`] = (m[`ring ${f.ring} ${f.ended}`] ?? 0) + 1; return m; }, {} as Record<string, number>);
}

describe('step --out and the calls relation: one definition of a call frame', () => {
  for (const [name, args] of SAMPLES) {
    it(`agree on every frame of ${[name, ...args].join(' ')}`, async () => {
      const counts = await checkFrames(recordSample(name, args).dir);
      expect(counts['ring 3 return']).toBeGreaterThan(10);
    });
  }

  it('agree on frames that longjmp unwinds (test/native/unwind.c)', async (ctx) => {
    const src = resolve('test/native/unwind.c'), flags = ['-O1', '-static', '-fno-omit-frame-pointer'];
    const built = haveTool('musl-gcc') ? compileC(src, 'unwind', flags, 'musl-gcc') : compileC(src, 'unwind', flags);
    if (!built.ok) { console.warn(`skipping the longjmp case: ${built.reason}`); ctx.skip(); return; }
    const dir = join(mkdtempSync(join(tmpdir(), 'itrace-frames-')), 'trace');
    const sink = openSync('/dev/null', 'w');
    try {
      const r = record({ image: built.path, args: [], root: SAMPLE_ROOT, stdout: sink, stderr: sink, out: dir });
      if ('error' in r) throw new Error(r.error);
      expect(r.exitStatus).toBe(0);
    } finally {
      closeSync(sink);
    }
    const counts = await checkFrames(dir);
    // unwound by the 6 longjmps: dive(5..7)'s 6 + 7 + 8 frames, escape()'s 3, and the longjmp calls' own 6 (longjmp
    // leaves by an indirect JMP, not by its RET)
    expect(counts['ring 3 unwind']).toBe(6 + 7 + 8 + 3 + 6);
  });
});
