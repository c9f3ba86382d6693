// Debugger navigation over a trace, every move a lookup in the step index. A position is a step: the state before
// it, its instruction being the next to execute (as a debugger shows it). Moves return where they land and
// whether they hit an end of the trace (the ends are outcomes, not errors). Moves stay in the thread of the
// position: the steps of other threads in between are skipped (the call tree is per thread too).
import { addressKey, Kind, lowerBound, NO_RETURN, StepIndex, upperBound, WriteIndex } from './step-index.js';

/** Where a move landed. */
export interface Landing {
  /** The new position. */
  seq: number;
  /** Set when the move ran into an end of the trace (the position is then the first or last step). */
  end?: 'start' | 'end';
  /** For watchpoints: the step that wrote (equals seq). */
  wrote?: number;
}

/** Movement verbs. */
export type Motion = 'in' | 'over' | 'out';

/** Navigation over one index. */
export class Navigator {
  readonly index: StepIndex;

  constructor(index: StepIndex) {
    this.index = index;
  }

  private clamp(t: number): Landing {
    const n = this.index.steps;
    if (t >= n) return { seq: n - 1, end: 'end' };
    if (t < 0) return { seq: 0, end: 'start' };
    return { seq: t };
  }

  /** Thread of step p. */
  tidAt(p: number): number {
    return this.index.threads.tidAt(p);
  }

  /** Next step of p's thread (steps if none). */
  private next(p: number): number {
    return this.index.threads.nextOf(this.tidAt(p), p);
  }

  /** Previous step of p's thread (-1 if none). */
  private prev(p: number): number {
    return this.index.threads.prevOf(this.tidAt(p), p);
  }

  /** One move from p. */
  move(p: number, motion: Motion, back: boolean): Landing {
    if (!back) {
      if (p >= this.index.steps - 1) return { seq: this.index.steps - 1, end: 'end' };
      const t = motion === 'in' ? this.next(p) : motion === 'over' ? this.overForward(p) : this.outForward(p);
      return t >= this.index.steps ? { seq: this.index.threads.prevOf(this.tidAt(p), this.index.steps), end: 'end' } : this.clamp(t); // the thread's last step
    }
    if (p <= 0) return { seq: 0, end: 'start' };
    const t = motion === 'in' ? this.prev(p) : motion === 'over' ? this.overBack(p) : this.outBack(p);
    return t < 0 ? { seq: this.index.threads.nextOf(this.tidAt(p), -1), end: 'start' } : this.clamp(t); // the thread's first step
  }

  /** `count` moves (stops early at an end). */
  moves(p: number, motion: Motion, back: boolean, count: number): Landing {
    let at: Landing = { seq: p };
    for (let k = 0; k < count; k++) {
      at = this.move(at.seq, motion, back);
      if (at.end !== undefined) break;
    }
    return at;
  }

  /** First step after p of p's thread in ring `cpl` (steps if none). */
  nextInRing(p: number, cpl: number, tid = this.tidAt(p)): number {
    const ix = this.index;
    for (let q = p; ;) {
      const t = this.nextInRingAny(q, cpl);
      if (t >= ix.steps || ix.threads.tidAt(t) === tid) return t;
      const r = ix.threads.nextOf(tid, t);
      if (r >= ix.steps) return ix.steps;
      if (ix.cplAt(r) === cpl) return r;
      q = r;
    }
  }

  /** Last step before p of thread `tid` (default p's) in ring `cpl` (-1 if none). */
  prevInRing(p: number, cpl: number, tid = this.tidAt(p)): number {
    const ix = this.index;
    for (let q = p; ;) {
      const t = this.prevInRingAny(q, cpl);
      if (t < 0 || ix.threads.tidAt(t) === tid) return t;
      const r = ix.threads.prevOf(tid, t);
      if (r < 0) return -1;
      if (ix.cplAt(r) === cpl) return r;
      q = r;
    }
  }

  /** First step after p in ring `cpl`, any thread (steps() if none). */
  private nextInRingAny(p: number, cpl: number): number {
    const ix = this.index;
    if (p + 1 >= ix.steps) return ix.steps;
    if (ix.cplAt(p + 1) === cpl) return p + 1;
    for (let j = upperBound(ix.ringSeq, p + 1); j < ix.ringSeq.length; j++) if (ix.ringCpl[j] === cpl) return ix.ringSeq[j]!;
    return ix.steps;
  }

  /** Last step before p in ring `cpl`, any thread (-1 if none). */
  private prevInRingAny(p: number, cpl: number): number {
    const ix = this.index;
    if (p - 1 < 0) return -1;
    if (ix.cplAt(p - 1) === cpl) return p - 1;
    // the ring switch that began the stretch holding p-1, then earlier ones
    for (let j = upperBound(ix.ringSeq, p - 1) - 1; j >= 0; j--) {
      const before = j > 0 ? ix.ringCpl[j - 1]! : ix.meta.cpl0;
      if (before === cpl) return ix.ringSeq[j]! - 1;
    }
    return -1;
  }

  /** The innermost CALL of p's ring still active at p (made after p's ring was entered), or -1. */
  enclosingCall(p: number): number {
    const ix = this.index, cpl = ix.cplAt(p);
    const list = ix.ringCalls[cpl === 0 ? 0 : 1];
    let j = callsBefore(list, ix.callSeq, p) - 1;
    const tid = this.tidAt(p);
    while (j >= 0 && ix.callTid[list[j]!] !== tid) j--;
    let k = j >= 0 ? list[j]! : -1;
    const entered = cpl === 0 ? this.ringEntry(p) : -1;
    while (k >= 0 && !(ix.callRet[k] === NO_RETURN || ix.callRet[k]! > p)) k = ix.callParent[k]!;
    if (k >= 0 && ix.callSeq[k]! < entered) return -1;
    return k;
  }

  /** First step of the stretch of p's ring that holds p (0 if p's ring was never switched to). */
  private ringEntry(p: number): number {
    const j = upperBound(this.index.ringSeq, p) - 1;
    return j < 0 ? 0 : this.index.ringSeq[j]!;
  }

  /** Step-over forward. */
  private overForward(p: number): number {
    const ix = this.index, cpl = ix.cplAt(p);
    if (ix.kind(p) & Kind.REP) return this.overRep(p, cpl);
    const k = ix.callAt(p);
    if (k >= 0) return ix.callRet[k] === NO_RETURN ? ix.steps : ix.callRet[k]!;
    const n = this.next(p);
    if (n < ix.steps && ix.cplAt(n) < cpl) return this.nextInRing(p, cpl); // into a more privileged ring: SYSCALL, a fault
    return n;
  }

  /** Over every remaining iteration of the REP instruction at p (through faults taken in the middle). */
  private overRep(p: number, cpl: number): number {
    const ix = this.index, code = ix.code(p);
    let t = p;
    for (;;) {
      const run = ix.runAt(t);
      t = run !== undefined ? run[1] : t + 1;
      if (t >= ix.steps) return t;
      if (ix.cplAt(t) === cpl) return t;
      // an iteration faulted: the kernel returns to the same instruction, which goes on
      t = this.nextInRing(t - 1, cpl);
      if (t >= ix.steps || ix.code(t) !== code) return t;
    }
  }

  /** Step-out forward. */
  private outForward(p: number): number {
    const ix = this.index, cpl = ix.cplAt(p);
    const k = this.enclosingCall(p);
    if (k >= 0) return ix.callRet[k] === NO_RETURN ? ix.steps : ix.callRet[k]!;
    if (cpl === 0) return this.nextInRing(p, 3);
    return ix.steps;
  }

  /** Step-over backward: the previous step of the same frame. */
  private overBack(p: number): number {
    const ix = this.index, cpl = ix.cplAt(p), q = this.prev(p);
    if (q < 0) return -1;
    if (ix.cplAt(q) < cpl) return this.prevInRing(p, cpl); // back over the kernel to the SYSCALL or faulting step
    // back over a whole callee to its CALL: the outermost CALL that returned to p
    const list = ix.ringCalls[cpl === 0 ? 0 : 1], tid = this.tidAt(p);
    let k = callsBefore(list, ix.callSeq, p) - 1;
    while (k >= 0 && ix.callTid[list[k]!] !== tid) k--;
    k = k >= 0 ? list[k]! : -1;
    let best = -1;
    while (k >= 0 && ix.callRet[k] !== NO_RETURN && ix.callRet[k]! <= p) {
      if (ix.callRet[k] === p) best = k;
      k = ix.callParent[k]!;
    }
    if (best >= 0) return ix.callSeq[best]!;
    if (ix.kind(q) & Kind.REP) return this.repStartBack(q, cpl);
    return q;
  }

  /** First iteration of the REP instruction whose iteration q is (back over faults taken in the middle). */
  private repStartBack(q: number, cpl: number): number {
    const ix = this.index, code = ix.code(q);
    let t = q;
    for (;;) {
      const run = ix.runAt(t);
      if (run !== undefined) t = run[0];
      if (t === 0 || ix.cplAt(t - 1) >= cpl) return t;
      const before = this.prevInRing(t, cpl);
      if (before < 0 || ix.code(before) !== code || !ix.faulted(before)) return t;
      t = before;
    }
  }

  /** Step-out backward: the CALL (or the SYSCALL / faulting step) that entered the current frame. */
  private outBack(p: number): number {
    const ix = this.index, cpl = ix.cplAt(p);
    const k = this.enclosingCall(p);
    if (k >= 0) return ix.callSeq[k]!;
    if (cpl === 0) return this.prevInRing(this.ringEntry(p), 3, this.tidAt(p));
    return -1;
  }

  /** Next (or previous) execution of `rip` after (before) p. */
  toAddress(p: number, rip: bigint, back: boolean): Landing {
    const ix = this.index;
    let best = back ? -1 : Infinity;
    for (const c of ix.codesAt(rip)) {
      const from = ix.byCodeOff[c]!, to = ix.byCodeOff[c + 1]!;
      // binary search in the block-compressed column (one block decoded)
      const lo = ix.byCode.upperBound(from, to, p);
      if (!back && lo < to) best = Math.min(best, ix.byCode.get(lo));
      if (back) {
        let j = lo - 1;
        if (j >= from && ix.byCode.get(j) === p) j--;
        if (j >= from) best = Math.max(best, ix.byCode.get(j));
      }
    }
    if (back) return best < 0 ? { seq: 0, end: 'start' } : { seq: best };
    return best === Infinity ? { seq: ix.steps - 1, end: 'end' } : { seq: best };
  }

  /** Next (or previous) step after (before) p that wrote any byte of [addr, addr+len). */
  toWrite(p: number, addr: bigint, len: number, back: boolean): Landing {
    return toAccess(this.index.writeIndex(), this.index.steps, p, addr, len, back);
  }
}

/** Next (or previous) step after (before) p with an access in `w` (sorted by address, then seq) that touches any
 * byte of [addr, addr+len); `steps` is the trace's length (the end landing). */
export function toAccess(w: WriteIndex, steps: number, p: number, addr: bigint, len: number, back: boolean): Landing {
  const k0 = addressKey(addr);
  let best = back ? -1 : Infinity;
  // an access of up to 8 bytes starting up to 7 bytes below the range can overlap it
  for (let i = lowerBound(w.key, k0 - 7); i < w.key.length && w.key[i]! < k0 + len;) {
    const key = w.key[i]!;
    let j = i;
    while (j < w.key.length && w.key[j] === key) j++;
    // accesses at this address: [i, j), ascending seq; those overlapping the range count
    const seqs = w.seq.subarray(i, j), sizes = w.size.subarray(i, j);
    if (back) {
      for (let m = lowerBound(seqs, p) - 1; m >= 0; m--) if (key + sizes[m]! > k0) { best = Math.max(best, seqs[m]!); break; }
    } else {
      for (let m = upperBound(seqs, p); m < seqs.length; m++) if (key + sizes[m]! > k0) { best = Math.min(best, seqs[m]!); break; }
    }
    i = j;
  }
  if (back) return best < 0 ? { seq: 0, end: 'start' } : { seq: best, wrote: best };
  return best === Infinity ? { seq: steps - 1, end: 'end' } : { seq: best, wrote: best };
}

/** How many calls of `list` (indices into callSeq, ascending) were made before step p. */
function callsBefore(list: Int32Array, callSeq: Uint32Array, p: number): number {
  let lo = 0, hi = list.length;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (callSeq[list[m]!]! < p) lo = m + 1; else hi = m; }
  return lo;
}
