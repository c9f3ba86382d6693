// Recording throughput of the step handler alone (rows collected, batches discarded): the ceiling the trace
// writer works under. Used by the recording benchmark.
import { readFileSync } from 'node:fs';
import { ExitReason } from '../src/vmx/exit-reason.js';
import { createMachine } from '../src/guest/run-program.js';
import { StepRecorder } from '../src/recorder/step-recorder.js';

/** Steps/s of the MTF handler on a program, with a discarding sink; also the raw rows per step. */
export function benchRecordCore(image: string, args: string[]): { steps: number; seconds: number; rowsPerStep: { regs: number; mem: number } } {
  const made = createMachine({ image, args, stdout: 1, stderr: 2 }, new Uint8Array(readFileSync(image)));
  if ('error' in made) throw new Error(made.error);
  const m = made.machine;
  let regs = 0, mem = 0;
  const rec = new StepRecorder(m.cpu, (buf) => { if (buf.spec.name === 'regs') regs += buf.length; if (buf.spec.name === 'mem') mem += buf.length; buf.clear(); });
  m.cpu.mlog = rec;
  m.vm.vmcs.controls.monitorTrapFlag = true;
  m.vm.mtfHandler = (d, f) => rec.onStep(d, f);
  if (process.env.RECORD_CORE_NO_BLOCKS === undefined) { m.vm.mtfLog = rec; rec.quietUntil = Number.MAX_SAFE_INTEGER; }
  const t0 = process.hrtime.bigint();
  for (;;) {
    const reason = m.vm.enter();
    if (reason === ExitReason.PREEMPTION_TIMER) continue;
    const out = m.service();
    if (out.kind !== 'continue') break;
    rec.seq++; // the VMCALL step (not recorded here)
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  regs += rec.regs.length; mem += rec.mem.length;
  made.close();
  return { steps: rec.seq, seconds, rowsPerStep: { regs: regs / rec.seq, mem: mem / rec.seq } };
}
