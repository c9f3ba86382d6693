// SSE4.1 integer, blend and element instructions on XMM registers (SDM vol. 2): PMOVSX*/PMOVZX*, PMINSB/SD/UW/UD,
// PMAXSB/SD/UW/UD, PMULLD, PMULDQ, PCMPEQQ, PACKUSDW, PHMINPOSUW, MPSADBW, PTEST, BLENDPS/PD, PBLENDW,
// BLENDVPS/PD, PBLENDVB (mask in XMM0), PEXTRB/W/D/Q, EXTRACTPS, PINSRB/D/Q, INSERTPS, MOVNTDQA.
// (ROUNDxx and DPPS/DPPD are in sse41-fp.ts.)
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { setStatusFlags } from '../flags.js';
import { eaOf, memOf, regOf } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';
import { checkAlign16, DST, isXmm, loadDst, rd128, SRC, src128, src32, src64, SrcLoader, xmmOf, xmmOff } from './sse-common.js';
import { mul32, mul32Hi } from './sse-int.js';

/** u32 index of XMM0 (the implicit mask of the variable blends). */
const XMM0 = xmmOff(0) >> 2;

/** A 2-byte source (low word of an XMM register, or m16) into SRC.u16[0]. */
function src16(d: Decoded, i: number): SrcLoader {
  if (isXmm(d, i)) { const h = xmmOff(xmmOf(d, i)) >> 1; return (c) => { SRC.u16[0] = c.s.u16[h]!; }; }
  const ea = eaOf(memOf(d));
  return (c) => { const lo = ea(c); SRC.u16[0] = c.rd16(lo, c.hi); };
}

/** An operation writing the destination XMM register at byte offset o from DST, SRC and imm8. */
type Op = (c: Cpu, o: number, imm: number) => void;

/** Builder of `xmm, xmm/m128 [, imm8]` (m128 aligned). */
function op128(f: Op): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)), k = o >> 2, load = src128(d, 1, true), imm = d.immLo & 0xff;
    return (c) => { load(c); loadDst(c, k); f(c, o, imm); };
  };
}

// ---- sign and zero extension ------------------------------------------------------------------------

/** PMOVSX/PMOVZX: `count` elements of `from` bytes of the source, extended to `to` bytes. */
function pmov(from: number, to: number, signed: boolean): Builder {
  const count = 16 / to, srcBytes = count * from;
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0));
    const load = isXmm(d, 1) ? src128(d, 1, false) : srcBytes === 8 ? src64(d, 1) : srcBytes === 4 ? src32(d, 1) : src16(d, 1);
    return (c) => {
      load(c);
      const t = SRC.u8, u = c.s.u8;
      for (let i = count - 1; i >= 0; i--) {
        const neg = signed && (t[i * from + from - 1]! & 0x80) !== 0;
        for (let j = 0; j < to; j++) {
          u[o + i * to + j] = j < from ? t[i * from + j]! : neg ? 0xff : 0;
        }
      }
    };
  };
}

// ---- lane-wise ----------------------------------------------------------------------------------------

const sb = (x: number): number => (x << 24) >> 24;

/** Byte lanes (signed compare helpers take raw bytes). */
function bytes(f: (a: number, b: number) => number): Op {
  return (c, o) => { const u = c.s.u8, a = DST.u8, b = SRC.u8; for (let i = 0; i < 16; i++) u[o + i] = f(a[i]!, b[i]!); };
}
function words(f: (a: number, b: number) => number): Op {
  return (c, o) => { const u = c.s.u16, k = o >> 1, a = DST.u16, b = SRC.u16; for (let i = 0; i < 8; i++) u[k + i] = f(a[i]!, b[i]!); };
}
function dwords(f: (a: number, b: number) => number): Op {
  return (c, o) => { const u = c.r, k = o >> 2, a = DST.u32, b = SRC.u32; for (let i = 0; i < 4; i++) u[k + i] = f(a[i]!, b[i]!); };
}

/** PMULDQ: signed products of dwords 0 and 2 as quadwords. */
const pmuldq: Op = (c, o) => {
  const u = c.r, k = o >> 2, a = DST.u32, b = SRC.u32;
  for (let i = 0; i < 4; i += 2) {
    const x = a[i]!, y = b[i]!;
    const lo = mul32(x, y);
    let hi = mul32Hi();
    if (x & 0x80000000) hi -= y; // signed = unsigned - 2^32 * (x < 0 ? y : 0) - 2^32 * (y < 0 ? x : 0)
    if (y & 0x80000000) hi -= x;
    u[k + i] = lo; u[k + i + 1] = hi >>> 0;
  }
};

/** PCMPEQQ. */
const pcmpeqq: Op = (c, o) => {
  const u = c.r, k = o >> 2, a = DST.u32, b = SRC.u32;
  for (let i = 0; i < 4; i += 2) { const v = a[i] === b[i] && a[i + 1] === b[i + 1] ? 0xffffffff : 0; u[k + i] = v; u[k + i + 1] = v; }
};

/** PACKUSDW: signed dwords of the destination, then the source, to unsigned-saturated words. */
const packusdw: Op = (c, o) => {
  const u = c.s.u16, k = o >> 1, a = DST.i32, b = SRC.i32;
  const sat = (x: number): number => (x < 0 ? 0 : x > 0xffff ? 0xffff : x);
  for (let i = 0; i < 4; i++) { u[k + i] = sat(a[i]!); u[k + 4 + i] = sat(b[i]!); }
};

/** PHMINPOSUW: the smallest unsigned source word in word 0, its (lowest) index in bits 18:16, the rest zero. */
const phminposuw: Op = (c, o) => {
  const t = SRC.u16;
  let m = t[0]!, at = 0;
  for (let i = 1; i < 8; i++) if (t[i]! < m) { m = t[i]!; at = i; }
  const u = c.r, k = o >> 2;
  u[k] = m | (at << 16); u[k + 1] = 0; u[k + 2] = 0; u[k + 3] = 0;
};

/** MPSADBW: eight sums of absolute differences of 4-byte groups (source group imm8[1:0], destination offset imm8[2]*4). */
const mpsadbw: Op = (c, o, imm) => {
  const a = DST.u8, b = SRC.u8, so = (imm & 3) * 4, dof = ((imm >> 2) & 1) * 4, u = c.s.u16, k = o >> 1;
  for (let i = 0; i < 8; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += Math.abs(a[dof + i + j]! - b[so + j]!);
    u[k + i] = s;
  }
};

/** PTEST: ZF = (dst AND src) = 0, CF = (NOT dst AND src) = 0; AF OF PF SF cleared. */
function ptest(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, true), t = SRC.u32;
  return (c) => {
    load(c);
    const u = c.r;
    let and = 0, andn = 0;
    for (let i = 0; i < 4; i++) { and |= u[k + i]! & t[i]!; andn |= ~u[k + i]! & t[i]!; }
    setStatusFlags(c.r, (and === 0 ? Fl.ZF : 0) | (andn === 0 ? Fl.CF : 0));
  };
}

// ---- blends -----------------------------------------------------------------------------------------

/** BLENDPS/BLENDPD/PBLENDW: element i (of `size` bytes) from the source where imm8 bit i is set. */
function blendImm(size: number): Op {
  return (c, o, imm) => {
    const u = c.s.u8, b = SRC.u8;
    for (let i = 0; i < 16 / size; i++) if ((imm >> i) & 1) for (let j = 0; j < size; j++) u[o + i * size + j] = b[i * size + j]!;
  };
}

/** BLENDVPS/BLENDVPD/PBLENDVB: element i from the source where the sign bit of XMM0's element i is set. */
function blendVar(size: number): Op {
  return (c, o) => {
    const u = c.s.u8, b = SRC.u8, m = XMM0 << 2;
    for (let i = 0; i < 16 / size; i++) {
      if (u[m + i * size + size - 1]! & 0x80) for (let j = 0; j < size; j++) u[o + i * size + j] = b[i * size + j]!;
    }
  };
}

// ---- element extract and insert ---------------------------------------------------------------------

/** PEXTRB/PEXTRW/PEXTRD/PEXTRQ/EXTRACTPS r/m, xmm, imm8: element (imm8 mod count) of `size` bytes; a GPR is zero-extended. */
function extract(size: number): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 1)) + (d.immLo & (16 / size - 1)) * size;
    if (d.ops[0] === OpType.REG) {
      const g = regOf(d, 0).n << 1;
      return (c) => {
        const u = c.r, s = c.s;
        const lo = size === 1 ? s.u8[o]! : size === 2 ? s.u16[o >> 1]! : u[o >> 2]!;
        u[g + 1] = size === 8 ? u[(o >> 2) + 1]! : 0; u[g] = lo;
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi, s = c.s;
      if (size === 1) c.wr8(lo, hi, s.u8[o]!);
      else if (size === 2) c.wr16(lo, hi, s.u16[o >> 1]!);
      else if (size === 4) c.wr32(lo, hi, c.r[o >> 2]!);
      else c.wr64(lo, hi, c.r[o >> 2]!, c.r[(o >> 2) + 1]!);
    };
  };
}

/** PINSRB/PINSRD/PINSRQ xmm, r/m, imm8: element (imm8 mod count) of `size` bytes from a GPR's low bytes or memory. */
function insert(size: number): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)) + (d.immLo & (16 / size - 1)) * size;
    if (d.ops[1] === OpType.REG) {
      const g = regOf(d, 1).n << 1;
      return (c) => {
        const u = c.r, s = c.s;
        if (size === 1) s.u8[o] = u[g]! & 0xff;
        else if (size === 4) u[o >> 2] = u[g]!;
        else { u[o >> 2] = u[g]!; u[(o >> 2) + 1] = u[g + 1]!; }
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi, s = c.s;
      if (size === 1) s.u8[o] = c.rd8(lo, hi);
      else if (size === 4) c.r[o >> 2] = c.rd32(lo, hi);
      else { const v = c.rd64(lo, hi); c.r[o >> 2] = v; c.r[(o >> 2) + 1] = c.hi; }
    };
  };
}

/** INSERTPS xmm, xmm/m32, imm8: a dword (source lane imm8[7:6], or m32) into lane imm8[5:4], then zero lanes in imm8[3:0]. */
function insertps(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, imm = d.immLo & 0xff;
  const from = isXmm(d, 1) ? (imm >> 6) & 3 : 0, to = (imm >> 4) & 3, zmask = imm & 15;
  const load = isXmm(d, 1) ? src128(d, 1, false) : src32(d, 1);
  return (c) => {
    load(c);
    const u = c.r;
    u[k + to] = SRC.u32[from]!;
    for (let i = 0; i < 4; i++) if ((zmask >> i) & 1) u[k + i] = 0;
  };
}

/** MOVNTDQA xmm, m128: an aligned 16-byte load (the non-temporal hint has no architectural effect). */
function movntdqa(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, ea = eaOf(memOf(d)), t = SRC.u32;
  return (c) => {
    const lo = ea(c);
    checkAlign16(lo);
    rd128(c, lo, c.hi, SRC);
    const u = c.r; u[k] = t[0]!; u[k + 1] = t[1]!; u[k + 2] = t[2]!; u[k + 3] = t[3]!;
  };
}

const minS8 = (a: number, b: number): number => (sb(a) < sb(b) ? a : b);
const maxS8 = (a: number, b: number): number => (sb(a) > sb(b) ? a : b);

/** SSE4.1 integer, blend and element instructions. */
export const sse41Ops: OpMap = {
  [Code.Pmovsxbw_xmm_xmmm64]: pmov(1, 2, true),
  [Code.Pmovsxbd_xmm_xmmm32]: pmov(1, 4, true),
  [Code.Pmovsxbq_xmm_xmmm16]: pmov(1, 8, true),
  [Code.Pmovsxwd_xmm_xmmm64]: pmov(2, 4, true),
  [Code.Pmovsxwq_xmm_xmmm32]: pmov(2, 8, true),
  [Code.Pmovsxdq_xmm_xmmm64]: pmov(4, 8, true),
  [Code.Pmovzxbw_xmm_xmmm64]: pmov(1, 2, false),
  [Code.Pmovzxbd_xmm_xmmm32]: pmov(1, 4, false),
  [Code.Pmovzxbq_xmm_xmmm16]: pmov(1, 8, false),
  [Code.Pmovzxwd_xmm_xmmm64]: pmov(2, 4, false),
  [Code.Pmovzxwq_xmm_xmmm32]: pmov(2, 8, false),
  [Code.Pmovzxdq_xmm_xmmm64]: pmov(4, 8, false),
  [Code.Pminsb_xmm_xmmm128]: op128(bytes(minS8)),
  [Code.Pmaxsb_xmm_xmmm128]: op128(bytes(maxS8)),
  [Code.Pminuw_xmm_xmmm128]: op128(words((a, b) => (a < b ? a : b))),
  [Code.Pmaxuw_xmm_xmmm128]: op128(words((a, b) => (a > b ? a : b))),
  [Code.Pminsd_xmm_xmmm128]: op128(dwords((a, b) => ((a | 0) < (b | 0) ? a : b))),
  [Code.Pmaxsd_xmm_xmmm128]: op128(dwords((a, b) => ((a | 0) > (b | 0) ? a : b))),
  [Code.Pminud_xmm_xmmm128]: op128(dwords((a, b) => (a < b ? a : b))),
  [Code.Pmaxud_xmm_xmmm128]: op128(dwords((a, b) => (a > b ? a : b))),
  [Code.Pmulld_xmm_xmmm128]: op128(dwords((a, b) => Math.imul(a, b) >>> 0)),
  [Code.Pmuldq_xmm_xmmm128]: op128(pmuldq),
  [Code.Pcmpeqq_xmm_xmmm128]: op128(pcmpeqq),
  [Code.Packusdw_xmm_xmmm128]: op128(packusdw),
  [Code.Phminposuw_xmm_xmmm128]: op128(phminposuw),
  [Code.Mpsadbw_xmm_xmmm128_imm8]: op128(mpsadbw),
  [Code.Ptest_xmm_xmmm128]: ptest,
  [Code.Blendps_xmm_xmmm128_imm8]: op128(blendImm(4)),
  [Code.Blendpd_xmm_xmmm128_imm8]: op128(blendImm(8)),
  [Code.Pblendw_xmm_xmmm128_imm8]: op128(blendImm(2)),
  [Code.Blendvps_xmm_xmmm128]: op128(blendVar(4)),
  [Code.Blendvpd_xmm_xmmm128]: op128(blendVar(8)),
  [Code.Pblendvb_xmm_xmmm128]: op128(blendVar(1)),
  [Code.Pextrb_r32m8_xmm_imm8]: extract(1),
  [Code.Pextrb_r64m8_xmm_imm8]: extract(1),
  [Code.Pextrw_r32m16_xmm_imm8]: extract(2),
  [Code.Pextrw_r64m16_xmm_imm8]: extract(2),
  [Code.Pextrd_rm32_xmm_imm8]: extract(4),
  [Code.Pextrq_rm64_xmm_imm8]: extract(8),
  [Code.Extractps_rm32_xmm_imm8]: extract(4),
  [Code.Extractps_r64m32_xmm_imm8]: extract(4),
  [Code.Pinsrb_xmm_r32m8_imm8]: insert(1),
  [Code.Pinsrb_xmm_r64m8_imm8]: insert(1),
  [Code.Pinsrd_xmm_rm32_imm8]: insert(4),
  [Code.Pinsrq_xmm_rm64_imm8]: insert(8),
  [Code.Insertps_xmm_xmmm32_imm8]: insertps,
  [Code.Movntdqa_xmm_m128]: movntdqa,
};
