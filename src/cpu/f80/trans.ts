// x87 transcendental functions: FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1. Arguments of the
// trigonometric functions are reduced modulo the x87's 66-bit approximation of pi/2 (as the hardware does,
// so results near multiples of pi match it); the reduced function is evaluated with 256-bit significands and
// rounded once to 64 bits by RC. Results are therefore correctly rounded with respect to that model, while
// real processors may differ by one unit in the last place.
import { propagateNaN1, propagateNaN2 } from './arith.js';
import * as B from './bigfloat.js';
import { Exc, FpStatus, roundExt } from './round.js';
import { bitLength, F80, INDEFINITE, inf, isNaNKind, Kind, kindOf, lsbExp, signOf, zero } from './value.js';

/** pi ~= P66 * 2^-64: the 66-bit pi of the x87 argument reduction. */
const P66 = (0xc90fdaa22168c234n << 2n) | 3n;

const toBF = (x: F80): B.BF => B.bf(signOf(x) ? -x.m : x.m, lsbExp(x));

/** Round a high-precision value to the extended format (inexact by construction). */
function round(v: B.BF, st: FpStatus): F80 {
  if (v.m === 0n) return zero(0);
  const s = v.m < 0n ? 1 : 0;
  return roundExt(s, s ? -v.m : v.m, v.e, true, 64, st);
}

/** Screen one operand: unsupported / NaN / infinity (invalid for trig) / denormal flag. */
function screen(x: F80, k: Kind, st: FpStatus, infInvalid: boolean): F80 | null {
  if (k === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(k)) return propagateNaN1(x, k, st);
  if (k === Kind.INF && infInvalid) { st.exc |= Exc.IE; return INDEFINITE; }
  if (k === Kind.DENORMAL) st.exc |= Exc.DE;
  return null;
}

/** True if |x| >= 2^63 (the trigonometric instructions leave such operands alone and set C2). */
export function trigOutOfRange(x: F80): boolean {
  const k = kindOf(x);
  return (k === Kind.NORMAL) && (x.se & 0x7fff) - 16383 >= 63;
}

/** x = k * (pi66 / 2) + r with |r| <= pi66 / 4; returns r and k mod 4. */
function reduce(x: F80): { r: B.BF; q: number } {
  const e = lsbExp(x), m = signOf(x) ? -x.m : x.m;
  if (e + 65 < 0) return { r: toBF(x), q: 0 };
  const num = m << BigInt(e + 65);
  let k = num / P66, rem = num - k * P66;
  if (2n * (rem < 0n ? -rem : rem) > P66) {
    const s = rem < 0n ? -1n : 1n;
    k += s; rem -= s * P66;
  }
  return { r: B.bf(rem, -65), q: Number(((k % 4n) + 4n) % 4n) };
}

/** sin and cos of a finite in-range x. */
function sinCos(x: F80): [B.BF, B.BF] {
  const { r, q } = reduce(x);
  const s = B.sinSeries(r), c = B.cosSeries(r);
  switch (q) {
    case 0: return [s, c];
    case 1: return [c, B.neg(s)];
    case 2: return [B.neg(s), B.neg(c)];
    default: return [B.neg(c), s];
  }
}

/** FSIN / FCOS / FSINCOS / FPTAN core: [sin, cos] or [tan] of an in-range operand. */
export function fsin(x: F80, st: FpStatus): F80 {
  const k = kindOf(x);
  const s = screen(x, k, st, true);
  if (s) return s;
  if (k === Kind.ZERO) return x;
  return round(sinCos(x)[0], st);
}

export function fcos(x: F80, st: FpStatus): F80 {
  const k = kindOf(x);
  const s = screen(x, k, st, true);
  if (s) return s;
  if (k === Kind.ZERO) return { se: 0x3fff, m: 1n << 63n };
  return round(sinCos(x)[1], st);
}

/** FSINCOS: [sin, cos]; the two roundings share one status (C1 from the cosine, as it ends up in ST(0)). */
export function fsincos(x: F80, st: FpStatus): [F80, F80] {
  const k = kindOf(x);
  const s = screen(x, k, st, true);
  if (s) return [s, s];
  if (k === Kind.ZERO) return [x, { se: 0x3fff, m: 1n << 63n }];
  const [sn, cs] = sinCos(x);
  const a = round(sn, st);
  return [a, round(cs, st)];
}

export function ftan(x: F80, st: FpStatus): F80 {
  const k = kindOf(x);
  const s = screen(x, k, st, true);
  if (s) return s;
  if (k === Kind.ZERO) return x;
  const [sn, cs] = sinCos(x);
  return round(B.div(sn, cs), st);
}

/** F2XM1: 2^x - 1. */
export function f2xm1(x: F80, st: FpStatus): F80 {
  const k = kindOf(x);
  const s = screen(x, k, st, false);
  if (s) return s;
  if (k === Kind.ZERO) return x;
  if (k === Kind.INF) return signOf(x) ? { se: 0xbfff, m: 1n << 63n } : x;
  const e = lsbExp(x);
  if (e >= 0 || (x.m & ((1n << BigInt(-e)) - 1n)) === 0n) { // an integer: exact
    const v = signOf(x) ? -(x.m >> BigInt(Math.max(-e, 0))) : x.m >> BigInt(Math.max(-e, 0));
    if (v >= -64n && v <= 64n) {
      const n = Number(v);
      const num = n >= 0 ? (1n << BigInt(n)) - 1n : 1n - (1n << BigInt(-n));
      if (num === 0n) return zero(0);
      return roundExt(num < 0n ? 1 : 0, num < 0n ? -num : num, n >= 0 ? 0 : n, false, 64, st);
    }
  }
  return round(B.expm1(B.mul(toBF(x), B.LN2)), st);
}

/** log2 of a positive finite value as a high-precision number, or exactly when x is a power of two. */
function log2(x: B.BF): B.BF {
  const m = x.m;
  if ((m & (m - 1n)) === 0n) return B.int(x.e + bitLength(m) - 1);
  return B.div(B.ln(x), B.LN2);
}

/** FYL2X: y * log2(x). */
export function fyl2x(y: F80, x: F80, st: FpStatus): F80 {
  const ky = kindOf(y), kx = kindOf(x);
  if (ky === Kind.UNSUPPORTED || kx === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(ky) || isNaNKind(kx)) return propagateNaN2(x, kx, y, ky, st);
  if (ky === Kind.DENORMAL || kx === Kind.DENORMAL) st.exc |= Exc.DE;
  const sy = signOf(y);
  if (signOf(x) && kx !== Kind.ZERO) { st.exc |= Exc.IE; return INDEFINITE; }
  if (kx === Kind.ZERO) {
    if (ky === Kind.ZERO) { st.exc |= Exc.IE; return INDEFINITE; }
    if (ky !== Kind.INF) st.exc |= Exc.ZE;
    return inf(sy ^ 1);
  }
  if (kx === Kind.INF) {
    if (ky === Kind.ZERO) { st.exc |= Exc.IE; return INDEFINITE; }
    return inf(sy);
  }
  const l = log2(toBF(x));
  if (ky === Kind.INF) {
    if (l.m === 0n) { st.exc |= Exc.IE; return INDEFINITE; }
    return inf(sy ^ (l.m < 0n ? 1 : 0));
  }
  if (ky === Kind.ZERO || l.m === 0n) return zero(sy ^ (l.m < 0n ? 1 : 0));
  const p = B.mul(toBF(y), l);
  if ((x.m & (x.m - 1n)) === 0n) { // exact product: round once without a sticky bit
    const s = p.m < 0n ? 1 : 0;
    return roundExt(s, s ? -p.m : p.m, p.e, false, 64, st);
  }
  return round(p, st);
}

/** FYL2XP1: y * log2(x + 1). */
export function fyl2xp1(y: F80, x: F80, st: FpStatus): F80 {
  const ky = kindOf(y), kx = kindOf(x);
  if (ky === Kind.UNSUPPORTED || kx === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(ky) || isNaNKind(kx)) return propagateNaN2(x, kx, y, ky, st);
  if (ky === Kind.DENORMAL || kx === Kind.DENORMAL) st.exc |= Exc.DE;
  const sy = signOf(y), sx = signOf(x);
  if (kx === Kind.ZERO) {
    if (ky === Kind.INF) { st.exc |= Exc.IE; return INDEFINITE; }
    return zero(sy ^ sx);
  }
  if (kx === Kind.INF) {
    if (sx || ky === Kind.ZERO) { st.exc |= Exc.IE; return INDEFINITE; }
    return inf(sy);
  }
  const bx = toBF(x);
  if (B.lead(bx) >= 0 && sx) { st.exc |= Exc.IE; return INDEFINITE; } // x <= -1
  if (ky === Kind.INF) return inf(sy ^ sx);
  if (ky === Kind.ZERO) return zero(sy ^ sx);
  // ln(1 + x) = 2 atanh(x / (2 + x)) keeps full relative precision for small x
  const lnp1 = B.lead(bx) < -1 ? B.mul(B.int(2), B.atanhSeries(B.div(bx, B.add(B.int(2), bx)))) : B.ln(B.add(B.int(1), bx));
  return round(B.mul(toBF(y), B.div(lnp1, B.LN2)), st);
}

/** FPATAN: atan2(y, x) with the quadrant from the signs. */
export function fpatan(y: F80, x: F80, st: FpStatus): F80 {
  const ky = kindOf(y), kx = kindOf(x);
  if (ky === Kind.UNSUPPORTED || kx === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return INDEFINITE; }
  if (isNaNKind(ky) || isNaNKind(kx)) return propagateNaN2(x, kx, y, ky, st);
  if (ky === Kind.DENORMAL || kx === Kind.DENORMAL) st.exc |= Exc.DE;
  const sy = signOf(y), sx = signOf(x);
  const pi = B.PI, half = { m: B.PI.m, e: B.PI.e - 1 }, quarter = { m: B.PI.m, e: B.PI.e - 2 };
  const signed = (v: B.BF): F80 => round(sy ? B.neg(v) : v, st);
  if (ky === Kind.ZERO) return sx ? signed(pi) : zero(sy);
  if (kx === Kind.ZERO) return signed(half);
  if (ky === Kind.INF) {
    if (kx === Kind.INF) return signed(sx ? B.sub(pi, quarter) : quarter);
    return signed(half);
  }
  if (kx === Kind.INF) return sx ? signed(pi) : zero(sy);
  const ay = B.bf(y.m, lsbExp(y)), ax = B.bf(x.m, lsbExp(x));
  const yLe = B.sub(ay, ax).m <= 0n;
  let a = yLe ? B.atan(B.div(ay, ax)) : B.sub(half, B.atan(B.div(ax, ay)));
  if (sx) a = B.sub(pi, a);
  return signed(a);
}
