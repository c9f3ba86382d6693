// Values the processor takes from its host instead of computing them from its state: the time-stamp counter
// (RDTSC, RDTSCP) and random numbers (RDRAND). They come from one object on the processor (`Cpu.host`), so
// that a recording logs every value as an input row of the trace (loggedHostValues) and a replay feeds the
// logged values back (src/replayer/replayed-host-values.ts) instead of asking a host again.
import type { Cpu } from './cpu.js';
import { Off } from './state.js';

/** What an instruction asks its host for. */
export const enum HostValue {
  /** RDTSC: the time-stamp counter (8 bytes). */
  TSC = 0,
  /** RDTSCP: the time-stamp counter (8 bytes; ECX comes from IA32_TSC_AUX, which is state). */
  TSCP = 1,
  /** RDRAND: a random value of the operand size (2, 4 or 8 bytes). */
  RANDOM = 2,
}

/** The inputs-table kind of each HostValue (data: the value, little-endian, as many bytes as it has). */
export const HOST_INPUT_KINDS: readonly string[] = ['rdtsc', 'rdtscp', 'rdrand'];

/** The processor's source of host-chosen values. */
export interface HostValues {
  /**
   * The value of `what` for the instruction executing, `size` bytes (8 for the TSC): returns its lo half and
   * leaves its hi half in `c.hi` (zero for sizes below 8; a 2-byte value is in the low 16 bits).
   */
  value(c: Cpu, what: HostValue, size: number): number;
}

/**
 * The model's own values: the TSC is IA32_TIME_STAMP_COUNTER plus the steps executed, and random values come
 * from `random` (the machine's random bytes; by default a fixed xorshift32 stream).
 */
export function modelHostValues(random?: (n: number) => Uint8Array): HostValues {
  let x = 0x2545f491; // xorshift32 state (any non-zero value)
  const next32 = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  return {
    value(c, what, size) {
      if (what !== HostValue.RANDOM) {
        const r = c.r, n = c.icount;
        const s = r[Off.TSC >> 2]! + (n >>> 0);
        c.hi = (r[(Off.TSC >> 2) + 1]! + Math.floor(n / 4294967296) + (s > 0xffffffff ? 1 : 0)) >>> 0;
        return s >>> 0;
      }
      if (random === undefined) { const lo = next32(); c.hi = size === 8 ? next32() : 0; return size === 2 ? lo & 0xffff : lo; }
      const b = random(size), dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      c.hi = size === 8 ? dv.getUint32(4, true) : 0;
      return size === 2 ? dv.getUint16(0, true) : dv.getUint32(0, true);
    },
  };
}

/** `inner`'s values, each also passed to `log` as an input row (its kind and little-endian bytes). */
export function loggedHostValues(inner: HostValues, log: (kind: string, data: Uint8Array) => void): HostValues {
  return {
    value(c, what, size) {
      const lo = inner.value(c, what, size), hi = c.hi;
      const data = new Uint8Array(size), dv = new DataView(data.buffer);
      if (size === 2) dv.setUint16(0, lo, true);
      else { dv.setUint32(0, lo, true); if (size === 8) dv.setUint32(4, hi, true); }
      log(HOST_INPUT_KINDS[what]!, data);
      c.hi = hi;
      return lo;
    },
  };
}
