// Execution as gdb sees it, over the step index: which steps are visible (by default user mode only, as on
// Linux: a SYSCALL is one instruction, a page fault and its retried attempt are invisible), and the moves gdb
// asks for (single-step and continue, forwards and backwards) with their breakpoints and watchpoints. Every move
// is a lookup in the index (the navigator's ring, address and write searches). A position is a step: the state
// before it.
import { Landing, Navigator, toAccess } from '../replayer/navigator.js';
import { StepIndex, WriteIndex } from '../replayer/step-index.js';

/** A watchpoint: gdb's Z2 (write), Z3 (read), Z4 (access) with its range. */
export interface Watchpoint {
  /** What triggers it. */
  type: 'write' | 'read' | 'access';
  /** First byte watched. */
  addr: bigint;
  /** Bytes watched. */
  length: number;
}

/** Why a move stopped. */
export type StopReason =
  | { kind: 'step' } // a single step completed
  | { kind: 'breakpoint'; addr: bigint } // the next instruction is at a breakpoint
  | { kind: 'watch'; watch: Watchpoint } // an access to a watched range (forwards: just done; backwards: about to be undone)
  | { kind: 'history'; at: 'begin' | 'end' }; // ran into an end of the recording

/** Where a move stopped and why. */
export interface Stop {
  /** The new position (the trace's step count after running off its end: the state after the last step). */
  seq: number;
  /** Why. */
  reason: StopReason;
}

/** The visible timeline of one trace. */
export class Timeline {
  /** The trace's step index. */
  readonly index: StepIndex;
  /** The replayer's navigation over it (rings, addresses, writes). */
  readonly nav: Navigator;
  /** Show ring-0 steps too (`--kernel`). */
  readonly kernel: boolean;
  /** Reads by address, for read and access watchpoints (built by the caller on first need). */
  reads: WriteIndex | undefined;

  constructor(nav: Navigator, kernel: boolean) {
    this.nav = nav;
    this.index = nav.index;
    this.kernel = kernel;
  }

  /** Steps in the trace. */
  get steps(): number {
    return this.index.steps;
  }

  /** True if gdb can stand at step s. */
  visible(s: number): boolean {
    if (this.kernel) return s >= 0 && s < this.steps;
    return this.index.cplAt(s) === 3 && !this.index.faulted(s);
  }

  /** First visible step after p (steps if none). */
  next(p: number): number {
    if (this.kernel) return Math.min(p + 1, this.steps);
    let q = this.nav.nextInRing(p, 3);
    while (q < this.steps && this.index.faulted(q)) q = this.nav.nextInRing(q, 3);
    return q;
  }

  /** Last visible step before p (-1 if none). */
  prev(p: number): number {
    if (this.kernel) return p - 1;
    let q = this.nav.prevInRing(p, 3);
    while (q >= 0 && this.index.faulted(q)) q = this.nav.prevInRing(q, 3);
    return q;
  }

  /** The first visible step (where a session starts). */
  first(): number {
    return this.visible(0) ? 0 : this.next(0);
  }

  /** The visible step whose execution includes step s (s itself, or the SYSCALL or instruction that led into it). */
  owner(s: number): number {
    return this.visible(s) ? s : Math.max(this.prev(s), this.first());
  }

  /** First step >= from (forwards) or last step < from (backwards) that accesses the watched range, or undefined. */
  private access(w: Watchpoint, from: number, back: boolean): number | undefined {
    const hits: Landing[] = [];
    const p = back ? from : from - 1;
    if (w.type !== 'read') hits.push(this.nav.toWrite(p, w.addr, w.length, back));
    if (w.type !== 'write' && this.reads !== undefined) hits.push(toAccess(this.reads, this.steps, p, w.addr, w.length, back));
    const found = hits.filter((h) => h.end === undefined).map((h) => h.seq);
    if (found.length === 0) return undefined;
    return back ? Math.max(...found) : Math.min(...found);
  }

  /** Next visible execution of `addr` after p (or last one before p), or undefined. */
  private execution(addr: bigint, p: number, back: boolean): number | undefined {
    let q = p;
    for (;;) {
      const l = this.nav.toAddress(q, addr, back);
      if (l.end !== undefined) return undefined;
      if (this.visible(l.seq)) return l.seq;
      q = l.seq; // an attempt that faulted: the retry is the execution gdb sees
    }
  }

  /** Single-step from p, forwards or backwards; watchpoints hit by the stepped instruction are reported. */
  step(p: number, back: boolean, watches: readonly Watchpoint[]): Stop {
    if (!back) {
      const q = this.next(p);
      if (q >= this.steps) return { seq: this.steps, reason: { kind: 'history', at: 'end' } };
      for (const w of watches) { const a = this.access(w, p, false); if (a !== undefined && a < q) return { seq: q, reason: { kind: 'watch', watch: w } }; }
      return { seq: q, reason: { kind: 'step' } };
    }
    const q = this.prev(p);
    if (q < 0) return { seq: p, reason: { kind: 'history', at: 'begin' } };
    for (const w of watches) { const a = this.access(w, p, true); if (a !== undefined && a >= q) return { seq: q, reason: { kind: 'watch', watch: w } }; }
    return { seq: q, reason: { kind: 'step' } };
  }

  /** Continue from p until a breakpoint or watchpoint, or an end of the recording. */
  continue(p: number, back: boolean, breakpoints: Iterable<bigint>, watches: readonly Watchpoint[]): Stop {
    let best: Stop | undefined;
    const better = (s: Stop): boolean => best === undefined || (back ? s.seq > best.seq : s.seq < best.seq);
    for (const addr of breakpoints) {
      const q = this.execution(addr, p, back);
      if (q !== undefined) { const s: Stop = { seq: q, reason: { kind: 'breakpoint', addr } }; if (better(s)) best = s; }
    }
    for (const w of watches) {
      const a = this.access(w, p, back);
      if (a === undefined) continue;
      // forwards: stop once the accessing instruction completed; backwards: before it
      const q = back ? this.owner(a) : this.next(a);
      if (!back && q >= this.steps) continue;
      const s: Stop = { seq: q, reason: { kind: 'watch', watch: w } };
      if (best === undefined || (back ? q >= best.seq : q <= best.seq)) best = s;
    }
    if (best !== undefined) return best;
    return back ? { seq: this.first(), reason: { kind: 'history', at: 'begin' } } : { seq: this.steps, reason: { kind: 'history', at: 'end' } };
  }
}
