// The call tree of a trace, derived from its steps. A CALL step at seq c, with RSP = S before it, opens a frame
// whose return-address slot is S - 8; the frame returns at the first RET step after c whose RSP before the RET
// equals that slot. Frames are kept per ring (a ring switch does not open a frame: kernel frames nest among
// themselves, user frames among themselves). A frame is closed as unwound (longjmp, exception unwinding) when RSP
// rises above its slot without its RET; a frame open at the end of the trace (exit) stays open. Steps of a frame
// are counted from the CALL to its RET inclusive, so they include every step in between: kernel steps of
// system calls and page faults taken inside it as well.
import { Growable } from './growable.js';

/** A RET or CALL step (faulted attempts excluded). */
export const BRANCH_CALL = 1;
export const BRANCH_RET = 2;

/** What the scans collected: the CALL/RET steps, the RSP changes, and the ring of every step (as runs). */
export interface CallTreeInput {
  /** Steps in the trace. */
  readonly steps: number;
  /** RSP before step 0, as lo/hi words. */
  readonly initialRsp: readonly [number, number];
  /** Seqs of CALL and RET steps, ascending. */
  readonly branchSeq: Float64Array;
  /** BRANCH_CALL or BRANCH_RET per branch. */
  readonly branchKind: Uint8Array;
  /** RIP of the branch step, lo/hi pairs. */
  readonly branchRip: Uint32Array;
  /** For a CALL: RIP of the next step (the call target), lo/hi pairs; 0 if the trace ends there. */
  readonly branchNext: Uint32Array;
  /** Seqs of steps that changed RSP, ascending. */
  readonly rspSeq: Float64Array;
  /** RSP after each of those steps, lo/hi pairs. */
  readonly rspValue: Uint32Array;
  /** Ring runs: step runStart[i] begins a run of steps at ring runRing[i] (runStart[0] = 0). */
  readonly runStart: Float64Array;
  /** Ring of each run. */
  readonly runRing: Uint8Array;
}

/** How a frame ended. */
export const END_RETURN = 0;
export const END_UNWIND = 1;
export const END_OPEN = 2;

/** The frames, one entry per CALL, in call order (columns as typed arrays). */
export interface CallTree {
  /** Frames. */
  readonly length: number;
  /** Seq of the CALL step. */
  readonly callSeq: Float64Array;
  /** Seq of the matching RET step, or -1 if the frame did not return. */
  readonly returnSeq: Float64Array;
  /** Last step inside the frame: the RET, the step that unwound it, or the last step of the trace. */
  readonly endSeq: Float64Array;
  /** END_RETURN, END_UNWIND or END_OPEN. */
  readonly end: Uint8Array;
  /** Frames of the same ring open around it when it was called (0 = outermost). */
  readonly depth: Uint32Array;
  /** Ring of the CALL step. */
  readonly ring: Uint8Array;
  /** Index of the enclosing frame (same ring), or -1. */
  readonly parent: Float64Array;
  /** RIP of the CALL instruction, lo/hi pairs. */
  readonly callerRip: Uint32Array;
  /** Call target (RIP of the step after the CALL), lo/hi pairs. */
  readonly target: Uint32Array;
  /** RSP before the CALL (the return address goes to rsp - 8), lo/hi pairs. */
  readonly rsp: Uint32Array;
  /** Steps from the CALL to endSeq, inclusive. */
  readonly inclusive: Float64Array;
  /** inclusive minus the inclusive steps of the frame's children. */
  readonly exclusive: Float64Array;
}

/** (hi, lo) < (hi2, lo2) as unsigned 64-bit values. */
function below(hi: number, lo: number, hi2: number, lo2: number): boolean {
  return hi < hi2 || (hi === hi2 && lo < lo2);
}

/** Build the call tree. */
export function buildCallTree(input: CallTreeInput): CallTree {
  const nb = input.branchSeq.length;
  const callSeq = new Growable(Float64Array), returnSeq = new Growable(Float64Array), endSeq = new Growable(Float64Array);
  const end = new Growable(Uint8Array), depth = new Growable(Uint32Array), ring = new Growable(Uint8Array), parent = new Growable(Float64Array);
  const callerRip = new Growable(Uint32Array), target = new Growable(Uint32Array), rsp = new Growable(Uint32Array);
  const slotLo: number[] = [], slotHi: number[] = [];
  // open frames per ring: indexes into the arrays above
  const stacks: number[][] = [[], [], [], []];
  let rspLo = input.initialRsp[0], rspHi = input.initialRsp[1];
  let run = 0;
  const ringOf = (seq: number): number => {
    while (run + 1 < input.runStart.length && input.runStart[run + 1]! <= seq) run++;
    return input.runRing[run]!;
  };
  const close = (f: number, at: number, how: number): void => {
    endSeq.set(f, at);
    end.set(f, how);
    if (how === END_RETURN) returnSeq.set(f, at);
  };
  let b = 0, r = 0;
  const nr = input.rspSeq.length;
  while (b < nb || r < nr) {
    // at equal seq the branch goes first: it sees RSP before the step, the change is RSP after it
    if (b < nb && (r >= nr || input.branchSeq[b]! <= input.rspSeq[r]!)) {
      const seq = input.branchSeq[b]!;
      const k = ringOf(seq) & 3;
      const stack = stacks[k]!;
      if (input.branchKind[b] === BRANCH_CALL) {
        const f = callSeq.length;
        callSeq.push(seq); returnSeq.push(-1); endSeq.push(input.steps - 1); end.push(END_OPEN);
        depth.push(stack.length); ring.push(k); parent.push(stack.length > 0 ? stack[stack.length - 1]! : -1);
        callerRip.push(input.branchRip[2 * b]!); callerRip.push(input.branchRip[2 * b + 1]!);
        target.push(input.branchNext[2 * b]!); target.push(input.branchNext[2 * b + 1]!);
        rsp.push(rspLo); rsp.push(rspHi);
        // slot = rsp - 8 (borrow into the high word)
        slotLo[f] = rspLo >= 8 ? rspLo - 8 : rspLo + 0x1_0000_0000 - 8;
        slotHi[f] = rspLo >= 8 ? rspHi : (rspHi + 0xffff_ffff) >>> 0;
        stack.push(f);
      } else {
        while (stack.length > 0) {
          const f = stack[stack.length - 1]!;
          if (below(slotHi[f]!, slotLo[f]!, rspHi, rspLo)) { stack.pop(); close(f, seq - 1, END_UNWIND); continue; }
          if (slotHi[f] === rspHi && slotLo[f] === rspLo) { stack.pop(); close(f, seq, END_RETURN); }
          break;
        }
      }
      b++;
    } else {
      const seq = input.rspSeq[r]!;
      rspLo = input.rspValue[2 * r]!;
      rspHi = input.rspValue[2 * r + 1]!;
      // the new RSP belongs to the ring of the next step (a step that switches rings switches stacks too)
      const k = ringOf(Math.min(seq + 1, input.steps - 1)) & 3;
      const stack = stacks[k]!;
      while (stack.length > 0) {
        const f = stack[stack.length - 1]!;
        if (!below(slotHi[f]!, slotLo[f]!, rspHi, rspLo)) break;
        stack.pop();
        close(f, seq, END_UNWIND);
      }
      r++;
    }
  }
  const n = callSeq.length;
  const ends = endSeq.view(), calls = callSeq.view(), parents = parent.view();
  const inclusive = new Float64Array(n), exclusive = new Float64Array(n);
  for (let f = 0; f < n; f++) inclusive[f] = ends[f]! - calls[f]! + 1;
  exclusive.set(inclusive);
  for (let f = 0; f < n; f++) {
    const p = parents[f]!;
    if (p >= 0) exclusive[p]! -= inclusive[f]!;
  }
  return {
    length: n, callSeq: calls, returnSeq: returnSeq.view(), endSeq: ends, end: end.view(), depth: depth.view(), ring: ring.view(),
    parent: parents, callerRip: callerRip.view(), target: target.view(), rsp: rsp.view(), inclusive, exclusive,
  };
}
