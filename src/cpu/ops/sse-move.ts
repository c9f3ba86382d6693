// SSE/SSE2 data movement: MOVD MOVQ, MOVDQA MOVDQU MOVAPS MOVUPS MOVAPD MOVUPD, MOVSS MOVSD, MOVHPS MOVLPS
// MOVHPD MOVLPD MOVHLPS MOVLHPS, MOVNTDQ MOVNTPS MOVNTPD, MASKMOVDQU.
import { Code } from 'iced-x86';
import type { Builder } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { eaOf, memOf, regOf } from '../operands.js';
import type { OpMap } from '../table.js';
import { maskedStore } from './masked-store.js';
import { checkAlign16, isXmm, rd128, SRC, wr128, xmmOf, xmmOff } from './sse-common.js';

/** u32 index of XMM operand i. */
const xk = (d: Decoded, i: number): number => xmmOff(xmmOf(d, i)) >> 2;

/** xmm <- xmm/m128 (aligned: #GP(0) on a misaligned memory operand). */
function load128(align: boolean): Builder {
  return (d) => {
    const k = xk(d, 0);
    if (isXmm(d, 1)) {
      const j = xk(d, 1);
      return (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; u[k + 2] = u[j + 2]!; u[k + 3] = u[j + 3]!; };
    }
    const ea = eaOf(memOf(d)), t = SRC.u32;
    return (c) => {
      const lo = ea(c);
      if (align) checkAlign16(lo);
      rd128(c, lo, c.hi, SRC);
      const u = c.r; u[k] = t[0]!; u[k + 1] = t[1]!; u[k + 2] = t[2]!; u[k + 3] = t[3]!;
    };
  };
}

/** xmm/m128 <- xmm. */
function store128(align: boolean): Builder {
  return (d) => {
    const j = xk(d, 1);
    if (isXmm(d, 0)) {
      const k = xk(d, 0);
      return (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; u[k + 2] = u[j + 2]!; u[k + 3] = u[j + 3]!; };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c);
      if (align) checkAlign16(lo);
      wr128(c, lo, c.hi, c.r, j);
    };
  };
}

/** MOVD xmm, r/m32 and MOVQ xmm, r/m64: zero-extend into the register. */
function movdToXmm(size: number): Builder {
  return (d) => {
    const k = xk(d, 0);
    if (d.ops[1] === OpType.REG) {
      const g = regOf(d, 1).n << 1;
      return size === 4
        ? (c) => { const u = c.r; u[k] = u[g]!; u[k + 1] = 0; u[k + 2] = 0; u[k + 3] = 0; }
        : (c) => { const u = c.r; u[k] = u[g]!; u[k + 1] = u[g + 1]!; u[k + 2] = 0; u[k + 3] = 0; };
    }
    const ea = eaOf(memOf(d));
    return size === 4
      ? (c) => { const lo = ea(c); const v = c.rd32(lo, c.hi); const u = c.r; u[k] = v; u[k + 1] = 0; u[k + 2] = 0; u[k + 3] = 0; }
      : (c) => { const lo = ea(c); const v = c.rd64(lo, c.hi); const u = c.r; u[k] = v; u[k + 1] = c.hi; u[k + 2] = 0; u[k + 3] = 0; };
  };
}

/** MOVD r/m32, xmm and MOVQ r/m64, xmm. */
function movdFromXmm(size: number): Builder {
  return (d) => {
    const j = xk(d, 1);
    if (d.ops[0] === OpType.REG) {
      const g = regOf(d, 0).n << 1;
      return size === 4
        ? (c) => { const u = c.r; u[g] = u[j]!; u[g + 1] = 0; }
        : (c) => { const u = c.r; u[g] = u[j]!; u[g + 1] = u[j + 1]!; };
    }
    const ea = eaOf(memOf(d));
    return size === 4
      ? (c) => { const lo = ea(c); c.wr32(lo, c.hi, c.r[j]!); }
      : (c) => { const lo = ea(c); c.wr64(lo, c.hi, c.r[j]!, c.r[j + 1]!); };
  };
}

/**
 * Load the low `words` u32 words of an XMM register. From memory (and MOVQ xmm, xmm) the rest of the
 * register is zeroed; MOVSS/MOVSD xmm, xmm merge (`mergeReg`).
 */
function loadLow(words: number, mergeReg: boolean): Builder {
  return (d) => {
    const k = xk(d, 0);
    if (isXmm(d, 1)) {
      const j = xk(d, 1);
      if (mergeReg) {
        return words === 1 ? (c) => { c.r[k] = c.r[j]!; } : (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; };
      }
      return (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; u[k + 2] = 0; u[k + 3] = 0; };
    }
    const ea = eaOf(memOf(d));
    return words === 1
      ? (c) => { const lo = ea(c); const v = c.rd32(lo, c.hi); const u = c.r; u[k] = v; u[k + 1] = 0; u[k + 2] = 0; u[k + 3] = 0; }
      : (c) => { const lo = ea(c); const v = c.rd64(lo, c.hi); const u = c.r; u[k] = v; u[k + 1] = c.hi; u[k + 2] = 0; u[k + 3] = 0; };
  };
}

/** Store the low `words` u32 words of an XMM register (MOVSS/MOVSD m, xmm; MOVQ xmm/m64, xmm). */
function storeLow(words: number, zeroUpperReg: boolean): Builder {
  return (d) => {
    const j = xk(d, 1);
    if (isXmm(d, 0)) {
      const k = xk(d, 0);
      if (zeroUpperReg) return (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; u[k + 2] = 0; u[k + 3] = 0; };
      return words === 1 ? (c) => { c.r[k] = c.r[j]!; } : (c) => { const u = c.r; u[k] = u[j]!; u[k + 1] = u[j + 1]!; };
    }
    const ea = eaOf(memOf(d));
    return words === 1
      ? (c) => { const lo = ea(c); c.wr32(lo, c.hi, c.r[j]!); }
      : (c) => { const lo = ea(c); c.wr64(lo, c.hi, c.r[j]!, c.r[j + 1]!); };
  };
}

/** MOVLPS/MOVLPD (half 0) and MOVHPS/MOVHPD (half 1) xmm, m64: load one quadword, keep the other. */
function loadHalf(half: number): Builder {
  return (d) => {
    const k = xk(d, 0) + 2 * half, ea = eaOf(memOf(d));
    return (c) => { const lo = ea(c); const v = c.rd64(lo, c.hi); c.r[k] = v; c.r[k + 1] = c.hi; };
  };
}

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD m64, xmm: store one quadword. */
function storeHalf(half: number): Builder {
  return (d) => {
    const j = xk(d, 1) + 2 * half, ea = eaOf(memOf(d));
    return (c) => { const lo = ea(c); c.wr64(lo, c.hi, c.r[j]!, c.r[j + 1]!); };
  };
}

/** MOVHLPS (dst.lo = src.hi) and MOVLHPS (dst.hi = src.lo). */
function moveHalves(toHalf: number, fromHalf: number): Builder {
  return (d) => {
    const k = xk(d, 0) + 2 * toHalf, j = xk(d, 1) + 2 * fromHalf;
    return (c) => { const u = c.r; const a = u[j]!, b = u[j + 1]!; u[k] = a; u[k + 1] = b; };
  };
}

/**
 * MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set to DS:[RDI]
 * (EDI with a 0x67 prefix). The pages of the first and last selected bytes are checked before any write.
 */
const maskmovdqu: Builder = (d) => {
  const o1 = xmmOff(xmmOf(d, 1)), o2 = xmmOff(xmmOf(d, 2));
  const store = maskedStore(d, 16);
  return (c) => store(c, o1, o2);
};

/** SSE/SSE2 moves. */
export const sseMoveOps: OpMap = {
  [Code.Movdqa_xmm_xmmm128]: load128(true),
  [Code.Movaps_xmm_xmmm128]: load128(true),
  [Code.Movapd_xmm_xmmm128]: load128(true),
  [Code.Movdqu_xmm_xmmm128]: load128(false),
  [Code.Movups_xmm_xmmm128]: load128(false),
  [Code.Movupd_xmm_xmmm128]: load128(false),
  [Code.Movdqa_xmmm128_xmm]: store128(true),
  [Code.Movaps_xmmm128_xmm]: store128(true),
  [Code.Movapd_xmmm128_xmm]: store128(true),
  [Code.Movdqu_xmmm128_xmm]: store128(false),
  [Code.Movups_xmmm128_xmm]: store128(false),
  [Code.Movupd_xmmm128_xmm]: store128(false),
  [Code.Movntdq_m128_xmm]: store128(true),
  [Code.Movntps_m128_xmm]: store128(true),
  [Code.Movntpd_m128_xmm]: store128(true),
  [Code.Movd_xmm_rm32]: movdToXmm(4),
  [Code.Movq_xmm_rm64]: movdToXmm(8),
  [Code.Movd_rm32_xmm]: movdFromXmm(4),
  [Code.Movq_rm64_xmm]: movdFromXmm(8),
  [Code.Movq_xmm_xmmm64]: loadLow(2, false),
  [Code.Movq_xmmm64_xmm]: storeLow(2, true),
  [Code.Movss_xmm_xmmm32]: loadLow(1, true),
  [Code.Movsd_xmm_xmmm64]: loadLow(2, true),
  [Code.Movss_xmmm32_xmm]: storeLow(1, false),
  [Code.Movsd_xmmm64_xmm]: storeLow(2, false),
  [Code.Movlps_xmm_m64]: loadHalf(0),
  [Code.Movlpd_xmm_m64]: loadHalf(0),
  [Code.Movhps_xmm_m64]: loadHalf(1),
  [Code.Movhpd_xmm_m64]: loadHalf(1),
  [Code.Movlps_m64_xmm]: storeHalf(0),
  [Code.Movlpd_m64_xmm]: storeHalf(0),
  [Code.Movhps_m64_xmm]: storeHalf(1),
  [Code.Movhpd_m64_xmm]: storeHalf(1),
  [Code.Movhlps_xmm_xmm]: moveHalves(0, 1),
  [Code.Movlhps_xmm_xmm]: moveHalves(1, 0),
  [Code.Maskmovdqu_rDI_xmm_xmm]: maskmovdqu,
};

