// The guest machine under the hypervisor with the monitor trap flag off: the whole compute sample (ring 3 code,
// system calls through the guest kernel, page faults) — its instruction rate, to set beside the bare processor's.
import { openSync, readFileSync } from 'node:fs';
import { ExitReason } from '../src/vmx/exit-reason.js';
import { createMachine } from '../src/guest/run-program.js';

/** Instructions and seconds of one run of a program on the guest machine, MTF off. */
export function benchMachine(image: string, args: string[]): { instructions: number; seconds: number; exits: number } {
  const sink = openSync('/dev/null', 'w');
  const made = createMachine({ image, args, stdout: sink, stderr: sink }, new Uint8Array(readFileSync(image)));
  if ('error' in made) throw new Error(made.error);
  const m = made.machine;
  const t0 = process.hrtime.bigint();
  const out = m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  made.close();
  if (out.kind !== 'exit') throw new Error(`program did not exit: ${JSON.stringify(out)}`);
  let exits = 0;
  for (const [reason, n] of m.vm.exitCounts) if (reason !== ExitReason.PREEMPTION_TIMER) exits += n;
  return { instructions: m.cpu.icount, seconds, exits };
}
