// Correctly rounded x87 arithmetic on 80-bit values with exact BigInt significands: add, multiply, divide,
// square root, partial remainders, scale, round to integer, extract, compare. Each function records its
// exceptions and round-up bit in an FpStatus; the caller decides what to write (unmasked IE/DE/ZE: nothing).
import { Exc, FpStatus, packExt, Rc, roundExt } from './round.js';
import {
  bitLength, F80, INDEFINITE, inf, isNaNKind, Kind, kindOf, lsbExp, quiet, signOf, zero,
} from './value.js';

/** NaN result of a two-operand operation (Intel SDM vol. 1 table 4-7, x87 column). */
export function propagateNaN2(a: F80, ka: Kind, b: F80, kb: Kind, st: FpStatus): F80 {
  if (ka === Kind.SNAN || kb === Kind.SNAN) st.exc |= Exc.IE;
  const qa = quiet(a), qb = quiet(b);
  const larger = (): F80 => (qa.m > qb.m ? qa : qb.m > qa.m ? qb : qa.se < qb.se ? qa : qb);
  if (ka === Kind.SNAN) return kb === Kind.SNAN ? larger() : isNaNKind(kb) ? qb : qa;
  if (ka === Kind.QNAN) return kb === Kind.SNAN || !isNaNKind(kb) ? qa : larger();
  return qb;
}

/** NaN result of a one-operand operation. */
export function propagateNaN1(a: F80, ka: Kind, st: FpStatus): F80 {
  if (ka === Kind.SNAN) st.exc |= Exc.IE;
  return quiet(a);
}

/** Common screening of two operands: unsupported -> invalid; NaNs; denormal flag. Returns a result or null. */
function screen2(a: F80, ka: Kind, b: F80, kb: Kind, st: FpStatus): F80 | null {
  if (ka === Kind.UNSUPPORTED || kb === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(ka) || isNaNKind(kb)) return propagateNaN2(a, ka, b, kb, st);
  if (ka === Kind.DENORMAL || kb === Kind.DENORMAL) st.exc |= Exc.DE;
  return null;
}

/** Screening of one operand. */
function screen1(a: F80, ka: Kind, st: FpStatus): F80 | null {
  if (ka === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(ka)) return propagateNaN1(a, ka, st);
  if (ka === Kind.DENORMAL) st.exc |= Exc.DE;
  return null;
}

function invalid(st: FpStatus): F80 {
  st.exc |= Exc.IE;
  return INDEFINITE;
}

/** a + b (or a - b when `negB`), rounded to precision `p`. */
export function add(a: F80, b: F80, negB: boolean, p: number, st: FpStatus): F80 {
  const ka = kindOf(a), kb = kindOf(b);
  const s = screen2(a, ka, b, kb, st);
  if (s) return s;
  const sa = signOf(a), sb = signOf(b) ^ (negB ? 1 : 0);
  if (ka === Kind.INF || kb === Kind.INF) {
    if (ka === Kind.INF && kb === Kind.INF && sa !== sb) return invalid(st);
    return inf(ka === Kind.INF ? sa : sb);
  }
  if (ka === Kind.ZERO && kb === Kind.ZERO) return zero(sa === sb ? sa : st.rc === Rc.DOWN ? 1 : 0);
  let ea = lsbExp(a), eb = lsbExp(b), ma = a.m, mb = b.m;
  // a far smaller operand only acts as a sticky bit: replace it by a tiny proxy below every rounding position
  if (ka !== Kind.ZERO && kb !== Kind.ZERO) {
    if (ea - eb > 70) { mb = 1n; eb = ea - 4; } else if (eb - ea > 70) { ma = 1n; ea = eb - 4; }
  }
  const e = Math.min(ea, eb);
  const va = (sa ? -ma : ma) << BigInt(ea - e), vb = (sb ? -mb : mb) << BigInt(eb - e);
  const sum = va + vb;
  if (sum === 0n) return zero(st.rc === Rc.DOWN ? 1 : 0);
  return roundExt(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, p, st);
}

/** a * b rounded to precision `p`. */
export function mul(a: F80, b: F80, p: number, st: FpStatus): F80 {
  const ka = kindOf(a), kb = kindOf(b);
  const s = screen2(a, ka, b, kb, st);
  if (s) return s;
  const sign = signOf(a) ^ signOf(b);
  if (ka === Kind.INF || kb === Kind.INF) {
    if (ka === Kind.ZERO || kb === Kind.ZERO) return invalid(st);
    return inf(sign);
  }
  if (ka === Kind.ZERO || kb === Kind.ZERO) return zero(sign);
  return roundExt(sign, a.m * b.m, lsbExp(a) + lsbExp(b), false, p, st);
}

/** a / b rounded to precision `p`. */
export function div(a: F80, b: F80, p: number, st: FpStatus): F80 {
  const ka = kindOf(a), kb = kindOf(b);
  const s = screen2(a, ka, b, kb, st);
  if (s) return s;
  const sign = signOf(a) ^ signOf(b);
  if (ka === Kind.INF) return kb === Kind.INF ? invalid(st) : inf(sign);
  if (kb === Kind.INF) return zero(sign);
  if (kb === Kind.ZERO) {
    if (ka === Kind.ZERO) return invalid(st);
    st.exc |= Exc.ZE;
    return inf(sign);
  }
  if (ka === Kind.ZERO) return zero(sign);
  const K = 130;
  const num = a.m << BigInt(K);
  const q = num / b.m;
  return roundExt(sign, q, lsbExp(a) - lsbExp(b) - K, q * b.m !== num, p, st);
}

/** Integer square root (floor). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Square root rounded to precision `p`. */
export function sqrt(a: F80, p: number, st: FpStatus): F80 {
  const ka = kindOf(a);
  const s = screen1(a, ka, st);
  if (s) return s;
  const sign = signOf(a);
  if (ka === Kind.ZERO) return a;
  if (sign) return invalid(st);
  if (ka === Kind.INF) return a;
  const e = lsbExp(a);
  let sh = 140;
  if ((e - sh) & 1) sh++;
  const n = a.m << BigInt(sh);
  const r = isqrt(n);
  return roundExt(0, r, (e - sh) / 2, r * r !== n, p, st);
}

/** Exponent of the leading bit of a finite non-zero value. */
function leadExp(x: F80): number {
  return lsbExp(x) + bitLength(x.m) - 1;
}

/** Result of a partial remainder: the value and the condition bits C0 C1 C2 C3 to set. */
export interface RemResult {
  value: F80;
  /** Quotient low bits (Q2 Q1 Q0 as bits 2..0) when complete; -1 when C0 C1 C3 are left alone. */
  q: number;
  /** C2: reduction incomplete. */
  incomplete: boolean;
}

/** FPREM (truncating, `nearest` false) and FPREM1 (IEEE, `nearest` true) of a by b. */
export function remainder(a: F80, b: F80, nearest: boolean, st: FpStatus): RemResult {
  const ka = kindOf(a), kb = kindOf(b);
  const s = screen2(a, ka, b, kb, st);
  if (s) return { value: s, q: -1, incomplete: false };
  if (ka === Kind.INF || kb === Kind.ZERO) return { value: invalid(st), q: -1, incomplete: false };
  if (ka === Kind.ZERO || kb === Kind.INF) return { value: packExt({ sign: signOf(a), sig: a.m, e: lsbExp(a), inf: false }), q: 0, incomplete: false };
  const sa = signOf(a);
  const d = leadExp(a) - leadExp(b);
  const ea = lsbExp(a), eb0 = lsbExp(b);
  if (d >= 64) {
    const n = (d & 31) | 32;
    const eb = eb0 + d - n; // b scaled by 2^(d - n)
    const e = Math.min(ea, eb);
    const A = a.m << BigInt(ea - e), B = b.m << BigInt(eb - e);
    const r = A - (A / B) * B;
    return { value: r === 0n ? zero(sa) : packExt({ sign: sa, sig: r, e, inf: false }), q: -1, incomplete: true };
  }
  const e = Math.min(ea, eb0);
  const A = a.m << BigInt(ea - e), B = b.m << BigInt(eb0 - e);
  let q = A / B;
  let r = A - q * B;
  let sign = sa;
  if (nearest) {
    const twice = r * 2n;
    if (twice > B || (twice === B && (q & 1n) === 1n)) { q += 1n; r = B - r; sign ^= 1; }
  }
  const value = r === 0n ? zero(sa) : packExt({ sign, sig: r, e, inf: false });
  return { value, q: Number(q & 7n), incomplete: false };
}

/** FSCALE: a * 2^trunc(b). */
export function scale(a: F80, b: F80, st: FpStatus): F80 {
  const ka = kindOf(a), kb = kindOf(b);
  const s = screen2(a, ka, b, kb, st);
  if (s) return s;
  const sa = signOf(a), sb = signOf(b);
  if (kb === Kind.INF) {
    if (ka === Kind.ZERO) return sb ? a : invalid(st);
    if (ka === Kind.INF) return sb ? invalid(st) : a;
    return sb ? zero(sa) : inf(sa);
  }
  if (ka === Kind.ZERO || ka === Kind.INF) return a;
  let n = 0;
  if (kb !== Kind.ZERO) {
    const eb = lsbExp(b);
    const mag = eb >= 0 ? 1 << 20 : Number(b.m >> BigInt(Math.min(-eb, 64)));
    n = Math.min(mag, 1 << 20) * (sb ? -1 : 1);
  }
  return roundExt(sa, a.m, lsbExp(a) + n, false, 64, st);
}

/** FRNDINT: round to an integer by the rounding control. */
export function roundInt(a: F80, st: FpStatus): F80 {
  const ka = kindOf(a);
  const s = screen1(a, ka, st);
  if (s) return s;
  if (ka === Kind.ZERO || ka === Kind.INF) return a;
  const e = lsbExp(a), sign = signOf(a);
  if (e >= 0) return a;
  // round at the units bit; the integer then fits in 64 bits (or is 2^64)
  const sh = BigInt(-e);
  const kept = a.m >> sh, rem = a.m & ((1n << sh) - 1n), half = 1n << (sh - 1n);
  let up: boolean;
  switch (st.rc) {
    case Rc.NEAREST: up = rem > half || (rem === half && (kept & 1n) === 1n); break;
    case Rc.UP: up = rem !== 0n && sign === 0; break;
    case Rc.DOWN: up = rem !== 0n && sign === 1; break;
    default: up = false;
  }
  if (rem !== 0n) st.exc |= Exc.PE;
  st.up = up;
  const r = up ? kept + 1n : kept;
  return r === 0n ? zero(sign) : packExt({ sign, sig: r, e: 0, inf: false });
}

/** FXTRACT: [exponent, significand] of a. */
export function extract(a: F80, st: FpStatus): [F80, F80] {
  const ka = kindOf(a);
  const s = screen1(a, ka, st);
  if (s) return [s, s];
  const sign = signOf(a);
  if (ka === Kind.ZERO) { st.exc |= Exc.ZE; return [inf(1), a]; }
  if (ka === Kind.INF) return [inf(0), a];
  const lead = leadExp(a);
  const exp = lead === 0 ? zero(0) : packExt({ sign: lead < 0 ? 1 : 0, sig: BigInt(Math.abs(lead)), e: 0, inf: false });
  const sig = packExt({ sign, sig: a.m, e: 1 - bitLength(a.m), inf: false });
  return [exp, sig];
}

/** Comparison outcomes. */
export const enum Cmp { GT = 0, LT = 1, EQ = 2, UNORDERED = 3 }

/** Compare a with b. `quietNaN`: only SNaN operands are invalid (FUCOM); otherwise any NaN is (FCOM). */
export function compare(a: F80, b: F80, quietNaN: boolean, st: FpStatus): Cmp {
  const ka = kindOf(a), kb = kindOf(b);
  if (ka === Kind.UNSUPPORTED || kb === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return Cmp.UNORDERED; }
  if (isNaNKind(ka) || isNaNKind(kb)) {
    if (!quietNaN || ka === Kind.SNAN || kb === Kind.SNAN) st.exc |= Exc.IE;
    return Cmp.UNORDERED;
  }
  if (ka === Kind.DENORMAL || kb === Kind.DENORMAL) st.exc |= Exc.DE;
  const mag = compareMagnitude(a, ka, b, kb);
  const sa = ka === Kind.ZERO ? -1 : signOf(a), sb = kb === Kind.ZERO ? -1 : signOf(b);
  if (ka === Kind.ZERO && kb === Kind.ZERO) return Cmp.EQ;
  if (sa !== sb) {
    // different signs (a zero counts as neither)
    const pa = ka === Kind.ZERO ? 0 : sa ? -1 : 1, pb = kb === Kind.ZERO ? 0 : sb ? -1 : 1;
    return pa > pb ? Cmp.GT : Cmp.LT;
  }
  if (mag === 0) return Cmp.EQ;
  return (mag > 0) !== (sa === 1) ? Cmp.GT : Cmp.LT;
}

/** Sign of |a| - |b| for non-NaN operands. */
function compareMagnitude(a: F80, ka: Kind, b: F80, kb: Kind): number {
  if (ka === Kind.INF || kb === Kind.INF) return ka === kb ? 0 : ka === Kind.INF ? 1 : -1;
  if (ka === Kind.ZERO || kb === Kind.ZERO) return ka === kb ? 0 : ka === Kind.ZERO ? -1 : 1;
  const la = leadExp(a), lb = leadExp(b);
  if (la !== lb) return la > lb ? 1 : -1;
  const na = a.m << BigInt(64 - bitLength(a.m)), nb = b.m << BigInt(64 - bitLength(b.m));
  return na === nb ? 0 : na > nb ? 1 : -1;
}
