// RCPPS RCPSS RSQRTPS RSQRTSS (SSE, SDM vol. 2): approximate reciprocal and reciprocal square root. The SDM
// documents only a bound (|relative error| <= 1.5 * 2^-12) and the special cases; processors compute the bits
// from vendor-specific tables. The model's choice is VENDOR_TABLE.rcpRsqrtApprox (vendor-model.ts): 1/x (1/sqrt(x))
// computed in binary64 and rounded to nearest binary32, well within that bound. Special cases (SDM): a zero or denormal
// source (denormals count as zero whatever DAZ says) gives an infinity of its sign; RCP of an infinity is a
// zero of its sign, and tiny RCP results are flushed to zero; RSQRT of +infinity is +0, of a negative nonzero
// value the QNaN indefinite; a NaN is returned quieted. No MXCSR flag is ever raised.
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import type { OpMap } from '../table.js';
import { RES, SRC, srcOf, xmmOf, xmmOff } from './sse-common.js';
import { MIN_S } from './sse-lanes.js';

/** The model's RCP of binary32 bits b (returns bits). */
export function rcp32(b: number): number {
  const sign = b & 0x80000000, e = b & 0x7f800000, f = b & 0x7fffff;
  if (e === 0x7f800000) return f ? (b | 0x400000) >>> 0 : sign >>> 0; // NaN quieted; infinity -> zero
  if (e === 0) return (sign | 0x7f800000) >>> 0; // zero or denormal -> infinity
  RES.u32[3] = b;
  const r = Math.fround(1 / RES.f32[3]!);
  if (Math.abs(r) < MIN_S) return sign >>> 0; // tiny results are flushed to zero
  RES.f32[3] = r;
  return RES.u32[3]!;
}

/** The model's RSQRT of binary32 bits b (returns bits). */
export function rsqrt32(b: number): number {
  const sign = b & 0x80000000, e = b & 0x7f800000, f = b & 0x7fffff;
  if (e === 0x7f800000 && f) return (b | 0x400000) >>> 0; // NaN quieted
  if (e === 0) return (sign | 0x7f800000) >>> 0; // zero or denormal -> infinity of its sign
  if (sign) return 0xffc00000; // negative nonzero -> QNaN indefinite
  if (e === 0x7f800000) return 0; // +infinity -> +0
  RES.u32[3] = b;
  RES.f32[3] = Math.fround(1 / Math.sqrt(RES.f32[3]!));
  return RES.u32[3]!;
}

/** Builder: `lanes` lanes of f over the source (4 for PS with m128, 1 for SS with m32; SS keeps the upper lanes). */
function approx(f: (b: number) => number, lanes: number): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = srcOf(d, 1, lanes === 4 ? 16 : 4), t = SRC.u32;
    return (c) => {
      load(c);
      const u = c.r;
      if (lanes === 1) { u[k] = f(t[0]!); return; }
      const r0 = f(t[0]!), r1 = f(t[1]!), r2 = f(t[2]!), r3 = f(t[3]!);
      u[k] = r0; u[k + 1] = r1; u[k + 2] = r2; u[k + 3] = r3;
    };
  };
}

/** The approximation instructions. */
export const sseApproxOps: OpMap = {
  [Code.Rcpps_xmm_xmmm128]: approx(rcp32, 4),
  [Code.Rcpss_xmm_xmmm32]: approx(rcp32, 1),
  [Code.Rsqrtps_xmm_xmmm128]: approx(rsqrt32, 4),
  [Code.Rsqrtss_xmm_xmmm32]: approx(rsqrt32, 1),
};
