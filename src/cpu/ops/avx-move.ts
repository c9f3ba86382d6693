// AVX/AVX2 moves and permutes that have no SSE twin or cross the 128-bit halves (Intel SDM vol. 2): VMOVDQU/
// VMOVDQA/VMOVUPS/... stores, VMOVD/VMOVQ, broadcasts, VPMOVMSKB/VMOVMSKPS/PD, VPTEST, VZEROUPPER/VZEROALL,
// VINSERT/VEXTRACT of 128-bit halves, VPERM2I128, VPERMQ/VPERMD, VPBLENDD, VLDDQU, VMOVNTDQA. A VEX.128 result
// zeroes bits 255:128 of the destination register. Every memory read comes before any register write.
import { Code } from 'iced-x86';
import type { Builder, Cpu } from '../cpu.js';
import { type Decoded, OpType, RegClass } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { Access } from '../mmu.js';
import { Implicit } from '../op-spec.js';
import { eaOf, memOf } from '../operands.js';
import { Fl, Off } from '../state.js';
import type { OpMap } from '../table.js';
import { putStatus } from './alu-shared.js';

/** The source operand (up to 32 bytes). */
const T = new Uint32Array(8);
/** The result (32 bytes), written to the destination at the end. */
const O = new Uint32Array(8);
/** A second source (VPERM2I128, VPBLENDD, VINSERTI128). */
const U = new Uint32Array(8);

/** u32 index of word w (0..7) of vector register n. */
const word = (n: number, w: number): number => (w < 4 ? (Off.XMM >> 2) + 4 * n + w : (Off.YMMH >> 2) + 4 * n + w - 4);

/** Reader of operand i into `to`: a vector register (16/32 bytes), a GPR (4/8), or memory of `size` bytes. */
function loader(d: Decoded, i: number, to: Uint32Array, align = 0): (c: Cpu) => void {
  if (d.ops[i] === OpType.REG) {
    const ref = d.regs[i]!;
    if (ref.cls === RegClass.GPR) {
      const k = ref.n << 1, wide = ref.size === 8;
      return (c) => { to.fill(0); to[0] = c.r[k]!; if (wide) to[1] = c.r[k + 1]!; };
    }
    const n = ref.n, words = ref.size >> 2;
    return (c) => { to.fill(0); for (let w = 0; w < words; w++) to[w] = c.r[word(n, w)]!; };
  }
  const ea = eaOf(memOf(d)), size = d.mem!.size;
  return (c) => {
    const lo = ea(c), hi = c.hi;
    if (align && (lo & (align - 1))) throw new Fault(Vector.GP, 0, 0, 0, `misaligned ${align}-byte AVX operand`);
    to.fill(0);
    if (size >= 8) {
      for (let k = 0; k < size; k += 8) { const a = (lo + k) >>> 0; to[k >> 2] = c.rd64(a, a < lo ? (hi + 1) >>> 0 : hi); to[(k >> 2) + 1] = c.hi; }
    } else to[0] = size === 4 ? c.rd32(lo, hi) : size === 2 ? c.rd16(lo, hi) : c.rd8(lo, hi);
  };
}

/** Write `bytes` (16/32) of O to vector register n, zeroing the rest of the 256 bits. */
function putVec(c: Cpu, n: number, bytes: number): void {
  const r = c.r, words = bytes >> 2;
  for (let w = 0; w < 8; w++) r[word(n, w)] = w < words ? O[w]! : 0;
}

/** Writer of O to operand 0: a vector register (VEX zeroing), a GPR (4/8 bytes) or memory (whole pages checked first). */
function storer(d: Decoded, bytes: number, align = 0): (c: Cpu) => void {
  if (d.ops[0] === OpType.REG) {
    const ref = d.regs[0]!;
    if (ref.cls === RegClass.GPR) {
      const k = ref.n << 1;
      return ref.size === 8 ? (c) => { c.r[k] = O[0]!; c.r[k + 1] = O[1]!; } : (c) => { c.r[k] = O[0]!; c.r[k + 1] = 0; };
    }
    const n = ref.n;
    return (c) => putVec(c, n, bytes);
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const lo = ea(c), hi = c.hi;
    if (align && (lo & (align - 1))) throw new Fault(Vector.GP, 0, 0, 0, `misaligned ${align}-byte AVX operand`);
    if (bytes >= 8) {
      const last = (lo + bytes - 1) >>> 0;
      if ((last ^ lo) >>> 12 !== 0) { c.translate(lo, hi, Access.WRITE); c.translate(last, last < lo ? (hi + 1) >>> 0 : hi, Access.WRITE); }
      for (let k = 0; k < bytes; k += 8) { const a = (lo + k) >>> 0; c.wr64(a, a < lo ? (hi + 1) >>> 0 : hi, O[k >> 2]!, O[(k >> 2) + 1]!); }
    } else c.wr32(lo, hi, O[0]!);
  };
}

/**
 * A move of `bytes` from operand 1 to operand 0 (loads, stores, register copies; `align` for VMOVDQA and
 * friends); the bytes beyond `bytes` of a register source are not moved (VMOVQ xmm, xmm zeroes bits 127:64).
 */
function move(bytes: number, align = 0): Builder {
  return (d) => {
    const ld = loader(d, 1, T, align), st = storer(d, bytes, align), words = bytes >> 2;
    return (c) => { ld(c); for (let w = 0; w < 8; w++) O[w] = w < words ? T[w]! : 0; st(c); };
  };
}

/** Broadcast element of `size` bytes of the source to `bytes` of the destination. */
function broadcast(size: number, bytes: number): Builder {
  return (d) => {
    const ld = loader(d, 1, T), n = d.regs[0]!.n, words = size >> 2;
    return (c) => {
      ld(c);
      if (size >= 4) { for (let w = 0; w < 8; w++) O[w] = T[w % words]!; } else {
        const v = size === 1 ? (T[0]! & 0xff) * 0x01010101 : (T[0]! & 0xffff) * 0x10001;
        O.fill(v >>> 0);
      }
      putVec(c, n, bytes);
    };
  };
}

/** VPMOVMSKB / VMOVMSKPS / VMOVMSKPD r, xmm/ymm: the top bit of every element of `size` bytes. */
function moveMask(size: number): Builder {
  return (d) => {
    const k = d.regs[0]!.n << 1, src = d.regs[1]!, bytes = src.size, n = src.n;
    return (c) => {
      let m = 0;
      for (let w = 0; w < (bytes >> 2); w++) {
        const v = c.r[word(n, w)]!;
        if (size === 1) m |= (((v >>> 7) & 1) | ((v >>> 14) & 2) | ((v >>> 21) & 4) | ((v >>> 28) & 8)) << (4 * w);
        else if (size === 4) m |= (v >>> 31) << w;
        else if (w & 1) m |= (v >>> 31) << (w >> 1);
      }
      c.r[k] = m >>> 0; c.r[k + 1] = 0;
    };
  };
}

/** VPTEST xmm/ymm, xmm/ymm/m: ZF = (a AND b) == 0, CF = (NOT a AND b) == 0, the other status flags cleared. */
const vptest: Builder = (d) => {
  const ld = loader(d, 1, T), n = d.regs[0]!.n, words = d.regs[0]!.size >> 2;
  return (c) => {
    ld(c);
    let and = 0, andn = 0;
    for (let w = 0; w < words; w++) { const a = c.r[word(n, w)]!; and |= a & T[w]!; andn |= ~a & T[w]!; }
    putStatus(c.r, (and === 0 ? Fl.ZF : 0) | (andn === 0 ? Fl.CF : 0));
  };
};

/** VZEROUPPER (bits 255:128 of every register) / VZEROALL (all 256 bits). */
function zero(all: boolean): Builder {
  return () => (c) => {
    c.s.u8.fill(0, Off.YMMH, Off.YMMH + 256);
    if (all) c.s.u8.fill(0, Off.XMM, Off.XMM + 256);
  };
}

/** VINSERTI128/VINSERTF128 ymm, ymm, xmm/m128, imm8: src1 with the half imm8[0] replaced. */
const vinsert: Builder = (d) => {
  const a = d.regs[1]!.n, ld = loader(d, 2, T), n = d.regs[0]!.n, h = d.immLo & 1;
  return (c) => {
    ld(c);
    for (let w = 0; w < 8; w++) O[w] = c.r[word(a, w)]!;
    for (let w = 0; w < 4; w++) O[4 * h + w] = T[w]!;
    putVec(c, n, 32);
  };
};

/** VEXTRACTI128/VEXTRACTF128 xmm/m128, ymm, imm8: the half imm8[0]. */
const vextract: Builder = (d) => {
  const s = d.regs[1]!.n, h = d.immLo & 1, st = storer(d, 16);
  return (c) => { for (let w = 0; w < 4; w++) O[w] = c.r[word(s, 4 * h + w)]!; st(c); };
};

/** VPERM2I128/VPERM2F128 ymm, ymm, ymm/m256, imm8: each half picked from the four source halves or zeroed. */
const vperm2: Builder = (d) => {
  const a = d.regs[1]!.n, ld = loader(d, 2, T), n = d.regs[0]!.n, imm = d.immLo & 0xff;
  return (c) => {
    ld(c);
    for (let w = 0; w < 8; w++) U[w] = c.r[word(a, w)]!;
    for (let h = 0; h < 2; h++) {
      const ctl = (imm >>> (4 * h)) & 0xf, sel = ctl & 3, from = sel < 2 ? U : T, base = (sel & 1) * 4;
      for (let w = 0; w < 4; w++) O[4 * h + w] = ctl & 8 ? 0 : from[base + w]!;
    }
    putVec(c, n, 32);
  };
};

/** VPERMQ/VPERMPD ymm, ymm/m256, imm8: qword i := source qword imm8[2i+1:2i]. */
const vpermq: Builder = (d) => {
  const ld = loader(d, 1, T), n = d.regs[0]!.n, imm = d.immLo & 0xff;
  return (c) => {
    ld(c);
    for (let i = 0; i < 4; i++) { const q = (imm >>> (2 * i)) & 3; O[2 * i] = T[2 * q]!; O[2 * i + 1] = T[2 * q + 1]!; }
    putVec(c, n, 32);
  };
};

/** VPERMD/VPERMPS ymm, ymm(index), ymm/m256: dword i := source dword index[i][2:0]. */
const vpermd: Builder = (d) => {
  const idx = d.regs[1]!.n, ld = loader(d, 2, T), n = d.regs[0]!.n;
  return (c) => {
    ld(c);
    for (let i = 0; i < 8; i++) O[i] = T[c.r[word(idx, i)]! & 7]!;
    putVec(c, n, 32);
  };
};

/** VPBLENDD xmm/ymm, src1, src2/m, imm8: dword i from src2 when imm8[i] is set. */
const vpblendd: Builder = (d) => {
  const a = d.regs[1]!.n, ld = loader(d, 2, T), n = d.regs[0]!.n, bytes = d.regs[0]!.size, imm = d.immLo & 0xff;
  return (c) => {
    ld(c);
    for (let w = 0; w < (bytes >> 2); w++) O[w] = (imm >>> w) & 1 ? T[w]! : c.r[word(a, w)]!;
    putVec(c, n, bytes);
  };
};

/** VMOVSS/VMOVSD xmm, xmm, xmm and VMOVLPS/VMOVHPS (PD) xmm, xmm, m64: src1 with `words` words at `at` from operand 2. */
function merge(at: number, words: number): Builder {
  return (d) => {
    const a = d.regs[1]!.n, ld = loader(d, 2, T), n = d.regs[0]!.n;
    return (c) => {
      ld(c);
      for (let w = 0; w < 4; w++) O[w] = c.r[word(a, w)]!;
      for (let w = 0; w < words; w++) O[at + w] = T[w]!;
      putVec(c, n, 16);
    };
  };
}

/** VMOVHPS/VMOVHPD m64, xmm: the high quadword. */
const storeHigh: Builder = (d) => {
  const s = d.regs[1]!.n, st = storer(d, 8);
  return (c) => { O[0] = c.r[word(s, 2)]!; O[1] = c.r[word(s, 3)]!; st(c); };
};

const X = 16, Y = 32;

/** AVX/AVX2 moves and permutes keyed by iced Code. */
export const avxMoveOps: OpMap = {
  [Code.VEX_Vmovdqu_xmmm128_xmm]: move(X), [Code.VEX_Vmovdqu_ymmm256_ymm]: move(Y),
  [Code.VEX_Vmovdqu_ymm_ymmm256]: move(Y), [Code.VEX_Vmovdqu_xmm_xmmm128]: move(X),
  [Code.VEX_Vmovdqa_xmmm128_xmm]: move(X, X), [Code.VEX_Vmovdqa_ymmm256_ymm]: move(Y, Y),
  [Code.VEX_Vmovdqa_xmm_xmmm128]: move(X, X), [Code.VEX_Vmovdqa_ymm_ymmm256]: move(Y, Y),
  [Code.VEX_Vmovups_xmmm128_xmm]: move(X), [Code.VEX_Vmovups_ymmm256_ymm]: move(Y),
  [Code.VEX_Vmovups_xmm_xmmm128]: move(X), [Code.VEX_Vmovups_ymm_ymmm256]: move(Y),
  [Code.VEX_Vmovupd_xmmm128_xmm]: move(X), [Code.VEX_Vmovupd_ymmm256_ymm]: move(Y),
  [Code.VEX_Vmovupd_xmm_xmmm128]: move(X), [Code.VEX_Vmovupd_ymm_ymmm256]: move(Y),
  [Code.VEX_Vmovaps_xmmm128_xmm]: move(X, X), [Code.VEX_Vmovaps_ymmm256_ymm]: move(Y, Y),
  [Code.VEX_Vmovaps_xmm_xmmm128]: move(X, X), [Code.VEX_Vmovaps_ymm_ymmm256]: move(Y, Y),
  [Code.VEX_Vmovapd_xmmm128_xmm]: move(X, X), [Code.VEX_Vmovapd_ymmm256_ymm]: move(Y, Y),
  [Code.VEX_Vmovapd_xmm_xmmm128]: move(X, X), [Code.VEX_Vmovapd_ymm_ymmm256]: move(Y, Y),
  [Code.VEX_Vmovntdq_m128_xmm]: move(X, X), [Code.VEX_Vmovntdq_m256_ymm]: move(Y, Y),
  [Code.VEX_Vmovntps_m128_xmm]: move(X, X), [Code.VEX_Vmovntps_m256_ymm]: move(Y, Y),
  [Code.VEX_Vmovntpd_m128_xmm]: move(X, X), [Code.VEX_Vmovntpd_m256_ymm]: move(Y, Y),
  [Code.VEX_Vmovntdqa_xmm_m128]: move(X, X), [Code.VEX_Vmovntdqa_ymm_m256]: move(Y, Y),
  [Code.VEX_Vlddqu_xmm_m128]: move(X), [Code.VEX_Vlddqu_ymm_m256]: move(Y),
  [Code.VEX_Vmovd_xmm_rm32]: move(4), [Code.VEX_Vmovq_xmm_rm64]: move(8), [Code.VEX_Vmovq_xmm_xmmm64]: move(8),
  [Code.VEX_Vmovd_rm32_xmm]: move(4), [Code.VEX_Vmovq_rm64_xmm]: move(8), [Code.VEX_Vmovq_xmmm64_xmm]: move(8),
  [Code.VEX_Vmovss_xmm_xmm_xmm]: merge(0, 1), [Code.VEX_Vmovss_xmm_xmm_xmm_0F11]: merge(0, 1),
  [Code.VEX_Vmovsd_xmm_xmm_xmm]: merge(0, 2), [Code.VEX_Vmovsd_xmm_xmm_xmm_0F11]: merge(0, 2),
  [Code.VEX_Vmovss_xmm_m32]: move(4), [Code.VEX_Vmovsd_xmm_m64]: move(8),
  [Code.VEX_Vmovss_m32_xmm]: move(4), [Code.VEX_Vmovsd_m64_xmm]: move(8),
  [Code.VEX_Vmovlps_xmm_xmm_m64]: merge(0, 2), [Code.VEX_Vmovlpd_xmm_xmm_m64]: merge(0, 2),
  [Code.VEX_Vmovhps_xmm_xmm_m64]: merge(2, 2), [Code.VEX_Vmovhpd_xmm_xmm_m64]: merge(2, 2),
  [Code.VEX_Vmovlps_m64_xmm]: move(8), [Code.VEX_Vmovlpd_m64_xmm]: move(8),
  [Code.VEX_Vmovhps_m64_xmm]: storeHigh, [Code.VEX_Vmovhpd_m64_xmm]: storeHigh,
  [Code.VEX_Vpbroadcastb_xmm_xmmm8]: broadcast(1, X), [Code.VEX_Vpbroadcastb_ymm_xmmm8]: broadcast(1, Y),
  [Code.VEX_Vpbroadcastw_xmm_xmmm16]: broadcast(2, X), [Code.VEX_Vpbroadcastw_ymm_xmmm16]: broadcast(2, Y),
  [Code.VEX_Vpbroadcastd_xmm_xmmm32]: broadcast(4, X), [Code.VEX_Vpbroadcastd_ymm_xmmm32]: broadcast(4, Y),
  [Code.VEX_Vpbroadcastq_xmm_xmmm64]: broadcast(8, X), [Code.VEX_Vpbroadcastq_ymm_xmmm64]: broadcast(8, Y),
  [Code.VEX_Vbroadcastss_xmm_m32]: broadcast(4, X), [Code.VEX_Vbroadcastss_ymm_m32]: broadcast(4, Y),
  [Code.VEX_Vbroadcastss_xmm_xmm]: broadcast(4, X), [Code.VEX_Vbroadcastss_ymm_xmm]: broadcast(4, Y),
  [Code.VEX_Vbroadcastsd_ymm_m64]: broadcast(8, Y), [Code.VEX_Vbroadcastsd_ymm_xmm]: broadcast(8, Y),
  [Code.VEX_Vbroadcastf128_ymm_m128]: broadcast(16, Y), [Code.VEX_Vbroadcasti128_ymm_m128]: broadcast(16, Y),
  [Code.VEX_Vpmovmskb_r32_xmm]: moveMask(1), [Code.VEX_Vpmovmskb_r64_xmm]: moveMask(1),
  [Code.VEX_Vpmovmskb_r32_ymm]: moveMask(1), [Code.VEX_Vpmovmskb_r64_ymm]: moveMask(1),
  [Code.VEX_Vmovmskps_r32_xmm]: moveMask(4), [Code.VEX_Vmovmskps_r64_xmm]: moveMask(4),
  [Code.VEX_Vmovmskps_r32_ymm]: moveMask(4), [Code.VEX_Vmovmskps_r64_ymm]: moveMask(4),
  [Code.VEX_Vmovmskpd_r32_xmm]: moveMask(8), [Code.VEX_Vmovmskpd_r64_xmm]: moveMask(8),
  [Code.VEX_Vmovmskpd_r32_ymm]: moveMask(8), [Code.VEX_Vmovmskpd_r64_ymm]: moveMask(8),
  [Code.VEX_Vptest_xmm_xmmm128]: vptest, [Code.VEX_Vptest_ymm_ymmm256]: vptest,
  [Code.VEX_Vzeroupper]: { build: zero(false), writes: Implicit.XMM },
  [Code.VEX_Vzeroall]: { build: zero(true), writes: Implicit.XMM },
  [Code.VEX_Vinserti128_ymm_ymm_xmmm128_imm8]: vinsert, [Code.VEX_Vinsertf128_ymm_ymm_xmmm128_imm8]: vinsert,
  [Code.VEX_Vextracti128_xmmm128_ymm_imm8]: vextract, [Code.VEX_Vextractf128_xmmm128_ymm_imm8]: vextract,
  [Code.VEX_Vperm2i128_ymm_ymm_ymmm256_imm8]: vperm2, [Code.VEX_Vperm2f128_ymm_ymm_ymmm256_imm8]: vperm2,
  [Code.VEX_Vpermq_ymm_ymmm256_imm8]: vpermq, [Code.VEX_Vpermpd_ymm_ymmm256_imm8]: vpermq,
  [Code.VEX_Vpermd_ymm_ymm_ymmm256]: vpermd, [Code.VEX_Vpermps_ymm_ymm_ymmm256]: vpermd,
  [Code.VEX_Vpblendd_xmm_xmm_xmmm128_imm8]: vpblendd, [Code.VEX_Vpblendd_ymm_ymm_ymmm256_imm8]: vpblendd,
};
