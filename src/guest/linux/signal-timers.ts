// ITIMER_REAL (alarm, setitimer, getitimer) on the guest's clock, and sleeping until a signal arrives (pause,
// rt_sigsuspend). Sleeps do not wait: the guest's clocks move forward to the timer's expiry, and the timer fires
// there, so runs are repeatable. A due timer is noticed whenever the thread goes back to user mode (after every
// system call and fault); a loop that never enters the kernel is not interrupted.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { LinuxProcess } from './process.js';
import { SI, kernelSignal } from './signal-info.js';
import { StructWriter, les64 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

const SIGALRM = 14;
const NS = 1_000_000_000n;
const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

/** Moves a due timer past `now` (counting the periods that passed); returns how many expiries that was (0: not due). */
function expire(t: { deadline: bigint; interval: bigint }, now: bigint): bigint {
  if (t.deadline === 0n || now < t.deadline) return 0n;
  if (t.interval === 0n) { t.deadline = 0n; return 1n; }
  const n = (now - t.deadline) / t.interval + 1n;
  t.deadline += n * t.interval;
  return n;
}

/** Queues the signals of the timers that are due: SIGALRM for ITIMER_REAL, each POSIX timer's own (SI_TIMER). */
export function fireRealTimer(p: LinuxProcess): void {
  const s = p.signals, now = p.clock.monotonic();
  if (expire(s.realTimer, now) > 0n) s.queue(kernelSignal(SIGALRM));
  for (const [id, t] of s.posixTimers) {
    const n = expire(t, now);
    if (n === 0n || t.signo === 0) continue;
    const queued = s.thread.pending.find((i) => i.fields.kind === 'timer' && i.fields.id === id);
    if (queued !== undefined && queued.fields.kind === 'timer') { queued.fields.overrun += Number(n); t.overrun = queued.fields.overrun; continue; }
    t.overrun = Number(n - 1n);
    s.queue({ signo: t.signo, errno: 0, code: SI.TIMER, fields: { kind: 'timer', id, overrun: t.overrun, value: t.value } });
  }
}

/** The earliest armed timer's expiry, 0n when none is armed. */
export function nextDeadline(p: LinuxProcess): bigint {
  let d = p.signals.realTimer.deadline;
  for (const t of p.signals.posixTimers.values()) if (t.deadline !== 0n && t.signo !== 0 && (d === 0n || t.deadline < d)) d = t.deadline;
  return d;
}

/**
 * Sleeps until a signal the thread does not block is pending: moves the guest's clocks to the real-time timer's
 * expiry when one is needed. False when no signal can ever come (nothing pending and no timer armed).
 */
export function sleepUntilSignal(p: LinuxProcess, until?: bigint): 'signal' | 'timeout' | 'never' {
  for (let guard = 0; guard < 1_000_000; guard++) {
    fireRealTimer(p);
    if (p.signals.thread.hasDeliverable()) return 'signal';
    const d = nextDeadline(p);
    if (d === 0n || (until !== undefined && d > until)) {
      if (until === undefined) return 'never';
      const now = p.clock.monotonic();
      if (until > now) p.clock.sleep(until - now);
      return 'timeout';
    }
    const now = p.clock.monotonic();
    if (d > now) p.clock.sleep(d - now);
  }
  return 'never'; // a timer that keeps firing into ignored or blocked signals
}

/**
 * Sleeps `ns` on the guest's clock unless a signal the thread does not block arrives first (the real-time timer
 * firing during the sleep): undefined when the whole sleep passed, else the time that was left.
 */
export function interruptibleSleep(p: LinuxProcess, ns: bigint): bigint | undefined {
  const end = p.clock.monotonic() + (ns > 0n ? ns : 0n);
  if (sleepUntilSignal(p, end) !== 'signal') return undefined;
  const left = end - p.clock.monotonic();
  return left > 0n ? left : 0n;
}

/** The remaining time and interval of ITIMER_REAL, in ns. */
function remaining(p: LinuxProcess): { value: bigint; interval: bigint } {
  const t = p.signals.realTimer;
  if (t.deadline === 0n) return { value: 0n, interval: t.interval };
  const left = t.deadline - p.clock.monotonic();
  return { value: left > 0n ? left : 1n, interval: t.interval }; // an expired, not yet delivered timer shows 1 ns... as Linux's 1 us
}

function arm(p: LinuxProcess, value: bigint, interval: bigint): void {
  p.signals.realTimer = { deadline: value === 0n ? 0n : p.clock.monotonic() + value, interval: value === 0n ? 0n : interval };
}

/** struct itimerval (interval, then value; each timeval) from ns. */
function encodeItimerval(interval: bigint, value: bigint): Uint8Array {
  const us = (ns: bigint): bigint => (ns + 999n) / 1000n; // Linux rounds the remaining time up to a microsecond
  const iv = us(interval), v = us(value);
  return new StructWriter(32).u64(0, iv / 1_000_000n).u64(8, iv % 1_000_000n).u64(16, v / 1_000_000n).u64(24, v % 1_000_000n).bytes;
}

function alarm(p: LinuxProcess, a: Args): bigint {
  const secs = BigInt(int(a, 0) >>> 0);
  const old = remaining(p).value;
  arm(p, secs * NS, 0n);
  if (old === 0n) return 0n;
  const us = (old + 999n) / 1000n;
  const s = us / 1_000_000n + (us % 1_000_000n >= 500_000n ? 1n : 0n);
  return s === 0n ? 1n : s; // a pending alarm never reads as 0 seconds
}

function getitimer(p: LinuxProcess, a: Args): bigint {
  const which = int(a, 0);
  if (which === ITIMER_VIRTUAL || which === ITIMER_PROF) return writeOut(p.mem, u64(a, 1), new Uint8Array(32)) ? 0n : err(E.EFAULT);
  if (which !== ITIMER_REAL) return err(E.EINVAL);
  const r = remaining(p);
  return writeOut(p.mem, u64(a, 1), encodeItimerval(r.interval, r.value)) ? 0n : err(E.EFAULT);
}

function setitimer(p: LinuxProcess, a: Args): bigint {
  const which = int(a, 0), newAddr = u64(a, 1), oldAddr = u64(a, 2);
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF) return err(E.EINVAL);
  let next: { interval: bigint; value: bigint } | undefined;
  if (newAddr !== 0n) {
    const b = readIn(p.mem, newAddr, 32);
    if (b === undefined) return err(E.EFAULT);
    const f = [0, 8, 16, 24].map((o) => les64(b, o));
    if (f[1]! < 0n || f[1]! >= 1_000_000n || f[3]! < 0n || f[3]! >= 1_000_000n || f[0]! < 0n || f[2]! < 0n) return err(E.EINVAL);
    next = { interval: f[0]! * NS + f[1]! * 1000n, value: f[2]! * NS + f[3]! * 1000n };
  }
  if (which !== ITIMER_REAL) {
    if (next !== undefined && next.value !== 0n) p.unsupportedCall('partial', 'ITIMER_VIRTUAL and ITIMER_PROF never fire');
    return oldAddr !== 0n && !writeOut(p.mem, oldAddr, new Uint8Array(32)) ? err(E.EFAULT) : 0n;
  }
  const old = remaining(p);
  if (next !== undefined) arm(p, next.value, next.interval);
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, encodeItimerval(old.interval, old.value))) return err(E.EFAULT);
  return 0n;
}

export const timerSyscalls = { alarm, getitimer, setitimer };
