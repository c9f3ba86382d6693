// POSIX timers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete, notifying with a
// signal (SIGEV_SIGNAL, SIGEV_THREAD_ID for the one thread) or not at all (SIGEV_NONE). They run on the guest's
// clock like ITIMER_REAL (signal-timers.ts): a due timer is noticed on the way back to user mode, and sleeps
// jump to its expiry. SIGEV_THREAD needs threads and is refused (EINVAL, reported).
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { LinuxProcess } from './process.js';
import { CLOCK } from './guest-clock.js';
import { NSIG, type PosixTimer } from './signal-state.js';
import { StructWriter, le64, lei32, les64 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
const TIMER_ABSTIME = 1;
const NS = 1_000_000_000n;
const SIGALRM = 14;
/** Clocks a timer can be created on. */
const TIMER_CLOCKS: ReadonlySet<number> = new Set([CLOCK.REALTIME, CLOCK.MONOTONIC, CLOCK.BOOTTIME, CLOCK.TAI]);

function timerCreate(p: LinuxProcess, a: Args): bigint {
  const clock = int(a, 0), sevp = u64(a, 1), idAddr = u64(a, 2);
  if (!TIMER_CLOCKS.has(clock)) {
    if (clock === CLOCK.PROCESS_CPUTIME_ID || clock === CLOCK.THREAD_CPUTIME_ID) p.unsupportedCall('EINVAL', 'CPU-time timers');
    return err(E.EINVAL);
  }
  const s = p.signals;
  let id = 0;
  while (s.posixTimers.has(id)) id++;
  let signo = SIGALRM, value = BigInt(id);
  if (sevp !== 0n) {
    const b = readIn(p.mem, sevp, 24);
    if (b === undefined) return err(E.EFAULT);
    value = le64(b, 0);
    const sig = lei32(b, 8), notify = lei32(b, 12);
    if (notify === SIGEV_NONE) signo = 0;
    else if (notify === SIGEV_SIGNAL || (notify === SIGEV_THREAD_ID && lei32(b, 16) === p.ids.tid)) {
      if (sig < 1 || sig > NSIG) return err(E.EINVAL);
      signo = sig;
    } else {
      if (notify === SIGEV_THREAD) p.unsupportedCall('EINVAL', 'SIGEV_THREAD timers');
      return err(E.EINVAL);
    }
  }
  if (!writeOut(p.mem, idAddr, new StructWriter(4).i32(0, id).bytes)) return err(E.EFAULT);
  const t: PosixTimer = { clock, signo, value, deadline: 0n, interval: 0n, overrun: 0 };
  s.posixTimers.set(id, t);
  return 0n;
}

/** struct itimerspec (interval, value; each timespec) from ns. */
function encodeItimerspec(interval: bigint, value: bigint): Uint8Array {
  return new StructWriter(32).u64(0, interval / NS).u64(8, interval % NS).u64(16, value / NS).u64(24, value % NS).bytes;
}

function current(p: LinuxProcess, t: PosixTimer): Uint8Array {
  const left = t.deadline === 0n ? 0n : t.deadline - p.clock.monotonic();
  return encodeItimerspec(t.interval, left > 0n ? left : t.deadline === 0n ? 0n : 1n);
}

function timerSettime(p: LinuxProcess, a: Args): bigint {
  const t = p.signals.posixTimers.get(int(a, 0));
  if (t === undefined) return err(E.EINVAL);
  const flags = int(a, 1), newAddr = u64(a, 2), oldAddr = u64(a, 3);
  const b = readIn(p.mem, newAddr, 32);
  if (b === undefined) return err(E.EFAULT);
  const f = [0, 8, 16, 24].map((o) => les64(b, o));
  if (f.some((v) => v < 0n) || f[1]! >= NS || f[3]! >= NS) return err(E.EINVAL);
  const interval = f[0]! * NS + f[1]!;
  let value = f[2]! * NS + f[3]!;
  const old = current(p, t);
  if (value !== 0n && (flags & TIMER_ABSTIME) !== 0) {
    const now = p.clock.read(t.clock) ?? 0n;
    value = value > now ? value - now : 1n; // an absolute time in the past expires at once
  }
  t.deadline = value === 0n ? 0n : p.clock.monotonic() + value;
  t.interval = value === 0n ? 0n : interval;
  t.overrun = 0;
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, old)) return err(E.EFAULT);
  return 0n;
}

export const posixTimerSyscalls = {
  timer_create: timerCreate,
  timer_settime: timerSettime,
  timer_gettime: (p: LinuxProcess, a: Args): bigint => {
    const t = p.signals.posixTimers.get(int(a, 0));
    if (t === undefined) return err(E.EINVAL);
    return writeOut(p.mem, u64(a, 1), current(p, t)) ? 0n : err(E.EFAULT);
  },
  timer_getoverrun: (p: LinuxProcess, a: Args): bigint => {
    const t = p.signals.posixTimers.get(int(a, 0));
    return t === undefined ? err(E.EINVAL) : BigInt(t.overrun);
  },
  timer_delete: (p: LinuxProcess, a: Args): bigint => {
    const id = int(a, 0), s = p.signals;
    if (!s.posixTimers.delete(id)) return err(E.EINVAL);
    const t = s.thread;
    for (let k = t.pending.length - 1; k >= 0; k--) {
      const f = t.pending[k]!.fields;
      if (f.kind === 'timer' && f.id === id) t.pending.splice(k, 1); // a deleted timer's queued signal is dropped
    }
    return 0n;
  },
};
