// MMX instruction family (SDM vol. 2): the MMX instructions, the SSE/SSE2 integer instructions on MMX registers,
// the SSSE3 MMX forms, MOVQ2DQ/MOVDQ2Q, the MMX conversions CVTPI2PS CVTPI2PD CVT(T)PS2PI CVT(T)PD2PI, and EMMS.
// Every instruction that touches an MMX register goes through mmxEnter (#UD/#NM/#MF) before any other effect
// and mmxCommit (TOP = 0, all registers valid) after its last possible fault (mmx-state.ts).
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Decoded, OpType, RegClass } from '../decoded.js';
import { eaOf, memOf, regOf } from '../operands.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { maskedStore } from './masked-store.js';
import { MM_LANES, MM_SHIFT_IMM, MmOp } from './mmx-lanes.js';
import { emms, mmIndex, mmxCommit, mmxEnter, writeMm } from './mmx-state.js';
import { commitFlags, DST, MXCSR, RES, SRC, src128, src64, SrcLoader, xmmOf, xmmOff } from './sse-common.js';
import { i2s, toInt } from './sse-convert.js';
import { MIN_D, MIN_S } from './sse-lanes.js';
import { FS } from './sse-soft.js';
import { SSSE3_OPS } from './ssse3.js';

/** True if operand i is an MMX register. */
const isMm = (d: Decoded, i: number): boolean => d.ops[i] === OpType.REG && d.regs[i]!.cls === RegClass.MM;

/** Loader of an MMX source (an MMX register, or m64/m32 as the instruction's memory size says) into SRC.u32[0..1]. */
function srcMm(d: Decoded, i: number): SrcLoader {
  const t = SRC.u32;
  if (isMm(d, i)) { const k = mmIndex(regOf(d, i).n); return (c) => { t[0] = c.r[k]!; t[1] = c.r[k + 1]!; }; }
  const ea = eaOf(memOf(d));
  if (memOf(d).size === 4) return (c) => { const lo = ea(c); t[0] = c.rd32(lo, c.hi); t[1] = 0; };
  return (c) => { const lo = ea(c); t[0] = c.rd64(lo, c.hi); t[1] = c.hi; };
}

/** Builder of `mm, mm/m64 [, imm8]` computing RES from DST and SRC. */
function mm(op: MmOp): Builder {
  return (d: Decoded): Exec => {
    const n = regOf(d, 0).n, k = mmIndex(n), load = srcMm(d, 1), imm = d.immLo & 0xff;
    return (c) => {
      mmxEnter(c);
      load(c);
      DST.u32[0] = c.r[k]!; DST.u32[1] = c.r[k + 1]!;
      op(imm);
      writeMm(c, n, RES.u32[0]!, RES.u32[1]!);
      mmxCommit(c);
    };
  };
}

/** Builder of `mm, imm8` (shifts). */
function mmImm(op: MmOp): Builder {
  return (d: Decoded): Exec => {
    const n = regOf(d, 0).n, k = mmIndex(n), imm = d.immLo & 0xff;
    return (c) => {
      mmxEnter(c);
      DST.u32[0] = c.r[k]!; DST.u32[1] = c.r[k + 1]!;
      op(imm);
      writeMm(c, n, RES.u32[0]!, RES.u32[1]!);
      mmxCommit(c);
    };
  };
}

/** An SSSE3 operation on 8-byte registers. */
const ssse3 = (op: (s: Uint8Array, o: number, n: number, imm: number) => void): Builder => mm((imm) => op(RES.u8, 0, 8, imm));

// ---- moves --------------------------------------------------------------------------------------------

/** MOVD mm, r/m32 (zero-extended) / MOVQ mm, r/m64 / MOVQ mm, mm/m64. */
function loadMm(size: number): Builder {
  return (d: Decoded): Exec => {
    const n = regOf(d, 0).n;
    let read: (c: Cpu) => number; // lo returned, hi in c.hi
    if (isMm(d, 1)) { const k = mmIndex(regOf(d, 1).n); read = (c) => { c.hi = c.r[k + 1]!; return c.r[k]!; }; }
    else if (d.ops[1] === OpType.REG) { const g = regOf(d, 1).n << 1; read = size === 4 ? (c) => { c.hi = 0; return c.r[g]!; } : (c) => { c.hi = c.r[g + 1]!; return c.r[g]!; }; }
    else {
      const ea = eaOf(memOf(d));
      read = size === 4 ? (c) => { const lo = ea(c); const v = c.rd32(lo, c.hi); c.hi = 0; return v; } : (c) => { const lo = ea(c); return c.rd64(lo, c.hi); };
    }
    return (c) => { mmxEnter(c); const lo = read(c); writeMm(c, n, lo, c.hi); mmxCommit(c); };
  };
}

/** MOVD r/m32, mm / MOVQ r/m64, mm / MOVQ mm/m64, mm / MOVNTQ m64, mm. */
function storeMm(size: number): Builder {
  return (d: Decoded): Exec => {
    const k = mmIndex(regOf(d, 1).n);
    if (isMm(d, 0)) { const n = regOf(d, 0).n; return (c) => { mmxEnter(c); writeMm(c, n, c.r[k]!, c.r[k + 1]!); mmxCommit(c); }; }
    if (d.ops[0] === OpType.REG) {
      const g = regOf(d, 0).n << 1;
      return (c) => { mmxEnter(c); const u = c.r; u[g] = u[k]!; u[g + 1] = size === 4 ? 0 : u[k + 1]!; mmxCommit(c); };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      mmxEnter(c);
      const lo = ea(c);
      if (size === 4) c.wr32(lo, c.hi, c.r[k]!); else c.wr64(lo, c.hi, c.r[k]!, c.r[k + 1]!);
      mmxCommit(c);
    };
  };
}

/** MOVQ2DQ xmm, mm: the MMX register zero-extended. */
function movq2dq(d: Decoded): Exec {
  const x = xmmOff(xmmOf(d, 0)) >> 2, k = mmIndex(regOf(d, 1).n);
  return (c) => { mmxEnter(c); const u = c.r; u[x] = u[k]!; u[x + 1] = u[k + 1]!; u[x + 2] = 0; u[x + 3] = 0; mmxCommit(c); };
}

/** MOVDQ2Q mm, xmm: the low quadword. */
function movdq2q(d: Decoded): Exec {
  const n = regOf(d, 0).n, x = xmmOff(xmmOf(d, 1)) >> 2;
  return (c) => { mmxEnter(c); writeMm(c, n, c.r[x]!, c.r[x + 1]!); mmxCommit(c); };
}

/** PEXTRW r32/r64, mm, imm8: word imm8[1:0], zero-extended. */
function pextrw(d: Decoded): Exec {
  const g = regOf(d, 0).n << 1, w = (mmIndex(regOf(d, 1).n) << 1) + (d.immLo & 3);
  return (c) => { mmxEnter(c); const v = c.s.u16[w]!; c.r[g] = v; c.r[g + 1] = 0; mmxCommit(c); };
}

/** PINSRW mm, r32/m16, imm8: word imm8[1:0] from the low word of a GPR or m16. */
function pinsrw(d: Decoded): Exec {
  const n = regOf(d, 0).n, k = mmIndex(n), w = imm2(d);
  let read: (c: Cpu) => number;
  if (d.ops[1] === OpType.REG) { const g = regOf(d, 1).n << 1; read = (c) => c.r[g]! & 0xffff; }
  else { const ea = eaOf(memOf(d)); read = (c) => { const lo = ea(c); return c.rd16(lo, c.hi); }; }
  return (c) => {
    mmxEnter(c);
    const v = read(c);
    DST.u32[0] = c.r[k]!; DST.u32[1] = c.r[k + 1]!;
    DST.u16[w] = v;
    writeMm(c, n, DST.u32[0]!, DST.u32[1]!);
    mmxCommit(c);
  };
}
const imm2 = (d: Decoded): number => d.immLo & 3;

/** PMOVMSKB r32/r64, mm: the sign bits of the eight bytes. */
function pmovmskb(d: Decoded): Exec {
  const g = regOf(d, 0).n << 1, o = mmIndex(regOf(d, 1).n) << 2;
  return (c) => {
    mmxEnter(c);
    let m = 0;
    for (let i = 0; i < 8; i++) m |= (c.s.u8[o + i]! >> 7) << i;
    c.r[g] = m; c.r[g + 1] = 0;
    mmxCommit(c);
  };
}

/** MASKMOVQ mm1, mm2: bytes of mm1 whose mm2 byte has bit 7 set are stored at [RDI] ([EDI] with 67h). */
function maskmovq(d: Decoded): Exec {
  const o1 = mmIndex(regOf(d, 1).n) << 2, o2 = mmIndex(regOf(d, 2).n) << 2;
  const store = maskedStore(d, 8);
  return (c) => {
    mmxEnter(c);
    store(c, o1, o2);
    mmxCommit(c);
  };
}

// ---- conversions --------------------------------------------------------------------------------------

/** CVTPI2PS (dbl = false) / CVTPI2PD xmm, mm/m64: a memory source makes no MMX transition. */
function cvtpi2p(dbl: boolean): Builder {
  return (d: Decoded): Exec => {
    const x = xmmOff(xmmOf(d, 0)) >> 2, load = srcMm(d, 1), reg = isMm(d, 1);
    return (c) => {
      if (reg) mmxEnter(c);
      load(c);
      const u = c.r;
      if (dbl) {
        RES.f64[0] = SRC.i32[0]!; RES.f64[1] = SRC.i32[1]!;
        u[x] = RES.u32[0]!; u[x + 1] = RES.u32[1]!; u[x + 2] = RES.u32[2]!; u[x + 3] = RES.u32[3]!;
      } else {
        FS.fl = 0; FS.mx = c.r[MXCSR]!;
        i2s(0); i2s(1);
        if (reg) mmxCommit(c); // the transition happens before a SIMD floating-point exception
        if (FS.fl) commitFlags(c, FS.fl);
        u[x] = RES.u32[0]!; u[x + 1] = RES.u32[1]!;
      }
      if (reg) mmxCommit(c);
    };
  };
}

/** CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: two int32 (the indefinite 80000000h on invalid). */
function cvtp2pi(dbl: boolean, trunc: boolean): Builder {
  return (d: Decoded): Exec => {
    const n = regOf(d, 0).n, load = dbl ? src128(d, 1, true) : src64(d, 1);
    return (c) => {
      mmxEnter(c);
      load(c);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      for (let i = 0; i < 2; i++) RES.u32[i] = dbl ? toInt(SRC.f64[i]!, 32, trunc, MIN_D) : toInt(SRC.f32[i]!, 32, trunc, MIN_S);
      if (FS.fl) { mmxCommit(c); commitFlags(c, FS.fl); } // the transition happens before a SIMD floating-point exception
      writeMm(c, n, RES.u32[0]!, RES.u32[1]!);
      mmxCommit(c);
    };
  };
}

/** EMMS: #UD/#NM/#MF as every MMX instruction, then every tag empty. */
const emmsOp: Builder = () => (c) => { mmxEnter(c); emms(c); };

const L = MM_LANES, S = MM_SHIFT_IMM, X = SSSE3_OPS;

/** MMX handlers keyed by iced Code. */
// an MMX instruction sets the x87 stack top and tags (MMX state), and its conversions MXCSR's flags
export const mmxOps: OpMap = withWrites(Implicit.X87 | Implicit.MXCSR, {
  [Code.Emms]: emmsOp,
  [Code.Movd_mm_rm32]: loadMm(4),
  [Code.Movq_mm_rm64]: loadMm(8),
  [Code.Movq_mm_mmm64]: loadMm(8),
  [Code.Movd_rm32_mm]: storeMm(4),
  [Code.Movq_rm64_mm]: storeMm(8),
  [Code.Movq_mmm64_mm]: storeMm(8),
  [Code.Movntq_m64_mm]: storeMm(8),
  [Code.Movq2dq_xmm_mm]: movq2dq,
  [Code.Movdq2q_mm_xmm]: movdq2q,
  [Code.Pextrw_r32_mm_imm8]: pextrw,
  [Code.Pextrw_r64_mm_imm8]: pextrw,
  [Code.Pinsrw_mm_r32m16_imm8]: pinsrw,
  [Code.Pinsrw_mm_r64m16_imm8]: pinsrw,
  [Code.Pmovmskb_r32_mm]: pmovmskb,
  [Code.Pmovmskb_r64_mm]: pmovmskb,
  [Code.Maskmovq_rDI_mm_mm]: maskmovq,
  [Code.Cvtpi2ps_xmm_mmm64]: cvtpi2p(false),
  [Code.Cvtpi2pd_xmm_mmm64]: cvtpi2p(true),
  [Code.Cvtps2pi_mm_xmmm64]: cvtp2pi(false, false),
  [Code.Cvttps2pi_mm_xmmm64]: cvtp2pi(false, true),
  [Code.Cvtpd2pi_mm_xmmm128]: cvtp2pi(true, false),
  [Code.Cvttpd2pi_mm_xmmm128]: cvtp2pi(true, true),

  [Code.Paddb_mm_mmm64]: mm(L.paddb), [Code.Paddw_mm_mmm64]: mm(L.paddw), [Code.Paddd_mm_mmm64]: mm(L.paddd), [Code.Paddq_mm_mmm64]: mm(L.paddq),
  [Code.Psubb_mm_mmm64]: mm(L.psubb), [Code.Psubw_mm_mmm64]: mm(L.psubw), [Code.Psubd_mm_mmm64]: mm(L.psubd), [Code.Psubq_mm_mmm64]: mm(L.psubq),
  [Code.Paddusb_mm_mmm64]: mm(L.paddusb), [Code.Paddusw_mm_mmm64]: mm(L.paddusw), [Code.Psubusb_mm_mmm64]: mm(L.psubusb), [Code.Psubusw_mm_mmm64]: mm(L.psubusw),
  [Code.Paddsb_mm_mmm64]: mm(L.paddsb), [Code.Paddsw_mm_mmm64]: mm(L.paddsw), [Code.Psubsb_mm_mmm64]: mm(L.psubsb), [Code.Psubsw_mm_mmm64]: mm(L.psubsw),
  [Code.Pcmpeqb_mm_mmm64]: mm(L.pcmpeqb), [Code.Pcmpeqw_mm_mmm64]: mm(L.pcmpeqw), [Code.Pcmpeqd_mm_mmm64]: mm(L.pcmpeqd),
  [Code.Pcmpgtb_mm_mmm64]: mm(L.pcmpgtb), [Code.Pcmpgtw_mm_mmm64]: mm(L.pcmpgtw), [Code.Pcmpgtd_mm_mmm64]: mm(L.pcmpgtd),
  [Code.Pand_mm_mmm64]: mm(L.pand), [Code.Pandn_mm_mmm64]: mm(L.pandn), [Code.Por_mm_mmm64]: mm(L.por), [Code.Pxor_mm_mmm64]: mm(L.pxor),
  [Code.Pmullw_mm_mmm64]: mm(L.pmullw), [Code.Pmulhw_mm_mmm64]: mm(L.pmulhw), [Code.Pmulhuw_mm_mmm64]: mm(L.pmulhuw),
  [Code.Pmaddwd_mm_mmm64]: mm(L.pmaddwd), [Code.Pmuludq_mm_mmm64]: mm(L.pmuludq), [Code.Psadbw_mm_mmm64]: mm(L.psadbw),
  [Code.Pavgb_mm_mmm64]: mm(L.pavgb), [Code.Pavgw_mm_mmm64]: mm(L.pavgw),
  [Code.Pminub_mm_mmm64]: mm(L.pminub), [Code.Pmaxub_mm_mmm64]: mm(L.pmaxub), [Code.Pminsw_mm_mmm64]: mm(L.pminsw), [Code.Pmaxsw_mm_mmm64]: mm(L.pmaxsw),
  [Code.Pshufw_mm_mmm64_imm8]: mm(L.pshufw),
  [Code.Packsswb_mm_mmm64]: mm(L.packsswb), [Code.Packuswb_mm_mmm64]: mm(L.packuswb), [Code.Packssdw_mm_mmm64]: mm(L.packssdw),
  [Code.Punpcklbw_mm_mmm32]: mm(L.punpcklbw), [Code.Punpcklwd_mm_mmm32]: mm(L.punpcklwd), [Code.Punpckldq_mm_mmm32]: mm(L.punpckldq),
  [Code.Punpckhbw_mm_mmm64]: mm(L.punpckhbw), [Code.Punpckhwd_mm_mmm64]: mm(L.punpckhwd), [Code.Punpckhdq_mm_mmm64]: mm(L.punpckhdq),
  [Code.Psllw_mm_mmm64]: mm(L.psllw), [Code.Pslld_mm_mmm64]: mm(L.pslld), [Code.Psllq_mm_mmm64]: mm(L.psllq),
  [Code.Psrlw_mm_mmm64]: mm(L.psrlw), [Code.Psrld_mm_mmm64]: mm(L.psrld), [Code.Psrlq_mm_mmm64]: mm(L.psrlq),
  [Code.Psraw_mm_mmm64]: mm(L.psraw), [Code.Psrad_mm_mmm64]: mm(L.psrad),
  [Code.Psllw_mm_imm8]: mmImm(S.psllw), [Code.Pslld_mm_imm8]: mmImm(S.pslld), [Code.Psllq_mm_imm8]: mmImm(S.psllq),
  [Code.Psrlw_mm_imm8]: mmImm(S.psrlw), [Code.Psrld_mm_imm8]: mmImm(S.psrld), [Code.Psrlq_mm_imm8]: mmImm(S.psrlq),
  [Code.Psraw_mm_imm8]: mmImm(S.psraw), [Code.Psrad_mm_imm8]: mmImm(S.psrad),

  [Code.Pshufb_mm_mmm64]: ssse3(X.pshufb), [Code.Phaddw_mm_mmm64]: ssse3(X.phaddw), [Code.Phaddd_mm_mmm64]: ssse3(X.phaddd),
  [Code.Phaddsw_mm_mmm64]: ssse3(X.phaddsw), [Code.Phsubw_mm_mmm64]: ssse3(X.phsubw), [Code.Phsubd_mm_mmm64]: ssse3(X.phsubd),
  [Code.Phsubsw_mm_mmm64]: ssse3(X.phsubsw), [Code.Pmaddubsw_mm_mmm64]: ssse3(X.pmaddubsw), [Code.Pmulhrsw_mm_mmm64]: ssse3(X.pmulhrsw),
  [Code.Psignb_mm_mmm64]: ssse3(X.psignb), [Code.Psignw_mm_mmm64]: ssse3(X.psignw), [Code.Psignd_mm_mmm64]: ssse3(X.psignd),
  [Code.Pabsb_mm_mmm64]: ssse3(X.pabsb), [Code.Pabsw_mm_mmm64]: ssse3(X.pabsw), [Code.Pabsd_mm_mmm64]: ssse3(X.pabsd),
  [Code.Palignr_mm_mmm64_imm8]: ssse3(X.palignr),
});
