// rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending, kill, tgkill, tkill. Dispositions and masks are kept
// and reported back exactly; the only signals that take effect are those a process sends itself whose default
// action ends it (abort(), raise(SIGTERM), a broken pipe): the process exits with status 128 + signal.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup, SyscallResult } from './handler.js';
import type { LinuxProcess } from './process.js';
import { NSIG, SIGKILL, SIGSTOP, type SigAction } from './signal-state.js';
import { killedBy } from './signal-exit.js';
import { StructWriter, le64, lei32 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

/** sizeof(sigset_t) in the kernel: 64 signals. */
const SIGSET_SIZE = 8n;
/** SIGKILL and SIGSTOP can be neither caught nor blocked. */
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;
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
  if (next !== undefined) p.signals.actions.set(sig, next);
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, encodeAction(old))) return err(E.EFAULT);
  return 0n;
}

function rtSigprocmask(p: LinuxProcess, a: Args): bigint {
  const how = int(a, 0), setAddr = u64(a, 1), oldAddr = u64(a, 2);
  if (u64(a, 3) !== SIGSET_SIZE) return err(E.EINVAL);
  const old = p.signals.blocked;
  if (setAddr !== 0n) {
    const b = readIn(p.mem, setAddr, 8);
    if (b === undefined) return err(E.EFAULT);
    const set = le64(b, 0) & ~UNBLOCKABLE;
    switch (how) {
      case SIG_BLOCK: p.signals.blocked = old | set; break;
      case SIG_UNBLOCK: p.signals.blocked = old & ~set; break;
      case SIG_SETMASK: p.signals.blocked = set; break;
      default: return err(E.EINVAL);
    }
  }
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, new StructWriter(8).u64(0, old).bytes)) return err(E.EFAULT);
  return 0n;
}

function sigaltstack(p: LinuxProcess, a: Args): bigint {
  const ssAddr = u64(a, 0), oldAddr = u64(a, 1);
  const old = p.signals.altStack;
  if (ssAddr !== 0n) {
    const b = readIn(p.mem, ssAddr, 24);
    if (b === undefined) return err(E.EFAULT);
    const sp = le64(b, 0), flags = lei32(b, 8), size = le64(b, 16);
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return err(E.EINVAL);
    if (mode === SS_DISABLE) p.signals.altStack = { sp: 0n, flags: SS_DISABLE, size: 0n };
    else if (size < MINSIGSTKSZ) return err(E.ENOMEM);
    else p.signals.altStack = { sp, flags: flags & SS_AUTODISARM, size };
  }
  if (oldAddr !== 0n) {
    const w = new StructWriter(24).u64(0, old.sp).i32(8, old.flags).u64(16, old.size);
    if (!writeOut(p.mem, oldAddr, w.bytes)) return err(E.EFAULT);
  }
  return 0n;
}

/** Sends `sig` to the process itself (after the target was checked). */
function sendSelf(p: LinuxProcess, sig: number): SyscallResult {
  if (sig < 0 || sig > NSIG) return err(E.EINVAL);
  if (sig === 0) return 0n;
  return p.signals.send(sig) === 'terminate' ? killedBy(sig) : 0n;
}

function kill(p: LinuxProcess, a: Args): SyscallResult {
  const pid = int(a, 0), sig = int(a, 1);
  if (sig < 0 || sig > NSIG) return err(E.EINVAL);
  const self = pid === p.ids.pid || pid === 0 || (pid < -1 && -pid === p.ids.pgid);
  return self ? sendSelf(p, sig) : err(E.ESRCH); // pid -1 means every process but this one: there is none
}

export const signalSyscalls: HandlerGroup = {
  rt_sigaction: rtSigaction,
  rt_sigprocmask: rtSigprocmask,
  sigaltstack,
  rt_sigpending: (p, a) => {
    const size = u64(a, 1);
    if (size > SIGSET_SIZE) return err(E.EINVAL);
    const bytes = new StructWriter(8).u64(0, p.signals.pending & p.signals.blocked).bytes.subarray(0, Number(size));
    return writeOut(p.mem, u64(a, 0), bytes) ? 0n : err(E.EFAULT);
  },
  kill,
  tgkill: (p, a) => {
    const tgid = int(a, 0), tid = int(a, 1);
    if (tgid <= 0 || tid <= 0) return err(E.EINVAL);
    return tgid === p.ids.pid && tid === p.ids.tid ? sendSelf(p, int(a, 2)) : err(E.ESRCH);
  },
  tkill: (p, a) => {
    const tid = int(a, 0);
    if (tid <= 0) return err(E.EINVAL);
    return tid === p.ids.tid ? sendSelf(p, int(a, 1)) : err(E.ESRCH);
  },
};
