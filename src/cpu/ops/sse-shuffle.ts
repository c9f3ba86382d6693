// SSE/SSE2 data rearrangement: PSHUFD PSHUFLW PSHUFHW SHUFPS SHUFPD, PUNPCKL*/PUNPCKH* (and UNPCKLPS/HPS/
// LPD/HPD, which are the same permutations), PACKSSWB PACKSSDW PACKUSWB, PEXTRW PINSRW, PMOVMSKB
// MOVMSKPS MOVMSKPD. Permutations read from DST (a copy of the destination) and SRC, then write in place.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { eaOf, gprReader, memOf, regOf } from '../operands.js';
import type { CpuState } from '../state.js';
import type { OpMap } from '../table.js';
import { DST, loadDst, src128, SRC, xmmOf, xmmOff } from './sse-common.js';

/** A permutation writing the register at byte offset o from DST, SRC and imm8. */
type Perm = (s: CpuState, o: number, imm: number) => void;

function perm(p: Perm): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)), k = o >> 2, imm = d.immLo & 0xff;
    const load = src128(d, 1, true);
    return (c: Cpu) => { load(c); loadDst(c, k); p(c.s, o, imm); };
  };
}

/** PUNPCKL/PUNPCKH with element size `size` bytes (1, 2, 4, 8): interleave the low (high) halves. */
function unpack(size: number, high: boolean): Perm {
  const n = 8 / size; // elements taken from each operand
  const base = high ? 8 : 0;
  return (s, o) => {
    const u = s.u8, a = DST.u8, b = SRC.u8;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < size; j++) {
        u[o + 2 * i * size + j] = a[base + i * size + j]!;
        u[o + (2 * i + 1) * size + j] = b[base + i * size + j]!;
      }
    }
  };
}

const satSB = (x: number): number => (x > 127 ? 127 : x < -128 ? -128 : x);
const satUB = (x: number): number => (x > 255 ? 255 : x < 0 ? 0 : x);
const satSW = (x: number): number => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);

/** PACKSSWB / PACKUSWB: eight signed words of each operand to saturated bytes. */
function packWB(unsigned: boolean): Perm {
  return (s, o) => {
    const u = s.u8, a = DST.u16, b = SRC.u16;
    for (let i = 0; i < 8; i++) {
      const x = (a[i]! << 16) >> 16, y = (b[i]! << 16) >> 16;
      u[o + i] = unsigned ? satUB(x) : satSB(x);
      u[o + 8 + i] = unsigned ? satUB(y) : satSB(y);
    }
  };
}

const packssdw: Perm = (s, o) => {
  const u = s.u16, k = o >> 1, a = DST.i32, b = SRC.i32;
  for (let i = 0; i < 4; i++) { u[k + i] = satSW(a[i]!); u[k + 4 + i] = satSW(b[i]!); }
};

const pshufd: Perm = (s, o, imm) => {
  const u = s.u32, k = o >> 2, t = SRC.u32;
  for (let i = 0; i < 4; i++) u[k + i] = t[(imm >> (2 * i)) & 3]!;
};

/** PSHUFLW (high = false) / PSHUFHW: shuffle four words of one half, copy the other half. */
function pshufw(high: boolean): Perm {
  return (s, o, imm) => {
    const u = s.u16, k = o >> 1, t = SRC.u16, sh = high ? 4 : 0, cp = high ? 0 : 4;
    for (let i = 0; i < 4; i++) { u[k + sh + i] = t[sh + ((imm >> (2 * i)) & 3)]!; u[k + cp + i] = t[cp + i]!; }
  };
}

const shufps: Perm = (s, o, imm) => {
  const u = s.u32, k = o >> 2, a = DST.u32, b = SRC.u32;
  u[k] = a[imm & 3]!; u[k + 1] = a[(imm >> 2) & 3]!; u[k + 2] = b[(imm >> 4) & 3]!; u[k + 3] = b[(imm >> 6) & 3]!;
};

const shufpd: Perm = (s, o, imm) => {
  const u = s.u32, k = o >> 2, a = DST.u32, b = SRC.u32, i = (imm & 1) << 1, j = (imm & 2);
  u[k] = a[i]!; u[k + 1] = a[i + 1]!; u[k + 2] = b[j]!; u[k + 3] = b[j + 1]!;
};

/** PEXTRW r32/r64, xmm, imm8: word (imm8 & 7) zero-extended into the GPR (writing 32 bits clears the hi half). */
function pextrw(d: Decoded): Exec {
  const dst = regOf(d, 0).n << 1, w = (xmmOff(xmmOf(d, 1)) >> 1) + (d.immLo & 7);
  return (c) => { c.r[dst] = c.s.u16[w]!; c.r[dst + 1] = 0; };
}

/** PINSRW xmm, r32/m16, imm8. */
function pinsrw(d: Decoded): Exec {
  const w = (xmmOff(xmmOf(d, 0)) >> 1) + (d.immLo & 7);
  if (d.ops[1] === OpType.REG) {
    const rd = gprReader(regOf(d, 1));
    return (c) => { c.s.u16[w] = rd(c) & 0xffff; };
  }
  const ea = eaOf(memOf(d));
  return (c) => { const lo = ea(c); c.s.u16[w] = c.rd16(lo, c.hi); };
}

/** PMOVMSKB / MOVMSKPS / MOVMSKPD r32/r64, xmm: the sign bits of the lanes of `size` bytes. */
function movmsk(size: number): Builder {
  return (d: Decoded): Exec => {
    const dst = regOf(d, 0).n << 1, o = xmmOff(xmmOf(d, 1));
    const n = 16 / size;
    return (c) => {
      const u = c.s.u8;
      let m = 0;
      for (let i = 0; i < n; i++) m |= (u[o + i * size + size - 1]! >> 7) << i;
      c.r[dst] = m; c.r[dst + 1] = 0;
    };
  };
}

/** SSE/SSE2 shuffles, unpacks, packs, word insert/extract and sign masks. */
export const sseShuffleOps: OpMap = {
  [Code.Punpcklbw_xmm_xmmm128]: perm(unpack(1, false)),
  [Code.Punpcklwd_xmm_xmmm128]: perm(unpack(2, false)),
  [Code.Punpckldq_xmm_xmmm128]: perm(unpack(4, false)),
  [Code.Punpcklqdq_xmm_xmmm128]: perm(unpack(8, false)),
  [Code.Punpckhbw_xmm_xmmm128]: perm(unpack(1, true)),
  [Code.Punpckhwd_xmm_xmmm128]: perm(unpack(2, true)),
  [Code.Punpckhdq_xmm_xmmm128]: perm(unpack(4, true)),
  [Code.Punpckhqdq_xmm_xmmm128]: perm(unpack(8, true)),
  [Code.Unpcklps_xmm_xmmm128]: perm(unpack(4, false)),
  [Code.Unpckhps_xmm_xmmm128]: perm(unpack(4, true)),
  [Code.Unpcklpd_xmm_xmmm128]: perm(unpack(8, false)),
  [Code.Unpckhpd_xmm_xmmm128]: perm(unpack(8, true)),
  [Code.Packsswb_xmm_xmmm128]: perm(packWB(false)),
  [Code.Packuswb_xmm_xmmm128]: perm(packWB(true)),
  [Code.Packssdw_xmm_xmmm128]: perm(packssdw),
  [Code.Pshufd_xmm_xmmm128_imm8]: perm(pshufd),
  [Code.Pshuflw_xmm_xmmm128_imm8]: perm(pshufw(false)),
  [Code.Pshufhw_xmm_xmmm128_imm8]: perm(pshufw(true)),
  [Code.Shufps_xmm_xmmm128_imm8]: perm(shufps),
  [Code.Shufpd_xmm_xmmm128_imm8]: perm(shufpd),
  [Code.Pextrw_r32_xmm_imm8]: pextrw,
  [Code.Pextrw_r64_xmm_imm8]: pextrw,
  [Code.Pinsrw_xmm_r32m16_imm8]: pinsrw,
  [Code.Pinsrw_xmm_r64m16_imm8]: pinsrw,
  [Code.Pmovmskb_r32_xmm]: movmsk(1),
  [Code.Pmovmskb_r64_xmm]: movmsk(1),
  [Code.Movmskps_r32_xmm]: movmsk(4),
  [Code.Movmskps_r64_xmm]: movmsk(4),
  [Code.Movmskpd_r32_xmm]: movmsk(8),
  [Code.Movmskpd_r64_xmm]: movmsk(8),
};
