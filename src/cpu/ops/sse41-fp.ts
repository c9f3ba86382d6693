// SSE4.1 floating point on XMM registers (SDM vol. 2): ROUNDPS ROUNDPD ROUNDSS ROUNDSD (imm8[1:0] rounding mode,
// imm8[2] use MXCSR.RC, imm8[3] suppress the precision exception; SNaN -> invalid; DAZ applies) and the dot
// products DPPS DPPD, which multiply, add pairwise and add again with a rounding at every step, exactly as the
// SDM's pseudo-code orders them (so they reuse the SSE multiply and add lanes).
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { DST, loadDst, Mx, MxShift, MXCSR, RES, SRC, srcOf, xmmOf, xmmOff } from './sse-common.js';
import { finish } from './sse-fp.js';
import { addD, addS, mulD, mulS } from './sse-lanes.js';
import { FS } from './sse-soft.js';

/** Round a finite number to an integer in rounding mode rc (0 nearest-even, 1 down, 2 up, 3 toward zero). */
function roundInt(x: number, rc: number): number {
  let r: number;
  if (rc === 1) r = Math.floor(x);
  else if (rc === 2) r = Math.ceil(x);
  else if (rc === 3) r = Math.trunc(x);
  else {
    const f = Math.floor(x), d = x - f; // exact for binary64
    r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  }
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r; // the result keeps the operand's sign
}

/** Rounding mode of an instruction from imm8 and MXCSR. */
const modeOf = (imm: number): number => (imm & 4 ? (FS.mx >>> MxShift.RC) & 3 : imm & 3);

/** ROUNDPD/ROUNDSD lane i of SRC into RES. */
function roundLaneD(i: number, imm: number): void {
  const k = i << 1, lo = SRC.u32[k]!, hi = SRC.u32[k + 1]!, e = hi & 0x7ff00000;
  if (e === 0x7ff00000) {
    if ((hi & 0xfffff) | lo) { if (!(hi & 0x80000)) FS.fl |= Mx.IE; RES.u32[k] = lo; RES.u32[k + 1] = hi | 0x80000; return; }
    RES.u32[k] = lo; RES.u32[k + 1] = hi; return; // infinity
  }
  let x = SRC.f64[i]!;
  if (e === 0 && (FS.mx & Mx.DAZ)) x = hi & 0x80000000 ? -0 : 0;
  const r = Math.abs(x) >= 2 ** 52 ? x : roundInt(x, modeOf(imm));
  if (r !== x && !(imm & 8)) FS.fl |= Mx.PE;
  RES.f64[i] = r;
}

/** ROUNDPS/ROUNDSS lane i of SRC into RES. */
function roundLaneS(i: number, imm: number): void {
  const b = SRC.u32[i]!, e = b & 0x7f800000;
  if (e === 0x7f800000) {
    if (b & 0x7fffff) { if (!(b & 0x400000)) FS.fl |= Mx.IE; RES.u32[i] = b | 0x400000; return; }
    RES.u32[i] = b; return;
  }
  let x = SRC.f32[i]!;
  if (e === 0 && (FS.mx & Mx.DAZ)) x = b & 0x80000000 ? -0 : 0;
  const r = Math.abs(x) >= 2 ** 23 ? x : roundInt(x, modeOf(imm));
  if (r !== x && !(imm & 8)) FS.fl |= Mx.PE;
  RES.f32[i] = r;
}

/** Builder of ROUNDxx: `lanes` lanes, `words` u32 words stored (the scalar forms keep the destination's upper part). */
function round(dbl: boolean, lanes: number, words: number, srcBytes: number): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = srcOf(d, 1, srcBytes), imm = d.immLo & 0xff;
    return (c) => {
      load(c);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      for (let i = 0; i < lanes; i++) if (dbl) roundLaneD(i, imm); else roundLaneS(i, imm);
      finish(c, k, words);
    };
  };
}

const T = new Uint32Array(4);

/** DPPS: products of the lanes selected by imm8[7:4] (+0.0 elsewhere), summed as (p0+p1)+(p2+p3), into the lanes of imm8[3:0]. */
function dpps(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, load = srcOf(d, 1, 16), imm = d.immLo & 0xff;
  const x = DST.u32, y = SRC.u32, r = RES.u32;
  return (c) => {
    load(c); loadDst(c, k);
    FS.fl = 0; FS.mx = c.r[MXCSR]!;
    for (let i = 0; i < 4; i++) if ((imm >> (4 + i)) & 1) mulS(i); else r[i] = 0;
    T.set(r);
    x[0] = T[0]!; y[0] = T[1]!; addS(0, false);
    x[1] = T[2]!; y[1] = T[3]!; addS(1, false);
    x[0] = r[0]!; y[0] = r[1]!; addS(0, false);
    const sum = r[0]!;
    for (let i = 0; i < 4; i++) r[i] = (imm >> i) & 1 ? sum : 0;
    finish(c, k, 4);
  };
}

/** DPPD: products of the lanes selected by imm8[5:4] (+0.0 elsewhere), summed, into the lanes of imm8[1:0]. */
function dppd(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, load = srcOf(d, 1, 16), imm = d.immLo & 0xff;
  const x = DST.u32, y = SRC.u32, r = RES.u32;
  return (c) => {
    load(c); loadDst(c, k);
    FS.fl = 0; FS.mx = c.r[MXCSR]!;
    for (let i = 0; i < 2; i++) if ((imm >> (4 + i)) & 1) mulD(i); else { r[2 * i] = 0; r[2 * i + 1] = 0; }
    x[0] = r[0]!; x[1] = r[1]!; y[0] = r[2]!; y[1] = r[3]!;
    addD(0, false);
    const lo = r[0]!, hi = r[1]!;
    for (let i = 0; i < 2; i++) { const on = (imm >> i) & 1; r[2 * i] = on ? lo : 0; r[2 * i + 1] = on ? hi : 0; }
    finish(c, k, 4);
  };
}

/** SSE4.1 floating-point instructions. */
// they set MXCSR's exception flags, which iced does not report
export const sse41FpOps: OpMap = withWrites(Implicit.MXCSR, {
  [Code.Roundps_xmm_xmmm128_imm8]: round(false, 4, 4, 16),
  [Code.Roundpd_xmm_xmmm128_imm8]: round(true, 2, 4, 16),
  [Code.Roundss_xmm_xmmm32_imm8]: round(false, 1, 1, 4),
  [Code.Roundsd_xmm_xmmm64_imm8]: round(true, 1, 2, 8),
  [Code.Dpps_xmm_xmmm128_imm8]: dpps,
  [Code.Dppd_xmm_xmmm128_imm8]: dppd,
});
