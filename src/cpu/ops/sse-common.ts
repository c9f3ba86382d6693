// Shared plumbing of the SSE/SSE2 handlers: XMM register offsets, 16/8/4-byte operand loaders into a
// scratch register, 128-bit stores with precise faults, legacy-SSE alignment checks and MXCSR updates.
import type { Cpu } from '../cpu.js';
import { Decoded, OpType, RegClass } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { Access } from '../mmu.js';
import { eaOf, memOf, regOf } from '../operands.js';
import { Off } from '../state.js';

/** Byte offset of XMM register n in the state buffer. */
export const xmmOff = (n: number): number => Off.XMM + (n << 4);

/** Index of MXCSR in the 32-bit state view. */
export const MXCSR = Off.MXCSR >> 2;

/** MXCSR bits (SDM vol. 1, 10.2.3). */
export const enum Mx {
  IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20, // status flags
  DAZ = 0x40, // denormals are zeros
  IM = 0x80, OM = 0x400, UM = 0x800, // mask bits (IM..PM are the flags shifted left by 7)
  RC = 0x6000, // rounding control: 0 nearest, 1 down, 2 up, 3 toward zero
  FZ = 0x8000, // flush to zero
  PRE = 0x7, // flags detected before computation (IE DE ZE): an unmasked one suppresses the result
  RESERVED = 0xffff0000, // LDMXCSR/FXRSTOR #GP(0) if set (MXCSR_MASK = 0xFFFF)
}

/** Bit positions in MXCSR. */
export const enum MxShift {
  MASK = 7, // IM..PM = IE..PE << 7
  RC = 13, // rounding control
}

/** A 16-byte scratch register with every view over its bytes. */
export class Scratch {
  readonly buf = new ArrayBuffer(16);
  readonly u8 = new Uint8Array(this.buf);
  readonly u16 = new Uint16Array(this.buf);
  readonly u32 = new Uint32Array(this.buf);
  readonly i32 = new Int32Array(this.buf);
  readonly f32 = new Float32Array(this.buf);
  readonly f64 = new Float64Array(this.buf);
}

/** The source operand of the executing instruction (loaded by a SrcLoader). */
export const SRC = new Scratch();
/** A copy of the destination register, for permutations that read lanes they overwrite. */
export const DST = new Scratch();
/** Results computed before the destination is written (so an unmasked exception can suppress them). */
export const RES = new Scratch();

/** Loads the source operand of an instruction into SRC. */
export type SrcLoader = (c: Cpu) => void;

/** True if operand i is an XMM register. */
export function isXmm(d: Decoded, i: number): boolean {
  return d.ops[i] === OpType.REG && d.regs[i]!.cls === RegClass.XMM;
}

/** XMM register number of operand i (throws on a table bug). */
export function xmmOf(d: Decoded, i: number): number {
  const r = regOf(d, i);
  if (r.cls !== RegClass.XMM) throw new Error(`instruction ${d.code} operand ${i} is not an XMM register`);
  return r.n;
}

/** #GP(0) unless the linear address is 16-byte aligned (legacy SSE m128 operands). */
export function checkAlign16(lo: number): void {
  if (lo & 15) throw new Fault(Vector.GP, 0, 0, 0, 'misaligned 16-byte SSE operand');
}

/** Read 16 bytes at a linear address into a scratch register (every read happens before any write). */
export function rd128(c: Cpu, lo: number, hi: number, t: Scratch): void {
  const a = c.rd64(lo, hi), ah = c.hi;
  const n = (lo + 8) >>> 0, nh = n < lo ? (hi + 1) >>> 0 : hi;
  const b = c.rd64(n, nh), bh = c.hi;
  const u = t.u32;
  u[0] = a; u[1] = ah; u[2] = b; u[3] = bh;
}

/** Write 16 bytes from u32 array `src` at index `i`, checking both pages first when the store is split. */
export function wr128(c: Cpu, lo: number, hi: number, src: Uint32Array, i: number): void {
  if ((lo & 0xfff) > 0xff0) {
    const n = ((lo | 0xfff) + 1) >>> 0, nh = n === 0 ? (hi + 1) >>> 0 : hi;
    c.translate(lo, hi, Access.WRITE);
    c.translate(n, nh, Access.WRITE);
  }
  const v0 = src[i]!, v1 = src[i + 1]!, v2 = src[i + 2]!, v3 = src[i + 3]!;
  c.wr64(lo, hi, v0, v1);
  const n = (lo + 8) >>> 0;
  c.wr64(n, n < lo ? (hi + 1) >>> 0 : hi, v2, v3);
}

/**
 * Loader of a 16-byte source operand i (XMM register or m128) into SRC. `align` asks for the legacy-SSE
 * alignment check on memory operands (every m128 operand except MOVUPS/MOVUPD/MOVDQU/LDDQU).
 */
export function src128(d: Decoded, i: number, align: boolean): SrcLoader {
  if (isXmm(d, i)) {
    const k = xmmOff(xmmOf(d, i)) >> 2;
    const t = SRC.u32;
    return (c) => { const u = c.r; t[0] = u[k]!; t[1] = u[k + 1]!; t[2] = u[k + 2]!; t[3] = u[k + 3]!; };
  }
  const ea = eaOf(memOf(d));
  if (align) return (c) => { const lo = ea(c); checkAlign16(lo); rd128(c, lo, c.hi, SRC); };
  return (c) => { const lo = ea(c); rd128(c, lo, c.hi, SRC); };
}

/** Loader of an 8-byte source (low quadword of an XMM register, or m64) into SRC.u32[0..1]. */
export function src64(d: Decoded, i: number): SrcLoader {
  if (isXmm(d, i)) {
    const k = xmmOff(xmmOf(d, i)) >> 2;
    const t = SRC.u32;
    return (c) => { const u = c.r; t[0] = u[k]!; t[1] = u[k + 1]!; };
  }
  const ea = eaOf(memOf(d));
  const t = SRC.u32;
  return (c) => { const lo = ea(c); t[0] = c.rd64(lo, c.hi); t[1] = c.hi; };
}

/** Loader of a 4-byte source (low doubleword of an XMM register, or m32) into SRC.u32[0]. */
export function src32(d: Decoded, i: number): SrcLoader {
  if (isXmm(d, i)) {
    const k = xmmOff(xmmOf(d, i)) >> 2;
    const t = SRC.u32;
    return (c) => { t[0] = c.r[k]!; };
  }
  const ea = eaOf(memOf(d));
  const t = SRC.u32;
  return (c) => { const lo = ea(c); t[0] = c.rd32(lo, c.hi); };
}

/** A loader for a source of `bytes` (16, 8 or 4) given the operand; m128 sources are alignment-checked. */
export function srcOf(d: Decoded, i: number, bytes: number): SrcLoader {
  return bytes === 16 ? src128(d, i, true) : bytes === 8 ? src64(d, i) : src32(d, i);
}

/** Copy XMM register at u32 index k into DST. */
export function loadDst(c: Cpu, k: number): void {
  const u = c.r, t = DST.u32;
  t[0] = u[k]!; t[1] = u[k + 1]!; t[2] = u[k + 2]!; t[3] = u[k + 3]!;
}

/**
 * Record the SIMD floating-point flags `fl` raised by one instruction; call it before storing any result.
 * SSE instructions never store a result when an exception is unmasked (SDM vol. 1, 11.5.2; unlike x87 there
 * is no biased result): the flags are set and #XM is raised. An unmasked pre-computation exception
 * (invalid, denormal, divide-by-zero) reports only the pre-computation flags.
 */
export function commitFlags(c: Cpu, fl: number): void {
  const m = c.r[MXCSR]!;
  const unmasked = fl & ~(m >>> MxShift.MASK) & 0x3f;
  if (unmasked === 0) { c.r[MXCSR] = m | fl; return; }
  c.r[MXCSR] = m | ((unmasked & Mx.PRE) ? fl & Mx.PRE : fl);
  throw new Fault(Vector.XM, 0, 0, 0, 'SIMD floating-point exception');
}
