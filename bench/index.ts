// `npm run bench`: prints the throughput figures the issues ask for.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { benchCpu } from './cpu.js';
import { benchMachine } from './machine.js';
import { benchPrograms } from './programs.js';
import { benchRecordCore } from './record-core.js';
import { benchGdb, benchQemu, benchRecord } from './record.js';
import { benchGdbServer } from './gdbserver.js';
import { benchStep, printStepBench } from './step.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const only = process.argv[2];

if (!only || only === 'cpu') {
  console.log('== processor (no tracing), real compiled code from guests/bin/compute-musl ==');
  let best = 0;
  for (const r of benchCpu(join(root, 'guests/bin/compute-musl'))) {
    best = Math.max(best, r.mips);
    console.log(`${r.name.padEnd(38)} ${String(r.instructions).padStart(12)} instructions  ${r.seconds.toFixed(3)} s  ${r.mips.toFixed(1)} M instructions/s`);
  }
  // the same processor inside the guest machine, under the hypervisor with the monitor trap flag off
  const runs = [0, 1, 2].map(() => benchMachine(join(root, 'guests/bin/compute-musl'), ['20000']));
  const m = runs.reduce((a, b) => (a.instructions / a.seconds > b.instructions / b.seconds ? a : b));
  const mips = m.instructions / m.seconds / 1e6;
  console.log(`${'guest machine, MTF off: compute-musl 20000'.padEnd(38)} ${String(m.instructions).padStart(12)} instructions  ${m.seconds.toFixed(3)} s  ${mips.toFixed(1)} M instructions/s (${m.exits} VM exits)`);
}

if (only === 'record-core') {
  const r = benchRecordCore(join(root, 'guests/bin/compute-musl'), ['3000']);
  console.log(`record core: ${r.steps} steps in ${r.seconds.toFixed(2)} s = ${(r.steps / r.seconds / 1e6).toFixed(2)} M steps/s; regs rows/step ${r.rowsPerStep.regs.toFixed(2)}, mem rows/step ${r.rowsPerStep.mem.toFixed(2)}`);
}

if (!only || only === 'record') {
  const image = join(root, 'guests/bin/compute-musl');
  console.log('\n== recording: guests/bin/compute-musl ==');
  // three runs each, the best reported (the machines are shared and noisy) and all three listed
  const runs = (args: string[]): ReturnType<typeof benchRecord>[] => [0, 1, 2].map(() => benchRecord(image, args));
  const report = (label: string, rs: ReturnType<typeof benchRecord>[]): ReturnType<typeof benchRecord> => {
    const b = rs.reduce((x, y) => (x.rate > y.rate ? x : y));
    console.log(`${b.name}, ${label}: ${b.steps} steps in ${b.seconds.toFixed(2)} s = ${(b.rate / 1e6).toFixed(2)} M steps/s ` +
      `(runs: ${rs.map((r) => (r.rate / 1e6).toFixed(2)).join(', ')}); ${(b.bytes! / b.steps).toFixed(2)} bytes/step on disk`);
    return b;
  };
  console.log('targets: 10 M steps/s, 12 bytes/step');
  const ours = report('compute-musl 3000', runs(['3000']));
  const long = report('compute-musl 20000', runs(['20000']));
  // the same programs run without recording (monitor trap flag off), each in a fresh machine: on short runs the
  // emulator's own warm-up (V8 compiling it and the guest code) bounds any recording rate; the ratio of the two
  // rates drifts less with the host's load than either rate
  for (const [n, rec] of [['3000', ours], ['20000', long]] as const) {
    const p = benchMachine(image, [n]);
    const plain = p.instructions / p.seconds;
    console.log(`without recording (MTF off), compute-musl ${n}: ${p.instructions} instructions in ${p.seconds.toFixed(2)} s = ${(plain / 1e6).toFixed(2)} M/s; recording keeps ${(100 * rec.rate / plain).toFixed(0)} % of that rate`);
  }
  const q = benchQemu(image, ['3000']);
  if (typeof q === 'string') console.log(`qemu: skipped: ${q}`);
  else console.log(`${q.name}: ${q.steps} instructions in ${q.seconds.toFixed(2)} s = ${(q.rate / 1e6).toFixed(2)} M/s, log ${(q.bytes! / q.steps).toFixed(0)} bytes/instruction; itrace/qemu rate ratio ${(ours.rate / q.rate).toFixed(2)}`);
  const g = benchGdb(image, ['40']);
  if (typeof g === 'string') console.log(`gdb: skipped: ${g}`);
  else console.log(`${g.name}: ${g.steps} instructions in ${g.seconds.toFixed(2)} s = ${(g.rate / 1e3).toFixed(1)} k/s; itrace/gdb rate ratio ${(ours.rate / g.rate).toFixed(0)}`);
}

// `npm run bench step [TRACE]`: trace step navigation on a 20 M-step recording
if (only === 'step') {
  console.log('== trace step: navigation and state over a compute-musl 11000 recording ==');
  printStepBench(benchStep(join(root, 'guests/bin/compute-musl'), root, process.argv[3]));
}

// ---- trace query (bench/query.ts) ----
if (only === 'query') {
  const { benchQuery } = await import('./query.js');
  console.log('\n== trace query: guests/bin/compute-musl 11000 (targets: index >= 5 M rows/s, steps per function < 1 s, last write < 100 ms) ==');
  const q = await benchQuery(join(root, 'guests/bin/compute-musl'), ['11000'], join(root, 'guests/root'));
  if (typeof q === 'string') console.log(`query: failed: ${q}`);
  else {
    console.log(`index: ${q.steps} steps, ${q.rows} rows (steps+regs+mem) in ${q.indexSeconds.toFixed(2)} s = ${(q.rows / q.indexSeconds / 1e6).toFixed(2)} M rows/s overall; copy phase ${q.copySeconds.toFixed(2)} s = ${(q.rows / q.copySeconds / 1e6).toFixed(2)} M rows/s`);
    for (const r of q.queries) console.log(`${r.name.padEnd(64)} ${r.ms.map((m) => m.toFixed(1).padStart(8)).join(' ')} ms (3 runs)`);
  }
}

// ---- trace diff (bench/diff.ts) ----
if (only === 'diff') {
  const { benchDiff } = await import('./diff.js');
  console.log('\n== trace diff: compute-musl 11000 against 11001 and against itself (target: first divergence < 1 s on 20 M steps) ==');
  const d = benchDiff(root);
  for (const r of d.recorded) console.log(`recorded ${r}`);
  for (const r of d.runs) console.log(`${r.name.padEnd(56)} ${r.steps[0]} / ${r.steps[1]} steps: first divergence ${r.seq === null ? 'none' : `at step ${r.seq}`} in ${r.firstMs.toFixed(0)} ms (${r.skipped} batches skipped by bytes, ${r.decoded} decoded); whole diff ${r.wholeMs.toFixed(0)} ms`);
}

// `npm run bench gdb [TRACE]`: the gdb server's packet latencies on a 20 M-step recording
if (only === 'gdb') {
  console.log('== trace gdbserver: packet latencies over a compute-musl 11000 recording (target: reverse-continue < 50 ms) ==');
  const g = await benchGdbServer(join(root, 'guests/bin/compute-musl'), join(root, 'guests/root'), process.argv[3]);
  if (g.recordSeconds !== null) console.log(`recorded ${g.steps} steps in ${g.recordSeconds.toFixed(1)} s`);
  console.log(`${g.steps} steps; server open (step index built or loaded, trace opened): ${g.openSeconds.toFixed(2)} s; read index for rwatch/awatch (first use): ${g.readIndexSeconds.toFixed(2)} s`);
  for (const s of g.series) console.log(`${s.name.padEnd(50)} first ${s.firstMs.toFixed(1).padStart(6)} ms, then median ${s.medianMs.toFixed(3).padStart(7)} ms  max ${s.maxMs.toFixed(3).padStart(8)} ms  (${s.count} requests; last reply ${JSON.stringify(s.sample)})`);
}

// `npm run bench startup [TRACE]`: fresh-process start-up of trace --help, info and step against node -e 0
if (only === 'startup') {
  const { benchStartup, printStartupBench } = await import('./startup.js');
  console.log('== start-up: trace --help, trace info T, trace step T (index built) in fresh processes (target: <= 3x node -e 0) ==');
  printStartupBench(benchStartup(root, process.argv[3]));
}

if (!only || only === 'programs') {
  console.log('\n== real programs: native, qemu-user and the trace CLI in fresh processes ==');
  benchPrograms(root, process.argv[3]);
}
