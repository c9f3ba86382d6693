// Bit instructions: BT BTS BTR BTC, BSF BSR (and the F3-prefixed TZCNT/LZCNT encodings, executed as BSF/BSR),
// POPCNT, BSWAP, SETcc and CMOVcc.
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { testCondition } from '../flags.js';
import { eaOf, gprReader, gprWriter, memOf, rdN, reader, reader64, regOf, rmwN, wrN } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';
import { applyPending, codesMatching, firstWidth, pending, putStatus, rmw32, rmw64 } from './alu-shared.js';

// ---- BT BTS BTR BTC -----------------------------------------------------------------------------------

/** Bit-test kinds: BT only reads; the others set, reset or complement the bit. */
const enum BitKind { BT = 0, BTS = 1, BTR = 2, BTC = 3 }

/** Record CF = bit (OF SF AF PF are undefined and kept, ZF is unchanged). */
function setCF(bit: number): void {
  pending.mask = Fl.CF;
  pending.bits = bit;
}

/** New value of an 8/16/32-bit operand after the bit operation on bit `b` (also records CF). */
function bitOp32(kind: BitKind, v: number, b: number): number {
  const m = 1 << b;
  setCF((v >>> b) & 1);
  switch (kind) {
    case BitKind.BTS: return (v | m) >>> 0;
    case BitKind.BTR: return (v & ~m) >>> 0;
    case BitKind.BTC: return (v ^ m) >>> 0;
    default: return v;
  }
}

/** The 64-bit form: returns lo, leaves hi in c.hi. */
function bitOp64(kind: BitKind, c: Cpu, lo: number, hi: number, b: number): number {
  if (b >= 32) { c.hi = bitOp32(kind, hi, b - 32); return lo; }
  c.hi = hi;
  return bitOp32(kind, lo, b);
}

/** Memory operand with a register bit offset: the signed offset selects a unit anywhere around the address. */
function buildBitMemReg(kind: BitKind, bits: number, d: Decoded): Exec {
  const ea = eaOf(memOf(d)), addr32 = memOf(d).addr32, store = kind !== BitKind.BT;
  const oref = regOf(d, 1), oi = oref.n << 1;
  if (bits === 64) {
    return (c) => {
      const r = c.r, ol = r[oi]!, oh = r[oi + 1]!;
      // byte displacement = (offset >> 6) * 8, arithmetic: (offset >> 3) & ~7 over 64 bits
      const dl = (((oh << 29) | (ol >>> 3)) & ~7) >>> 0, dh = (oh >> 3) >>> 0;
      const lo0 = ea(c), s = lo0 + dl, lo = s >>> 0, hi = addr32 ? 0 : (c.hi + dh + (s > 0xffffffff ? 1 : 0)) >>> 0;
      const vl = store ? c.rmw64(lo, hi) : c.rd64(lo, hi), vh = c.hi, xl = bitOp64(kind, c, vl, vh, ol & 63), xh = c.hi;
      if (store) c.wr64(lo, hi, xl, xh);
      applyPending(c.r);
    };
  }
  const size = bits >>> 3, shift = bits === 16 ? 4 : 5, get = gprReader(oref);
  return (c) => {
    const off = bits === 16 ? (get(c) << 16) >> 16 : get(c) | 0;
    const disp = (off >> shift) * size; // signed, |disp| < 2^31
    const lo0 = ea(c), s = lo0 + disp, lo = s >>> 0;
    const hi = addr32 ? 0 : (c.hi + Math.floor(s / 4294967296)) >>> 0;
    const v = store ? rmwN(c, lo, hi, size) : rdN(c, lo, hi, size), x = bitOp32(kind, v, off & (bits - 1));
    if (store) wrN(c, lo, hi, size, x);
    applyPending(c.r);
  };
}

function buildBit(kind: BitKind, bits: number, d: Decoded): Exec {
  const store = kind !== BitKind.BT;
  const byImm = d.ops[1] === OpType.IMM;
  if (!byImm && d.ops[0] === OpType.MEM) return buildBitMemReg(kind, bits, d);
  // register destination, or an immediate offset: the offset is taken modulo the operand width
  let arg: (c: Cpu) => number;
  if (byImm) { const k = d.immLo & (bits - 1); arg = () => k; } else {
    const get = bits === 64 ? reader64(d, 1) : reader(d, 1, bits >>> 3), m = bits - 1;
    arg = (c) => get(c) & m;
  }
  if (bits === 64) return rmw64(d, (c, lo, hi, b) => bitOp64(kind, c, lo, hi, b), arg, store);
  return rmw32(d, bits >>> 3, (_c, v, b) => bitOp32(kind, v, b), arg, store);
}

// ---- BSF BSR POPCNT -----------------------------------------------------------------------------------

/** Index of the lowest set bit of a nonzero uint32. */
const lowBit = (v: number): number => 31 - Math.clz32(v & -v);

/**
 * BSF/BSR r, r/m. A zero source sets ZF and leaves the destination (all 64 bits) unchanged, as AMD documents,
 * Intel processors do, and glibc relies on. CF OF SF AF PF are undefined and cleared here.
 */
export function buildScan(reverse: boolean, bits: number, d: Decoded): Exec {
  const dref = regOf(d, 0);
  if (bits === 64) {
    const src = reader64(d, 1), di = dref.n << 1;
    return (c) => {
      const lo = src(c), hi = c.hi, r = c.r;
      if ((lo | hi) === 0) { putStatus(r, Fl.ZF); return; }
      let idx: number;
      if (reverse) idx = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
      else idx = lo !== 0 ? lowBit(lo) : 32 + lowBit(hi);
      r[di] = idx; r[di + 1] = 0;
      putStatus(r, 0);
    };
  }
  const src = reader(d, 1, bits >>> 3), set = gprWriter(dref);
  return (c) => {
    const v = src(c), r = c.r;
    if (v === 0) { putStatus(r, Fl.ZF); return; }
    set(c, reverse ? 31 - Math.clz32(v) : lowBit(v));
    putStatus(r, 0);
  };
}

/** Population count of a uint32. */
function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** POPCNT r, r/m: all status flags cleared except ZF = (source is 0). */
function buildPopcnt(bits: number, d: Decoded): Exec {
  const dref = regOf(d, 0);
  if (bits === 64) {
    const src = reader64(d, 1), di = dref.n << 1;
    return (c) => {
      const lo = src(c), n = popcount(lo) + popcount(c.hi), r = c.r;
      r[di] = n; r[di + 1] = 0;
      putStatus(r, n === 0 ? Fl.ZF : 0);
    };
  }
  const src = reader(d, 1, bits >>> 3), set = gprWriter(dref);
  return (c) => {
    const n = popcount(src(c));
    set(c, n);
    putStatus(c.r, n === 0 ? Fl.ZF : 0);
  };
}

// ---- BSWAP ----------------------------------------------------------------------------------------------

const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function buildBswap(bits: number, d: Decoded): Exec {
  const ref = regOf(d, 0), i = ref.n << 1;
  if (bits === 64) return (c) => { const r = c.r, lo = r[i]!; r[i] = bswap32(r[i + 1]!); r[i + 1] = bswap32(lo); };
  if (bits === 32) return (c) => { const r = c.r; r[i] = bswap32(r[i]!); r[i + 1] = 0; };
  // 16-bit: undefined in the SDM; Intel and AMD processors clear the low 16 bits
  const w = ref.n << 2;
  return (c) => { c.s.u16[w] = 0; };
}

// ---- SETcc / CMOVcc -------------------------------------------------------------------------------------

function buildSetcc(d: Decoded): Exec {
  const cc = d.cc;
  if (d.ops[0] === OpType.REG) {
    const ref = regOf(d, 0), bi = (ref.n << 3) + (ref.high8 ? 1 : 0);
    return (c) => { c.s.u8[bi] = testCondition(c.r, cc) ? 1 : 0; };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const v = testCondition(c.r, cc) ? 1 : 0, lo = ea(c);
    c.wr8(lo, c.hi, v);
  };
}

/** CMOVcc r, r/m: the source is always read (a memory source may fault even when the condition is false). */
function buildCmov(bits: number, d: Decoded): Exec {
  const cc = d.cc, dref = regOf(d, 0), di = dref.n << 1;
  if (bits === 64) {
    const src = reader64(d, 1);
    return (c) => {
      const lo = src(c), hi = c.hi, r = c.r;
      if (testCondition(r, cc)) { r[di] = lo; r[di + 1] = hi; }
    };
  }
  const src = reader(d, 1, bits >>> 3);
  if (bits === 32) {
    return (c) => {
      const v = src(c), r = c.r;
      if (testCondition(r, cc)) r[di] = v;
      r[di + 1] = 0; // a 32-bit destination is zero-extended even when the condition is false
    };
  }
  const w = dref.n << 2;
  return (c) => {
    const v = src(c);
    if (testCondition(c.r, cc)) c.s.u16[w] = v;
  };
}

// ---- the table ----------------------------------------------------------------------------------------

const BIT_KINDS: Readonly<Record<string, BitKind>> = { Bt: BitKind.BT, Bts: BitKind.BTS, Btr: BitKind.BTR, Btc: BitKind.BTC };

function makeTable(): OpMap {
  const map: Record<number, (d: Decoded) => Exec> = {};
  for (const [name, code] of codesMatching(/^(Bt|Bts|Btr|Btc)_rm(16|32|64)_(r(16|32|64)|imm8)$/)) {
    const kind = BIT_KINDS[name.split('_')[0]!]!, bits = firstWidth(name);
    map[code] = (d) => buildBit(kind, bits, d);
  }
  // TZCNT and LZCNT (F3 0F BC / F3 0F BD) are in bmi.ts: BSF/BSR below x86-64-v3 (buildScan), their own above
  for (const [name, code] of codesMatching(/^(Bsf|Bsr)_r(16|32|64)_rm(16|32|64)$/)) {
    const reverse = name.startsWith('Bsr'), bits = firstWidth(name);
    map[code] = (d) => buildScan(reverse, bits, d);
  }
  for (const [name, code] of codesMatching(/^Popcnt_r(16|32|64)_rm(16|32|64)$/)) {
    const bits = firstWidth(name);
    map[code] = (d) => buildPopcnt(bits, d);
  }
  for (const [name, code] of codesMatching(/^Bswap_r(16|32|64)$/)) {
    const bits = firstWidth(name);
    map[code] = (d) => buildBswap(bits, d);
  }
  for (const [, code] of codesMatching(/^Set(o|no|b|ae|e|ne|be|a|s|ns|p|np|l|ge|le|g)_rm8$/)) map[code] = buildSetcc;
  for (const [name, code] of codesMatching(/^Cmov(o|no|b|ae|e|ne|be|a|s|ns|p|np|l|ge|le|g)_r(16|32|64)_rm(16|32|64)$/)) {
    const bits = firstWidth(name);
    map[code] = (d) => buildCmov(bits, d);
  }
  return map;
}

/** bit family handlers keyed by iced Code. */
export const bitOps: OpMap = makeTable();
