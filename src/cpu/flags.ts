// Lazy arithmetic flags: flag-setting instructions record the operation, its size, operands and result;
// OF SF ZF AF PF CF are computed only when something reads them.
import { CpuState, Fl, Off } from './state.js';

/** The kinds of operation whose flags can be left lazy. */
export const enum FlagOp {
  NONE = 0, // flags are materialised in RFLAGS
  ADD = 1, // res = dst + src
  ADC = 2, // res = dst + src + cin
  SUB = 3, // res = dst - src (also CMP, NEG with dst = 0)
  SBB = 4, // res = dst - src - cin
  LOGIC = 5, // AND/OR/XOR/TEST: CF = OF = 0, AF = 0
  INC = 6, // res = dst + 1, CF preserved in RFLAGS
  DEC = 7, // res = dst - 1, CF preserved in RFLAGS
}

const L = Off.LAZY_OP >> 2;
const SZ = Off.LAZY_SIZE >> 2;
const RES = Off.LAZY_RES >> 2;
const DST = Off.LAZY_DST >> 2;
const SRC = Off.LAZY_SRC >> 2;
const CIN = Off.LAZY_CIN >> 2;
const RF = Off.RFLAGS >> 2;

/** Parity flag table: PF for each byte value. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 1;
  while (b) { p ^= b & 1; b >>= 1; }
  PARITY[i] = p ? Fl.PF : 0;
}

/** Record a lazy 8/16/32-bit operation (values already truncated to size). */
export function setLazy32(u32: Uint32Array, op: FlagOp, size: number, res: number, dst: number, src: number): void {
  u32[L] = op; u32[SZ] = size; u32[RES] = res; u32[DST] = dst; u32[SRC] = src;
}

/** Record a lazy 64-bit operation with lo/hi halves. */
export function setLazy64(u32: Uint32Array, op: FlagOp, resLo: number, resHi: number, dstLo: number, dstHi: number, srcLo: number, srcHi: number): void {
  u32[L] = op; u32[SZ] = 64;
  u32[RES] = resLo; u32[RES + 1] = resHi; u32[DST] = dstLo; u32[DST + 1] = dstHi; u32[SRC] = srcLo; u32[SRC + 1] = srcHi;
}

/** Set the carry-in for a following ADC/SBB record. */
export function setLazyCarryIn(u32: Uint32Array, cin: number): void {
  u32[CIN] = cin;
}

/** Compute OSZAPC for the recorded lazy operation (returns only those six bits). */
function computeLazy(u32: Uint32Array): number {
  const op = u32[L]!, size = u32[SZ]!;
  let f = 0;
  if (size === 64) {
    const rl = u32[RES]!, rh = u32[RES + 1]!, dl = u32[DST]!, dh = u32[DST + 1]!, sl = u32[SRC]!, sh = u32[SRC + 1]!;
    if ((rl | rh) === 0) f |= Fl.ZF;
    if (rh & 0x80000000) f |= Fl.SF;
    f |= PARITY[rl & 0xff]!;
    switch (op) {
      case FlagOp.ADD: case FlagOp.ADC: case FlagOp.INC: {
        if (op !== FlagOp.INC) {
          const cin = op === FlagOp.ADC ? u32[CIN]! : 0;
          // carry out: result < dst, or result == dst with carry-in and src all ones
          if (rh < dh || (rh === dh && (rl < dl || (cin && rl === dl)))) f |= Fl.CF;
        }
        if (((dh ^ rh) & (sh ^ rh)) & 0x80000000) f |= Fl.OF;
        if ((dl ^ sl ^ rl) & 0x10) f |= Fl.AF;
        break;
      }
      case FlagOp.SUB: case FlagOp.SBB: case FlagOp.DEC: {
        if (op !== FlagOp.DEC) {
          const cin = op === FlagOp.SBB ? u32[CIN]! : 0;
          if (dh < sh || (dh === sh && (dl < sl || (cin && dl === sl)))) f |= Fl.CF;
        }
        if (((dh ^ sh) & (dh ^ rh)) & 0x80000000) f |= Fl.OF;
        if ((dl ^ sl ^ rl) & 0x10) f |= Fl.AF;
        break;
      }
      default: break; // LOGIC: CF=OF=AF=0
    }
    return f;
  }
  const mask = size === 32 ? 0xffffffff : (1 << size) - 1;
  const sign = size === 32 ? 0x80000000 : 1 << (size - 1);
  const r = u32[RES]!, d = u32[DST]!, s = u32[SRC]!;
  if ((r & mask) === 0) f |= Fl.ZF;
  if (r & sign) f |= Fl.SF;
  f |= PARITY[r & 0xff]!;
  switch (op) {
    case FlagOp.ADD: case FlagOp.ADC: {
      const cin = op === FlagOp.ADC ? u32[CIN]! : 0;
      if (r < d || (cin && r === d)) f |= Fl.CF;
      if ((d ^ r) & (s ^ r) & sign) f |= Fl.OF;
      if ((d ^ s ^ r) & 0x10) f |= Fl.AF;
      break;
    }
    case FlagOp.INC:
      if ((d ^ r) & (s ^ r) & sign) f |= Fl.OF;
      if ((d ^ s ^ r) & 0x10) f |= Fl.AF;
      break;
    case FlagOp.SUB: case FlagOp.SBB: {
      const cin = op === FlagOp.SBB ? u32[CIN]! : 0;
      if (d < s || (cin && d === s)) f |= Fl.CF;
      if ((d ^ s) & (d ^ r) & sign) f |= Fl.OF;
      if ((d ^ s ^ r) & 0x10) f |= Fl.AF;
      break;
    }
    case FlagOp.DEC:
      if ((d ^ s) & (d ^ r) & sign) f |= Fl.OF;
      if ((d ^ s ^ r) & 0x10) f |= Fl.AF;
      break;
    default: break;
  }
  return f;
}

/** Materialise lazy flags into RFLAGS and return the full RFLAGS (low 32 bits). */
export function getFlags(u32: Uint32Array): number {
  const op = u32[L]!;
  if (op === FlagOp.NONE) return u32[RF]!;
  let f = computeLazy(u32);
  if (op === FlagOp.INC || op === FlagOp.DEC) f |= u32[RF]! & Fl.CF;
  const v = ((u32[RF]! & ~Fl.OSZAPC) | f | Fl.FIXED) >>> 0;
  u32[RF] = v;
  u32[L] = FlagOp.NONE;
  return v;
}

/** Replace the whole RFLAGS (drops any lazy state). */
export function setFlags(u32: Uint32Array, v: number): void {
  u32[L] = FlagOp.NONE;
  u32[RF] = ((v & 0x3f7fd5) | Fl.FIXED) >>> 0;
}

/** Replace only the OSZAPC bits with `bits` (other flags untouched). */
export function setStatusFlags(u32: Uint32Array, bits: number): void {
  const cur = getFlags(u32);
  u32[RF] = ((cur & ~Fl.OSZAPC) | (bits & Fl.OSZAPC)) >>> 0;
}

/** CF as 0/1, computed cheaply where possible. */
export function getCF(u32: Uint32Array): number {
  const op = u32[L]!;
  if (op === FlagOp.NONE || op === FlagOp.INC || op === FlagOp.DEC) return u32[RF]! & 1;
  if (op === FlagOp.LOGIC) return 0;
  if (u32[SZ] !== 64) {
    const r = u32[RES]!, d = u32[DST]!, s = u32[SRC]!;
    if (op === FlagOp.SUB) return d < s ? 1 : 0;
    if (op === FlagOp.ADD) return r < d ? 1 : 0;
  }
  return getFlags(u32) & 1;
}

/** ZF as 0/1. */
export function getZF(u32: Uint32Array): number {
  const op = u32[L]!;
  if (op === FlagOp.NONE) return (u32[RF]! >>> 6) & 1;
  const size = u32[SZ]!;
  if (size === 64) return (u32[RES]! | u32[RES + 1]!) === 0 ? 1 : 0;
  if (size === 32) return u32[RES] === 0 ? 1 : 0;
  return (u32[RES]! & ((1 << size) - 1)) === 0 ? 1 : 0;
}

/** Evaluate an x86 condition code (0..15, the low nibble of Jcc/SETcc/CMOVcc) against the current flags. */
export function testCondition(u32: Uint32Array, cc: number): boolean {
  switch (cc) {
    case 0x2: return getCF(u32) === 1; // B
    case 0x3: return getCF(u32) === 0; // AE
    case 0x4: return getZF(u32) === 1; // E
    case 0x5: return getZF(u32) === 0; // NE
    default: break;
  }
  const f = getFlags(u32);
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (f & Fl.OF) !== 0; break; // O
    case 1: r = (f & Fl.CF) !== 0; break; // B
    case 2: r = (f & Fl.ZF) !== 0; break; // E
    case 3: r = (f & (Fl.CF | Fl.ZF)) !== 0; break; // BE
    case 4: r = (f & Fl.SF) !== 0; break; // S
    case 5: r = (f & Fl.PF) !== 0; break; // P
    case 6: r = ((f & Fl.SF) !== 0) !== ((f & Fl.OF) !== 0); break; // L
    default: r = (f & Fl.ZF) !== 0 || ((f & Fl.SF) !== 0) !== ((f & Fl.OF) !== 0); break; // LE
  }
  return (cc & 1) ? !r : r;
}

/** Parity flag (Fl.PF or 0) of the low byte of a value. */
export function parityOf(v: number): number {
  return PARITY[v & 0xff]!;
}

/** Convenience for tests and the VMM: RFLAGS of a state. */
export function flagsOf(s: CpuState): number {
  return getFlags(s.u32);
}
