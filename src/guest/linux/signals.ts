// rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending, kill, tgkill, tkill, rt_sigreturn, rt_sigsuspend,
// pause, rt_sigtimedwait, alarm, setitimer, getitimer. A signal sent to the process itself is queued and delivered
// on the way back to user mode (signal-deliver.ts); one whose default action ends the process ends it at once.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup, SyscallResult } from './handler.js';
import type { LinuxProcess } from './process.js';
import { Gpr } from './signal-context.js';
import { forceSignal } from './signal-deliver.js';
import { altStackFlags, onAltStack, parseRtSigframe } from './signal-frame.js';
import { SI, encodeSigInfo, kernelSignal, userSignal } from './signal-info.js';
import { ERESTART } from './signal-restart.js';
import { NSIG, SIGKILL, SIGSTOP, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, type AltStack, type SigAction, UNBLOCKABLE, sigBit } from './signal-state.js';
import { killedBy } from './signal-exit.js';
import { nextDeadline, sleepUntilSignal, timerSyscalls } from './signal-timers.js';
import { posixTimerSyscalls } from './signal-posix-timers.js';
import { StructWriter, le64, lei32, les64 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

/** sizeof(sigset_t) in the kernel: 64 signals. */
const SIGSET_SIZE = 8n;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const MINSIGSTKSZ = 2048n;

function encodeAction(s: SigAction): Uint8Array {
  return new StructWriter(32).u64(0, s.handler).u64(8, s.flags).u64(16, s.restorer).u64(24, s.mask).bytes;
}

function rtSigaction(p: LinuxProcess, a: Args): bigint {
  const sig = int(a, 0), actAddr = u64(a, 1), oldAddr = u64(a, 2);
  if (u64(a, 3) !== SIGSET_SIZE) return err(E.EINVAL);
  let next: SigAction | undefined;
  if (actAddr !== 0n) {
    const b = readIn(p.mem, actAddr, 32);
    if (b === undefined) return err(E.EFAULT);
    next = { handler: le64(b, 0), flags: le64(b, 8), restorer: le64(b, 16), mask: le64(b, 24) & ~UNBLOCKABLE };
  }
  if (sig < 1 || sig > NSIG || (next !== undefined && (sig === SIGKILL || sig === SIGSTOP))) return err(E.EINVAL);
  const old = p.signals.action(sig);
  if (next !== undefined) {
    p.signals.actions.set(sig, next);
    // POSIX: setting a signal to be ignored discards its pending instances
    const t = p.signals.thread;
    if (p.signals.ignored(sig)) for (let k = t.pending.length - 1; k >= 0; k--) if (t.pending[k]!.signo === sig) t.pending.splice(k, 1);
  }
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, encodeAction(old))) return err(E.EFAULT);
  return 0n;
}

/** A sigset argument, or an errno. */
function readSet(p: LinuxProcess, addr: bigint): bigint | number {
  const b = readIn(p.mem, addr, 8);
  return b === undefined ? E.EFAULT : le64(b, 0);
}

function rtSigprocmask(p: LinuxProcess, a: Args): bigint {
  const how = int(a, 0), setAddr = u64(a, 1), oldAddr = u64(a, 2);
  if (u64(a, 3) !== SIGSET_SIZE) return err(E.EINVAL);
  const t = p.signals.thread;
  const old = t.blocked;
  if (setAddr !== 0n) {
    const raw = readSet(p, setAddr);
    if (typeof raw === 'number') return err(raw);
    const set = raw & ~UNBLOCKABLE;
    switch (how) {
      case SIG_BLOCK: t.blocked = old | set; break;
      case SIG_UNBLOCK: t.blocked = old & ~set; break;
      case SIG_SETMASK: t.blocked = set; break;
      default: return err(E.EINVAL);
    }
  }
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, new StructWriter(8).u64(0, old).bytes)) return err(E.EFAULT);
  return 0n;
}

/** The user RSP of the current kernel entry (0 without a processor: never on the alternate stack). */
function userSp(p: LinuxProcess): bigint {
  return p.signals.port?.read().gpr[Gpr.RSP] ?? 0n;
}

/** do_sigaltstack: installs `next` (if given) at user stack pointer `sp`; returns 0 or -errno. */
function setAltStack(p: LinuxProcess, next: AltStack, sp: bigint): bigint {
  const t = p.signals.thread;
  if (onAltStack(sp, t.altStack)) return err(E.EPERM);
  const mode = next.flags & ~SS_AUTODISARM;
  if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return err(E.EINVAL);
  if (mode === SS_DISABLE) t.altStack = { sp: 0n, flags: next.flags, size: 0n };
  else if (next.size < MINSIGSTKSZ) return err(E.ENOMEM);
  else t.altStack = { ...next };
  return 0n;
}

function sigaltstack(p: LinuxProcess, a: Args): bigint {
  const ssAddr = u64(a, 0), oldAddr = u64(a, 1);
  const sp = userSp(p);
  const old = p.signals.thread.altStack;
  if (ssAddr !== 0n) {
    const b = readIn(p.mem, ssAddr, 24);
    if (b === undefined) return err(E.EFAULT);
    const r = setAltStack(p, { sp: le64(b, 0), flags: lei32(b, 8), size: le64(b, 16) }, sp);
    if (r !== 0n) return r;
  }
  if (oldAddr !== 0n) {
    const flags = altStackFlags(sp, old) | (old.flags & SS_AUTODISARM);
    const w = new StructWriter(24).u64(0, old.sp).i32(8, flags).u64(16, old.size);
    if (!writeOut(p.mem, oldAddr, w.bytes)) return err(E.EFAULT);
  }
  return 0n;
}

/** Sends `sig` with `code` (SI_USER, SI_TKILL) to the process itself (after the target was checked). */
function sendSelf(p: LinuxProcess, sig: number, code: number): SyscallResult {
  if (sig < 0 || sig > NSIG) return err(E.EINVAL);
  if (sig === 0) return 0n;
  return p.signals.send(sig, userSignal(sig, code, p.ids.pid, p.ids.uid)) === 'terminate' ? killedBy(sig) : 0n;
}

function kill(p: LinuxProcess, a: Args): SyscallResult {
  const pid = int(a, 0), sig = int(a, 1);
  if (sig < 0 || sig > NSIG) return err(E.EINVAL);
  const self = pid === p.ids.pid || pid === 0 || (pid < -1 && -pid === p.ids.pgid);
  return self ? sendSelf(p, sig, SI.USER) : err(E.ESRCH); // pid -1 means every process but this one: there is none
  // SIGCHLD: a parent gets it when a child ends: the process layer queues childSignal(...) (signal-info.ts)
}

/** rt_sigreturn: the context and mask saved in the frame at RSP - 8 (possibly changed by the handler). */
function rtSigreturn(p: LinuxProcess): bigint {
  const port = p.signals.port;
  if (port === undefined) return err(E.ENOSYS); // no processor: nothing to return to
  const cur = port.read();
  const f = parseRtSigframe(cur, (addr, len) => readIn(p.mem, addr, len));
  if (f === undefined) {
    forceSignal(p.signals, kernelSignal(11)); // signal_fault: a bad frame kills with SIGSEGV
    return 0n;
  }
  p.signals.thread.blocked = f.mask & ~UNBLOCKABLE;
  port.write(f.ctx);
  p.events.signal?.('sigreturn', 0, 0, cur.rip, f.ctx.rip);
  setAltStack(p, f.stack, f.ctx.gpr[Gpr.RSP]!); // restore_altstack: errors other than EFAULT are ignored
  return f.ctx.gpr[Gpr.RAX]!;
}

/** Waits for a signal (pause, rt_sigsuspend): -ERESTARTNOHAND once one is deliverable. */
function waitForSignal(p: LinuxProcess): bigint {
  if (sleepUntilSignal(p) === 'never') {
    p.unsupportedCall('partial', 'waits for a signal that can never come (nothing pending, no timer armed)');
    return err(E.EINTR);
  }
  return -ERESTART.NOHAND;
}

function rtSigsuspend(p: LinuxProcess, a: Args): bigint {
  if (u64(a, 1) !== SIGSET_SIZE) return err(E.EINVAL);
  const set = readSet(p, u64(a, 0));
  if (typeof set === 'number') return err(set);
  const t = p.signals.thread;
  t.savedMask = t.blocked;
  t.blocked = set & ~UNBLOCKABLE;
  const r = waitForSignal(p);
  if (r !== -ERESTART.NOHAND) { t.blocked = t.savedMask; t.savedMask = undefined; }
  return r;
}

/** rt_sigtimedwait: takes a pending signal of the set (waiting for the timer if needed), or EAGAIN at the timeout. */
function rtSigtimedwait(p: LinuxProcess, a: Args): bigint {
  if (u64(a, 3) !== SIGSET_SIZE) return err(E.EINVAL);
  const raw = readSet(p, u64(a, 0));
  if (typeof raw === 'number') return err(raw);
  const set = raw & ~UNBLOCKABLE;
  let until: bigint | undefined;
  if (u64(a, 2) !== 0n) {
    const ts = readIn(p.mem, u64(a, 2), 16);
    if (ts === undefined) return err(E.EFAULT);
    const s = les64(ts, 0), ns = les64(ts, 8);
    if (s < 0n || ns < 0n || ns >= 1_000_000_000n) return err(E.EINVAL);
    until = p.clock.monotonic() + s * 1_000_000_000n + ns;
  }
  const t = p.signals.thread;
  const take = (): bigint | undefined => {
    const k = t.pending.findIndex((i) => (set & sigBit(i.signo)) !== 0n);
    if (k < 0) return undefined;
    const info = t.pending.splice(k, 1)[0]!;
    if (u64(a, 1) !== 0n && !writeOut(p.mem, u64(a, 1), encodeSigInfo(info))) return err(E.EFAULT);
    return BigInt(info.signo);
  };
  const now = take();
  if (now !== undefined) return now;
  // the signals of the set are unblocked while waiting, as Linux does
  const saved = t.blocked;
  t.blocked &= ~set;
  const r = sleepUntilSignal(p, until ?? (nextDeadline(p) === 0n ? p.clock.monotonic() : undefined));
  t.blocked = saved;
  const got = take();
  if (got !== undefined) return got;
  if (r === 'signal') return -ERESTART.NOHAND; // another signal arrived: its handler runs, the call returns EINTR
  if (until === undefined && r !== 'timeout') p.unsupportedCall('partial', 'waits for a signal that can never come');
  return err(E.EAGAIN);
}

export const signalSyscalls: HandlerGroup = {
  rt_sigaction: rtSigaction,
  rt_sigprocmask: rtSigprocmask,
  sigaltstack,
  rt_sigpending: (p, a) => {
    const size = u64(a, 1);
    if (size > SIGSET_SIZE) return err(E.EINVAL);
    const t = p.signals.thread;
    const bytes = new StructWriter(8).u64(0, t.pendingSet() & t.blocked).bytes.subarray(0, Number(size));
    return writeOut(p.mem, u64(a, 0), bytes) ? 0n : err(E.EFAULT);
  },
  kill,
  tgkill: (p, a) => {
    const tgid = int(a, 0), tid = int(a, 1);
    if (tgid <= 0 || tid <= 0) return err(E.EINVAL);
    return tgid === p.ids.pid && tid === p.ids.tid ? sendSelf(p, int(a, 2), SI.TKILL) : err(E.ESRCH);
  },
  tkill: (p, a) => {
    const tid = int(a, 0);
    if (tid <= 0) return err(E.EINVAL);
    return tid === p.ids.tid ? sendSelf(p, int(a, 1), SI.TKILL) : err(E.ESRCH);
  },
  rt_sigreturn: (p) => rtSigreturn(p),
  rt_sigsuspend: rtSigsuspend,
  pause: (p) => waitForSignal(p),
  rt_sigtimedwait: rtSigtimedwait,
  ...timerSyscalls,
  ...posixTimerSyscalls,
};
