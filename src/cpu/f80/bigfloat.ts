// A minimal binary floating-point type with 256-bit significands (value = m * 2^e, m a signed bigint), used to
// evaluate the x87 transcendental functions far beyond 64-bit precision before one final rounding.
import { CONST_FIXED } from './constants.js';
import { isqrt } from './arith.js';
import { bitLength } from './value.js';

/** Significand bits kept. */
export const PREC = 256;

/** value = m * 2^e. */
export interface BF {
  m: bigint;
  e: number;
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Truncate to PREC significant bits. */
export function norm(x: BF): BF {
  const n = bitLength(abs(x.m));
  if (n <= PREC) return x;
  const sh = n - PREC;
  return { m: x.m < 0n ? -(-x.m >> BigInt(sh)) : x.m >> BigInt(sh), e: x.e + sh };
}

export const bf = (m: bigint, e = 0): BF => norm({ m, e });
/** Exponent of the leading bit (-Infinity for 0). */
export const lead = (x: BF): number => (x.m === 0n ? -Infinity : x.e + bitLength(abs(x.m)) - 1);
export const neg = (x: BF): BF => ({ m: -x.m, e: x.e });

export function add(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (lead(a) - lead(b) > PREC + 8) return a;
  if (lead(b) - lead(a) > PREC + 8) return b;
  const e = Math.min(a.e, b.e);
  return norm({ m: (a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e });
}

export const sub = (a: BF, b: BF): BF => add(a, neg(b));
export const mul = (a: BF, b: BF): BF => norm({ m: a.m * b.m, e: a.e + b.e });

export function div(a: BF, b: BF): BF {
  const sh = PREC + bitLength(abs(b.m)) - bitLength(abs(a.m)) + 2;
  const s = Math.max(sh, 0);
  return norm({ m: (a.m << BigInt(s)) / b.m, e: a.e - b.e - s });
}

export function sqrt(a: BF): BF {
  let s = 2 * PREC - bitLength(a.m) + 2;
  if (s < 0) s = 0;
  if ((a.e - s) & 1) s++;
  return norm({ m: isqrt(a.m << BigInt(s)), e: (a.e - s) / 2 });
}

/** Small integer. */
export const int = (v: number): BF => bf(BigInt(v));

/** True if |term| is negligible against |ref|. */
const negligible = (term: BF, ref: BF): boolean => term.m === 0n || lead(term) < lead(ref) - PREC - 4;

export const PI: BF = bf(CONST_FIXED.pi, -256);
export const LN2: BF = bf(CONST_FIXED.ln2, -256);

/** sin r for |r| <= pi/4. */
export function sinSeries(r: BF): BF {
  if (r.m === 0n) return r;
  const r2 = mul(r, r);
  let term = r, sum = r;
  for (let k = 1; ; k++) {
    term = neg(div(mul(term, r2), int((2 * k) * (2 * k + 1))));
    if (negligible(term, sum)) return sum;
    sum = add(sum, term);
  }
}

/** cos r for |r| <= pi/4. */
export function cosSeries(r: BF): BF {
  const one = int(1);
  if (r.m === 0n) return one;
  const r2 = mul(r, r);
  let term = one, sum = one;
  for (let k = 1; ; k++) {
    term = neg(div(mul(term, r2), int((2 * k - 1) * (2 * k))));
    if (negligible(term, sum)) return sum;
    sum = add(sum, term);
  }
}

/** e^z - 1 for |z| <= 1. */
export function expm1(z: BF): BF {
  if (z.m === 0n) return z;
  let term = z, sum = z;
  for (let k = 2; ; k++) {
    term = div(mul(term, z), int(k));
    if (negligible(term, sum)) return sum;
    sum = add(sum, term);
  }
}

/** atanh s for |s| < 1/2. */
export function atanhSeries(s: BF): BF {
  if (s.m === 0n) return s;
  const s2 = mul(s, s);
  let pow = s, sum = s;
  for (let k = 1; ; k++) {
    pow = mul(pow, s2);
    const term = div(pow, int(2 * k + 1));
    if (negligible(term, sum)) return sum;
    sum = add(sum, term);
  }
}

/** atan t for |t| <= 1. */
export function atan(t: BF): BF {
  if (t.m === 0n) return t;
  let x = t, doublings = 0;
  const one = int(1);
  while (lead(x) > -4) { // |x| >= 1/16: halve the angle, atan x = 2 atan(x / (1 + sqrt(1 + x^2)))
    x = div(x, add(one, sqrt(add(one, mul(x, x)))));
    doublings++;
  }
  const x2 = mul(x, x);
  let pow = x, sum = x;
  for (let k = 1; ; k++) {
    pow = neg(mul(pow, x2));
    const term = div(pow, int(2 * k + 1));
    if (negligible(term, sum)) break;
    sum = add(sum, term);
  }
  return { m: sum.m, e: sum.e + doublings };
}

/** Natural logarithm of x > 0. */
export function ln(x: BF): BF {
  // x = 2^k * f with f in [1/sqrt2, sqrt2)
  let k = lead(x);
  let f: BF = { m: x.m, e: x.e - k };
  const SQRT2 = sqrt(int(2));
  if (sub(f, SQRT2).m > 0n) { f = { m: f.m, e: f.e - 1 }; k++; }
  const one = int(1);
  const s = div(sub(f, one), add(f, one));
  return add(mul(int(k), LN2), mul(int(2), atanhSeries(s)));
}
