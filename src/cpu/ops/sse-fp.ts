// SSE/SSE2 floating-point arithmetic: ADD SUB MUL DIV SQRT MIN MAX (SS SD PS PD), CMPcc (SS SD PS PD),
// COMISS COMISD UCOMISS UCOMISD. Results are computed into RES so that an unmasked pre-computation
// exception leaves the destination untouched.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { setStatusFlags } from '../flags.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { Fl } from '../state.js';
import {
  commitFlags, loadDst, MXCSR, RES, srcOf, xmmOf, xmmOff,
} from './sse-common.js';
import {
  addD, addS, cmpD, cmpS, divD, divS, minMaxD, minMaxS, mulD, mulS, predicate, Rel, signalingPredicate,
  sqrtD, sqrtS,
} from './sse-lanes.js';
import { FS } from './sse-soft.js';

/** Lane shapes: how many lanes, how many u32 words each result lane has, and the source size in bytes. */
const enum Shape { PS = 0, PD = 1, SS = 2, SD = 3 }
const LANES = [4, 2, 1, 1] as const;
const WORDS = [4, 4, 1, 2] as const; // u32 words stored
const SRC_BYTES = [16, 16, 4, 8] as const;

/** Store `words` u32 words of RES into the register at u32 index k, with the MXCSR protocol around it. */
export function finish(c: Cpu, k: number, words: number): void {
  const fl = FS.fl;
  if (fl !== 0) commitFlags(c, fl);
  const u = c.r, t = RES.u32;
  u[k] = t[0]!;
  if (words > 1) { u[k + 1] = t[1]!; if (words > 2) { u[k + 2] = t[2]!; u[k + 3] = t[3]!; } }
}

/**
 * Builder of a lane-wise SIMD floating-point instruction: load a source of `srcBytes`, copy the destination
 * to DST, run `lane(i)` for i < lanes (results into RES), then store `words` u32 words of RES.
 */
export function lanewise(srcBytes: number, lanes: number, words: number, lane: (i: number) => void): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2;
    const load = srcOf(d, 1, srcBytes);
    return (c) => {
      load(c); loadDst(c, k);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      for (let i = 0; i < lanes; i++) lane(i);
      finish(c, k, words);
    };
  };
}

/** Builder of an arithmetic instruction applying `lane(i)` to each lane. */
function arith(shape: Shape, lane: (i: number) => void): Builder {
  return lanewise(SRC_BYTES[shape], LANES[shape], WORDS[shape], lane);
}

/** Builder of CMPPS/CMPPD/CMPSS/CMPSD with the predicate in imm8. */
function compare(shape: Shape): Builder {
  const lanes = LANES[shape], words = WORDS[shape];
  const dbl = shape === Shape.PD || shape === Shape.SD;
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2;
    const load = srcOf(d, 1, SRC_BYTES[shape]);
    const imm = d.immLo & (d.vex ? 31 : 7), sig = signalingPredicate(imm); // VEX: 32 predicates
    return (c) => {
      load(c); loadDst(c, k);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      const t = RES.u32;
      for (let i = 0; i < lanes; i++) {
        if (dbl) { const v = predicate(cmpD(i, sig), imm) ? 0xffffffff : 0; t[2 * i] = v; t[2 * i + 1] = v; }
        else t[i] = predicate(cmpS(i, sig), imm) ? 0xffffffff : 0;
      }
      finish(c, k, words);
    };
  };
}

/** COMISS/COMISD (signaling) and UCOMISS/UCOMISD (quiet): ZF PF CF from the compare, OF SF AF cleared. */
function comis(dbl: boolean, signaling: boolean): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2;
    const load = srcOf(d, 1, dbl ? 8 : 4);
    return (c) => {
      load(c); loadDst(c, k);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      const rel = dbl ? cmpD(0, signaling) : cmpS(0, signaling);
      const fl = FS.fl;
      if (fl !== 0) commitFlags(c, fl);
      setStatusFlags(c.r, rel === Rel.UN ? Fl.ZF | Fl.PF | Fl.CF : rel === Rel.LT ? Fl.CF : rel === Rel.EQ ? Fl.ZF : 0);
    };
  };
}

/** SSE/SSE2 floating-point arithmetic and compares (every one may raise SIMD floating-point exception flags in MXCSR). */
export const sseFpOps: OpMap = withWrites(Implicit.MXCSR, {
  [Code.Addps_xmm_xmmm128]: arith(Shape.PS, (i) => addS(i, false)),
  [Code.Addpd_xmm_xmmm128]: arith(Shape.PD, (i) => addD(i, false)),
  [Code.Addss_xmm_xmmm32]: arith(Shape.SS, (i) => addS(i, false)),
  [Code.Addsd_xmm_xmmm64]: arith(Shape.SD, (i) => addD(i, false)),
  [Code.Subps_xmm_xmmm128]: arith(Shape.PS, (i) => addS(i, true)),
  [Code.Subpd_xmm_xmmm128]: arith(Shape.PD, (i) => addD(i, true)),
  [Code.Subss_xmm_xmmm32]: arith(Shape.SS, (i) => addS(i, true)),
  [Code.Subsd_xmm_xmmm64]: arith(Shape.SD, (i) => addD(i, true)),
  [Code.Mulps_xmm_xmmm128]: arith(Shape.PS, mulS),
  [Code.Mulpd_xmm_xmmm128]: arith(Shape.PD, mulD),
  [Code.Mulss_xmm_xmmm32]: arith(Shape.SS, mulS),
  [Code.Mulsd_xmm_xmmm64]: arith(Shape.SD, mulD),
  [Code.Divps_xmm_xmmm128]: arith(Shape.PS, divS),
  [Code.Divpd_xmm_xmmm128]: arith(Shape.PD, divD),
  [Code.Divss_xmm_xmmm32]: arith(Shape.SS, divS),
  [Code.Divsd_xmm_xmmm64]: arith(Shape.SD, divD),
  [Code.Sqrtps_xmm_xmmm128]: arith(Shape.PS, sqrtS),
  [Code.Sqrtpd_xmm_xmmm128]: arith(Shape.PD, sqrtD),
  [Code.Sqrtss_xmm_xmmm32]: arith(Shape.SS, sqrtS),
  [Code.Sqrtsd_xmm_xmmm64]: arith(Shape.SD, sqrtD),
  [Code.Minps_xmm_xmmm128]: arith(Shape.PS, (i) => minMaxS(i, false)),
  [Code.Minpd_xmm_xmmm128]: arith(Shape.PD, (i) => minMaxD(i, false)),
  [Code.Minss_xmm_xmmm32]: arith(Shape.SS, (i) => minMaxS(i, false)),
  [Code.Minsd_xmm_xmmm64]: arith(Shape.SD, (i) => minMaxD(i, false)),
  [Code.Maxps_xmm_xmmm128]: arith(Shape.PS, (i) => minMaxS(i, true)),
  [Code.Maxpd_xmm_xmmm128]: arith(Shape.PD, (i) => minMaxD(i, true)),
  [Code.Maxss_xmm_xmmm32]: arith(Shape.SS, (i) => minMaxS(i, true)),
  [Code.Maxsd_xmm_xmmm64]: arith(Shape.SD, (i) => minMaxD(i, true)),
  [Code.Cmpps_xmm_xmmm128_imm8]: compare(Shape.PS),
  [Code.Cmppd_xmm_xmmm128_imm8]: compare(Shape.PD),
  [Code.Cmpss_xmm_xmmm32_imm8]: compare(Shape.SS),
  [Code.Cmpsd_xmm_xmmm64_imm8]: compare(Shape.SD),
  [Code.Comiss_xmm_xmmm32]: comis(false, true),
  [Code.Comisd_xmm_xmmm64]: comis(true, true),
  [Code.Ucomiss_xmm_xmmm32]: comis(false, false),
  [Code.Ucomisd_xmm_xmmm64]: comis(true, false),
});
