// clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep. Every time value the guest gets
// is an input. Sleeps return at once and advance the guest's clocks instead.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { CLOCK } from './guest-clock.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { StructWriter, les64 } from './struct-writer.js';
import { interruptibleSleep } from './signal-timers.js';
import { ERESTART } from './signal-restart.js';
import { readIn, writeOut } from './user-memory.js';

const NS = 1_000_000_000n;
const TIMER_ABSTIME = 1;

function timespec(ns: bigint): Uint8Array {
  return new StructWriter(16).u64(0, ns / NS).u64(8, ns % NS).bytes;
}

/** Writes a time value and reports it as an input. */
function timeOut(p: LinuxProcess, addr: bigint, bytes: Uint8Array): bigint {
  if (!writeOut(p.mem, addr, bytes)) return err(E.EFAULT);
  p.input(InputKind.CLOCK, bytes);
  return 0n;
}

/** A struct timespec argument in ns, or an errno (EFAULT, EINVAL for a negative or unnormalized value). */
function readTimespec(p: LinuxProcess, addr: bigint): bigint | number {
  const b = readIn(p.mem, addr, 16);
  if (b === undefined) return E.EFAULT;
  const s = les64(b, 0), ns = les64(b, 8);
  if (s < 0n || ns < 0n || ns >= NS) return E.EINVAL;
  return s * NS + ns;
}

function clockGettime(p: LinuxProcess, a: Args): bigint {
  const v = p.clock.read(int(a, 0));
  return v === undefined ? err(E.EINVAL) : timeOut(p, u64(a, 1), timespec(v));
}

function clockGetres(p: LinuxProcess, a: Args): bigint {
  const r = p.clock.resolution(int(a, 0));
  if (r === undefined) return err(E.EINVAL);
  const addr = u64(a, 1);
  return addr === 0n || writeOut(p.mem, addr, timespec(r)) ? 0n : err(E.EFAULT);
}

function gettimeofday(p: LinuxProcess, a: Args): bigint {
  const tv = u64(a, 0), tz = u64(a, 1);
  if (tv !== 0n) {
    const now = p.clock.realtime();
    const r = timeOut(p, tv, new StructWriter(16).u64(0, now / NS).u64(8, (now % NS) / 1000n).bytes);
    if (r !== 0n) return r;
  }
  if (tz !== 0n && !writeOut(p.mem, tz, new Uint8Array(8))) return err(E.EFAULT); // UTC, no DST
  return 0n;
}

function time(p: LinuxProcess, a: Args): bigint {
  const s = p.clock.realtime() / NS;
  const bytes = new StructWriter(8).u64(0, s).bytes;
  const tloc = u64(a, 0);
  if (tloc !== 0n && !writeOut(p.mem, tloc, bytes)) return err(E.EFAULT);
  p.input(InputKind.CLOCK, bytes);
  return s;
}

/** A relative sleep a signal can interrupt: 0, or -ERESTART_RESTARTBLOCK with the time left written to `rem` (if not 0). */
function relativeSleep(p: LinuxProcess, ns: bigint, rem: bigint): bigint {
  const left = interruptibleSleep(p, ns);
  if (left === undefined) return 0n;
  if (rem !== 0n && !writeOut(p.mem, rem, new StructWriter(16).u64(0, left / NS).u64(8, left % NS).bytes)) return err(E.EFAULT);
  return -ERESTART.RESTARTBLOCK; // EINTR once the handler runs (signal-deliver.ts)
}

function nanosleep(p: LinuxProcess, a: Args): bigint {
  const ns = readTimespec(p, u64(a, 0));
  if (typeof ns === 'number') return err(ns);
  return relativeSleep(p, ns, u64(a, 1));
}

/** Clocks clock_nanosleep can sleep on. */
const SLEEP_CLOCKS: ReadonlySet<number> = new Set([
  CLOCK.REALTIME, CLOCK.MONOTONIC, CLOCK.BOOTTIME, CLOCK.TAI, CLOCK.PROCESS_CPUTIME_ID, CLOCK.REALTIME_ALARM, CLOCK.BOOTTIME_ALARM,
]);

function clockNanosleep(p: LinuxProcess, a: Args): bigint {
  const id = int(a, 0), flags = int(a, 1);
  if (!SLEEP_CLOCKS.has(id)) return err(E.EINVAL);
  const ns = readTimespec(p, u64(a, 2));
  if (typeof ns === 'number') return err(ns);
  if ((flags & TIMER_ABSTIME) !== 0) {
    const now = p.clock.read(id) ?? 0n;
    return interruptibleSleep(p, ns - now) === undefined ? 0n : -ERESTART.NOHAND; // an absolute sleep has no time left to report
  }
  return relativeSleep(p, ns, u64(a, 3));
}

export const timeSyscalls: HandlerGroup = {
  clock_gettime: clockGettime,
  clock_getres: clockGetres,
  gettimeofday,
  time,
  nanosleep,
  clock_nanosleep: clockNanosleep,
};
