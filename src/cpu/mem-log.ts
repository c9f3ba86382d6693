// The processor's memory-access log interface: with a log attached, every data access an instruction makes
// (and every write event delivery makes) is reported after it succeeded, writes with the bytes they replaced.

/** Receives memory accesses (linear addresses as lo/hi halves; values of up to 8 bytes as lo/hi). */
export interface MemLog {
  /** One access: `write` 0 for a read, 1 for a write; `oldLo/oldHi` the replaced value for writes. */
  access(lo: number, hi: number, size: number, write: number, vLo: number, vHi: number, oldLo: number, oldHi: number): void;
  /**
   * The same for an access whose address, value and old value the processor left in `words` (lo, hi, vLo, vHi,
   * oldLo, oldHi: no 32-bit number is boxed on the way, as arguments above 2^31 would be).
   */
  accessWords(words: Uint32Array, size: number, write: number): void;
}
