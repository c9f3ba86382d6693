// Recording helpers for tests: record a program into a temporary directory (output captured), and check the
// structural invariants of a trace read back from its Arrow files.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FIRST_FREE_FRAME } from '../../src/guest/layout.js';
import { createMachine, ProgramSpec } from '../../src/guest/run-program.js';
import { record, RecordSummary } from '../../src/recorder/record.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { ROOT, withCapturedIo } from './run-both.js';

export interface Recorded { summary: RecordSummary; stdout: string; stderr: string; reader: TraceReader }

export function recordTo(image: string, args: string[], stdin?: string): Recorded {
  return withCapturedIo(ROOT, stdin, (io) => {
    const s = record({ image, args, root: ROOT, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr, out: join(io.dir, 'trace'), jitThreshold: 16 }); // compiled logging blocks too
    if ('error' in s) throw new Error(s.error);
    const reader = TraceReader.open(join(io.dir, 'trace'));
    if ('error' in reader) throw new Error(reader.error);
    return { summary: s, reader };
  });
}

/** Check the structural invariants of a trace; returns the counts it saw. */
export function checkInvariants(r: TraceReader, summary: RecordSummary): { syscalls: number; pageFaults: number; userSteps: number } {
  expect(r.complete).toBe(true);
  const insns = r.readTable('insns').columns;
  expect(insns.length).toBe(summary.steps);
  const seq = insns.words('seq'), rip = insns.words('rip'), cpl = insns.ints('cpl'), faulted = insns.ints('faulted');
  for (let i = 0; i < insns.length; i++) if (seq[2 * i] !== i || seq[2 * i + 1] !== 0) throw new Error(`insns row ${i} has seq ${seq[2 * i]}`);
  let user = 0;
  for (let i = 0; i < insns.length; i++) if (cpl[i] === 3) user++;
  expect(user).toBe(summary.userSteps);
  const ev = r.readTable('events').columns;
  const kinds = ev.strings('kind'), evSeq = ev.u64('seq'), fromRip = ev.u64('from_rip'), toRip = ev.u64('to_rip');
  const ripAt = (i: number): bigint => (BigInt(rip[2 * i + 1]!) << 32n) | BigInt(rip[2 * i]!);
  // every syscall is followed by its sysret (or is the last, exiting call); the step after sysret is the next instruction
  let open = -1, syscalls = 0, pageFaults = 0;
  for (let k = 0; k < ev.length; k++) {
    const kind = kinds[k]!, s = Number(evSeq[k]!);
    if (kind === 'syscall') { expect(open).toBe(-1); open = s; syscalls++; expect(cpl[s]).toBe(3); }
    if (kind === 'sysret') {
      expect(open).toBeGreaterThanOrEqual(0);
      expect(cpl[s + 1]).toBe(3);
      expect(ripAt(s + 1)).toBe(ripAt(open) + 2n); // SYSCALL is 2 bytes: back at the next instruction
      open = -1;
    }
    if (kind === 'page_fault' && cpl[s] === 3) {
      pageFaults++;
      expect(faulted[s]).toBe(1);
      // the handler's IRETQ returns to the faulting instruction, which then completes
      let j = k + 1;
      while (j < ev.length && kinds[j] !== 'iret') j++;
      if (j === ev.length) {
        // only the fault that killed the program (SIGSEGV) has no return
        expect(kinds.at(-1)).toBe('signal');
        pageFaults--;
        continue;
      }
      expect(toRip[j]).toBe(fromRip[k]);
      const again = Number(evSeq[j]!) + 1;
      expect(ripAt(again)).toBe(fromRip[k]);
      expect(cpl[again]).toBe(3);
    }
  }
  const sys = r.readTable('syscalls').columns;
  expect(sys.length).toBe(syscalls);
  let completed = 0;
  for (let i = 0; i < insns.length; i++) if (cpl[i] === 3 && faulted[i] === 0) completed++;
  return { syscalls, pageFaults, userSteps: completed };
}


/**
 * Run a program once without recording (its inputs must be repeatable: pass `random`): the step count and
 * every physical frame the run used (non-zero kernel frames, and every frame the address space handed out).
 */
export function plainRunFrames(spec: ProgramSpec, image: Uint8Array): { steps: number; frames: number[]; memorySize: number } {
  const sink = openSync('/dev/null', 'w');
  const made = createMachine({ ...spec, stdout: sink, stderr: sink }, image);
  if ('error' in made) { closeSync(sink); throw new Error(made.error); }
  made.machine.run(); // output goes to /dev/null, which stays open until the program has ended
  closeSync(sink);
  const m = made.machine;
  const frames: number[] = [];
  for (let f = 0; f < FIRST_FREE_FRAME >>> 12; f++) if (m.mem.bytes.subarray(f << 12, (f + 1) << 12).some((b) => b !== 0)) frames.push(f);
  for (let f = FIRST_FREE_FRAME >>> 12; f < m.as.nextFrame >>> 12; f++) frames.push(f);
  made.close();
  return { steps: m.cpu.icount, frames, memorySize: m.mem.size };
}
