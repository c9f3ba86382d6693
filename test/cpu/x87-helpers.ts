// Helpers for the x87 tests: a bare machine running literal instruction bytes, access to the x87 state, and an
// independent reference for correct rounding of exact rationals to the extended format.
import { expect } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import type { Fault } from '../../src/cpu/fault.js';
import { Off } from '../../src/cpu/state.js';

export const CODE = 0x1000;
/** RBX points here; instructions address data as [rbx + disp8]. */
export const DATA = 0x3000;

/** A fresh machine with RBX = DATA. */
export function machine(): BareMachine {
  const m = new BareMachine({ memory: 4 << 20 });
  m.setReg(3, BigInt(DATA));
  return m;
}

/** ModRM + disp8 for [rbx + disp] with reg field `reg`. */
export const mem = (reg: number, disp = 0): number[] => [0x43 | (reg << 3), disp & 0xff];

/** Run the instructions (one byte array each); returns the fault vector or -1. */
export function exec(m: BareMachine, insns: number[][]): number {
  const bytes = insns.flat();
  m.load(CODE, new Uint8Array(bytes));
  m.setRip(CODE);
  m.cpu.lastFault = null;
  m.cpu.run(insns.length);
  const f = m.cpu.lastFault as Fault | null;
  return f ? f.vector : -1;
}

/** Run and expect no fault. */
export function run(m: BareMachine, insns: number[][]): void {
  const v = exec(m, insns);
  expect(v, `fault ${m.cpu.lastFault?.toString()}`).toBe(-1);
}

const u32 = (m: BareMachine): Uint32Array => m.cpu.r;

/** Raw 80-bit contents of ST(i) as [se, mantissa]. */
export function st(m: BareMachine, i: number): { se: number; m: bigint } {
  const top = u32(m)[Off.FTOP >> 2]!;
  const o = (Off.ST >> 2) + ((top + i) & 7) * 4;
  const r = u32(m);
  return { se: r[o + 2]! & 0xffff, m: (BigInt(r[o + 1]!) << 32n) | BigInt(r[o]!) };
}

/** Status word with TOP composed. */
export function sw(m: BareMachine): number {
  const r = u32(m);
  return ((r[Off.FSW >> 2]! & ~0x3800) | (r[Off.FTOP >> 2]! << 11)) & 0xffff;
}

export const top = (m: BareMachine): number => u32(m)[Off.FTOP >> 2]!;
export const tags = (m: BareMachine): number => u32(m)[Off.FTAG >> 2]!;

export function setFcw(m: BareMachine, v: number): void {
  u32(m)[Off.FCW >> 2] = v;
}

export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

/** Write bytes of data at DATA + off. */
export function poke(m: BareMachine, off: number, bytes: ArrayLike<number>): void {
  m.load(DATA + off, Uint8Array.from(bytes as ArrayLike<number>));
}

export function pokeU64(m: BareMachine, off: number, v: bigint): void {
  const b: number[] = [];
  for (let k = 0n; k < 8n; k++) b.push(Number((BigInt.asUintN(64, v) >> (8n * k)) & 0xffn));
  poke(m, off, b);
}

export function pokeF64(m: BareMachine, off: number, v: number): void {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  poke(m, off, new Uint8Array(dv.buffer));
}

export function pokeF80(m: BareMachine, off: number, se: number, mant: bigint): void {
  pokeU64(m, off, mant);
  poke(m, off + 8, [se & 0xff, se >> 8]);
}

export function peek(m: BareMachine, off: number, n: number): number[] {
  return Array.from(m.mem.bytes.subarray(DATA + off, DATA + off + n));
}

export function peekU64(m: BareMachine, off: number): bigint {
  return peek(m, off, 8).reduceRight((a, b) => (a << 8n) | BigInt(b), 0n);
}

// ---- independent reference rounding --------------------------------------------------------------

/** Compare num/den with 2^e: -1, 0, 1. */
function cmpPow2(num: bigint, den: bigint, e: number): number {
  const l = e >= 0 ? num : num << BigInt(-e), r = e >= 0 ? den << BigInt(e) : den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/**
 * Round num/den (> 0) to p significant bits with rounding mode rc (0 nearest-even, 1 down, 2 up, 3 zero) as an
 * extended value (normal range only): returns sign/exponent, top-aligned 64-bit significand and whether it was
 * rounded up in magnitude.
 */
export function refRound(num: bigint, den: bigint, p: number, rc = 0, neg = false): { se: number; m: bigint; up: boolean; exact: boolean } {
  let e = num.toString(2).length - den.toString(2).length;
  while (cmpPow2(num, den, e) < 0) e--;
  while (cmpPow2(num, den, e + 1) >= 0) e++;
  const sh = p - 1 - e;
  const N = sh >= 0 ? num << BigInt(sh) : num, D = sh >= 0 ? den : den << BigInt(-sh);
  let q = N / D;
  const r = N % D;
  let up = false;
  if (r !== 0n) {
    if (rc === 0) up = 2n * r > D || (2n * r === D && (q & 1n) === 1n);
    else if (rc === 2) up = !neg;
    else if (rc === 1) up = neg;
  }
  if (up) q += 1n;
  if (q === 1n << BigInt(p)) { q >>= 1n; e++; }
  return { se: (neg ? 0x8000 : 0) | (e + 16383), m: q << BigInt(64 - p), up, exact: r === 0n };
}

/** Exact rational value of a JS double: [num, den] with den a power of two, and sign. */
export function ratOf(x: number): { num: bigint; den: bigint; neg: boolean } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const be = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (be !== 0) mant |= 1n << 52n;
  const e = (be === 0 ? 1 : be) - 1075;
  return e >= 0 ? { num: mant << BigInt(e), den: 1n, neg: x < 0 || Object.is(x, -0) } : { num: mant, den: 1n << BigInt(-e), neg: x < 0 };
}

/** The extended value of a double (exact). */
export function extOf(x: number): { se: number; m: bigint } {
  const { num, den, neg } = ratOf(x);
  const r = refRound(num, den, 64, 0, neg);
  return { se: r.se, m: r.m };
}
