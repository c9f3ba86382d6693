// The guest's clocks, derived from one host real-time source. Sleeps do not wait: they move the guest's clocks
// forward instead (`skew`), so a program that sleeps and then measures sees the time it slept.

/** Clock ids (clock_gettime). */
export const CLOCK = {
  REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3, MONOTONIC_RAW: 4,
  REALTIME_COARSE: 5, MONOTONIC_COARSE: 6, BOOTTIME: 7, REALTIME_ALARM: 8, BOOTTIME_ALARM: 9, TAI: 11,
} as const;

/** CLOCK_MONOTONIC when the process starts (the machine has been up this long). */
const MONOTONIC_AT_START = 10_000_000_000n;
/** TAI - UTC since 2017. */
const TAI_OFFSET = 37_000_000_000n;

/** Real time now in ns since the epoch, from Date.now() at load plus the high-resolution timer since. */
export const hostRealtimeNs: () => bigint = (() => {
  const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => base + process.hrtime.bigint();
})();

export class GuestClock {
  private readonly now: () => bigint;
  private readonly cpuTime: (() => bigint) | undefined;
  /** `now()` when the process started. */
  private readonly start: bigint;
  /** Last CLOCK_MONOTONIC reported (it never goes back, even if the host's real time does). */
  private lastMonotonic = MONOTONIC_AT_START;
  /** ns the guest slept without the host waiting; added to every clock. */
  private skew = 0n;

  /** `now`: real time in ns since the epoch. `cpuTime`: the process's CPU time in ns (default: time since start). */
  constructor(now: () => bigint, cpuTime?: () => bigint) {
    this.now = now;
    this.cpuTime = cpuTime;
    this.start = now();
  }

  realtime(): bigint {
    return this.now() + this.skew;
  }

  monotonic(): bigint {
    const m = MONOTONIC_AT_START + (this.now() - this.start) + this.skew;
    if (m > this.lastMonotonic) this.lastMonotonic = m;
    return this.lastMonotonic;
  }

  /** CPU time used by the process (and its one thread). */
  cpu(): bigint {
    return this.cpuTime !== undefined ? this.cpuTime() : this.monotonic() - MONOTONIC_AT_START;
  }

  /** Seconds the machine has been up (sysinfo). */
  uptime(): bigint {
    return this.monotonic() / 1_000_000_000n;
  }

  /** Advances every clock by `ns` (a sleep). */
  sleep(ns: bigint): void {
    if (ns > 0n) this.skew += ns;
  }

  /** The value of a clock in ns, or undefined if the id is not a clock. */
  read(id: number): bigint | undefined {
    switch (id) {
      case CLOCK.REALTIME: case CLOCK.REALTIME_COARSE: case CLOCK.REALTIME_ALARM: return this.realtime();
      case CLOCK.MONOTONIC: case CLOCK.MONOTONIC_RAW: case CLOCK.MONOTONIC_COARSE:
      case CLOCK.BOOTTIME: case CLOCK.BOOTTIME_ALARM: return this.monotonic();
      case CLOCK.PROCESS_CPUTIME_ID: case CLOCK.THREAD_CPUTIME_ID: return this.cpu();
      case CLOCK.TAI: return this.realtime() + TAI_OFFSET;
      default: return undefined;
    }
  }

  /** The resolution of a clock in ns, or undefined if the id is not a clock. */
  resolution(id: number): bigint | undefined {
    if (id === CLOCK.REALTIME_COARSE || id === CLOCK.MONOTONIC_COARSE) return 4_000_000n; // one jiffy at HZ=250
    return this.read(id) === undefined ? undefined : 1n;
  }
}
