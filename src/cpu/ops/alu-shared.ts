// Helpers shared by the integer families (alu, shift, muldiv, bit): direct access to the lazy-flag fields,
// deferred status-flag updates (so a faulting write leaves the flags untouched), read-modify-write shapes
// for r/m operands, and 32x32->64 / 64x64->128 multiplication on uint32 limbs.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { FlagOp, getCF, getFlags } from '../flags.js';
import { eaOf, gprReader, gprWriter, memOf, rd64, rdN, regOf, rmw64Read, rmwN, wrN } from '../operands.js';
import { Fl, Off } from '../state.js';

/** Index of LAZY_OP in the uint32 view of the state. */
export const LAZY = Off.LAZY_OP >> 2;
/** Index of LAZY_CIN. */
export const LAZY_CIN = Off.LAZY_CIN >> 2;
/** Index of RFLAGS. */
export const RFL = Off.RFLAGS >> 2;
/** Byte index of CL in the byte view of the state. */
export const CL_BYTE = 8;

/**
 * Flag update computed by an operation and applied only after its last possible fault (the memory write).
 * `mask` selects the RFLAGS bits replaced by `bits` (0: flags untouched).
 */
export const pending = { mask: 0, bits: 0 };

/** Apply the pending flag update to RFLAGS. */
export function applyPending(r: Uint32Array): void {
  const m = pending.mask;
  if (m === 0) return;
  if (m === Fl.OSZAPC) { // all six replaced: the lazy record is dead, no need to materialise it
    r[LAZY] = FlagOp.NONE;
    r[RFL] = ((r[RFL]! & ~Fl.OSZAPC) | pending.bits) >>> 0;
    return;
  }
  const f = getFlags(r);
  r[RFL] = ((f & ~m) | (pending.bits & m)) >>> 0;
}

/** Replace all six status flags at once (no materialisation of the previous lazy record). */
export function putStatus(r: Uint32Array, bits: number): void {
  r[LAZY] = FlagOp.NONE;
  r[RFL] = ((r[RFL]! & ~Fl.OSZAPC) | bits) >>> 0;
}

/**
 * Before recording a lazy INC/DEC: make RFLAGS.CF hold the current CF (INC/DEC preserve it, and the
 * lazy evaluator takes CF from RFLAGS). Writing CF alone is harmless: the other stale bits are recomputed.
 */
export function keepCF(r: Uint32Array): void {
  const op = r[LAZY]!;
  if (op === FlagOp.NONE || op === FlagOp.INC || op === FlagOp.DEC) return;
  r[RFL] = ((r[RFL]! & ~Fl.CF) | getCF(r)) >>> 0;
}

/** Mask of an operand width in bits (8/16/32). */
export function maskOf(bits: number): number {
  return bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

/** Operand width in bits named by an iced operand token (rm32, r8, AL, RAX, ...). */
export function widthOfToken(tok: string): number {
  const m = /(\d+)$/.exec(tok);
  if (m) return Number(m[1]);
  switch (tok) {
    case 'AL': return 8;
    case 'AX': return 16;
    case 'EAX': return 32;
    case 'RAX': return 64;
    default: throw new Error(`no width in operand token ${tok}`);
  }
}

/** All iced Code names with their values (read once: the enum is large). */
let allCodes: [string, number][] | undefined;

/** Every iced Code whose name matches `re`, as [name, code] (forms invalid in 64-bit mode excluded). */
export function codesMatching(re: RegExp): [string, number][] {
  allCodes ??= Object.entries(Code).filter((e): e is [string, number] => typeof e[1] === 'number');
  const out: [string, number][] = [];
  for (const [name, v] of allCodes) {
    if (!re.test(name)) continue;
    if (/_82$/.test(name) || /^(Inc|Dec)_r(16|32)$/.test(name)) continue; // 82 /r and 40..4F are not instructions in 64-bit mode
    out.push([name, v]);
  }
  return out;
}

/** Width in bits of the first operand of a Code name (`Shl_rm64_CL` -> 64). */
export function firstWidth(name: string): number {
  return widthOfToken(name.split('_')[1]!);
}

// ---- read-modify-write shapes -----------------------------------------------------------------

/** A transform of an 8/16/32-bit value given an argument (shift count, bit index); may set `pending`. */
export type Fn32 = (c: Cpu, v: number, n: number) => number;
/** The 64-bit form: (lo, hi) -> lo, leaves hi in c.hi. */
export type Fn64 = (c: Cpu, lo: number, hi: number, n: number) => number;
/** Reads the argument of a transform at execution time. */
export type ArgFn = (c: Cpu) => number;

/** Argument reader for a shift count in CL or an immediate count. */
export function countArg(d: Decoded, fromCL: boolean): ArgFn {
  if (fromCL) return (c) => c.s.u8[CL_BYTE]!;
  const k = d.immLo & 0xff;
  return () => k;
}

/**
 * r/m <- f(r/m, arg) for operand 0 of 1/2/4 bytes; pending flags are applied after the write.
 * `store` false: the value is only read (BT); pending flags are still applied.
 */
export function rmw32(d: Decoded, size: number, f: Fn32, arg: ArgFn, store = true): Exec {
  if (d.ops[0] === OpType.REG) {
    const ref = regOf(d, 0);
    if (size === 4) {
      const i = ref.n << 1;
      return (c) => {
        const r = c.r, x = f(c, r[i]!, arg(c));
        if (store) { r[i] = x; r[i + 1] = 0; }
        applyPending(r);
      };
    }
    const get = gprReader(ref), set = gprWriter(ref);
    return (c) => {
      const x = f(c, get(c), arg(c));
      if (store) set(c, x);
      applyPending(c.r);
    };
  }
  const ea = eaOf(memOf(d)), rd = store ? rmwN : rdN;
  return (c) => {
    const n = arg(c), lo = ea(c), hi = c.hi, x = f(c, rd(c, lo, hi, size), n);
    if (store) wrN(c, lo, hi, size, x);
    applyPending(c.r);
  };
}

/** The 64-bit form of rmw32. */
export function rmw64(d: Decoded, f: Fn64, arg: ArgFn, store = true): Exec {
  if (d.ops[0] === OpType.REG) {
    const i = regOf(d, 0).n << 1;
    return (c) => {
      const r = c.r, x = f(c, r[i]!, r[i + 1]!, arg(c));
      if (store) { r[i] = x; r[i + 1] = c.hi; }
      applyPending(r);
    };
  }
  const ea = eaOf(memOf(d)), rd = store ? rmw64Read : rd64;
  return (c) => {
    const n = arg(c), lo = ea(c), hi = c.hi, vl = rd(c, lo, hi), x = f(c, vl, c.hi, n);
    if (store) c.wr64(lo, hi, x, c.hi);
    applyPending(c.r);
  };
}

// ---- multiplication on limbs ------------------------------------------------------------------

/** Unsigned 32x32 -> 64 product: returns the lo half, leaves the hi half in `mulHi.v`. */
export const mulHi = { v: 0 };
export function mulU32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, mid = al * bh + ah * bl + (ll >>> 16); // < 2^34
  mulHi.v = (ah * bh + Math.floor(mid / 65536)) >>> 0;
  return ((mid & 0xffff) * 65536 + (ll & 0xffff)) >>> 0;
}

/** The 128-bit product of the last mulU64/mulS64 call as four uint32 limbs, least significant first. */
export const prod = new Uint32Array(4);

/** Unsigned 64x64 -> 128 product into `prod`. */
export function mulU64(al: number, ah: number, bl: number, bh: number): void {
  const p0 = mulU32(al, bl), p0h = mulHi.v;
  const p1 = mulU32(al, bh), p1h = mulHi.v;
  const p2 = mulU32(ah, bl), p2h = mulHi.v;
  const p3 = mulU32(ah, bh), p3h = mulHi.v;
  const s1 = p0h + p1 + p2; // < 3 * 2^32
  const c1 = Math.floor(s1 / 4294967296);
  const s2 = p1h + p2h + p3 + c1;
  const c2 = Math.floor(s2 / 4294967296);
  prod[0] = p0; prod[1] = s1 >>> 0; prod[2] = s2 >>> 0; prod[3] = (p3h + c2) >>> 0;
}

/** Signed 64x64 -> 128 product into `prod` (two's complement). */
export function mulS64(al: number, ah: number, bl: number, bh: number): void {
  mulU64(al, ah, bl, bh);
  // hi128 -= (a < 0 ? b : 0) + (b < 0 ? a : 0)
  let l = prod[2]!, h = prod[3]!;
  if (ah & 0x80000000) { const t = l - bl; h = (h - bh - (t < 0 ? 1 : 0)) >>> 0; l = t >>> 0; }
  if (bh & 0x80000000) { const t = l - al; h = (h - ah - (t < 0 ? 1 : 0)) >>> 0; l = t >>> 0; }
  prod[2] = l; prod[3] = h;
}
