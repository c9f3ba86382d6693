// The signal Linux sends for an exception raised in user mode (arch/x86/kernel/traps.c): its siginfo (si_code,
// si_addr) and what the thread records for the signal frame (trap_nr, error_code).
import type { SigInfo } from './linux/signal-info.js';
import { SI } from './linux/signal-info.js';

const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;

/** The siginfo for exception `vector` raised by the instruction at `rip` (`mxcsr` for #XM). */
export function faultSignal(vector: number, rip: bigint, mxcsr: number): SigInfo {
  const at = (signo: number, code: number, addr: bigint): SigInfo => ({ signo, errno: 0, code, fields: { kind: 'fault', addr } });
  const kernel = (signo: number): SigInfo => ({ signo, errno: 0, code: SI.KERNEL, fields: { kind: 'none' } });
  switch (vector) {
    case 0: return at(SIGFPE, SI.FPE_INTDIV, rip); // #DE
    case 1: case 3: return kernel(SIGTRAP); // #DB, int3 (do_int3_user: force_sig(SIGTRAP))
    case 6: return at(SIGILL, SI.ILL_ILLOPN, rip); // #UD
    case 11: case 12: return kernel(SIGBUS); // #NP, #SS
    case 16: case 19: return at(SIGFPE, simdCode(mxcsr), rip); // #MF, #XM
    case 17: return at(SIGBUS, SI.BUS_ADRALN, 0n); // #AC
    default: return kernel(SIGSEGV); // #GP, #OF, #BR, #NM, #TS...
  }
}

/** si_code of a SIMD floating-point exception: the first unmasked flag raised, in Linux's order. */
function simdCode(mxcsr: number): number {
  const raised = mxcsr & 0x3f & ~((mxcsr >>> 7) & 0x3f);
  if (raised & 0x01) return 7; // FPE_FLTINV
  if (raised & 0x04) return 3; // FPE_FLTDIV
  if (raised & 0x08) return 4; // FPE_FLTOVF
  if (raised & 0x12) return 5; // FPE_FLTUND
  if (raised & 0x20) return 6; // FPE_FLTRES
  return 0;
}

/** SIGSEGV for an unresolvable page fault: SEGV_MAPERR without a mapping, SEGV_ACCERR when the mapping forbids the access. */
export function pageFaultSignal(addr: bigint, mapped: boolean): SigInfo {
  return { signo: SIGSEGV, errno: 0, code: mapped ? SI.SEGV_ACCERR : SI.SEGV_MAPERR, fields: { kind: 'fault', addr } };
}
