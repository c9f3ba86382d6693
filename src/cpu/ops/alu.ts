// Integer arithmetic and logic: ADD ADC SUB SBB CMP AND OR XOR TEST (binary) and NEG NOT INC DEC (unary).
// Each operation is one definition, parameterised by width (8/16/32 as numbers, 64 as lo/hi halves); the
// instruction shapes (reg,reg / reg,imm / reg,mem / mem,reg / mem,imm) are built once per decoded instance.
// Flags are lazy: the result and operands are recorded after the last possible fault (the memory write).
// The LOCK prefix is accepted and ignored: there is one processor, so every read-modify-write is atomic.
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { FlagOp, getCF, setLazy32, setLazy64 } from '../flags.js';
import { eaOf, gprReader, gprWriter, memOf, rd64, rdN, reader, regOf, rmw64Read, rmwN, wrN } from '../operands.js';
import type { OpMap } from '../table.js';
import { codesMatching, firstWidth, keepCF, LAZY_CIN, maskOf } from './alu-shared.js';

/** The binary operations, in x86 encoding order (the /r of opcodes 80..83), then TEST. */
const enum Alu { ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7, TEST = 8 }

/** Lazy-flag record kind of each operation. */
const LAZY_KIND: readonly FlagOp[] = [
  FlagOp.ADD, FlagOp.LOGIC, FlagOp.ADC, FlagOp.SBB, FlagOp.LOGIC, FlagOp.SUB, FlagOp.LOGIC, FlagOp.SUB, FlagOp.LOGIC,
];

/** ADC/SBB carry-in: reading CF materialises an ADC/SBB record first, so overwriting LAZY_CIN is harmless. */
function carryIn(c: Cpu): number {
  const r = c.r, cin = getCF(r);
  r[LAZY_CIN] = cin;
  return cin;
}

/**
 * Operation `k` on 8/16/32-bit operands; `m` is the width mask. Returns the result truncated to the width
 * (flags are recorded by the caller, after its last possible fault). One switch instead of a table of
 * functions: the call is monomorphic, so V8 inlines it into every handler.
 */
function alu32(k: Alu, c: Cpu, d: number, s: number, m: number): number {
  switch (k) {
    case Alu.ADD: return ((d + s) & m) >>> 0;
    case Alu.OR: return (d | s) >>> 0;
    case Alu.ADC: return ((d + s + carryIn(c)) & m) >>> 0;
    case Alu.SBB: return ((d - s - carryIn(c)) & m) >>> 0;
    case Alu.SUB: case Alu.CMP: return ((d - s) & m) >>> 0;
    case Alu.XOR: return (d ^ s) >>> 0;
    default: return (d & s) >>> 0; // AND, TEST
  }
}

/** Operation `k` on 64-bit operands as lo/hi halves: returns the lo half, leaves the hi half in c.hi. */
function alu64(k: Alu, c: Cpu, dl: number, dh: number, sl: number, sh: number): number {
  switch (k) {
    case Alu.ADD: case Alu.ADC: {
      const lo = dl + sl + (k === Alu.ADC ? carryIn(c) : 0);
      c.hi = (dh + sh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      return lo >>> 0;
    }
    case Alu.SUB: case Alu.CMP: case Alu.SBB: {
      const lo = dl - sl - (k === Alu.SBB ? carryIn(c) : 0);
      c.hi = (dh - sh - (lo < 0 ? 1 : 0)) >>> 0;
      return lo >>> 0;
    }
    case Alu.OR: c.hi = (dh | sh) >>> 0; return (dl | sl) >>> 0;
    case Alu.XOR: c.hi = (dh ^ sh) >>> 0; return (dl ^ sl) >>> 0;
    default: c.hi = (dh & sh) >>> 0; return (dl & sl) >>> 0; // AND, TEST
  }
}

/** Binary operations by iced mnemonic prefix. */
const BINARY: Readonly<Record<string, Alu>> = {
  Add: Alu.ADD, Or: Alu.OR, Adc: Alu.ADC, Sbb: Alu.SBB, And: Alu.AND, Sub: Alu.SUB, Xor: Alu.XOR, Cmp: Alu.CMP, Test: Alu.TEST,
};

/** Handler for `op dst, src` of `bits` width; the shape is chosen from the operand kinds. */
function buildBinary(k: Alu, bits: number, d: Decoded): Exec {
  if (bits === 64) return buildBinary64(k, d);
  const lop = LAZY_KIND[k]!, st = k !== Alu.CMP && k !== Alu.TEST, size = bits >>> 3, m = maskOf(bits);
  const srcType = d.ops[1];
  if (d.ops[0] === OpType.REG) {
    const dref = regOf(d, 0);
    if (size === 4) {
      const di = dref.n << 1;
      if (srcType === OpType.REG) { // reg, reg
        const si = regOf(d, 1).n << 1;
        return (c) => {
          const r = c.r, dv = r[di]!, sv = r[si]!, x = alu32(k, c, dv, sv, m);
          if (st) { r[di] = x; r[di + 1] = 0; }
          setLazy32(r, lop, 32, x, dv, sv);
        };
      }
      if (srcType === OpType.IMM) { // reg, imm
        const sv = d.immLo >>> 0;
        return (c) => {
          const r = c.r, dv = r[di]!, x = alu32(k, c, dv, sv, m);
          if (st) { r[di] = x; r[di + 1] = 0; }
          setLazy32(r, lop, 32, x, dv, sv);
        };
      }
      const ea = eaOf(memOf(d)); // reg, mem
      return (c) => {
        const lo = ea(c), sv = c.rd32(lo, c.hi), r = c.r, dv = r[di]!, x = alu32(k, c, dv, sv, m);
        if (st) { r[di] = x; r[di + 1] = 0; }
        setLazy32(r, lop, 32, x, dv, sv);
      };
    }
    const get = gprReader(dref), set = gprWriter(dref), src = reader(d, 1, size);
    return (c) => {
      const sv = src(c), dv = get(c), x = alu32(k, c, dv, sv, m);
      if (st) set(c, x);
      setLazy32(c.r, lop, bits, x, dv, sv);
    };
  }
  const ea = eaOf(memOf(d));
  if (srcType === OpType.IMM) { // mem, imm
    const sv = (d.immLo & m) >>> 0, rd = st ? rmwN : rdN;
    return (c) => {
      const lo = ea(c), hi = c.hi, dv = rd(c, lo, hi, size), x = alu32(k, c, dv, sv, m);
      if (st) wrN(c, lo, hi, size, x);
      setLazy32(c.r, lop, bits, x, dv, sv);
    };
  }
  const src = gprReader(regOf(d, 1)), rd = st ? rmwN : rdN; // mem, reg
  return (c) => {
    const lo = ea(c), hi = c.hi, dv = rd(c, lo, hi, size), sv = src(c), x = alu32(k, c, dv, sv, m);
    if (st) wrN(c, lo, hi, size, x);
    setLazy32(c.r, lop, bits, x, dv, sv);
  };
}

/** The 64-bit shapes of a binary operation. */
function buildBinary64(k: Alu, d: Decoded): Exec {
  const lop = LAZY_KIND[k]!, st = k !== Alu.CMP && k !== Alu.TEST;
  const srcType = d.ops[1];
  if (d.ops[0] === OpType.REG) {
    const di = regOf(d, 0).n << 1;
    if (srcType === OpType.REG) { // reg, reg
      const si = regOf(d, 1).n << 1;
      return (c) => {
        const r = c.r, dl = r[di]!, dh = r[di + 1]!, sl = r[si]!, sh = r[si + 1]!;
        const xl = alu64(k, c, dl, dh, sl, sh), xh = c.hi;
        if (st) { r[di] = xl; r[di + 1] = xh; }
        setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
      };
    }
    if (srcType === OpType.IMM) { // reg, imm (sign-extended to 64 bits by the decoder)
      const sl = d.immLo >>> 0, sh = d.immHi >>> 0;
      return (c) => {
        const r = c.r, dl = r[di]!, dh = r[di + 1]!;
        const xl = alu64(k, c, dl, dh, sl, sh), xh = c.hi;
        if (st) { r[di] = xl; r[di + 1] = xh; }
        setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
      };
    }
    const ea = eaOf(memOf(d)); // reg, mem
    return (c) => {
      const lo = ea(c), sl = c.rd64(lo, c.hi), sh = c.hi, r = c.r, dl = r[di]!, dh = r[di + 1]!;
      const xl = alu64(k, c, dl, dh, sl, sh), xh = c.hi;
      if (st) { r[di] = xl; r[di + 1] = xh; }
      setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
    };
  }
  const ea = eaOf(memOf(d));
  if (srcType === OpType.IMM) { // mem, imm
    const sl = d.immLo >>> 0, sh = d.immHi >>> 0, rd = st ? rmw64Read : rd64;
    return (c) => {
      const lo = ea(c), hi = c.hi, dl = rd(c, lo, hi), dh = c.hi;
      const xl = alu64(k, c, dl, dh, sl, sh), xh = c.hi;
      if (st) c.wr64(lo, hi, xl, xh);
      setLazy64(c.r, lop, xl, xh, dl, dh, sl, sh);
    };
  }
  const si = regOf(d, 1).n << 1, rd = st ? rmw64Read : rd64; // mem, reg
  return (c) => {
    const lo = ea(c), hi = c.hi, dl = rd(c, lo, hi), dh = c.hi, r = c.r, sl = r[si]!, sh = r[si + 1]!;
    const xl = alu64(k, c, dl, dh, sl, sh), xh = c.hi;
    if (st) c.wr64(lo, hi, xl, xh);
    setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
  };
}

// ---- unary operations -------------------------------------------------------------------------

/**
 * The unary operations. Flags are recorded with the lazy kind of LAZY1 and (dst, src) = (0, v) for NEG
 * (0 - v) or (v, 1) for INC/DEC; NOT records nothing.
 */
const enum Un { NEG = 0, NOT = 1, INC = 2, DEC = 3 }

const LAZY1: readonly FlagOp[] = [FlagOp.SUB, FlagOp.NONE, FlagOp.INC, FlagOp.DEC];

/** Unary operation `k` on an 8/16/32-bit value with width mask `m`. */
function un32(k: Un, v: number, m: number): number {
  switch (k) {
    case Un.NEG: return (-v & m) >>> 0;
    case Un.NOT: return (~v & m) >>> 0;
    case Un.INC: return ((v + 1) & m) >>> 0;
    default: return ((v - 1) & m) >>> 0;
  }
}

/** Unary operation `k` on a 64-bit value: returns lo, leaves hi in c.hi. */
function un64(k: Un, c: Cpu, lo: number, hi: number): number {
  switch (k) {
    case Un.NEG: c.hi = (-hi - (lo !== 0 ? 1 : 0)) >>> 0; return -lo >>> 0;
    case Un.NOT: c.hi = ~hi >>> 0; return ~lo >>> 0;
    case Un.INC: c.hi = lo === 0xffffffff ? (hi + 1) >>> 0 : hi; return (lo + 1) >>> 0;
    default: c.hi = lo === 0 ? (hi - 1) >>> 0 : hi; return (lo - 1) >>> 0;
  }
}

const UNARY: Readonly<Record<string, Un>> = { Neg: Un.NEG, Not: Un.NOT, Inc: Un.INC, Dec: Un.DEC };

/** Record the flags of a unary operation on 8/16/32 bits. */
function record1(r: Uint32Array, lop: FlagOp, bits: number, x: number, v: number): void {
  if (lop === FlagOp.SUB) setLazy32(r, lop, bits, x, 0, v);
  else if (lop !== FlagOp.NONE) { keepCF(r); setLazy32(r, lop, bits, x, v, 1); }
}

/** Record the flags of a unary operation on 64 bits. */
function record164(r: Uint32Array, lop: FlagOp, xl: number, xh: number, vl: number, vh: number): void {
  if (lop === FlagOp.SUB) setLazy64(r, lop, xl, xh, 0, 0, vl, vh);
  else if (lop !== FlagOp.NONE) { keepCF(r); setLazy64(r, lop, xl, xh, vl, vh, 1, 0); }
}

function buildUnary(k: Un, bits: number, d: Decoded): Exec {
  const lop = LAZY1[k]!;
  if (bits === 64) {
    if (d.ops[0] === OpType.REG) {
      const i = regOf(d, 0).n << 1;
      return (c) => {
        const r = c.r, vl = r[i]!, vh = r[i + 1]!, xl = un64(k, c, vl, vh), xh = c.hi;
        r[i] = xl; r[i + 1] = xh;
        record164(r, lop, xl, xh, vl, vh);
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi, vl = c.rmw64(lo, hi), vh = c.hi, xl = un64(k, c, vl, vh), xh = c.hi;
      c.wr64(lo, hi, xl, xh);
      record164(c.r, lop, xl, xh, vl, vh);
    };
  }
  const size = bits >>> 3, m = maskOf(bits);
  if (d.ops[0] === OpType.REG) {
    const ref = regOf(d, 0);
    if (size === 4) {
      const i = ref.n << 1;
      return (c) => {
        const r = c.r, v = r[i]!, x = un32(k, v, m);
        r[i] = x; r[i + 1] = 0;
        record1(r, lop, 32, x, v);
      };
    }
    const get = gprReader(ref), set = gprWriter(ref);
    return (c) => {
      const v = get(c), x = un32(k, v, m);
      set(c, x);
      record1(c.r, lop, bits, x, v);
    };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const lo = ea(c), hi = c.hi, v = rmwN(c, lo, hi, size), x = un32(k, v, m);
    wrN(c, lo, hi, size, x);
    record1(c.r, lop, bits, x, v);
  };
}

// ---- the table --------------------------------------------------------------------------------

function makeTable(): OpMap {
  const map: Record<number, (d: Decoded) => Exec> = {};
  for (const [name, code] of codesMatching(/^(Add|Adc|Sub|Sbb|And|Or|Xor|Cmp|Test)_(rm|r|AL|AX|EAX|RAX)/)) {
    const k = BINARY[name.split('_')[0]!]!, bits = firstWidth(name);
    map[code] = (d) => buildBinary(k, bits, d);
  }
  for (const [name, code] of codesMatching(/^(Neg|Not|Inc|Dec)_rm/)) {
    const k = UNARY[name.split('_')[0]!]!, bits = firstWidth(name);
    map[code] = (d) => buildUnary(k, bits, d);
  }
  return map;
}

/** alu family handlers keyed by iced Code. */
export const aluOps: OpMap = makeTable();
