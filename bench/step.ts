// `npm run bench step [TRACE]`: navigation over a recording of 20 M+ steps (compute-musl 11000 is recorded
// first unless a trace directory is given): index build time, then the latency of every step motion in both
// directions and of jumps to arbitrary positions with full state (registers and memory), as max and median.
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from '../src/recorder/record.js';
import { buildStepIndex } from '../src/replayer/index-builder.js';
import { Motion, Navigator } from '../src/replayer/navigator.js';
import { ReplayState } from '../src/replayer/replay-state.js';
import { StepIndex } from '../src/replayer/step-index.js';
import { TraceReader } from '../src/trace/trace-reader.js';

/** One latency series. */
export interface Series { name: string; count: number; medianMs: number; maxMs: number }

/** What the step benchmark measured. */
export interface StepBench { steps: number; recordSeconds: number | null; buildSeconds: number; loadMs: number; series: Series[] }

function series(name: string, times: number[]): Series {
  const t = [...times].sort((a, b) => a - b);
  return { name, count: t.length, medianMs: t[t.length >> 1]!, maxMs: t[t.length - 1]! };
}

/** Run the benchmark on `trace` (recorded from `image` with argument 11000 when absent). */
export function benchStep(image: string, root: string, trace?: string): StepBench {
  let dir = trace, recordSeconds: number | null = null, tmp: string | undefined;
  if (dir === undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'itrace-bench-step-'));
    dir = join(tmp, 't');
    const sink = openSync('/dev/null', 'w');
    const t0 = performance.now();
    const prev = process.cwd();
    try {
      process.chdir(root);
      const s = record({ image, args: ['11000'], root, stdout: sink, stderr: sink, out: dir });
      if ('error' in s) throw new Error(s.error);
    } finally {
      process.chdir(prev);
      closeSync(sink);
    }
    recordSeconds = (performance.now() - t0) / 1000;
  }
  try {
    const reader = TraceReader.open(dir);
    if ('error' in reader) throw new Error(reader.error);
    const t1 = performance.now();
    const built = buildStepIndex(reader);
    if ('error' in built) throw new Error(built.error);
    const buildSeconds = (performance.now() - t1) / 1000;
    built.closeSync();
    const t2 = performance.now();
    const index = StepIndex.load(reader)!;
    const loadMs = performance.now() - t2;
    const nav = new Navigator(index), state = new ReplayState(reader, index);
    let seed = 7;
    const rand = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    const out: Series[] = [];
    const N = index.steps;
    for (const motion of ['in', 'over', 'out'] as Motion[]) {
      for (const back of [false, true]) {
        const times: number[] = [];
        for (let k = 0; k < 300; k++) {
          const p = rand(N);
          const t = performance.now();
          nav.move(p, motion, back);
          times.push(performance.now() - t);
        }
        out.push(series(`step-${motion}${back ? ' back' : ''} (landing)`, times));
      }
    }
    for (const back of [false, true]) {
      const times: number[] = [];
      for (let k = 0; k < 100; k++) {
        const p = rand(N);
        state.seek(p);
        const t = performance.now();
        const l = nav.move(p, 'in', back);
        state.seek(l.seq);
        times.push(performance.now() - t);
      }
      out.push(series(`step-in${back ? ' back' : ''} with full state`, times));
    }
    const jumps: number[] = [];
    for (let k = 0; k < 100; k++) {
      const p = rand(N);
      const t = performance.now();
      state.seek(p);
      jumps.push(performance.now() - t);
    }
    out.push(series('jump to an arbitrary position (full state)', jumps));
    const tos: number[] = [];
    for (let k = 0; k < 100; k++) {
      const p = rand(N), q = rand(N);
      const rip = index.rip(q);
      const t = performance.now();
      nav.toAddress(p, rip, k % 2 === 1);
      tos.push(performance.now() - t);
    }
    out.push(series('--to breakpoint (either direction)', tos));
    index.writeIndex();
    const wr: number[] = [];
    const rsp = (): bigint => { const u = state.delta.state.u32; return (BigInt(u[9]!) << 32n) | BigInt(u[8]!); };
    for (let k = 0; k < 100; k++) {
      const p = rand(N);
      state.seek(p);
      const a = rsp();
      const t = performance.now();
      nav.toWrite(p, a, 8, k % 2 === 1);
      wr.push(performance.now() - t);
    }
    out.push(series('--write watchpoint on a stack slot (either direction)', wr));
    index.closeSync();
    return { steps: N, recordSeconds, buildSeconds, loadMs, series: out };
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Print the figures. */
export function printStepBench(r: StepBench): void {
  console.log(`trace: ${r.steps.toLocaleString('en-US')} steps${r.recordSeconds !== null ? ` (recorded in ${r.recordSeconds.toFixed(1)} s)` : ''}`);
  console.log(`index build ${r.buildSeconds.toFixed(1)} s (once per trace, cached); index load ${r.loadMs.toFixed(1)} ms`);
  for (const s of r.series) console.log(`${s.name.padEnd(52)} n=${String(s.count).padStart(3)}  median ${s.medianMs.toFixed(3).padStart(8)} ms  max ${s.maxMs.toFixed(3).padStart(8)} ms`);
  console.log('targets: any step under 20 ms, any jump under 200 ms');
}
