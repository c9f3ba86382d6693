// Test helpers for the mov, stack, branch, string and misc families: a BareMachine with code at CODE, a
// data area, a read-only 2-MiB page for fault tests, and BigInt reference formulas for CMP/ADD flags.
import { Code, Decoder, DecoderOptions } from 'iced-x86';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { Off } from '../../src/cpu/state.js';
import { AF, CF, OF, PF, RSP, SF, ZF } from '../helpers/bare-code.js';

export { AF, CF, CODE, DATA, DF, exec, IF, OF, OSZAPC, peek, PF, poke, R12, R15, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP, SF, TF, ZF } from '../helpers/bare-code.js';

/** A stack top in a writable page. */
export const STACK = 0x400000;
/** The first byte of a read-only 2-MiB page (writes fault with #PF). */
export const RO = 0x600000;

export const IOPL = 0x3000, RFL = 0x10000, AC = 0x40000, ID = 0x200000;

const MEM = 8 * 1024 * 1024;

/** A fresh machine: 8 MiB identity-mapped, CPL 3, the 2-MiB page at RO read-only, RSP = STACK. */
export function machine(cpl = 3): BareMachine {
  const m = new BareMachine({ memory: MEM, cpl });
  const pd = MEM - 0x4000 + 0x2000;
  m.mem.dv.setUint32(pd + (RO >>> 21) * 8, (RO | 0xe5) >>> 0, true); // P U/S A D PS, no R/W
  m.setReg(RSP, BigInt(STACK));
  return m;
}

/** iced Code name of the first instruction of `code`. */
export function codeName(code: number[]): string {
  const bytes = new Uint8Array(code);
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  try {
    return Code[dec.decode().code] ?? '?';
  } finally {
    dec.free();
  }
}

/** Little-endian bytes of a value. */
export function le(v: bigint | number, size: number): number[] {
  let x = BigInt.asUintN(size * 8, BigInt(v));
  const out: number[] = [];
  for (let i = 0; i < size; i++) { out.push(Number(x & 0xffn)); x >>= 8n; }
  return out;
}

/** The state's u32 index of a field. */
export const R = (off: Off): number => off >> 2;

// ---- reference flag formulas (SDM definitions) ------------------------------------------------

const u = (v: bigint, bits: number): bigint => BigInt.asUintN(bits, v);

function szp(res: bigint, bits: number): number {
  let f = 0;
  if (res === 0n) f |= ZF;
  if ((res >> BigInt(bits - 1)) & 1n) f |= SF;
  let ones = 0;
  for (let i = 0n; i < 8n; i++) ones += Number((res >> i) & 1n);
  if (ones % 2 === 0) f |= PF;
  return f;
}

/** OSZAPC of CMP a, b (a - b). */
export function subFlags(a: bigint, b: bigint, bits: number): number {
  a = u(a, bits); b = u(b, bits);
  const res = u(a - b, bits);
  let f = szp(res, bits);
  if (a < b) f |= CF;
  if (((a ^ b ^ res) & 0x10n) !== 0n) f |= AF;
  const sa = BigInt.asIntN(bits, a), sb = BigInt.asIntN(bits, b);
  const exact = sa - sb;
  if (exact !== BigInt.asIntN(bits, res)) f |= OF;
  return f;
}

/** OSZAPC of ADD a, b. */
export function addFlags(a: bigint, b: bigint, bits: number): number {
  a = u(a, bits); b = u(b, bits);
  const res = u(a + b, bits);
  let f = szp(res, bits);
  if (a + b > u(-1n, bits)) f |= CF;
  if (((a ^ b ^ res) & 0x10n) !== 0n) f |= AF;
  if (BigInt.asIntN(bits, a) + BigInt.asIntN(bits, b) !== BigInt.asIntN(bits, res)) f |= OF;
  return f;
}
