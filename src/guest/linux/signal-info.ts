// siginfo_t as the kernel copies it to a handler (x86-64: 128 bytes, si_signo, si_errno, si_code, then the union
// at offset 16), and the si_code values this kernel produces.
import { StructWriter } from './struct-writer.js';

/** Size of siginfo_t. */
export const SIGINFO_SIZE = 128;

/** si_code values. */
export const SI = {
  USER: 0, KERNEL: 0x80, TKILL: -6, TIMER: -2,
  SEGV_MAPERR: 1, SEGV_ACCERR: 2, ILL_ILLOPN: 2, FPE_INTDIV: 1, FPE_FLTDIV: 3, FPE_FLTINV: 7, BUS_ADRALN: 1,
  TRAP_BRKPT: 1,
} as const;

/** The union part of a siginfo, by the kind of sender. */
export type SigInfoFields =
  | { kind: 'kill'; pid: number; uid: number } // kill, tkill, tgkill (si_pid, si_uid)
  | { kind: 'fault'; addr: bigint } // a hardware fault (si_addr)
  | { kind: 'timer'; id: number; overrun: number; value: bigint } // a POSIX timer (si_tid, si_overrun, si_value)
  | { kind: 'child'; pid: number; uid: number; status: number; utime: bigint; stime: bigint } // SIGCHLD
  | { kind: 'none' }; // the kernel (SI_KERNEL): all zero

/** One pending signal. */
export interface SigInfo {
  /** Signal number. */
  signo: number;
  /** si_errno. */
  errno: number;
  /** si_code. */
  code: number;
  /** The sender-specific fields. */
  fields: SigInfoFields;
}

/** The 128 bytes of `info` as the kernel writes them (unused bytes zero, as after clear_siginfo). */
export function encodeSigInfo(info: SigInfo): Uint8Array {
  const w = new StructWriter(SIGINFO_SIZE).i32(0, info.signo).i32(4, info.errno).i32(8, info.code);
  const f = info.fields;
  if (f.kind === 'kill') w.i32(16, f.pid).u32(20, f.uid);
  else if (f.kind === 'fault') w.u64(16, f.addr);
  else if (f.kind === 'timer') w.i32(16, f.id).i32(20, f.overrun).u64(24, f.value);
  else if (f.kind === 'child') w.i32(16, f.pid).u32(20, f.uid).i32(24, f.status).u64(32, f.utime).u64(40, f.stime);
  return w.bytes;
}

/** A signal a process sends itself with kill (SI_USER) or tkill/tgkill (SI_TKILL). */
export function userSignal(signo: number, code: number, pid: number, uid: number): SigInfo {
  return { signo, errno: 0, code, fields: { kind: 'kill', pid, uid } };
}

/** CLD_* si_codes of SIGCHLD. */
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3 } as const;

/**
 * SIGCHLD for a child that ended (do_notify_parent): `status` is the exit code for CLD_EXITED, the signal number
 * for CLD_KILLED/CLD_DUMPED. The process layer queues it on the parent (`parent.signals.queue(...)`); with the
 * default disposition (ignore) it is discarded, and a handler runs as for any other signal.
 */
export function childSignal(pid: number, uid: number, code: number, status: number, utime = 0n, stime = 0n): SigInfo {
  return { signo: 17, errno: 0, code, fields: { kind: 'child', pid, uid, status, utime, stime } };
}

/** A signal the kernel sends (SI_KERNEL, no fields): SIGALRM from ITIMER_REAL, SIGSEGV from a #GP. */
export function kernelSignal(signo: number): SigInfo {
  return { signo, errno: 0, code: SI.KERNEL, fields: { kind: 'none' } };
}
