// `npm run bench`: prints the throughput figures the issues ask for.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { benchCpu } from './cpu.js';
import { benchRecordCore } from './record-core.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const only = process.argv[2];

if (!only || only === 'cpu') {
  console.log('== processor (no tracing), real compiled code from guests/bin/compute-musl ==');
  for (const r of benchCpu(join(root, 'guests/bin/compute-musl'))) {
    console.log(`${r.name.padEnd(38)} ${String(r.instructions).padStart(12)} instructions  ${r.seconds.toFixed(3)} s  ${r.mips.toFixed(1)} M instructions/s`);
  }
}

if (only === 'record-core') {
  const r = benchRecordCore(join(root, 'guests/bin/compute-musl'), ['3000']);
  console.log(`record core: ${r.steps} steps in ${r.seconds.toFixed(2)} s = ${(r.steps / r.seconds / 1e6).toFixed(2)} M steps/s; regs rows/step ${r.rowsPerStep.regs.toFixed(2)}, mem rows/step ${r.rowsPerStep.mem.toFixed(2)}`);
}
