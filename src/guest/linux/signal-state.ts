// Signal dispositions, the blocked mask and the alternate stack. No signal is delivered to a handler (there is
// one thread and no asynchronous source); a signal the process sends itself whose default action ends the
// process ends it.

export const SIGKILL = 9;
export const SIGSTOP = 19;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
/** Highest signal number (_NSIG). */
export const NSIG = 64;

/** struct kernel_sigaction (x86-64): handler, flags, restorer, mask. */
export interface SigAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

/** stack_t for sigaltstack. */
export interface AltStack {
  sp: bigint;
  flags: number;
  size: bigint;
}

/** Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). */
const DEFAULT_IGNORE = new Set([17, 18, 23, 28]);
/** Signals whose default action is to stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU); with no job control, ignored. */
const DEFAULT_STOP = new Set([19, 20, 21, 22]);

export class SignalState {
  /** Dispositions by signal number (1..64); absent means SIG_DFL with no flags. */
  readonly actions = new Map<number, SigAction>();
  /** Blocked signals: bit (sig - 1). */
  blocked = 0n;
  /** Signals sent while blocked: bit (sig - 1). */
  pending = 0n;
  /** The alternate signal stack (SS_DISABLE when none). */
  altStack: AltStack = { sp: 0n, flags: 2, size: 0n };

  action(sig: number): SigAction {
    return this.actions.get(sig) ?? { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
  }

  /**
   * What happens when the process sends itself `sig` now: 'terminate' (the default action ends the process), or
   * 'none' (ignored, blocked and left pending, or caught by a handler that cannot run: see TODO).
   */
  send(sig: number): 'terminate' | 'none' {
    const bit = 1n << BigInt(sig - 1);
    const handler = this.action(sig).handler;
    if (sig !== SIGKILL && sig !== SIGSTOP && (this.blocked & bit) !== 0n) {
      this.pending |= bit;
      return 'none';
    }
    if (handler === SIG_IGN && sig !== SIGKILL) return 'none';
    if (handler === SIG_DFL || sig === SIGKILL) {
      return DEFAULT_IGNORE.has(sig) || DEFAULT_STOP.has(sig) ? 'none' : 'terminate';
    }
    // TODO: running a guest handler needs the processor (a signal frame and rt_sigreturn); the signal is dropped.
    return 'none';
  }
}
