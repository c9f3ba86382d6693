// Exact IEEE-754 binary32/binary64 arithmetic on bit patterns with BigInt: the slow path of the SSE
// floating-point handlers. It runs for NaN, infinity, denormal operands, results that overflow or are tiny,
// and rounding modes other than nearest; the handlers' fast path covers everything else with JS numbers.
// Exception detection follows the SDM (vol. 1, 11.5.2): tininess after rounding, SSE NaN propagation (the
// first source's NaN wins), DAZ on inputs, FTZ on masked underflow, the default NaN for invalid operations.
import { Mx, MxShift } from './sse-common.js';

/** Flags raised and MXCSR in effect for the instruction being executed (shared with the fast path). */
export const FS = {
  /** MXCSR status flags raised so far by the current instruction. */
  fl: 0,
  /** MXCSR value when the instruction started. */
  mx: 0x1f80,
};

/** A binary floating-point format. */
export interface Fmt {
  /** Precision in bits including the implicit bit (53 or 24). */
  readonly p: number;
  /** Fraction bits (p - 1). */
  readonly fb: bigint;
  /** Exponent bias. */
  readonly bias: number;
  /** Smallest normal exponent. */
  readonly emin: number;
  /** Largest finite exponent. */
  readonly emax: number;
  /** All-ones exponent field value. */
  readonly expAll: number;
  /** Sign bit. */
  readonly sign: bigint;
  /** Fraction mask. */
  readonly frac: bigint;
  /** Quiet bit of a NaN. */
  readonly quiet: bigint;
  /** The default (QNaN floating-point indefinite) NaN. */
  readonly defNaN: bigint;
}

/** binary64. */
export const F64: Fmt = {
  p: 53, fb: 52n, bias: 1023, emin: -1022, emax: 1023, expAll: 0x7ff,
  sign: 1n << 63n, frac: (1n << 52n) - 1n, quiet: 1n << 51n, defNaN: 0xfff8000000000000n,
};

/** binary32. */
export const F32: Fmt = {
  p: 24, fb: 23n, bias: 127, emin: -126, emax: 127, expAll: 0xff,
  sign: 1n << 31n, frac: (1n << 23n) - 1n, quiet: 1n << 22n, defNaN: 0xffc00000n,
};

/** Binary operations of the slow path. */
export const enum SoftOp { ADD = 0, SUB = 1, MUL = 2, DIV = 3 }

const expOf = (x: bigint, f: Fmt): number => Number((x >> f.fb) & BigInt(f.expAll));
const isNaNb = (x: bigint, f: Fmt): boolean => expOf(x, f) === f.expAll && (x & f.frac) !== 0n;
const isSNaNb = (x: bigint, f: Fmt): boolean => isNaNb(x, f) && (x & f.quiet) === 0n;
const isInfb = (x: bigint, f: Fmt): boolean => expOf(x, f) === f.expAll && (x & f.frac) === 0n;
const isZerob = (x: bigint, f: Fmt): boolean => (x & ~f.sign) === 0n;
const isDenb = (x: bigint, f: Fmt): boolean => expOf(x, f) === 0 && (x & f.frac) !== 0n;
const signOf = (x: bigint, f: Fmt): number => ((x & f.sign) !== 0n ? 1 : 0);
const inf = (s: number, f: Fmt): bigint => (s ? f.sign : 0n) | (BigInt(f.expAll) << f.fb);
const zero = (s: number, f: Fmt): bigint => (s ? f.sign : 0n);

/** Apply DAZ to an operand (denormal -> zero of the same sign). */
function daz(x: bigint, f: Fmt): bigint {
  return (FS.mx & Mx.DAZ) && expOf(x, f) === 0 ? x & f.sign : x;
}

/** NaN result of a two-operand instruction: the first source's NaN if it is one, quieted; IE for any SNaN. */
export function propagateNaN2(a: bigint, b: bigint, f: Fmt): bigint {
  if (isSNaNb(a, f) || isSNaNb(b, f)) FS.fl |= Mx.IE;
  return (isNaNb(a, f) ? a : b) | f.quiet;
}

/** Significand of a finite nonzero value (with the implicit bit). */
const sigOf = (x: bigint, f: Fmt): bigint => (expOf(x, f) === 0 ? x & f.frac : (x & f.frac) | (1n << f.fb));
/** Exponent of the significand's last bit. */
const lsbExpOf = (x: bigint, f: Fmt): number => Math.max(expOf(x, f), 1) - f.bias - Number(f.fb);

/** Bit length of a positive BigInt. */
export function bitLength(m: bigint): number {
  return m.toString(2).length;
}

/** Set by roundInt: whether the rounded-off part was nonzero. */
let inexact = false;

/**
 * Round M * 2^-sh (plus a nonzero tail below M's last bit when `sticky`) to an integer in the current
 * rounding mode. sh >= 2 whenever sticky is set (callers keep two guard bits).
 */
function roundInt(m: bigint, sh: number, sticky: boolean, sign: number, rc: number): bigint {
  if (sh <= 0) { inexact = sticky; return m << BigInt(-sh); }
  const s = BigInt(sh);
  const q = m >> s, r = m & ((1n << s) - 1n), half = 1n << (s - 1n);
  inexact = r !== 0n || sticky;
  if (!inexact) return q;
  let up: boolean;
  switch (rc) {
    case 0: up = r > half || (r === half && (sticky || (q & 1n) === 1n)); break;
    case 1: up = sign === 1; break;
    case 2: up = sign === 0; break;
    default: up = false;
  }
  return up ? q + 1n : q;
}

/**
 * Round the exact value (-1)^sign * (M + tail) * 2^E to format f (M > 0), raising PE/UE/OE as the SDM
 * specifies (with overflow/underflow unmasked the result is not stored, so only the flags matter).
 */
export function roundPack(sign: number, m: bigint, e: number, sticky: boolean, f: Fmt): bigint {
  const rc = (FS.mx >>> MxShift.RC) & 3;
  const n = bitLength(m);
  const lead = e + n - 1;
  let q = roundInt(m, n - f.p, sticky, sign, rc);
  let eu = lead;
  if (q >> BigInt(f.p)) { q >>= 1n; eu++; }
  const inexU = inexact;
  if (eu > f.emax) {
    // masked: OE and PE; unmasked (nothing is stored): OE, and PE only if the rounding was inexact
    FS.fl |= Mx.OE | ((FS.mx & Mx.OM) === 0 && !inexU ? 0 : Mx.PE);
    const toMax = rc === 3 || (rc === 1 && sign === 0) || (rc === 2 && sign === 1);
    if (!toMax) return inf(sign, f);
    return zero(sign, f) | (BigInt(f.expAll - 1) << f.fb) | f.frac;
  }
  if (lead >= f.emin) {
    if (inexU) FS.fl |= Mx.PE;
    return zero(sign, f) | (BigInt(eu + f.bias) << f.fb) | (q & f.frac);
  }
  const tiny = eu < f.emin;
  const qd = roundInt(m, f.emin - f.p + 1 - e, sticky, sign, rc);
  const inexD = inexact;
  if (tiny) {
    const um = (FS.mx & Mx.UM) !== 0;
    if (um && (FS.mx & Mx.FZ)) { FS.fl |= Mx.UE | Mx.PE; return zero(sign, f); }
    if (!um) { FS.fl |= Mx.UE | (inexU ? Mx.PE : 0); return zero(sign, f) | qd; } // not stored
    if (inexD) FS.fl |= Mx.UE;
  }
  if (inexD) FS.fl |= Mx.PE;
  return zero(sign, f) | qd;
}

/** Integer square root (floor). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** a op b in format f, on bit patterns, with every IEEE special case and flag. */
export function softBinary(op: SoftOp, a0: bigint, b0: bigint, f: Fmt): bigint {
  if (isNaNb(a0, f) || isNaNb(b0, f)) return propagateNaN2(a0, b0, f);
  const a = daz(a0, f);
  let b = daz(b0, f);
  if (op === SoftOp.SUB) b ^= f.sign;
  const sa = signOf(a, f), sb = signOf(b, f);
  const ia = isInfb(a, f), ib = isInfb(b, f);
  const za = isZerob(a, f), zb = isZerob(b, f);
  const den = isDenb(a, f) || isDenb(b, f);
  const rc = (FS.mx >>> MxShift.RC) & 3;
  switch (op) {
    case SoftOp.ADD: case SoftOp.SUB: {
      if (ia || ib) {
        if (ia && ib && sa !== sb) { FS.fl |= Mx.IE; return f.defNaN; }
        if (den) FS.fl |= Mx.DE;
        return ia ? a : b;
      }
      if (den) FS.fl |= Mx.DE;
      if (za && zb) return sa === sb ? a : zero(rc === 1 ? 1 : 0, f);
      // x + 0 goes through rounding too: a denormal x is a tiny result (FTZ flushes it)
      const ea = lsbExpOf(a, f), eb = lsbExpOf(b, f), e = Math.min(ea, eb);
      const ma = sigOf(a, f) << BigInt(ea - e), mb = sigOf(b, f) << BigInt(eb - e);
      const s = (sa ? -ma : ma) + (sb ? -mb : mb);
      if (s === 0n) return zero(rc === 1 ? 1 : 0, f);
      return s < 0n ? roundPack(1, -s, e, false, f) : roundPack(0, s, e, false, f);
    }
    case SoftOp.MUL: {
      const s = sa ^ sb;
      if (ia || ib) {
        if (za || zb) { FS.fl |= Mx.IE; return f.defNaN; }
        if (den) FS.fl |= Mx.DE;
        return inf(s, f);
      }
      if (den) FS.fl |= Mx.DE;
      if (za || zb) return zero(s, f);
      return roundPack(s, sigOf(a, f) * sigOf(b, f), lsbExpOf(a, f) + lsbExpOf(b, f), false, f);
    }
    default: { // DIV
      const s = sa ^ sb;
      if (ia) {
        if (ib) { FS.fl |= Mx.IE; return f.defNaN; }
        if (den) FS.fl |= Mx.DE;
        return inf(s, f);
      }
      if (ib) { if (den) FS.fl |= Mx.DE; return zero(s, f); }
      if (zb) {
        if (za) { FS.fl |= Mx.IE; return f.defNaN; }
        FS.fl |= Mx.ZE;
        return inf(s, f);
      }
      if (den) FS.fl |= Mx.DE;
      if (za) return zero(s, f);
      const ma = sigOf(a, f), mb = sigOf(b, f);
      const k = Math.max(0, f.p + 3 + bitLength(mb) - bitLength(ma));
      const num = ma << BigInt(k);
      const q = num / mb, r = num % mb;
      return roundPack(s, q, lsbExpOf(a, f) - lsbExpOf(b, f) - k, r !== 0n, f);
    }
  }
}

/** Square root in format f on a bit pattern. */
export function softSqrt(a0: bigint, f: Fmt): bigint {
  if (isNaNb(a0, f)) { if (isSNaNb(a0, f)) FS.fl |= Mx.IE; return a0 | f.quiet; }
  const a = daz(a0, f);
  if (isZerob(a, f)) return a;
  if (signOf(a, f)) { FS.fl |= Mx.IE; return f.defNaN; }
  if (isInfb(a, f)) return a;
  if (isDenb(a, f)) FS.fl |= Mx.DE;
  let m = sigOf(a, f), e = lsbExpOf(a, f);
  let sh = Math.max(0, 2 * (f.p + 3) - bitLength(m));
  if ((e - sh) & 1) sh++;
  m <<= BigInt(sh); e -= sh;
  const r = isqrt(m);
  return roundPack(0, r, e / 2, r * r !== m, f);
}

/** Convert between formats (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS). */
export function softConvert(a0: bigint, from: Fmt, to: Fmt): bigint {
  const s = signOf(a0, from);
  if (isNaNb(a0, from)) {
    if (isSNaNb(a0, from)) FS.fl |= Mx.IE;
    const fr = a0 & from.frac;
    const nf = to.fb >= from.fb ? fr << (to.fb - from.fb) : fr >> (from.fb - to.fb);
    return inf(s, to) | nf | to.quiet;
  }
  if (isInfb(a0, from)) return inf(s, to);
  const a = daz(a0, from);
  if (isZerob(a, from)) return zero(s, to);
  if (isDenb(a, from)) FS.fl |= Mx.DE;
  return roundPack(s, sigOf(a, from), lsbExpOf(a, from), false, to);
}

/** Convert a signed integer to format f (CVTSI2SS/SD, CVTDQ2PS) in the current rounding mode. */
export function softFromInt(v: bigint, f: Fmt): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(1, -v, 0, false, f) : roundPack(0, v, 0, false, f);
}

/** Double bits (lo, hi) as a BigInt. */
export const big64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
