// SSE3 on XMM registers: MOVSLDUP MOVSHDUP MOVDDUP, LDDQU, and the horizontal and alternating floating-point
// arithmetic HADDPS HADDPD HSUBPS HSUBPD ADDSUBPS ADDSUBPD (SDM vol. 2). The arithmetic reuses the SSE lane
// functions: the operands are first arranged so that result lane i is DST lane i op SRC lane i.
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { eaOf, memOf } from '../operands.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { DST, loadDst, MXCSR, rd128, SRC, src128, src64, xmmOf, xmmOff } from './sse-common.js';
import { finish } from './sse-fp.js';
import { addD, addS } from './sse-lanes.js';
import { FS } from './sse-soft.js';

/** MOVSLDUP (odd = false) / MOVSHDUP: duplicate the even (odd) single-precision lanes of the source. */
function movDup32(odd: boolean): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, true), t = SRC.u32, j = odd ? 1 : 0;
    return (c) => { load(c); const u = c.r; u[k] = t[j]!; u[k + 1] = t[j]!; u[k + 2] = t[j + 2]!; u[k + 3] = t[j + 2]!; };
  };
}

/** MOVDDUP xmm, xmm/m64: the low quadword in both halves (m64: no alignment requirement). */
function movddup(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, load = src64(d, 1), t = SRC.u32;
  return (c) => { load(c); const u = c.r; u[k] = t[0]!; u[k + 1] = t[1]!; u[k + 2] = t[0]!; u[k + 3] = t[1]!; };
}

/** LDDQU xmm, m128: an unaligned 16-byte load. */
function lddqu(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, ea = eaOf(memOf(d)), t = SRC.u32;
  return (c) => {
    const lo = ea(c);
    rd128(c, lo, c.hi, SRC);
    const u = c.r; u[k] = t[0]!; u[k + 1] = t[1]!; u[k + 2] = t[2]!; u[k + 3] = t[3]!;
  };
}

const A = new Uint32Array(4), B = new Uint32Array(4);

/**
 * HADDPS/HSUBPS: result = [a0 op a1, a2 op a3, b0 op b1, b2 op b3] (a the destination, b the source);
 * HADDPD/HSUBPD: [a0 op a1, b0 op b1].
 */
function horizontal(dbl: boolean, sub: boolean): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, true);
    const x = DST.u32, y = SRC.u32;
    return (c) => {
      load(c); loadDst(c, k);
      A.set(x); B.set(y);
      if (dbl) {
        x[0] = A[0]!; x[1] = A[1]!; y[0] = A[2]!; y[1] = A[3]!; // lane 0: a0 op a1
        x[2] = B[0]!; x[3] = B[1]!; y[2] = B[2]!; y[3] = B[3]!; // lane 1: b0 op b1
      } else {
        x[0] = A[0]!; y[0] = A[1]!; x[1] = A[2]!; y[1] = A[3]!;
        x[2] = B[0]!; y[2] = B[1]!; x[3] = B[2]!; y[3] = B[3]!;
      }
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      if (dbl) { addD(0, sub); addD(1, sub); } else { addS(0, sub); addS(1, sub); addS(2, sub); addS(3, sub); }
      finish(c, k, 4);
    };
  };
}

/** ADDSUBPS/ADDSUBPD: even lanes subtract, odd lanes add. */
function addsub(dbl: boolean): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, true);
    return (c) => {
      load(c); loadDst(c, k);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      if (dbl) { addD(0, true); addD(1, false); } else { addS(0, true); addS(1, false); addS(2, true); addS(3, false); }
      finish(c, k, 4);
    };
  };
}

/** SSE3 instructions on XMM registers. */
// SSE3's floating-point instructions set MXCSR's exception flags, which iced does not report
export const sse3Ops: OpMap = withWrites(Implicit.MXCSR, {
  [Code.Movsldup_xmm_xmmm128]: movDup32(false),
  [Code.Movshdup_xmm_xmmm128]: movDup32(true),
  [Code.Movddup_xmm_xmmm64]: movddup,
  [Code.Lddqu_xmm_m128]: lddqu,
  [Code.Haddps_xmm_xmmm128]: horizontal(false, false),
  [Code.Hsubps_xmm_xmmm128]: horizontal(false, true),
  [Code.Haddpd_xmm_xmmm128]: horizontal(true, false),
  [Code.Hsubpd_xmm_xmmm128]: horizontal(true, true),
  [Code.Addsubps_xmm_xmmm128]: addsub(false),
  [Code.Addsubpd_xmm_xmmm128]: addsub(true),
});
