// `npm run bench diff`: trace diff on two recordings of 20 M+ steps (compute-musl 11000 and 11001, and a second
// recording of 11000 with the same random bytes: identical, the worst case, every batch compared). Recordings
// are kept in traces/bench-diff-* and reused. Prints the time to the first divergence and to the whole diff.
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { diffTraces } from '../src/diff/diff-traces.js';
import { firstDivergence } from '../src/diff/first-divergence.js';
import { TraceSide } from '../src/diff/trace-side.js';
import { record } from '../src/recorder/record.js';
import { TRACE_VERSION } from '../src/trace/schema.js';

function seeded(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => Uint8Array.from({ length: n }, () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x & 0xff; });
}

/** Record (or reuse) compute-musl N into traces/<name>. */
function recording(root: string, name: string, n: string): { dir: string; seconds: number | null; steps: number } {
  const dir = join(root, 'traces', name);
  if (existsSync(join(dir, 'meta.json'))) {
    const m = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { complete: boolean; argv: string[]; steps: number; version: number };
    if (m.complete && m.argv[1] === n && m.version === TRACE_VERSION) return { dir, seconds: null, steps: m.steps };
    rmSync(dir, { recursive: true, force: true }); // another run or an older trace format: record again
  }
  const t = performance.now();
  const devnull = openSync('/dev/null', 'w');
  const s = record({ image: join(root, 'guests/bin/compute-musl'), args: [n], out: dir, random: seeded(7), stdout: devnull });
  closeSync(devnull);
  if ('error' in s) throw new Error(s.error);
  return { dir, seconds: (performance.now() - t) / 1000, steps: s.steps };
}

/** One timed comparison. */
export interface DiffBench { name: string; steps: [number, number]; firstMs: number; seq: number | null; skipped: number; decoded: number; wholeMs: number }

function timeFirst(name: string, x: { dir: string; steps: number }, y: { dir: string; steps: number }): DiffBench {
  const t0 = performance.now();
  const a = TraceSide.open(x.dir), b = TraceSide.open(y.dir);
  if ('error' in a) throw new Error(a.error);
  if ('error' in b) throw new Error(b.error);
  const st = { insns: { skipped: 0, decoded: 0 }, regs: { skipped: 0, decoded: 0 }, mem: { skipped: 0, decoded: 0 } };
  const p = firstDivergence(a, b, { stats: st });
  const firstMs = performance.now() - t0;
  a.closeSync(); b.closeSync();
  const t1 = performance.now();
  const whole = diffTraces(x.dir, y.dir);
  if ('error' in whole) throw new Error(whole.error);
  return {
    name, steps: [x.steps, y.steps], firstMs, seq: p?.seq ?? null,
    skipped: st.insns.skipped + st.regs.skipped + st.mem.skipped, decoded: st.insns.decoded + st.regs.decoded + st.mem.decoded,
    wholeMs: performance.now() - t1,
  };
}

/** Record (or reuse) the three traces and time the diffs. */
export function benchDiff(root: string): { recorded: string[]; runs: DiffBench[] } {
  // each comparison runs in a fresh state of the caches it builds (decoded batches, disassembly); the first
  // one of the process also pays for loading Arrow's decoder

  const a = recording(root, 'bench-diff-11000', '11000');
  const b = recording(root, 'bench-diff-11001', '11001');
  const a2 = recording(root, 'bench-diff-11000-again', '11000');
  const recorded = [a, b, a2].filter((r) => r.seconds !== null).map((r) => `${r.dir}: ${r.steps} steps in ${r.seconds!.toFixed(1)} s`);
  return { recorded, runs: [timeFirst('N=11000 vs N=11001', a, b), timeFirst('N=11000 vs N=11000 (identical: every batch compared)', a, a2)] };
}
