// The processor's memory-access log interface: with a log attached, every data access an instruction makes
// (and every write event delivery makes) is reported after it succeeded, writes with the bytes they replaced.

/** Receives memory accesses (linear addresses as lo/hi halves; values of up to 8 bytes as lo/hi). */
export interface MemLog {
  /** One access: `write` 0 for a read, 1 for a write; `oldLo/oldHi` the replaced value for writes. */
  access(lo: number, hi: number, size: number, write: number, vLo: number, vHi: number, oldLo: number, oldHi: number): void;
}
