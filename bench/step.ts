// `npm run bench step [TRACE]`: navigation over a recording of 20 M+ steps (compute-musl 11000 is recorded
// first unless a trace directory is given, as argument or in ITRACE_STEP_TRACE; a given trace keeps its cached
// index if current, ITRACE_STEP_REBUILD=1 rebuilds it): index build time, then the latency of every step motion
// in both directions and of jumps to arbitrary positions with full state (registers and memory), as max and
// median, in one process; then whole answers in fresh processes as `trace step` gives them (open the trace and
// load the index, jump to a position, move once, registers + memory + JSON), with a phase breakdown.
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildStepIndex, openStepIndex } from '../src/replayer/index-builder.js';
import { Motion, Navigator } from '../src/replayer/navigator.js';
import { ReplayState } from '../src/replayer/replay-state.js';
import { INDEX_DIR, StepIndex } from '../src/replayer/step-index.js';
import { TraceReader } from '../src/trace/trace-reader.js';
import { recordBenchSample } from './record-sample.js';

/** One latency series. */
export interface Series { name: string; count: number; medianMs: number; maxMs: number }

/** What the step benchmark measured. */
export interface StepBench {
  steps: number; recordSeconds: number | null; buildSeconds: number; buildCached: boolean; loadMs: number; indexBytes: number;
  series: Series[]; cold: Series[];
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

/** Child process body: one `trace step`-like answer, timed by phase (printed as JSON). */
const CHILD = `
const [dir, at, motion, back] = process.argv.slice(-4);
const t0 = performance.now();
const { StepSession } = await import(process.env.ITRACE_STEP_SESSION);
const t1 = performance.now();
const s = StepSession.open(dir);
if ('error' in s) throw new Error(s.error);
const t2 = performance.now();
s.goto(Number(at));
const t3 = performance.now();
const r = s.move({ motion, back: back === '1' });
if ('error' in r) throw new Error(r.error);
const lines = [...r.landings.map((l) => s.line(l.seq)), ...s.registerBlock()];
const d = s.dump('0x' + (BigInt(s.state.delta.state.u32[8]) | (BigInt(s.state.delta.state.u32[9]) << 32n)).toString(16) + ':64');
const j = JSON.stringify(s.json());
const t4 = performance.now();
s.closeSync();
console.log(JSON.stringify({ imp: t1 - t0, open: t2 - t1, jump: t3 - t2, move: t4 - t3, n: lines.length + j.length + (Array.isArray(d) ? d.length : 0) }));
`;

function series(name: string, times: number[]): Series {
  const t = [...times].sort((a, b) => a - b);
  return { name, count: t.length, medianMs: t[t.length >> 1]!, maxMs: t[t.length - 1]! };
}

/** Run the benchmark on `trace` (recorded from `image` with argument 11000 when absent). */
export function benchStep(image: string, root: string, trace?: string): StepBench {
  let dir = trace ?? process.env.ITRACE_STEP_TRACE, recordSeconds: number | null = null, tmp: string | undefined;
  if (dir === undefined) ({ dir, tmp, recordSeconds } = recordBenchSample(image, root, 'step'));
  try {
    const reader = TraceReader.open(dir);
    if ('error' in reader) throw new Error(reader.error);
    const t1 = performance.now();
    const rebuild = tmp !== undefined || process.env.ITRACE_STEP_REBUILD === '1';
    const built = rebuild ? buildStepIndex(reader) : openStepIndex(reader);
    if ('error' in built) throw new Error(built.error);
    const buildCached = !rebuild && performance.now() - t1 < 1000 * built.meta.buildSeconds;
    const buildSeconds = buildCached ? built.meta.buildSeconds : (performance.now() - t1) / 1000;
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
    // the state a command shows: registers (in the state buffer) and memory at RSP
    const show = (): number => {
      const u = state.delta.state.u32;
      return state.read((BigInt(u[9]!) << 32n) | BigInt(u[8]!), 64).length;
    };
    for (const motion of ['in', 'over', 'out'] as Motion[]) {
      for (const back of [false, true]) {
        const times: number[] = [];
        for (let k = 0; k < 200; k++) {
          const p = rand(N);
          state.seek(p);
          const t = performance.now();
          const l = nav.move(p, motion, back);
          state.seek(l.seq);
          show();
          times.push(performance.now() - t);
        }
        out.push(series(`step-${motion}${back ? ' back' : ''} with full state`, times));
      }
    }
    const jumps: number[] = [];
    for (let k = 0; k < 100; k++) {
      const p = rand(N);
      const t = performance.now();
      state.seek(p);
      show();
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
    // whole answers in fresh processes (the saved position is left alone: every child jumps with goto first)
    const session = new URL('../src/replayer/step-session.js', import.meta.url).href;
    const phases: Record<string, number[]> = { 'process: import modules': [], 'process: open trace + load index': [], 'process: jump (--at)': [] };
    for (const motion of ['in', 'over', 'out'] as Motion[]) {
      for (const back of [false, true]) {
        const name = `process: step-${motion}${back ? ' back' : ''} + regs, mem, json`;
        phases[name] = [];
        for (let k = 0; k < 8; k++) {
          const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, '--', dir, String(rand(N)), motion, back ? '1' : '0'],
            { encoding: 'utf8', env: { ...process.env, ITRACE_STEP_SESSION: session } });
          if (r.status !== 0) throw new Error(`step child: ${r.stderr}`);
          const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { imp: number; open: number; jump: number; move: number };
          phases['process: import modules']!.push(o.imp); phases['process: open trace + load index']!.push(o.open);
          phases['process: jump (--at)']!.push(o.jump); phases[name]!.push(o.move);
        }
      }
    }
    const cold = Object.entries(phases).map(([name, t]) => series(name, t));
    return { steps: N, recordSeconds, buildSeconds, buildCached, loadMs, indexBytes: dirBytes(join(dir, INDEX_DIR)), series: out, cold };
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Print the figures. */
export function printStepBench(r: StepBench): void {
  console.log(`trace: ${r.steps.toLocaleString('en-US')} steps${r.recordSeconds !== null ? ` (recorded in ${r.recordSeconds.toFixed(1)} s)` : ''}`);
  console.log(`index build ${r.buildSeconds.toFixed(1)} s (once per trace, cached${r.buildCached ? ': this run reused it' : ''}); index ${(r.indexBytes / 1e6).toFixed(0)} MB; index load ${r.loadMs.toFixed(1)} ms`);
  for (const s of [...r.series, ...r.cold]) console.log(`${s.name.padEnd(56)} n=${String(s.count).padStart(3)}  median ${s.medianMs.toFixed(3).padStart(8)} ms  max ${s.maxMs.toFixed(3).padStart(8)} ms`);
  console.log('targets: any step under 20 ms, any jump under 200 ms');
}
