// Conversions between the extended format and memory formats: binary32/binary64 (exact on load, rounded by
// RC on store), two's-complement integers (FILD/FIST/FISTTP) and 18-digit packed BCD (FBLD/FBSTP).
import { DBL, Exc, Format, FpStatus, packExt, packIeee, Rc, roundValue, SGL } from './round.js';
import { F80, INT_BIT, isNaNKind, Kind, kindOf, lsbExp, QUIET_BIT, signOf, zero } from './value.js';

/** Widen IEEE bits of `fmt` exactly; a denormal source raises DE (the value is normalised). SNaNs stay signaling. */
export function fromIeee(bits: bigint, fmt: Format, st: FpStatus): F80 {
  const fracBits = fmt.p - 1, expBits = fmt === SGL ? 8 : 11;
  const sign = Number(bits >> BigInt(fracBits + expBits)) & 1;
  const be = Number((bits >> BigInt(fracBits)) & ((1n << BigInt(expBits)) - 1n));
  const frac = bits & ((1n << BigInt(fracBits)) - 1n);
  const expMax = (1 << expBits) - 1;
  if (be === expMax) return { se: (sign << 15) | 0x7fff, m: INT_BIT | (frac << BigInt(63 - fracBits)) };
  if (be === 0) {
    if (frac === 0n) return zero(sign);
    st.exc |= Exc.DE;
    return packExt({ sign, sig: frac, e: fmt.emin - fracBits, inf: false });
  }
  return packExt({ sign, sig: frac | (1n << BigInt(fracBits)), e: be - fmt.bias - fracBits, inf: false });
}

/** binary32 bits -> extended. */
export const fromF32 = (bits: number, st: FpStatus): F80 => fromIeee(BigInt(bits >>> 0), SGL, st);
/** binary64 bits (lo, hi halves) -> extended. */
export const fromF64 = (lo: number, hi: number, st: FpStatus): F80 =>
  fromIeee((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), DBL, st);

/** The default NaN ("indefinite") of a memory format. */
export function ieeeIndefinite(fmt: Format): bigint {
  return fmt === SGL ? 0xffc00000n : 0xfff8000000000000n;
}

/**
 * Narrow to IEEE bits of `fmt`, rounding by RC (precision control does not apply). Unsupported -> IE and the
 * indefinite; SNaN -> IE and quieted; NaN payloads keep their high bits. On unmasked OE/UE the caller must
 * not store.
 */
export function toIeee(x: F80, fmt: Format, st: FpStatus): bigint {
  const k = kindOf(x), sign = signOf(x);
  const fracBits = fmt.p - 1, expBits = fmt === SGL ? 8 : 11;
  const signBit = BigInt(sign) << BigInt(fracBits + expBits);
  const expAll = ((1n << BigInt(expBits)) - 1n) << BigInt(fracBits);
  if (k === Kind.UNSUPPORTED) { st.exc |= Exc.IE; return ieeeIndefinite(fmt); }
  if (isNaNKind(k)) {
    if (k === Kind.SNAN) st.exc |= Exc.IE;
    const m = x.m | QUIET_BIT;
    return signBit | expAll | ((m >> BigInt(63 - fracBits)) & ((1n << BigInt(fracBits)) - 1n));
  }
  if (k === Kind.INF) return signBit | expAll;
  if (k === Kind.ZERO) return signBit; // an extended denormal raises no DE here, only UE (SDM FST)
  return packIeee(roundValue(sign, x.m, lsbExp(x), false, fmt.p, fmt, st, false), fmt);
}

/** Exact conversion of a signed integer. */
export function fromInt(v: bigint): F80 {
  if (v === 0n) return zero(0);
  const sign = v < 0n ? 1 : 0;
  return packExt({ sign, sig: sign ? -v : v, e: 0, inf: false });
}

/**
 * Convert to a signed integer of `bits` bits, rounding by RC (or toward zero when `truncate`), or null when
 * the value is NaN, infinite, unsupported or out of range (IE raised; the caller stores the integer indefinite).
 */
export function toInt(x: F80, bits: number, truncate: boolean, st: FpStatus): bigint | null {
  const k = kindOf(x), sign = signOf(x);
  if (k === Kind.UNSUPPORTED || k === Kind.INF || isNaNKind(k)) { st.exc |= Exc.IE; return null; }
  if (k === Kind.ZERO) return 0n; // FIST lists no #D
  const e = lsbExp(x);
  let mag: bigint, inexact = false, up = false;
  if (e >= 0) {
    if (e > bits) { st.exc |= Exc.IE; return null; }
    mag = x.m << BigInt(e);
  } else {
    const sh = BigInt(Math.min(-e, 66));
    const kept = x.m >> sh, rem = x.m & ((1n << sh) - 1n), half = 1n << (sh - 1n);
    inexact = rem !== 0n;
    const rc = truncate ? Rc.ZERO : st.rc;
    switch (rc) {
      case Rc.NEAREST: up = rem > half || (rem === half && (kept & 1n) === 1n); break;
      case Rc.UP: up = inexact && sign === 0; break;
      case Rc.DOWN: up = inexact && sign === 1; break;
      default: up = false;
    }
    mag = up ? kept + 1n : kept;
  }
  const limit = 1n << BigInt(bits - 1);
  if (sign ? mag > limit : mag >= limit) { st.exc |= Exc.IE; return null; }
  if (inexact) { st.exc |= Exc.PE; st.up = up; }
  return sign ? -mag : mag;
}

/** The 10-byte packed-BCD indefinite (FFFF C000 0000 0000 0000). */
export const BCD_INDEFINITE: readonly number[] = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];

/** FBLD: 10 bytes of packed BCD -> extended (exact; 18 digits fit the significand). */
export function fromBcd(bytes: ArrayLike<number>): F80 {
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = bytes[i]!;
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const sign = (bytes[9]! >> 7) & 1;
  const r = fromInt(v);
  return { se: r.se | (sign << 15), m: r.m };
}

/** FBSTP: extended -> 10 bytes of packed BCD rounded by RC, or null (IE raised) when not representable. */
export function toBcd(x: F80, st: FpStatus): number[] | null {
  const sign = signOf(x);
  const v = toInt(x, 64, false, st);
  if (v === null) return null;
  const mag = v < 0n ? -v : v;
  if (mag > 999999999999999999n) { st.exc = (st.exc & ~(Exc.PE)) | Exc.IE; st.up = false; return null; }
  const out: number[] = [];
  let t = mag;
  for (let i = 0; i < 9; i++) {
    const lo = Number(t % 10n); t /= 10n;
    const hi = Number(t % 10n); t /= 10n;
    out.push((hi << 4) | lo);
  }
  out.push(sign << 7);
  return out;
}

/** Bits of a value, for tests and diagnostics. */
export function describe(x: F80): string {
  return `${(x.se & 0xffff).toString(16).padStart(4, '0')}:${x.m.toString(16).padStart(16, '0')}`;
}
