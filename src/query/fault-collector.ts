// Finds, while the index scans the insns table, where each page fault's instruction ran again: the first step
// after the fault at the same RIP and ring (page_faults.reexec_seq; the steps in between are the kernel handling
// it). Each pending fault is searched forward from where it stopped, so a fault costs about the handler's steps.

/** A page fault: step, faulting RIP as lo/hi words, ring. */
export interface FaultInput {
  readonly seq: number;
  readonly ripLo: number;
  readonly ripHi: number;
  readonly ring: number;
}

/** Accumulates re-execution steps from batches of insns (in seq order, row n has seq n). */
export class FaultCollector {
  private readonly faults: readonly FaultInput[];
  /** reexec[i]: step where faults[i]'s instruction ran again, -1 while not found. */
  readonly reexec: Float64Array;
  private next = 0;
  private pending: number[] = [];
  private base = 0;

  /** `faults` in ascending seq order. */
  constructor(faults: readonly FaultInput[]) {
    this.faults = faults;
    this.reexec = new Float64Array(faults.length).fill(-1);
  }

  /** One batch of insns: its RIP words and rings. */
  insns(rip: Uint32Array, cpl: ArrayLike<number>, n: number): void {
    const base = this.base, end = base + n;
    // faults whose step is in this batch start their search after it
    const starts = new Map<number, number>();
    while (this.next < this.faults.length && this.faults[this.next]!.seq < end) {
      starts.set(this.next, this.faults[this.next]!.seq + 1);
      this.pending.push(this.next++);
    }
    const still: number[] = [];
    for (const f of this.pending) {
      const x = this.faults[f]!;
      let i = Math.max(0, (starts.get(f) ?? base) - base);
      for (; i < n; i++) if (rip[2 * i] === x.ripLo && rip[2 * i + 1] === x.ripHi && cpl[i] === x.ring) break;
      if (i < n) this.reexec[f] = base + i; else still.push(f);
    }
    this.pending = still;
    this.base = end;
  }
}
