// The x87 constants (FLDPI, FLDL2T, FLDL2E, FLDLG2, FLDLN2) computed once to 256 bits with BigInt series and
// rounded to 64 bits by the rounding control, which is what the SDM specifies for the constant loads.
import { FpStatus, Rc, roundExt } from './round.js';
import type { F80 } from './value.js';

const FRAC = 256n;
const ONE = 1n << FRAC;

/** atan(1/x) * 2^256 for integer x > 1. */
function atanInv(x: bigint): bigint {
  let sum = 0n, term = ONE / x, k = 1n, sign = 1n;
  const x2 = x * x;
  while (term !== 0n) {
    sum += (sign * term) / k;
    term /= x2; k += 2n; sign = -sign;
  }
  return sum;
}

/** atanh(1/x) * 2^256 for integer x > 1. */
function atanhInv(x: bigint): bigint {
  let sum = 0n, term = ONE / x, k = 1n;
  const x2 = x * x;
  while (term !== 0n) {
    sum += term / k;
    term /= x2; k += 2n;
  }
  return sum;
}

const PI = 16n * atanInv(5n) - 4n * atanInv(239n);
const LN2 = 2n * atanhInv(3n);
const LN10 = 3n * LN2 + 2n * atanhInv(9n);

/** Fixed-point (2^-256) values of the constants. */
export const CONST_FIXED = {
  pi: PI,
  ln2: LN2,
  l2e: (ONE << FRAC) / LN2,
  l2t: (LN10 << FRAC) / LN2,
  lg2: (LN2 << FRAC) / LN10,
} as const;

/** A constant rounded to 64 bits under rounding control `rc` (no exception is reported for constant loads). */
export function constant(name: keyof typeof CONST_FIXED, rc: Rc): F80 {
  const st = new FpStatus();
  st.rc = rc;
  return roundExt(0, CONST_FIXED[name], -256, true, 64, st);
}
