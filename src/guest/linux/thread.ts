// The one thread: exit, arch_prctl (FS/GS bases), set_tid_address, robust lists, rseq, futex, scheduling.
// With a single thread nothing ever waits for a futex, and a wait that would sleep forever returns instead.
import { type Args, TASK_SIZE_MAX, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import type { LinuxProcess } from './process.js';
import { StructWriter, le32, les64 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
const ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

function archPrctl(p: LinuxProcess, a: Args): bigint {
  const addr = u64(a, 1);
  const put = (v: bigint): bigint => (writeOut(p.mem, addr, new StructWriter(8).u64(0, v).bytes) ? 0n : err(E.EFAULT));
  switch (int(a, 0)) {
    case ARCH_SET_FS:
      if (addr >= TASK_SIZE_MAX) return err(E.EPERM);
      p.setFsBase(addr);
      return 0n;
    case ARCH_SET_GS:
      if (addr >= TASK_SIZE_MAX) return err(E.EPERM);
      p.setGsBase(addr);
      return 0n;
    case ARCH_GET_FS: return put(p.getFsBase());
    case ARCH_GET_GS: return put(p.getGsBase());
    case ARCH_GET_CPUID: return 1n; // CPUID is allowed
    case ARCH_SET_CPUID: return err(E.ENODEV); // no CPUID faulting
    default: return err(E.EINVAL);
  }
}

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_FD = 2, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

/** The 32-bit futex word, or undefined (EFAULT). */
function futexWord(p: LinuxProcess, addr: bigint): number | undefined {
  const b = readIn(p.mem, addr, 4);
  return b === undefined ? undefined : le32(b, 0);
}

/** FUTEX_WAKE_OP's operation on *uaddr2 (the wake itself finds no waiters). */
function wakeOp(p: LinuxProcess, uaddr2: bigint, encoded: number): bigint {
  const old = futexWord(p, uaddr2);
  if (old === undefined) return err(E.EFAULT);
  let op = (encoded >>> 28) & 0xf;
  let oparg = (encoded << 8) >> 20;
  if ((op & 8) !== 0) {
    op &= 7;
    if (oparg < 0 || oparg > 31) oparg &= 31;
    oparg = 1 << oparg;
  }
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) return err(E.ENOSYS);
  return writeOut(p.mem, uaddr2, new StructWriter(4).u32(0, next).bytes) ? 0n : err(E.EFAULT);
}

function futex(p: LinuxProcess, a: Args): bigint {
  const uaddr = u64(a, 0), op = int(a, 1), val = int(a, 2) >>> 0, timeout = u64(a, 3), val3 = int(a, 5) >>> 0;
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  if ((op & FUTEX_CLOCK_REALTIME) !== 0 && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT) return err(E.ENOSYS);
  if ((uaddr & 3n) !== 0n) return err(E.EINVAL);
  switch (cmd) {
    case FUTEX_WAIT: case FUTEX_WAIT_BITSET: {
      if (cmd === FUTEX_WAIT_BITSET && val3 === 0) return err(E.EINVAL);
      if (timeout !== 0n) {
        const ts = readIn(p.mem, timeout, 16);
        if (ts === undefined) return err(E.EFAULT);
        const s = les64(ts, 0), ns = les64(ts, 8);
        if (s < 0n || ns < 0n || ns >= 1_000_000_000n) return err(E.EINVAL);
      }
      const word = futexWord(p, uaddr);
      if (word === undefined) return err(E.EFAULT);
      if (word !== val) return err(E.EAGAIN);
      // Nobody else can ever wake this thread: the wait would never end. Return as if it timed out (glibc
      // accepts ETIMEDOUT from any wait); a program that waits on itself is wrong anyway.
      return err(E.ETIMEDOUT);
    }
    case FUTEX_WAKE: case FUTEX_WAKE_BITSET:
      if (cmd === FUTEX_WAKE_BITSET && val3 === 0) return err(E.EINVAL);
      return 0n; // no waiters
    case FUTEX_REQUEUE: return 0n;
    case FUTEX_CMP_REQUEUE: {
      const word = futexWord(p, uaddr);
      if (word === undefined) return err(E.EFAULT);
      return word === val3 ? 0n : err(E.EAGAIN);
    }
    case FUTEX_WAKE_OP: return wakeOp(p, u64(a, 4), val3);
    case FUTEX_FD: default: return err(E.ENOSYS);
  }
}

/** sched_getaffinity: one CPU. The mask is as long as the kernel's (8 bytes); returns its size. */
function schedGetaffinity(p: LinuxProcess, a: Args): bigint {
  const pid = int(a, 0), len = u64(a, 1);
  if (pid !== 0 && pid !== p.ids.pid) return err(E.ESRCH);
  if (len < 8n || (len & 7n) !== 0n) return err(E.EINVAL);
  return writeOut(p.mem, u64(a, 2), new StructWriter(8).u64(0, 1n).bytes) ? 8n : err(E.EFAULT);
}

function exit(a: Args): { kind: 'exit'; status: number } {
  return { kind: 'exit', status: int(a, 0) & 0xff };
}

export const threadSyscalls: HandlerGroup = {
  exit: (_p, a) => exit(a),
  exit_group: (_p, a) => exit(a),
  arch_prctl: archPrctl,
  set_tid_address: (p, a) => {
    p.clearChildTid = u64(a, 0);
    return BigInt(p.ids.tid);
  },
  set_robust_list: (_p, a) => (u64(a, 1) === 24n ? 0n : err(E.EINVAL)),
  // restartable sequences are not offered; libc carries on without them, so this is not reported as unsupported
  rseq: () => err(E.ENOSYS),
  futex,
  sched_yield: () => 0n,
  sched_getaffinity: schedGetaffinity,
  sched_setaffinity: (p, a) => {
    const pid = int(a, 0);
    if (pid !== 0 && pid !== p.ids.pid) return err(E.ESRCH);
    const mask = readIn(p.mem, u64(a, 2), Math.min(Number(u64(a, 1) < 8n ? u64(a, 1) : 8n), 8));
    if (mask === undefined) return err(E.EFAULT);
    return ((mask[0] ?? 0) & 1) !== 0 ? 0n : err(E.EINVAL);
  },
  getcpu: (p, a) => {
    const zero = new Uint8Array(4);
    for (const i of [0, 1]) if (u64(a, i) !== 0n && !writeOut(p.mem, u64(a, i), zero)) return err(E.EFAULT);
    return 0n;
  },
  sched_getscheduler: (p, a) => (int(a, 0) === 0 || int(a, 0) === p.ids.pid ? 0n : err(E.ESRCH)), // SCHED_OTHER
  sched_get_priority_max: (_p, a) => (int(a, 0) === 1 || int(a, 0) === 2 ? 99n : int(a, 0) >= 0 && int(a, 0) <= 6 && int(a, 0) !== 4 ? 0n : err(E.EINVAL)),
  sched_get_priority_min: (_p, a) => (int(a, 0) === 1 || int(a, 0) === 2 ? 1n : int(a, 0) >= 0 && int(a, 0) <= 6 && int(a, 0) !== 4 ? 0n : err(E.EINVAL)),
};
