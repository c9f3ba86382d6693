// Which thread ran each step: the schedule of processes.json as sorted runs, for per-thread stepping (step in, over
// and out skip the steps of other threads) and the per-thread call tree. A trace with one thread is one run.
import type { TraceProcesses } from '../trace/processes-file.js';

export class ThreadRuns {
  /** First step of every run, ascending (runSeq[0] = 0). */
  readonly runSeq: Uint32Array;
  /** Thread of every run. */
  readonly runTid: Uint32Array;
  /** Steps in the trace. */
  readonly steps: number;

  constructor(p: TraceProcesses, steps: number) {
    const runs = p.schedule.filter((r) => r.seq < steps);
    if (runs.length === 0 || runs[0]!.seq !== 0) runs.unshift({ seq: 0, tid: p.threads[0]?.tid ?? 1 });
    this.runSeq = Uint32Array.from(runs.map((r) => r.seq));
    this.runTid = Uint32Array.from(runs.map((r) => r.tid));
    this.steps = steps;
  }

  /** Whether only one thread ever ran. */
  get single(): boolean {
    return this.runTid.every((t) => t === this.runTid[0]);
  }

  /** Index of the run holding step s. */
  runAt(s: number): number {
    let lo = 0, hi = this.runSeq.length;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (this.runSeq[m]! <= s) lo = m + 1; else hi = m; }
    return lo - 1;
  }

  /** Thread that ran step s. */
  tidAt(s: number): number {
    return this.runTid[Math.max(0, this.runAt(s))]!;
  }

  /** First step after s run by `tid` (steps if none). */
  nextOf(tid: number, s: number): number {
    if (s + 1 >= this.steps) return this.steps;
    let j = this.runAt(s + 1);
    if (this.runTid[j] === tid) return s + 1;
    for (j++; j < this.runSeq.length; j++) if (this.runTid[j] === tid) return this.runSeq[j]!;
    return this.steps;
  }

  /** Last step before s run by `tid` (-1 if none). */
  prevOf(tid: number, s: number): number {
    if (s - 1 < 0) return -1;
    let j = this.runAt(s - 1);
    if (this.runTid[j] === tid) return s - 1;
    for (j--; j >= 0; j--) if (this.runTid[j] === tid) return this.runSeq[j + 1]! - 1;
    return -1;
  }
}
