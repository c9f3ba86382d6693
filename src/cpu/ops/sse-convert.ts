// SSE/SSE2 conversions: CVTSI2SS/SD (r/m32, r/m64), CVT(T)SS2SI and CVT(T)SD2SI (r32, r64), CVTSS2SD CVTSD2SS,
// CVTPS2PD CVTPD2PS, CVTDQ2PS CVT(T)PS2DQ, CVTDQ2PD CVT(T)PD2DQ. Integer results out of range (or from NaN)
// are the integer indefinite (0x80000000 / 0x8000000000000000) with IE; float results round per MXCSR.RC.
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { reader, reader64, regOf } from '../operands.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import {
  commitFlags, Mx, MxShift, MXCSR, RES, SRC, srcOf, xmmOf, xmmOff,
} from './sse-common.js';
import { finish, lanewise } from './sse-fp.js';
import { MAX_D, MAX_S, MIN_D, MIN_S, sumErr } from './sse-lanes.js';
import { big64, F32, F64, FS, softConvert, softFromInt } from './sse-soft.js';

const fround = Math.fround;
const TWO32 = 4294967296;

/** Round to an integer, ties to even. */
function roundEven(x: number): number {
  const f = Math.floor(x), r = x - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Hi half of the last toInt result. */
let intHi = 0;

/**
 * Convert x to a signed integer of `bits` (32 or 64): truncating (CVTT*) or per MXCSR.RC. Returns the lo
 * half (hi half in intHi); NaN or out of range gives the integer indefinite and IE, an inexact result PE.
 * With DAZ a denormal source (|x| < minNormal) counts as zero.
 */
function toInt(x: number, bits: number, trunc: boolean, minNormal: number): number {
  if (x !== x) { FS.fl |= Mx.IE; intHi = bits === 64 ? 0x80000000 : 0; return bits === 64 ? 0 : 0x80000000; }
  if ((FS.mx & Mx.DAZ) && Math.abs(x) < minNormal) x = 0;
  let r: number;
  if (trunc) r = Math.trunc(x);
  else {
    switch ((FS.mx >>> MxShift.RC) & 3) {
      case 0: r = roundEven(x); break;
      case 1: r = Math.floor(x); break;
      case 2: r = Math.ceil(x); break;
      default: r = Math.trunc(x);
    }
  }
  if (bits === 32 ? r < -2147483648 || r > 2147483647 : r < -9223372036854775808 || r >= 9223372036854775808) {
    FS.fl |= Mx.IE; intHi = bits === 64 ? 0x80000000 : 0; return bits === 64 ? 0 : 0x80000000;
  }
  if (r !== x) FS.fl |= Mx.PE;
  const hi = Math.floor(r / TWO32);
  intHi = hi >>> 0;
  return (r - hi * TWO32) >>> 0;
}

/** CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32|m64. */
function cvtToGpr(dbl: boolean, bits: number, trunc: boolean): Builder {
  return (d: Decoded): Exec => {
    const g = regOf(d, 0).n << 1;
    const load = srcOf(d, 1, dbl ? 8 : 4);
    const min = dbl ? MIN_D : MIN_S;
    return (c) => {
      load(c);
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      const lo = toInt(dbl ? SRC.f64[0]! : SRC.f32[0]!, bits, trunc, min);
      const fl = FS.fl;
      if (fl !== 0) commitFlags(c, fl);
      c.r[g] = lo; c.r[g + 1] = bits === 64 ? intHi : 0;
    };
  };
}

/** Write a BigInt result of format f to lane 0 of RES. */
function resBits(r: bigint, dbl: boolean): void {
  if (dbl) { RES.u32[0] = Number(r & 0xffffffffn); RES.u32[1] = Number(r >> 32n); } else RES.u32[0] = Number(r);
}

/** Signed 64-bit (lo, hi) as a BigInt. */
const bigS64 = (lo: number, hi: number): bigint => BigInt.asIntN(64, big64(lo, hi));

/** Convert the integer (lo, hi signed) to lane 0 of RES as a double or single. */
function fromInt64(lo: number, hi: number, dbl: boolean): void {
  const hp = (hi | 0) * TWO32, d = hp + lo, err = sumErr(hp, lo, d);
  const rn = (FS.mx & Mx.RC) === 0;
  if (dbl) {
    if (err === 0) { RES.f64[0] = d; return; }
    if (rn) { FS.fl |= Mx.PE; RES.f64[0] = d; return; }
  } else if (err === 0) {
    const r = fround(d);
    if (r === d) { RES.f32[0] = r; return; }
    if (rn) { FS.fl |= Mx.PE; RES.f32[0] = r; return; }
  }
  resBits(softFromInt(bigS64(lo, hi), dbl ? F64 : F32), dbl);
}

/** CVTSI2SS / CVTSI2SD xmm, r/m32 or r/m64. */
function cvtFromGpr(dbl: boolean, bits: number): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2;
    const words = dbl ? 2 : 1;
    if (bits === 32) {
      const rd = reader(d, 1, 4);
      return (c) => {
        const v = rd(c) | 0;
        FS.fl = 0; FS.mx = c.r[MXCSR]!;
        if (dbl) RES.f64[0] = v; else fromInt64(v >>> 0, v < 0 ? 0xffffffff : 0, false);
        finish(c, k, words);
      };
    }
    const rd = reader64(d, 1);
    return (c) => {
      const lo = rd(c), hi = c.hi;
      FS.fl = 0; FS.mx = c.r[MXCSR]!;
      fromInt64(lo, hi, dbl);
      finish(c, k, words);
    };
  };
}

/** Double lane i of SRC to single lane `out` of RES. */
function d2s(i: number, out: number): void {
  const a = SRC.f64[i]!;
  if ((FS.mx & Mx.RC) === 0) {
    const aa = Math.abs(a);
    if (aa >= MIN_D && aa <= MAX_D) {
      const r = fround(a), ar = Math.abs(r);
      if (ar >= MIN_S && ar <= MAX_S) { if (r !== a) FS.fl |= Mx.PE; RES.f32[out] = r; return; }
    } else if (a === 0) { RES.f32[out] = a; return; }
  }
  RES.u32[out] = Number(softConvert(big64(SRC.u32[2 * i]!, SRC.u32[2 * i + 1]!), F64, F32));
}

/** Single lane i of SRC to double lane i of RES (exact except NaN/denormal handling). */
function s2d(i: number): void {
  const a = SRC.f32[i]!, aa = Math.abs(a);
  if ((aa >= MIN_S && aa <= MAX_S) || a === 0) { RES.f64[i] = a; return; }
  const r = softConvert(BigInt(SRC.u32[i]!), F32, F64);
  RES.u32[2 * i] = Number(r & 0xffffffffn); RES.u32[2 * i + 1] = Number(r >> 32n);
}

/** Int32 lane i of SRC to single lane i of RES. */
function i2s(i: number): void {
  const v = SRC.i32[i]!, r = fround(v);
  if (r === v) { RES.f32[i] = r; return; }
  if ((FS.mx & Mx.RC) === 0) { FS.fl |= Mx.PE; RES.f32[i] = r; return; }
  RES.u32[i] = Number(softFromInt(BigInt(v), F32));
}

/** SSE/SSE2 conversions (every one may raise SIMD floating-point exception flags in MXCSR). */
export const sseConvertOps: OpMap = withWrites(Implicit.MXCSR, {
  [Code.Cvtsi2ss_xmm_rm32]: cvtFromGpr(false, 32),
  [Code.Cvtsi2ss_xmm_rm64]: cvtFromGpr(false, 64),
  [Code.Cvtsi2sd_xmm_rm32]: cvtFromGpr(true, 32),
  [Code.Cvtsi2sd_xmm_rm64]: cvtFromGpr(true, 64),
  [Code.Cvtss2si_r32_xmmm32]: cvtToGpr(false, 32, false),
  [Code.Cvtss2si_r64_xmmm32]: cvtToGpr(false, 64, false),
  [Code.Cvtsd2si_r32_xmmm64]: cvtToGpr(true, 32, false),
  [Code.Cvtsd2si_r64_xmmm64]: cvtToGpr(true, 64, false),
  [Code.Cvttss2si_r32_xmmm32]: cvtToGpr(false, 32, true),
  [Code.Cvttss2si_r64_xmmm32]: cvtToGpr(false, 64, true),
  [Code.Cvttsd2si_r32_xmmm64]: cvtToGpr(true, 32, true),
  [Code.Cvttsd2si_r64_xmmm64]: cvtToGpr(true, 64, true),
  [Code.Cvtss2sd_xmm_xmmm32]: lanewise(4, 1, 2, s2d),
  [Code.Cvtsd2ss_xmm_xmmm64]: lanewise(8, 1, 1, (i) => d2s(i, i)),
  [Code.Cvtps2pd_xmm_xmmm64]: lanewise(8, 2, 4, s2d),
  [Code.Cvtpd2ps_xmm_xmmm128]: lanewise(16, 2, 4, (i) => { d2s(i, i); if (i === 1) { RES.u32[2] = 0; RES.u32[3] = 0; } }),
  [Code.Cvtdq2ps_xmm_xmmm128]: lanewise(16, 4, 4, i2s),
  [Code.Cvtps2dq_xmm_xmmm128]: lanewise(16, 4, 4, (i) => { RES.u32[i] = toInt(SRC.f32[i]!, 32, false, MIN_S); }),
  [Code.Cvttps2dq_xmm_xmmm128]: lanewise(16, 4, 4, (i) => { RES.u32[i] = toInt(SRC.f32[i]!, 32, true, MIN_S); }),
  [Code.Cvtdq2pd_xmm_xmmm64]: lanewise(8, 2, 4, (i) => { RES.f64[i] = SRC.i32[i]!; }),
  [Code.Cvtpd2dq_xmm_xmmm128]: lanewise(16, 2, 4, (i) => {
    RES.u32[i] = toInt(SRC.f64[i]!, 32, false, MIN_D); if (i === 1) { RES.u32[2] = 0; RES.u32[3] = 0; }
  }),
  [Code.Cvttpd2dq_xmm_xmmm128]: lanewise(16, 2, 4, (i) => {
    RES.u32[i] = toInt(SRC.f64[i]!, 32, true, MIN_D); if (i === 1) { RES.u32[2] = 0; RES.u32[3] = 0; }
  }),
});
