// Signal state, split as Linux splits it: dispositions and the real-time interval timer belong to the process
// (SignalState), the blocked mask, the pending signals, the alternate stack and the last fault's details belong
// to the thread (ThreadSignals). With one thread, SignalState holds it as `thread`; a process with several
// threads gives each its own ThreadSignals and shares the dispositions.
import type { SigInfo } from './signal-info.js';
import type { ContextPort } from './signal-context.js';

export const SIGKILL = 9;
export const SIGSTOP = 19;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
/** Highest signal number (_NSIG). */
export const NSIG = 64;
/** ss_flags of sigaltstack. */
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;

/** struct kernel_sigaction (x86-64): handler, flags, restorer, mask. */
export interface SigAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

/** sa_flags bits. */
export const SA = {
  SIGINFO: 0x4n, RESTORER: 0x04000000n, ONSTACK: 0x08000000n, RESTART: 0x10000000n, NODEFER: 0x40000000n,
  RESETHAND: 0x80000000n,
} as const;

/** stack_t for sigaltstack. */
export interface AltStack {
  /** ss_sp. */
  sp: bigint;
  /** ss_flags as the process set them (SS_DISABLE when none, possibly with SS_AUTODISARM). */
  flags: number;
  /** ss_size. */
  size: bigint;
}

/** What the default action of a signal does. */
export type DefaultAction = 'terminate' | 'core' | 'ignore' | 'stop';

/** Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). */
const DEFAULT_IGNORE = new Set([17, 18, 23, 28]);
/** Signals whose default action is to stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU). */
const DEFAULT_STOP = new Set([19, 20, 21, 22]);
/** Signals whose default action dumps core (SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS). */
const DEFAULT_CORE = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);

export function defaultAction(sig: number): DefaultAction {
  if (DEFAULT_IGNORE.has(sig)) return 'ignore';
  if (DEFAULT_STOP.has(sig)) return 'stop';
  return DEFAULT_CORE.has(sig) ? 'core' : 'terminate';
}

/** Bit of `sig` in a sigset. */
export const sigBit = (sig: number): bigint => 1n << BigInt(sig - 1);

/** SIGKILL and SIGSTOP can be neither caught nor blocked. */
export const UNBLOCKABLE = sigBit(SIGKILL) | sigBit(SIGSTOP);

/** The last hardware fault of a thread, copied into every signal frame (sigcontext trapno, err, cr2) as Linux does. */
export interface FaultRecord {
  /** Exception vector. */
  trapNr: number;
  /** Error code. */
  errorCode: bigint;
  /** Faulting address of the last page fault that raised a signal. */
  cr2: bigint;
}

/** A thread's signal state. */
export class ThreadSignals {
  /** Blocked signals: bit (sig - 1). */
  blocked = 0n;
  /** Pending signals in arrival order, with their siginfo (a standard signal is pending at most once). */
  readonly pending: SigInfo[] = [];
  /** The alternate signal stack. */
  altStack: AltStack = { sp: 0n, flags: 0, size: 0n }; // Linux starts with flags 0 (SS_DISABLE only after a reset)
  /** The mask to restore after a handler runs, set by rt_sigsuspend/pselect (Linux's saved_sigmask). */
  savedMask: bigint | undefined = undefined;
  /** The thread's last fault (thread.trap_nr, error_code, cr2). */
  fault: FaultRecord = { trapNr: 0, errorCode: 0n, cr2: 0n };

  /** Bits of the pending signals. */
  pendingSet(): bigint {
    let s = 0n;
    for (const i of this.pending) s |= sigBit(i.signo);
    return s;
  }

  /** Whether any pending signal is not blocked. */
  hasDeliverable(): boolean {
    return this.pending.some((i) => (this.blocked & sigBit(i.signo)) === 0n);
  }
}

/** ITIMER_REAL (alarm, setitimer): the next expiry on CLOCK_MONOTONIC and the reload interval, both in ns. */
export interface RealTimer {
  /** Expiry in ns on the guest's monotonic clock; 0n when disarmed. */
  deadline: bigint;
  /** Reload value in ns; 0n for one shot. */
  interval: bigint;
}

/** A POSIX timer (timer_create) that notifies with a signal. */
export interface PosixTimer {
  /** The clock it was created on (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME). */
  clock: number;
  /** The signal sent at expiry, 0 for SIGEV_NONE. */
  signo: number;
  /** sigev_value, passed in si_value. */
  value: bigint;
  /** Expiry in ns on the guest's monotonic clock; 0n when disarmed. */
  deadline: bigint;
  /** Reload value in ns; 0n for one shot. */
  interval: bigint;
  /** Expiries while its signal was still pending (timer_getoverrun). */
  overrun: number;
}

export class SignalState {
  /** Dispositions by signal number (1..64); absent means SIG_DFL with no flags. */
  readonly actions = new Map<number, SigAction>();
  /** The process's ITIMER_REAL. */
  realTimer: RealTimer = { deadline: 0n, interval: 0n };
  /** POSIX timers by id (timer_create). */
  readonly posixTimers = new Map<number, PosixTimer>();
  /** The one thread's mask, pending signals and alternate stack. */
  readonly thread = new ThreadSignals();
  /** The interrupted user context of the current kernel entry (set by the machine; absent in unit tests). */
  port: ContextPort | undefined = undefined;

  action(sig: number): SigAction {
    return this.actions.get(sig) ?? { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
  }

  /** Whether `sig` would be discarded on arrival: ignored explicitly, or by default (SIGKILL never is). */
  ignored(sig: number): boolean {
    if (sig === SIGKILL || sig === SIGSTOP) return false;
    const h = this.action(sig).handler;
    return h === SIG_IGN || (h === SIG_DFL && (defaultAction(sig) === 'ignore' || defaultAction(sig) === 'stop'));
  }

  /**
   * Queues `info` for the thread: discarded if ignored, at most once for a standard signal (below SIGRTMIN).
   * Delivery happens on the way back to user mode.
   */
  queue(info: SigInfo): void {
    const t = this.thread;
    if (this.ignored(info.signo) && (t.blocked & sigBit(info.signo)) === 0n) return;
    if (info.signo < 32 && t.pending.some((i) => i.signo === info.signo)) return;
    t.pending.push(info);
  }

  /**
   * What happens when the process sends itself `sig` now: 'terminate' when the default action ends the process
   * and the signal is not blocked (it would be delivered on the way back anyway), else 'none' (queued or ignored).
   */
  send(sig: number, info?: SigInfo): 'terminate' | 'none' {
    const blocked = sig !== SIGKILL && sig !== SIGSTOP && (this.thread.blocked & sigBit(sig)) !== 0n;
    const a = this.action(sig);
    if (!blocked && (sig === SIGKILL || a.handler === SIG_DFL)) {
      const d = defaultAction(sig);
      if (sig === SIGKILL || d === 'terminate' || d === 'core') return 'terminate';
      return 'none';
    }
    this.queue(info ?? { signo: sig, code: 0, errno: 0, fields: { kind: 'kill', pid: 0, uid: 0 } });
    return 'none';
  }
}
