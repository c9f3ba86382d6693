// Signals as programs see them: handlers, siglongjmp out of a SIGSEGV handler, a handler that skips the faulting
// instruction through the ucontext, alarm() waking pause(), the alternate stack, blocked signals delivered when
// unblocked, SA_RESETHAND, SA_NODEFER, int3, and the default actions. Oracle: the native run of the same static
// binary (test/guest/programs/signals.c) under `setarch x86_64 -R` with the recording's environment, in the same
// directory: stdout and exit status must be equal. Every recording passes `replay --verify`.
//
// Lockstep of the signal frame: the "skip" and "trap" modes print the siginfo bytes and the ucontext's general
// registers (sigcontext gregs, uc_flags, uc_stack, uc_sigmask) the handler receives; they must equal the native
// ones except for two fields that legitimately differ, masked below and nowhere else:
//  - uc_flags bit 0 (UC_FP_XSTATE): the host has XSAVE, the emulated x86-64-v2 model does not, so Linux's frame
//    carries an XSAVE area natively and an FXSAVE area here;
//  - EFLAGS.RF (bit 16) of a fault's context: the processor sets RF in the RFLAGS image it pushes for a
//    fault-class exception; the emulated processor does not (src/cpu/deliver.ts), so the sigcontext lacks it.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import { verifyTrace } from '../../src/replayer/verify.js';
import { record } from '../../src/recorder/record.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { ROOT, withCapturedIo } from '../helpers/run-both.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';
import { compileC, setarchWorks } from '../native/native-tools.js';

const SOURCE = resolve('test/guest/programs/signals.c');
const bin = compileC(SOURCE, 'signals', ['-static', '-O1', '-fno-stack-protector'], 'musl-gcc');
const setarch = setarchWorks();
const unavailable = !bin.ok ? bin.reason : !setarch.ok ? setarch.reason : undefined;

interface Run { stdout: string; status: number }

/** The native run: randomisation off, exactly DEFAULT_ENV, argv[0] the absolute path, in ROOT. */
function native(image: string, args: string[]): Run {
  const r = spawnSync('env', ['-i', ...DEFAULT_ENV, 'setarch', 'x86_64', '-R', image, ...args], { cwd: ROOT, encoding: 'latin1' });
  const sig = r.signal === null ? 0 : ({ SIGSEGV: 11, SIGILL: 4, SIGABRT: 6, SIGALRM: 14, SIGUSR1: 10 } as Record<string, number>)[r.signal] ?? -1000;
  return { stdout: r.stdout, status: r.status ?? 128 + sig };
}

function emulated(image: string, args: string[]): Run & { message?: string } {
  return withCapturedIo(ROOT, undefined, (io) => {
    const r = runProgram({ image, args, root: ROOT, stdout: io.stdout, stderr: io.stderr });
    if ('error' in r) throw new Error(r.error);
    return { status: r.status, message: r.message };
  });
}

/** The two masked differences of the frame lines (see the header). */
function maskFrame(out: string): string {
  return out
    .replace(/uc_flags=([0-9a-f]+)/g, (_m, v: string) => `uc_flags=${(parseInt(v, 16) & ~1).toString(16)}`)
    .replace(/efl=([0-9a-f]+)/g, (_m, v: string) => `efl=${(parseInt(v, 16) & ~0x10000).toString(16)}`);
}

/** Title, arguments, the shell's message when it dies, and the handlers entered and returned from (events). */
const MODES: [string, string[], string | undefined, number, number][] = [
  ['a SIGSEGV handler recovers with siglongjmp', ['segv-longjmp'], undefined, 3, 0],
  ['handlers read si_addr and RIP and skip the faulting instruction: #PF, #UD, #DE, #GP, a write to text (frame lockstep)', ['skip'], undefined, 5, 5],
  ['alarm() wakes pause() with EINTR', ['alarm'], undefined, 1, 1],
  ['a handler runs on the alternate stack (SA_ONSTACK)', ['altstack'], undefined, 2, 2],
  ['alarm() interrupts nanosleep with EINTR and the time left', ['sleep'], undefined, 1, 1],
  ['rt_sigsuspend waits with a temporary mask and restores it', ['sigsuspend'], undefined, 1, 1],
  ['setitimer(ITIMER_REAL) fires periodically', ['itimer'], undefined, 3, 3],
  ['a stack overflow is caught by a SIGSEGV handler on the alternate stack', ['overflow'], undefined, 1, 0],
  ['a stack overflow without an alternate stack cannot run the handler: SIGSEGV ends the process', ['overflow-no-altstack'], 'Segmentation fault', 0, 0],
  ['POSIX timers (timer_create, timer_settime, timer_gettime, timer_delete) signal with SI_TIMER', ['posix-timer'], undefined, 4, 4],
  ['SA_RESTART: a read interrupted by a handler is restarted', ['pipe-restart'], undefined, 1, 1],
  ['without SA_RESTART the interrupted read fails with EINTR', ['pipe-eintr'], undefined, 1, 1],
  ['rt_sigtimedwait takes blocked signals (kill\'s siginfo, a timeout, SIGALRM)', ['sigwait'], undefined, 0, 0],
  ['blocked signals are delivered when unblocked', ['blocked'], undefined, 2, 2],
  ['SA_RESETHAND: the second signal takes the default action', ['resethand'], undefined, 1, 1],
  ['SA_NODEFER: a handler interrupted by its own signal', ['nodefer'], undefined, 3, 3],
  ['int3 raises SIGTRAP (frame lockstep)', ['trap'], undefined, 1, 1],
  ['SIGCHLD from a child that exits and one killed by a signal (si_code, si_status, si_pid)', ['sigchld'], undefined, 2, 2],
  ['an unhandled SIGSEGV ends the process', ['fatal', 'segv'], 'Segmentation fault', 0, 0],
  ['an unhandled SIGILL ends the process', ['fatal', 'ud'], 'Illegal instruction', 0, 0],
  ['abort()', ['fatal', 'abort'], undefined, 0, 0],
  ['an unhandled SIGALRM ends the process', ['fatal', 'alarm'], undefined, 0, 0],
];

describe.skipIf(unavailable !== undefined)(`signal programs match native runs${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const image = bin.ok ? bin.path : '';
  for (const [title, args, message] of MODES) {
    it(title, () => {
      const n = native(image, args);
      const e = emulated(image, args);
      expect(maskFrame(e.stdout)).toBe(maskFrame(n.stdout));
      expect(e.status).toBe(n.status);
      // the shell's message is the last line (for SIGILL, `trace run` prints the #UD diagnostic before it)
      if (message !== undefined) expect(e.message?.split('\n').pop()).toBe(message);
      if (args[0] === 'skip' || args[0] === 'trap') expect(e.stdout).toMatch(/siginfo\n {2}[0-9a-f]{64}/); // the frame was printed
    }, SLOW_TEST_MS);
  }
});

describe.skipIf(!bin.ok)(`recordings of signal programs replay exactly${bin.ok ? '' : ` (skipped: ${bin.reason})`}`, () => {
  const image = bin.ok ? bin.path : '';
  for (const [, args, , deliveries, returns] of MODES) {
    it(`replay --verify: ${args.join(' ')}`, () => {
      const r = withCapturedIo(ROOT, undefined, (io) => {
        const out = join(io.dir, 'trace');
        const s = record({ image, args, root: ROOT, stdout: io.stdout, stderr: io.stderr, out });
        if ('error' in s) throw new Error(s.error);
        const reader = TraceReader.open(out);
        if ('error' in reader) throw new Error(reader.error);
        return { summary: s, verified: verifyTrace(reader), reader };
      });
      expect(r.verified).toMatchObject({ ok: true, steps: r.summary.steps });
      // every handler entered and left is an event row, at the VMCALL step of the kernel entry that did it
      const ev = r.reader.readTable('events').columns;
      const kinds = ev.strings('kind');
      const count = (k: string): number => kinds.filter((x) => x === k).length;
      if (args[0] === 'itimer' || args[0] === 'posix-timer') {
        // the periodic timer runs on the host's clock while recording (slower than native): it may fire once more
        // before the program disarms it; every firing is a delivery and a return
        expect(count('signal_delivery')).toBeGreaterThanOrEqual(deliveries);
        expect(count('sigreturn')).toBe(count('signal_delivery'));
      } else expect([count('signal_delivery'), count('sigreturn')]).toEqual([deliveries, returns]);
      const seqs = ev.u64('seq'), vmexitAt = new Set<bigint>();
      for (let k = 0; k < ev.length; k++) if (kinds[k] === 'vmexit') vmexitAt.add(seqs[k]!);
      for (let k = 0; k < ev.length; k++) if (kinds[k] === 'signal_delivery' || kinds[k] === 'sigreturn') expect(vmexitAt.has(seqs[k]!)).toBe(true);
    }, SLOW_TEST_MS);
  }
});
