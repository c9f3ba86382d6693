// Memory operand formats of the x87: reading raw bits (before any state changes, so faults stay precise),
// converting them to 80-bit values, and writing values back (10-byte writes probe both ends first).
import type { Cpu } from '../cpu.js';
import { fromF32, fromF64, fromInt } from '../f80/convert.js';
import { Exc, FpStatus } from '../f80/round.js';
import { F80, isNaNKind, Kind, kindOf } from '../f80/value.js';
import { Access } from '../mmu.js';

/** x87 memory operand formats. */
export const enum MemFmt { F32 = 0, F64 = 1, F80 = 2, I16 = 3, I32 = 4, I64 = 5 }

/** Read the raw bits of an operand (may fault). */
export function readRaw(c: Cpu, fmt: MemFmt, lo: number, hi: number): bigint {
  switch (fmt) {
    case MemFmt.F32: case MemFmt.I32: return BigInt(c.rd32(lo, hi));
    case MemFmt.I16: return BigInt(c.rd16(lo, hi));
    case MemFmt.F64: case MemFmt.I64: { const l = c.rd64(lo, hi); return (BigInt(c.hi) << 32n) | BigInt(l); }
    default: {
      const l = c.rd64(lo, hi), h = c.hi;
      const n = (lo + 8) >>> 0;
      const se = c.rd16(n, n < lo ? (hi + 1) >>> 0 : hi);
      return (BigInt(se) << 64n) | (BigInt(h) << 32n) | BigInt(l);
    }
  }
}

/** Convert raw operand bits to an 80-bit value (exact; DE for binary32/64 denormals). */
export function toF80(fmt: MemFmt, raw: bigint, st: FpStatus): F80 {
  switch (fmt) {
    case MemFmt.F32: return fromF32(Number(raw), st);
    case MemFmt.F64: return fromF64(Number(raw & 0xffffffffn), Number(raw >> 32n), st);
    case MemFmt.I16: return fromInt(BigInt.asIntN(16, raw));
    case MemFmt.I32: return fromInt(BigInt.asIntN(32, raw));
    case MemFmt.I64: return fromInt(BigInt.asIntN(64, raw));
    default: return { se: Number(raw >> 64n) & 0xffff, m: raw & 0xffffffffffffffffn };
  }
}

/**
 * Convert a memory operand for an operation with `other` (ST(0)) and run `op` on it. A denormal memory
 * operand's DE is reported only when no higher-priority condition ends the operation: a NaN or unsupported
 * ST(0) (IE, or no exception at all for a QNaN) or a division by zero (SDM vol. 1 4.9.2; measured on hardware).
 */
export function withMemOperand<T>(fmt: MemFmt, raw: bigint, other: F80, st: FpStatus, op: (y: F80) => T): T {
  const y = toF80(fmt, raw, st);
  if (!(st.exc & Exc.DE)) return op(y);
  st.exc &= ~Exc.DE;
  const r = op(y);
  const k = kindOf(other);
  if (!isNaNKind(k) && k !== Kind.UNSUPPORTED && !(st.exc & Exc.ZE)) st.exc |= Exc.DE;
  return r;
}

/**
 * Check that [lo, lo + len) (len <= 4096) is accessible before a multi-part access: the first page, then, if
 * the range crosses into the next page, that page at its first byte (the #PF address hardware reports).
 */
function probe(c: Cpu, lo: number, hi: number, len: number, access: Access): void {
  c.translate(lo, hi, access);
  if ((lo & 0xfff) + len <= 0x1000) return;
  const n = ((lo | 0xfff) + 1) >>> 0;
  c.translate(n, n < lo ? (hi + 1) >>> 0 : hi, access);
}

/** Check that [lo, lo + len) is writable (both pages) before a multi-part write. */
export function probeWrite(c: Cpu, lo: number, hi: number, len: number): void {
  probe(c, lo, hi, len, Access.WRITE);
}

/** Check that [lo, lo + len) is readable (both pages). */
export function probeRead(c: Cpu, lo: number, hi: number, len: number): void {
  probe(c, lo, hi, len, Access.READ);
}

/** Address lo + k with carry into hi (returned lo; hi in c.hi). */
export function addrAdd(c: Cpu, lo: number, hi: number, k: number): number {
  const n = lo + k;
  c.hi = n > 0xffffffff ? (hi + 1) >>> 0 : hi;
  return n >>> 0;
}

/** Write `bytes` bytes of a raw value (2, 4, 8 or 10), all or nothing. */
export function writeRaw(c: Cpu, lo: number, hi: number, bytes: number, v: bigint): void {
  switch (bytes) {
    case 2: c.wr16(lo, hi, Number(v & 0xffffn)); return;
    case 4: c.wr32(lo, hi, Number(v & 0xffffffffn)); return;
    case 8: c.wr64(lo, hi, Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)); return;
    default: {
      probeWrite(c, lo, hi, 10);
      c.wr64(lo, hi, Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn));
      const n = addrAdd(c, lo, hi, 8);
      c.wr16(n, c.hi, Number((v >> 64n) & 0xffffn));
    }
  }
}

/** Write a byte array, all or nothing. */
export function writeBytes(c: Cpu, lo: number, hi: number, bytes: ArrayLike<number>): void {
  probeWrite(c, lo, hi, bytes.length);
  for (let k = 0; k < bytes.length; k++) {
    const a = addrAdd(c, lo, hi, k);
    c.wr8(a, c.hi, bytes[k]!);
  }
}

/** Read n bytes. */
export function readBytes(c: Cpu, lo: number, hi: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const a = addrAdd(c, lo, hi, k);
    out.push(c.rd8(a, c.hi));
  }
  return out;
}

/** Raw 80-bit bits of a value. */
export function f80Raw(x: F80): bigint {
  return (BigInt(x.se & 0xffff) << 64n) | x.m;
}
