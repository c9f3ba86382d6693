// 80-bit extended-precision values as raw fields, their classes, and the special values the x87 produces.

/** A raw 80-bit value: sign (bit 15) and biased exponent (bits 0..14) in `se`; 64-bit significand with explicit integer bit. */
export interface F80 {
  /** Sign and biased exponent (the top 16 bits of the 80-bit format). */
  se: number;
  /** Significand, 0 <= m < 2^64; bit 63 is the explicit integer bit. */
  m: bigint;
}

/** Operand classes as the x87 distinguishes them. */
export const enum Kind {
  ZERO = 0, // exponent 0, significand 0
  NORMAL = 1, // exponent 1..0x7ffe, integer bit set
  DENORMAL = 2, // exponent 0, significand non-zero (pseudo-denormals included: integer bit set)
  INF = 3, // exponent 0x7fff, significand 0x8000000000000000
  QNAN = 4, // exponent 0x7fff, integer and quiet bits set
  SNAN = 5, // exponent 0x7fff, integer bit set, quiet bit clear, fraction non-zero
  UNSUPPORTED = 6, // integer bit clear with non-zero exponent: unnormal, pseudo-infinity, pseudo-NaN
}

/** Exponent bias of the extended format. */
export const BIAS = 16383;
/** The explicit integer bit. */
export const INT_BIT = 1n << 63n;
/** The quiet bit of a NaN. */
export const QUIET_BIT = 1n << 62n;
/** 2^64 - 1. */
export const MASK64 = (1n << 64n) - 1n;

/** The class of a value. */
export function kindOf(x: F80): Kind {
  const e = x.se & 0x7fff, m = x.m;
  if (e === 0) return m === 0n ? Kind.ZERO : Kind.DENORMAL;
  if ((m & INT_BIT) === 0n) return Kind.UNSUPPORTED;
  if (e === 0x7fff) {
    if (m === INT_BIT) return Kind.INF;
    return (m & QUIET_BIT) !== 0n ? Kind.QNAN : Kind.SNAN;
  }
  return Kind.NORMAL;
}

/** True for QNaN and SNaN. */
export const isNaNKind = (k: Kind): boolean => k === Kind.QNAN || k === Kind.SNAN;

/** Sign bit (0/1). */
export const signOf = (x: F80): number => x.se >>> 15;

/** Exponent of the least significant significand bit of a finite value: value = m * 2^lsbExp(x). */
export function lsbExp(x: F80): number {
  const e = x.se & 0x7fff;
  return (e === 0 ? 1 : e) - BIAS - 63;
}

/** The x87 "real indefinite": the negative QNaN returned by masked invalid operations. */
export const INDEFINITE: Readonly<F80> = { se: 0xffff, m: 0xc000000000000000n };

/** Signed zero. */
export const zero = (sign: number): F80 => ({ se: sign << 15, m: 0n });
/** Signed infinity. */
export const inf = (sign: number): F80 => ({ se: (sign << 15) | 0x7fff, m: INT_BIT });
/** The same value with the sign replaced. */
export const withSign = (x: F80, sign: number): F80 => ({ se: (x.se & 0x7fff) | (sign << 15), m: x.m });
/** A NaN made quiet. */
export const quiet = (x: F80): F80 => ({ se: x.se, m: x.m | QUIET_BIT });

/** Number of significant bits of a non-negative bigint (0 for 0). */
export function bitLength(v: bigint): number {
  if (v === 0n) return 0;
  if (v <= 0xffffffffn) return 32 - Math.clz32(Number(v));
  return v.toString(2).length;
}
