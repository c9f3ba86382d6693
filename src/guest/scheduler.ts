// The scheduling policy (rr's idea: every thread on one processor, the schedule part of the recording). Default:
// a task runs until it blocks, yields or ends; the next is the following task in creation order (round robin).
// Chaos (`--chaos SEED`, as rr's chaos mode): each run gets a random quantum in steps (mostly very short, some
// long: occasional starvation), checked at the task's next system call, and the next task is drawn at random, so
// that races show up; the same seed gives the same schedule for the same inputs. Replay needs neither: the
// switches are in the trace as the host's writes that the guest kernel acts on.
import { seededRandom } from './seeded-random.js';

/** Scheduler options. */
export interface SchedulerOptions {
  /** Seed of chaos mode; undefined for the default schedule. */
  chaos?: number | bigint;
}

export class Scheduler {
  /** Whether chaos mode is on. */
  readonly chaos: boolean;
  /** Steps the running task may run before it is preempted at its next system call (Infinity: never). */
  quantum = Infinity;
  /** Step at which the running task was switched to. */
  runStart = 0;
  private readonly rand: ((n: number) => Uint8Array) | null;

  constructor(o: SchedulerOptions = {}) {
    this.chaos = o.chaos !== undefined;
    this.rand = o.chaos !== undefined ? seededRandom(o.chaos) : null;
    this.quantum = this.nextQuantum();
  }

  private u32(): number {
    const b = this.rand!(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  /** The quantum of a new run: chaos draws 1..100 steps (70%), ..10,000 (25%) or ..1,000,000 (5%). */
  private nextQuantum(): number {
    if (this.rand === null) return Infinity;
    const r = this.u32() % 100, v = this.u32();
    return 1 + (r < 70 ? v % 100 : r < 95 ? v % 10_000 : v % 1_000_000);
  }

  /** A run starts at step `seq`. */
  started(seq: number): void {
    this.runStart = seq;
    this.quantum = this.nextQuantum();
  }

  /** Whether the running task has used its quantum at step `seq`. */
  expired(seq: number): boolean {
    return seq - this.runStart >= this.quantum;
  }

  /** The order in which to consider the `n` other tasks after the running one: 1..n, or a random permutation. */
  order(n: number): number[] {
    const ks = Array.from({ length: n }, (_, i) => i + 1);
    if (this.rand === null) return ks;
    for (let i = ks.length - 1; i > 0; i--) { const j = this.u32() % (i + 1); [ks[i], ks[j]] = [ks[j]!, ks[i]!]; }
    return ks;
  }
}
