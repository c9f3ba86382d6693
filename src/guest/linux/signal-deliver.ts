// Delivering signals on the way back to user mode (Linux's exit_to_user_mode_loop / arch_do_signal_or_restart):
// due timers fire, then every pending signal the thread does not block is taken in Linux's order (synchronous
// fault signals first, then the lowest number): ignored ones are dropped, one whose default action ends the
// process ends it, and one with a handler gets an rt_sigframe on the user stack with the context changed to run
// the handler. A system call interrupted by a handler returns EINTR or is restarted as Linux decides.
import type { LinuxProcess } from './process.js';
import { type ContextPort, Gpr, type UserContext } from './signal-context.js';
import { buildRtSigframe } from './signal-frame.js';
import { type SigInfo, kernelSignal } from './signal-info.js';
import { ERESTART, RESTART_SYSCALL_NR } from './signal-restart.js';
import {
  SA, SIGKILL, SIG_DFL, SIG_IGN, SS_DISABLE, SS_AUTODISARM, type FaultRecord, type SignalState, type ThreadSignals, UNBLOCKABLE,
  defaultAction, sigBit,
} from './signal-state.js';
import { fireRealTimer } from './signal-timers.js';

/** How the thread entered the kernel. */
export type KernelEntry =
  | { kind: 'syscall'; nr: number } // the context's RAX holds the system call's result
  | { kind: 'fault' }; // an exception or an unresolved page fault

/** The result of the way back to user mode. */
export type ReturnOutcome =
  | { kind: 'unchanged' } // the context was not touched
  | { kind: 'changed' } // the port holds a new context (a handler frame, a restarted system call)
  | { kind: 'killed'; signal: number; core: boolean }; // a default action ends the process

/** Synchronous signals, taken before others (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSYS). */
const SYNCHRONOUS = [4, 5, 7, 8, 11, 31];

/** Removes and returns the next deliverable signal of thread `t`, or undefined. */
function takeNext(t: ThreadSignals): SigInfo | undefined {
  const ok = (i: SigInfo): boolean => (t.blocked & sigBit(i.signo)) === 0n;
  let best = -1;
  for (let k = 0; k < t.pending.length; k++) {
    const i = t.pending[k]!;
    if (!ok(i)) continue;
    if (best < 0) { best = k; continue; }
    const b = t.pending[best]!;
    const rank = (x: SigInfo): number => (SYNCHRONOUS.includes(x.signo) ? 0 : 100) + x.signo;
    if (rank(i) < rank(b)) best = k;
  }
  if (best < 0) return undefined;
  return t.pending.splice(best, 1)[0];
}

/** Whether a signal is waiting that the thread does not block (after firing due timers). */
export function signalDue(p: LinuxProcess): boolean {
  fireRealTimer(p);
  return p.signals.thread.hasDeliverable();
}

/**
 * A fault raised `info` (force_sig_fault): the thread records the fault for the frame, and a blocked or ignored
 * signal is unblocked and reset to its default action, so that the process cannot loop on the fault.
 */
export function raiseFault(s: SignalState, info: SigInfo, fault: FaultRecord, t: ThreadSignals = s.thread): void {
  t.fault = fault;
  forceSignal(s, info, t);
}

/** force_sig: the signal cannot be blocked or ignored this time. */
export function forceSignal(s: SignalState, info: SigInfo, t: ThreadSignals = s.thread): void {
  const bit = sigBit(info.signo);
  const a = s.action(info.signo);
  if ((t.blocked & bit) !== 0n || a.handler === SIG_IGN) {
    s.actions.set(info.signo, { ...a, handler: SIG_DFL });
    t.blocked &= ~bit;
  }
  if (!t.pending.some((i) => i.signo === info.signo)) t.pending.push(info);
}

/** The restart decision for a system call interrupted by a handler (handle_signal), on `ctx` in place. */
function restartForHandler(ctx: UserContext, nr: number, flags: bigint): void {
  const r = BigInt.asIntN(64, ctx.gpr[Gpr.RAX]!);
  if (r === -ERESTART.RESTARTBLOCK || r === -ERESTART.NOHAND) ctx.gpr[Gpr.RAX] = BigInt.asUintN(64, -4n); // EINTR
  else if (r === -ERESTART.SYS && (flags & SA.RESTART) === 0n) ctx.gpr[Gpr.RAX] = BigInt.asUintN(64, -4n);
  else if (r === -ERESTART.SYS || r === -ERESTART.NOINTR) { ctx.gpr[Gpr.RAX] = BigInt(nr); ctx.rip -= 2n; }
}

/** The restart decision when no handler ran: every restart code re-runs the call (RESTARTBLOCK as restart_syscall). */
function restartWithoutHandler(ctx: UserContext, nr: number): boolean {
  const r = BigInt.asIntN(64, ctx.gpr[Gpr.RAX]!);
  if (r === -ERESTART.SYS || r === -ERESTART.NOHAND || r === -ERESTART.NOINTR) { ctx.gpr[Gpr.RAX] = BigInt(nr); ctx.rip -= 2n; return true; }
  if (r === -ERESTART.RESTARTBLOCK) { ctx.gpr[Gpr.RAX] = BigInt(RESTART_SYSCALL_NR); ctx.rip -= 2n; return true; }
  return false;
}

/**
 * The kernel's way back to user mode for thread `t` (Linux's signal delivery point): its context is `port`, it
 * entered the kernel by `entry`. Dispositions are the process's (`p.signals`), mask, pending signals and the
 * alternate stack the thread's.
 */
export function returnToUser(p: LinuxProcess, port: ContextPort, entry: KernelEntry, t: ThreadSignals = p.signals.thread): ReturnOutcome {
  const s = p.signals;
  fireRealTimer(p);
  let ctx: UserContext | undefined;
  let fromSyscall = entry.kind === 'syscall';
  for (let guard = 0; guard < 128; guard++) {
    const info = takeNext(t);
    if (info === undefined) break;
    const sig = info.signo;
    const a = s.action(sig);
    if (sig !== SIGKILL && a.handler === SIG_IGN) continue;
    if (sig === SIGKILL || a.handler === SIG_DFL) {
      const d = defaultAction(sig);
      if (sig !== SIGKILL && (d === 'ignore' || d === 'stop')) continue; // no job control: a stop is ignored
      return { kind: 'killed', signal: sig, core: d === 'core' };
    }
    ctx ??= port.read();
    if (fromSyscall) restartForHandler(ctx, (entry as { nr: number }).nr, a.flags);
    fromSyscall = false;
    if ((a.flags & SA.RESETHAND) !== 0n) s.actions.set(sig, { ...a, handler: SIG_DFL });
    const oldMask = t.savedMask ?? t.blocked;
    const built = (a.flags & SA.RESTORER) !== 0n
      ? buildRtSigframe({ ctx, action: a, info, oldMask, alt: t.altStack, fault: t.fault })
      : undefined; // x86-64 requires SA_RESTORER: without it the frame cannot be set up
    const written = built !== undefined && built.writes.every((w) => p.mem.write(w.addr, w.bytes));
    if (!written || built === undefined) {
      // force_sigsegv: the frame could not be written (or would overflow the alternate stack)
      if (sig === 11) s.actions.set(11, { ...s.action(11), handler: SIG_DFL });
      forceSignal(s, kernelSignal(11), t);
      continue;
    }
    t.savedMask = undefined;
    t.blocked = (t.blocked | a.mask | ((a.flags & SA.NODEFER) !== 0n ? 0n : sigBit(sig))) & ~UNBLOCKABLE;
    if ((t.altStack.flags & SS_AUTODISARM) !== 0) t.altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
    p.events.signal?.('signal_delivery', sig, info.code, ctx.rip, built.handler.rip);
    ctx = built.handler;
  }
  if (ctx === undefined && entry.kind === 'syscall') {
    const r = BigInt.asIntN(64, port.read().gpr[Gpr.RAX]!);
    const c = port.read();
    if (r <= -ERESTART.SYS && restartWithoutHandler(c, entry.nr)) ctx = c;
  }
  if (ctx === undefined && t.savedMask !== undefined) {
    t.blocked = t.savedMask; // no handler ran after rt_sigsuspend: its temporary mask ends here
    t.savedMask = undefined;
  }
  if (ctx === undefined) return { kind: 'unchanged' };
  port.write(ctx);
  return { kind: 'changed' };
}
