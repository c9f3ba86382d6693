// The call tree from synthetic step streams: nesting, recursion, a frame that never returns, a longjmp-like unwind,
// rings kept apart, and a RET that matches no frame.
import { describe, expect, it } from 'vitest';
import { BRANCH_CALL, BRANCH_RET, buildCallTree, CallTreeInput, END_OPEN, END_RETURN, END_UNWIND } from '../../src/query/call-tree.js';

interface Ev { seq: number; call?: true; ret?: true; rsp?: number }

/** Steps 0..steps-1 at ring 3 except the ring runs given; events give CALL/RET steps and RSP after steps. */
function input(steps: number, initialRsp: number, evs: Ev[], runs: [number, number][] = [[0, 3]]): CallTreeInput {
  const br = evs.filter((e) => e.call === true || e.ret === true), rs = evs.filter((e) => e.rsp !== undefined);
  const w = (xs: number[]): Uint32Array => Uint32Array.from(xs.flatMap((x) => [x >>> 0, Math.floor(x / 2 ** 32)]));
  return {
    steps, initialRsp: [initialRsp >>> 0, Math.floor(initialRsp / 2 ** 32)],
    branchSeq: Float64Array.from(br.map((e) => e.seq)), branchKind: Uint8Array.from(br.map((e) => (e.call === true ? BRANCH_CALL : BRANCH_RET))),
    branchRip: w(br.map((e) => 0x1000 + e.seq)), branchNext: w(br.map((e) => 0x2000 + e.seq)),
    rspSeq: Float64Array.from(rs.map((e) => e.seq)), rspValue: w(rs.map((e) => e.rsp!)),
    runStart: Float64Array.from(runs.map((r) => r[0])), runRing: Uint8Array.from(runs.map((r) => r[1])),
  };
}

describe('buildCallTree', () => {
  it('nests calls and counts inclusive and exclusive steps', () => {
    // 0: call f (rsp 1000 -> 992); 2: call g (992 -> 984); 4: ret from g (-> 992); 6: ret from f (-> 1000)
    const t = buildCallTree(input(8, 1000, [
      { seq: 0, call: true }, { seq: 0, rsp: 992 },
      { seq: 2, call: true }, { seq: 2, rsp: 984 },
      { seq: 4, ret: true }, { seq: 4, rsp: 992 },
      { seq: 6, ret: true }, { seq: 6, rsp: 1000 },
    ]));
    expect(t.length).toBe(2);
    expect([...t.returnSeq]).toEqual([6, 4]);
    expect([...t.end]).toEqual([END_RETURN, END_RETURN]);
    expect([...t.depth]).toEqual([0, 1]);
    expect([...t.parent]).toEqual([-1, 0]);
    expect([...t.inclusive]).toEqual([7, 3]);
    expect([...t.exclusive]).toEqual([4, 3]);
    expect(t.target[0]).toBe(0x2000);
  });

  it('matches recursive frames by their return slot, leaves a never-returning frame open', () => {
    const evs: Ev[] = [];
    let rsp = 1000, seq = 0;
    for (let d = 0; d < 3; d++) { evs.push({ seq, call: true }); rsp -= 8; evs.push({ seq, rsp }); seq += 2; }
    for (let d = 0; d < 2; d++) { evs.push({ seq, ret: true }); rsp += 8; evs.push({ seq, rsp }); seq += 2; }
    const t = buildCallTree(input(seq + 5, 1000, evs));
    expect([...t.returnSeq]).toEqual([-1, 8, 6]);
    expect([...t.end]).toEqual([END_OPEN, END_RETURN, END_RETURN]);
    expect(t.endSeq[0]).toBe(seq + 4);
  });

  it('closes frames as unwound when RSP rises above their slot without a RET (longjmp)', () => {
    const t = buildCallTree(input(10, 1000, [
      { seq: 0, call: true }, { seq: 0, rsp: 992 },
      { seq: 1, call: true }, { seq: 1, rsp: 984 },
      { seq: 2, call: true }, { seq: 2, rsp: 976 },
      { seq: 5, rsp: 992 }, // longjmp back into the first frame: frames 2 and 3 are gone
      { seq: 7, ret: true }, { seq: 7, rsp: 1000 },
    ]));
    expect([...t.end]).toEqual([END_RETURN, END_UNWIND, END_UNWIND]);
    expect([...t.endSeq]).toEqual([7, 5, 5]);
    expect([...t.returnSeq]).toEqual([7, -1, -1]);
  });

  it('keeps kernel frames apart from user frames and ignores the kernel stack switch', () => {
    // user call at 0; syscall at 2 switches to ring 0 (steps 3..6) on a high stack; a kernel call at 4, ret at 5; back at 7
    const K = 2 ** 40; // high above the user stack (exact as a double)
    const t = buildCallTree(input(10, 1000, [
      { seq: 0, call: true }, { seq: 0, rsp: 992 },
      { seq: 3, rsp: K }, // kernel entry loads the kernel stack
      { seq: 4, call: true }, { seq: 4, rsp: K - 8 },
      { seq: 5, ret: true }, { seq: 5, rsp: K },
      { seq: 6, rsp: 992 }, // back to the user stack before SYSRET
      { seq: 8, ret: true }, { seq: 8, rsp: 1000 },
    ], [[0, 3], [3, 0], [7, 3]]));
    expect([...t.ring]).toEqual([3, 0]);
    expect([...t.end]).toEqual([END_RETURN, END_RETURN]);
    expect([...t.returnSeq]).toEqual([8, 5]);
    expect([...t.depth]).toEqual([0, 0]);
    expect(t.inclusive[0]).toBe(9); // includes the kernel steps in between
  });

  it('ignores a RET that matches no open frame', () => {
    const t = buildCallTree(input(6, 1000, [{ seq: 1, ret: true }, { seq: 1, rsp: 1008 }, { seq: 2, call: true }, { seq: 2, rsp: 1000 }, { seq: 4, ret: true }, { seq: 4, rsp: 1008 }]));
    expect(t.length).toBe(1);
    expect(t.returnSeq[0]).toBe(4);
  });
});
