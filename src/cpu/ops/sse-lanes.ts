// Lane operations of the SSE floating-point instructions. Operand lane i of the destination is DST.f64[i]
// (or DST.f32[i]), of the source SRC.f64[i]; the result goes to RES. The fast path uses JS arithmetic
// (IEEE binary64, correctly rounded to nearest) with error-free transformations for the inexact flag;
// anything unusual (NaN, infinity, denormal operand, tiny or overflowing result, directed rounding) goes to
// the exact BigInt path in sse-soft.ts. Flags accumulate in FS.fl.
import { DST, Mx, RES, SRC } from './sse-common.js';
import { big64, F32, F64, FS, softBinary, SoftOp, softSqrt } from './sse-soft.js';

/** Smallest normal binary64. */
export const MIN_D = 2.2250738585072014e-308;
/** Largest finite binary64. */
export const MAX_D = 1.7976931348623157e308;
/** Smallest normal binary32. */
export const MIN_S = 1.1754943508222875e-38;
/** Largest finite binary32. */
export const MAX_S = 3.4028234663852886e38;
/** Below this magnitude Dekker's product error may underflow (2^-968). */
const LOW_D = 2 ** -968;
/** Above this magnitude Dekker's split may overflow (2^995). */
const HIGH_D = 2 ** 995;
/** Above this magnitude a product's partial products (ah*bh) may overflow (2^1020). */
const HIGH_P = 2 ** 1020;
const SPLIT = 134217729; // 2^27 + 1
const fround = Math.fround;

/** Exact error of the rounded product p = RN(a*b) (Dekker; needs no overflow/underflow). */
export function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** Exact error of the rounded sum s = RN(a+b) (Knuth's TwoSum; needs s finite). */
export function sumErr(a: number, b: number, s: number): number {
  const bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

/** Normal, or zero, binary64 magnitude test (false for NaN, infinity, denormal). */
const okD = (x: number): boolean => { const a = Math.abs(x); return (a >= MIN_D && a <= MAX_D) || x === 0; };
/** Normal, or zero, binary32 magnitude test. */
const okS = (x: number): boolean => { const a = Math.abs(x); return (a >= MIN_S && a <= MAX_S) || x === 0; };
const nearest = (): boolean => (FS.mx & Mx.RC) === 0;

function slowD(op: SoftOp, i: number): void {
  const a = DST.u32, b = SRC.u32, k = i << 1;
  const r = softBinary(op, big64(a[k]!, a[k + 1]!), big64(b[k]!, b[k + 1]!), F64);
  RES.u32[k] = Number(r & 0xffffffffn); RES.u32[k + 1] = Number(r >> 32n);
}

function slowS(op: SoftOp, i: number): void {
  RES.u32[i] = Number(softBinary(op, BigInt(DST.u32[i]!), BigInt(SRC.u32[i]!), F32));
}

/** ADDSD/SUBSD/ADDPD/SUBPD lane. */
export function addD(i: number, sub: boolean): void {
  const a = DST.f64[i]!, b = sub ? -SRC.f64[i]! : SRC.f64[i]!;
  if (nearest() && okD(a) && okD(b)) {
    const r = a + b, ar = Math.abs(r);
    if (ar >= MIN_D && ar <= MAX_D) {
      if (sumErr(a, b, r) !== 0) FS.fl |= Mx.PE;
      RES.f64[i] = r; return;
    }
    if (r === 0) { RES.f64[i] = r; return; }
  }
  slowD(sub ? SoftOp.SUB : SoftOp.ADD, i);
}

/** MULSD/MULPD lane. */
export function mulD(i: number): void {
  const a = DST.f64[i]!, b = SRC.f64[i]!;
  if (nearest() && okD(a) && okD(b)) {
    if (a === 0 || b === 0) { RES.f64[i] = a * b; return; }
    const r = a * b, ar = Math.abs(r);
    if (ar >= LOW_D && ar < HIGH_P && Math.abs(a) < HIGH_D && Math.abs(b) < HIGH_D) {
      if (prodErr(a, b, r) !== 0) FS.fl |= Mx.PE;
      RES.f64[i] = r; return;
    }
  }
  slowD(SoftOp.MUL, i);
}

/** DIVSD/DIVPD lane. */
export function divD(i: number): void {
  const a = DST.f64[i]!, b = SRC.f64[i]!;
  if (nearest() && okD(a) && okD(b) && b !== 0) {
    if (a === 0) { RES.f64[i] = a / b; return; }
    const q = a / b, aq = Math.abs(q);
    if (aq >= MIN_D && aq < HIGH_D && Math.abs(a) >= LOW_D && Math.abs(a) < HIGH_P && Math.abs(b) < HIGH_D) {
      const p = q * b;
      if (a - p !== prodErr(q, b, p)) FS.fl |= Mx.PE;
      RES.f64[i] = q; return;
    }
  }
  slowD(SoftOp.DIV, i);
}

/** SQRTSD/SQRTPD lane (source lane only). */
export function sqrtD(i: number): void {
  const a = SRC.f64[i]!;
  if (nearest() && a >= LOW_D && a < HIGH_P) {
    const s = Math.sqrt(a), p = s * s;
    if (a - p !== prodErr(s, s, p)) FS.fl |= Mx.PE;
    RES.f64[i] = s; return;
  }
  if (a === 0) { RES.f64[i] = a; return; }
  const k = i << 1;
  const r = softSqrt(big64(SRC.u32[k]!, SRC.u32[k + 1]!), F64);
  RES.u32[k] = Number(r & 0xffffffffn); RES.u32[k + 1] = Number(r >> 32n);
}

/** ADDSS/SUBSS/ADDPS/SUBPS lane. */
export function addS(i: number, sub: boolean): void {
  const a = DST.f32[i]!, b = sub ? -SRC.f32[i]! : SRC.f32[i]!;
  if (nearest() && okS(a) && okS(b)) {
    const d = a + b, r = fround(d), ar = Math.abs(r);
    if (ar >= MIN_S && ar <= MAX_S) {
      if (r !== d || sumErr(a, b, d) !== 0) FS.fl |= Mx.PE;
      RES.f32[i] = r; return;
    }
    if (d === 0) { RES.f32[i] = d; return; }
  }
  slowS(sub ? SoftOp.SUB : SoftOp.ADD, i);
}

/** MULSS/MULPS lane (the binary64 product of two binary32 values is exact). */
export function mulS(i: number): void {
  const a = DST.f32[i]!, b = SRC.f32[i]!;
  if (nearest() && okS(a) && okS(b)) {
    const d = a * b, r = fround(d), ar = Math.abs(r);
    if ((ar >= MIN_S && ar <= MAX_S) || d === 0) {
      if (r !== d) FS.fl |= Mx.PE;
      RES.f32[i] = r; return;
    }
  }
  slowS(SoftOp.MUL, i);
}

/** DIVSS/DIVPS lane (exact iff r*b == a, a product that is exact in binary64). */
export function divS(i: number): void {
  const a = DST.f32[i]!, b = SRC.f32[i]!;
  if (nearest() && okS(a) && okS(b) && b !== 0) {
    const r = fround(a / b), ar = Math.abs(r);
    if ((ar >= MIN_S && ar <= MAX_S) || a === 0) {
      if (r * b !== a) FS.fl |= Mx.PE;
      RES.f32[i] = r; return;
    }
  }
  slowS(SoftOp.DIV, i);
}

/** SQRTSS/SQRTPS lane (source lane only). */
export function sqrtS(i: number): void {
  const a = SRC.f32[i]!;
  if (nearest() && a >= MIN_S && a <= MAX_S) {
    const r = fround(Math.sqrt(a));
    if (r * r !== a) FS.fl |= Mx.PE;
    RES.f32[i] = r; return;
  }
  if (a === 0) { RES.f32[i] = a; return; }
  RES.u32[i] = Number(softSqrt(BigInt(SRC.u32[i]!), F32));
}

// ---- classification on bit patterns (for compares, MIN/MAX) --------------------------------------

/** Kind of a value for compares: 0 ordinary, 1 QNaN, 2 SNaN; `den` set for a denormal operand. */
let den = false;

function kindD(u: Uint32Array, k: number): number {
  const hi = u[k + 1]!, e = hi & 0x7ff00000;
  if (e === 0x7ff00000) {
    if ((hi & 0xfffff) === 0 && u[k] === 0) return 0;
    return hi & 0x80000 ? 1 : 2;
  }
  if (e === 0 && ((hi & 0xfffff) | u[k]!) !== 0) den = true;
  return 0;
}

function kindS(u: Uint32Array, i: number): number {
  const x = u[i]!, e = x & 0x7f800000;
  if (e === 0x7f800000) {
    if ((x & 0x7fffff) === 0) return 0;
    return x & 0x400000 ? 1 : 2;
  }
  if (e === 0 && (x & 0x7fffff) !== 0) den = true;
  return 0;
}

/** Result of the last compare: 0 equal, 1 less, 2 greater, 3 unordered. */
export const enum Rel { EQ = 0, LT = 1, GT = 2, UN = 3 }

/** Compare lane i of DST (a) with SRC (b) as doubles; `signaling` raises IE on QNaN too. */
export function cmpD(i: number, signaling: boolean): Rel {
  den = false;
  const k = i << 1;
  const ka = kindD(DST.u32, k), kb = kindD(SRC.u32, k);
  if (ka | kb) {
    if (ka === 2 || kb === 2 || signaling) FS.fl |= Mx.IE;
    return Rel.UN;
  }
  let a = DST.f64[i]!, b = SRC.f64[i]!;
  if (den) {
    if (FS.mx & Mx.DAZ) { if (Math.abs(a) < MIN_D) a = 0; if (Math.abs(b) < MIN_D) b = 0; } else FS.fl |= Mx.DE;
  }
  return a === b ? Rel.EQ : a < b ? Rel.LT : Rel.GT;
}

/** Compare lane i of DST with SRC as singles. */
export function cmpS(i: number, signaling: boolean): Rel {
  den = false;
  const ka = kindS(DST.u32, i), kb = kindS(SRC.u32, i);
  if (ka | kb) {
    if (ka === 2 || kb === 2 || signaling) FS.fl |= Mx.IE;
    return Rel.UN;
  }
  let a = DST.f32[i]!, b = SRC.f32[i]!;
  if (den) {
    if (FS.mx & Mx.DAZ) { if (Math.abs(a) < MIN_S) a = 0; if (Math.abs(b) < MIN_S) b = 0; } else FS.fl |= Mx.DE;
  }
  return a === b ? Rel.EQ : a < b ? Rel.LT : Rel.GT;
}

/**
 * MIN/MAX lane: the first operand if it is strictly less (greater), else the second, bit for bit (so a NaN
 * in either, or two zeros, give the second operand). Any NaN raises IE. With DAZ a denormal result is zeroed.
 */
export function minMaxD(i: number, max: boolean): void {
  const rel = cmpD(i, true);
  const first = rel === (max ? Rel.GT : Rel.LT);
  const k = i << 1, s = first ? DST.u32 : SRC.u32;
  let lo = s[k]!, hi = s[k + 1]!;
  if ((FS.mx & Mx.DAZ) && (hi & 0x7ff00000) === 0) { lo = 0; hi &= 0x80000000; }
  RES.u32[k] = lo; RES.u32[k + 1] = hi;
}

/** MIN/MAX lane for singles. */
export function minMaxS(i: number, max: boolean): void {
  const rel = cmpS(i, true);
  const first = rel === (max ? Rel.GT : Rel.LT);
  let x = (first ? DST.u32 : SRC.u32)[i]!;
  if ((FS.mx & Mx.DAZ) && (x & 0x7f800000) === 0) x &= 0x80000000;
  RES.u32[i] = x;
}

/**
 * CMPPS/CMPSS predicate imm8 (0..7: EQ LT LE UNORD NEQ NLT NLE ORD): true/false for one lane. EQ, UNORD,
 * NEQ, ORD are quiet (IE only for SNaN); LT, LE, NLT, NLE signal on any NaN.
 */
export function predicate(rel: Rel, imm: number): boolean {
  switch (imm & 15) {
    // VEX predicates 8..15 (16..31 repeat 0..15 with the other signalling behaviour)
    case 8: return rel === Rel.EQ || rel === Rel.UN;
    case 9: return rel === Rel.LT || rel === Rel.UN;
    case 10: return rel !== Rel.GT;
    case 11: return false;
    case 12: return rel === Rel.LT || rel === Rel.GT;
    case 13: return rel === Rel.GT || rel === Rel.EQ;
    case 14: return rel === Rel.GT;
    case 15: return true;
  }
  switch (imm & 7) {
    case 0: return rel === Rel.EQ;
    case 1: return rel === Rel.LT;
    case 2: return rel === Rel.LT || rel === Rel.EQ;
    case 3: return rel === Rel.UN;
    case 4: return rel !== Rel.EQ;
    case 5: return rel !== Rel.LT;
    case 6: return rel !== Rel.LT && rel !== Rel.EQ;
    default: return rel !== Rel.UN;
  }
}

/** True if predicate imm8 signals on QNaN operands. */
export const signalingPredicate = (imm: number): boolean => ((imm & 3) === 1 || (imm & 3) === 2) !== ((imm & 16) !== 0);
