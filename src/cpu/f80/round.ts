// Rounding of exact results to a floating-point format under x87 rules: rounding control, precision control,
// tininess after rounding, masked and unmasked overflow/underflow (bias-adjusted results), the C1 round-up bit.
import { BIAS, bitLength, F80, INT_BIT } from './value.js';

/** x87 exception flags, at their status-word (and control-word mask) positions. */
export const enum Exc { IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20 }

/** Rounding control (FCW bits 10..11). */
export const enum Rc { NEAREST = 0, DOWN = 1, UP = 2, ZERO = 3 }

/** Rounding environment and the outcome of one operation. */
export class FpStatus {
  /** Exceptions detected (Exc bits). */
  exc = 0;
  /** The result was rounded up in magnitude (the C1 "round-up" bit). */
  up = false;
  /** Rounding control. */
  rc: Rc = Rc.NEAREST;
  /** Significand bits for operations under precision control (24, 53 or 64). */
  prec = 64;
  /** Exception mask bits (FCW bits 0..5): a set bit masks the exception. */
  masks = 0x3f;

  /** Start an operation under control word `fcw`. */
  reset(fcw: number): this {
    this.exc = 0; this.up = false;
    this.rc = ((fcw >>> 10) & 3) as Rc;
    const pc = (fcw >>> 8) & 3;
    this.prec = pc === 0 ? 24 : pc === 2 ? 53 : 64;
    this.masks = fcw & 0x3f;
    return this;
  }

  /** Exceptions raised and not masked. */
  unmasked(): number {
    return this.exc & ~this.masks & 0x3f;
  }
}

/** A binary floating-point format: full precision and normal exponent range (unbiased). */
export interface Format {
  /** Significand bits including the integer bit. */
  p: number;
  /** Smallest normal exponent. */
  emin: number;
  /** Largest finite exponent. */
  emax: number;
  /** Exponent bias. */
  bias: number;
}

/** The 80-bit extended format. */
export const EXT: Format = { p: 64, emin: 1 - BIAS, emax: BIAS, bias: BIAS };
/** IEEE binary64. */
export const DBL: Format = { p: 53, emin: -1022, emax: 1023, bias: 1023 };
/** IEEE binary32. */
export const SGL: Format = { p: 24, emin: -126, emax: 127, bias: 127 };

/** Exponent bias adjustment of unmasked x87 overflow/underflow results (3 * 2^13). */
const WRAP = 24576;

/** A rounded result: value = (-1)^sign * sig * 2^e, or an infinity. */
export interface Rounded {
  sign: number;
  sig: bigint;
  e: number;
  inf: boolean;
}

/** Scratch for roundAt. */
const ra = { sig: 0n, inexact: false, up: false };

/**
 * Round sig * 2^e (plus a non-zero amount below every bit when `sticky`) to a multiple of 2^(e + shift).
 * Leaves the rounded multiplier in ra.sig, and whether it was inexact / rounded up in magnitude.
 */
function roundAt(sig: bigint, shift: number, sticky: boolean, sign: number, rc: Rc): void {
  let kept: bigint, inexact: boolean, up: boolean;
  if (shift <= 0) {
    kept = sig << BigInt(-shift);
    inexact = sticky;
    up = sticky && (rc === Rc.UP ? sign === 0 : rc === Rc.DOWN ? sign === 1 : false);
  } else {
    const s = BigInt(shift);
    kept = sig >> s;
    const rem = sig & ((1n << s) - 1n), half = 1n << (s - 1n);
    inexact = rem !== 0n || sticky;
    switch (rc) {
      case Rc.NEAREST: up = rem > half || (rem === half && (sticky || (kept & 1n) === 1n)); break;
      case Rc.UP: up = inexact && sign === 0; break;
      case Rc.DOWN: up = inexact && sign === 1; break;
      default: up = false;
    }
  }
  ra.sig = up ? kept + 1n : kept;
  ra.inexact = inexact;
  ra.up = up;
}

/** The largest finite value of `fmt` at `p` significant bits. */
function maxFinite(sign: number, p: number, fmt: Format): Rounded {
  return { sign, sig: (1n << BigInt(p)) - 1n, e: fmt.emax - p + 1, inf: false };
}

/**
 * Round the exact value (-1)^sign * sig * 2^e (sig > 0; `sticky`: a non-zero remainder lies below sig's last
 * bit) to `p` significant bits in format `fmt`, raising OE/UE/PE in `st` and setting st.up. When `wrap` is set
 * (register destinations) and the overflow/underflow exception is unmasked, the result carries the x87
 * bias-adjusted exponent; for memory destinations the caller does not store on unmasked OE/UE.
 */
export function roundValue(sign: number, sig: bigint, e: number, sticky: boolean, p: number, fmt: Format,
  st: FpStatus, wrap: boolean): Rounded {
  const n = bitLength(sig);
  const lead = e + n - 1;
  // round with unbounded exponent at p bits
  const q = lead - p + 1;
  roundAt(sig, q - e, sticky, sign, st.rc);
  let rsig = ra.sig, rinexact = ra.inexact, rup = ra.up;
  const lead1 = bitLength(rsig) > p ? lead + 1 : lead;
  if (lead1 > fmt.emax) {
    st.exc |= Exc.OE | Exc.PE;
    if (wrap && !(st.masks & Exc.OE)) {
      st.up = rup;
      if (!rinexact) st.exc &= ~Exc.PE;
      if (lead1 - WRAP > fmt.emax) { st.up = true; return { sign, sig: 0n, e: 0, inf: true }; }
      return { sign, sig: rsig, e: q - WRAP, inf: false };
    }
    const toInf = st.rc === Rc.NEAREST || (st.rc === Rc.UP && sign === 0) || (st.rc === Rc.DOWN && sign === 1);
    st.up = toInf;
    return toInf ? { sign, sig: 0n, e: 0, inf: true } : maxFinite(sign, p, fmt);
  }
  if (lead1 < fmt.emin) { // tiny after rounding
    if (wrap && !(st.masks & Exc.UE)) {
      st.exc |= Exc.UE;
      if (rinexact) st.exc |= Exc.PE;
      st.up = rup;
      if (lead1 + WRAP < fmt.emin) { st.up = false; return { sign, sig: 0n, e: 0, inf: false }; }
      return { sign, sig: rsig, e: q + WRAP, inf: false };
    }
    // precision control keeps its bit positions in the denormal range: the last kept bit is 2^(emin - p + 1)
    // (a PC=53 denormal extended result has the low 11 bits of its significand field clear; hardware)
    const qmin = fmt.emin - p + 1;
    const qd = Math.max(q, qmin);
    roundAt(sig, qd - e, sticky, sign, st.rc);
    rsig = ra.sig; rinexact = ra.inexact; rup = ra.up;
    if (rinexact) st.exc |= Exc.UE | Exc.PE;
    else if (!(st.masks & Exc.UE)) st.exc |= Exc.UE; // memory destination, unmasked: reported even if exact
    st.up = rup;
    return { sign, sig: rsig, e: qd, inf: false };
  }
  if (rinexact) st.exc |= Exc.PE;
  st.up = rup;
  return { sign, sig: rsig, e: q, inf: false };
}

/** Encode a rounded result in the extended format. */
export function packExt(r: Rounded): F80 {
  if (r.inf) return { se: (r.sign << 15) | 0x7fff, m: INT_BIT };
  let sig = r.sig, e = r.e;
  if (sig === 0n) return { se: r.sign << 15, m: 0n };
  let n = bitLength(sig);
  if (n > 64) { sig >>= BigInt(n - 64); e += n - 64; n = 64; } // only trailing zeros are dropped here
  const lead = e + n - 1;
  if (lead >= EXT.emin) {
    const be = Math.min(lead + BIAS, 0x7fff);
    return { se: (r.sign << 15) | be, m: sig << BigInt(64 - n) };
  }
  const qmin = EXT.emin - 63;
  return { se: r.sign << 15, m: e >= qmin ? sig << BigInt(e - qmin) : sig >> BigInt(qmin - e) };
}

/** Encode a rounded result as IEEE bits of `fmt` (binary32/binary64), as a bigint. */
export function packIeee(r: Rounded, fmt: Format): bigint {
  const fracBits = BigInt(fmt.p - 1), expBits = fmt === SGL ? 8n : 11n;
  const signBit = BigInt(r.sign) << (fracBits + expBits);
  const expMax = (1n << expBits) - 1n;
  if (r.inf) return signBit | (expMax << fracBits);
  let sig = r.sig, e = r.e;
  if (sig === 0n) return signBit;
  let n = bitLength(sig);
  if (n > fmt.p) { sig >>= BigInt(n - fmt.p); e += n - fmt.p; n = fmt.p; }
  const lead = e + n - 1;
  if (lead >= fmt.emin) {
    const frac = (sig << BigInt(fmt.p - n)) & ((1n << fracBits) - 1n);
    return signBit | (BigInt(lead + fmt.bias) << fracBits) | frac;
  }
  const qmin = fmt.emin - fmt.p + 1;
  return signBit | (sig << BigInt(e - qmin));
}

/** Round an exact value and encode it in the extended format (register destination). */
export function roundExt(sign: number, sig: bigint, e: number, sticky: boolean, p: number, st: FpStatus): F80 {
  return packExt(roundValue(sign, sig, e, sticky, p, EXT, st, true));
}
