// Test helpers for the integer families (alu, shift, muldiv, bit): run instruction bytes on a BareMachine
// and compute expected flags with independent BigInt reference formulas from the SDM.
import { Decoder, DecoderOptions } from 'iced-x86';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { fromIced } from '../../src/cpu/decoded.js';
import { AF, CF, codeOf, OF, PF, SF, ZF } from '../helpers/bare-code.js';

export { AF, CF, CODE, DATA, exec, OF, OSZAPC, peek, PF, poke, R15, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP, SF, ZF } from '../helpers/bare-code.js';

let shared: BareMachine | undefined;

/** A fresh-state machine (memory is reused between tests for speed; code and data are rewritten). */
export function machine(): BareMachine {
  shared ??= new BareMachine({ memory: 8 * 1024 * 1024 });
  const m = shared;
  for (let i = 0; i < 16; i++) m.setReg(i, 0n);
  m.setFlags(0x202);
  m.cpu.lastFault = null;
  return m;
}

/** RFLAGS bits the SDM leaves undefined for the instruction encoded by `code` (from iced). */
export function undefinedFlags(code: number[]): number {
  const bytes = new Uint8Array(code);
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  try {
    const ins = dec.decode();
    return fromIced(ins, bytes).flagsUndefined;
  } finally {
    dec.free();
  }
}

/** iced Code of the first instruction of `code`. */
export const codeName = codeOf;

// ---- reference flag formulas (SDM definitions, on BigInt) -------------------------------------

export const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
export const u = (v: bigint, bits: number): bigint => BigInt.asUintN(bits, v);
export const s = (v: bigint, bits: number): bigint => BigInt.asIntN(bits, v);

/** PF (even parity of the low byte), ZF, SF of a result. */
export function szp(res: bigint, bits: number): number {
  const r = u(res, bits);
  let f = 0;
  if (r === 0n) f |= ZF;
  if ((r >> BigInt(bits - 1)) & 1n) f |= SF;
  let p = 0;
  for (let b = Number(r & 0xffn); b; b >>= 1) p ^= b & 1;
  if (!p) f |= PF;
  return f;
}

/** Flags of dst + src + cin (ADD/ADC). */
export function addFlags(dst: bigint, src: bigint, cin: bigint, bits: number): number {
  const d = u(dst, bits), sv = u(src, bits), full = d + sv + cin, res = u(full, bits);
  let f = szp(res, bits);
  if (full > mask(bits)) f |= CF;
  const sr = s(d, bits) + s(sv, bits) + cin;
  if (sr !== s(res, bits)) f |= OF;
  if (((d & 0xfn) + (sv & 0xfn) + cin) > 0xfn) f |= AF;
  return f;
}

/** Flags of dst - src - cin (SUB/SBB/CMP/NEG). */
export function subFlags(dst: bigint, src: bigint, cin: bigint, bits: number): number {
  const d = u(dst, bits), sv = u(src, bits), full = d - sv - cin, res = u(full, bits);
  let f = szp(res, bits);
  if (full < 0n) f |= CF;
  const sr = s(d, bits) - s(sv, bits) - cin;
  if (sr !== s(res, bits)) f |= OF;
  if ((d & 0xfn) - (sv & 0xfn) - cin < 0n) f |= AF;
  return f;
}

/** Flags of a logic result (CF = OF = 0; AF undefined, reported 0 here). */
export function logicFlags(res: bigint, bits: number): number {
  return szp(res, bits);
}

/** A deterministic pseudo-random generator of 64-bit values with many edge cases. */
export function* values(n: number, seed = 1): Generator<bigint> {
  const edges = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
    0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x0fn, 0x10n];
  for (const e of edges) yield e;
  let x = BigInt(seed) * 0x9e3779b97f4a7c15n;
  for (let i = 0; i < n; i++) {
    x = u(x * 6364136223846793005n + 1442695040888963407n, 64);
    const shift = BigInt(Number(x >> 58n)); // vary the magnitude
    yield u(x ^ (x >> 29n), 64) >> shift;
  }
}
