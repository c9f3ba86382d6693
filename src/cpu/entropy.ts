// The processor's source of randomness (RDRAND). Behind one function so the recorder can log each value as
// an input and the replayer can feed the logged values back.
import type { Cpu } from './cpu.js';

/** xorshift32 state (any non-zero value). */
let state = 0x2545f491;

/** The next 32-bit random value for processor `_c` (RDRAND). */
export function nextRandom32(_c: Cpu): number {
  let x = state;
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  state = x >>> 0;
  return state;
}
