// Integer arithmetic and logic: ADD ADC SUB SBB CMP AND OR XOR TEST (binary) and NEG NOT INC DEC (unary).
// Each operation is one definition, parameterised by width (8/16/32 as numbers, 64 as lo/hi halves); the
// instruction shapes (reg,reg / reg,imm / reg,mem / mem,reg / mem,imm) are built once per decoded instance.
// Flags are lazy: the result and operands are recorded after the last possible fault (the memory write).
// The LOCK prefix is accepted and ignored: there is one processor, so every read-modify-write is atomic.
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { FlagOp, getCF, setLazy32, setLazy64 } from '../flags.js';
import { eaOf, gprReader, gprWriter, memOf, rdN, reader, regOf, wrN } from '../operands.js';
import type { OpMap } from '../table.js';
import { codesMatching, firstWidth, keepCF, LAZY_CIN, maskOf } from './alu-shared.js';

/** An 8/16/32-bit operation: the result truncated to the width (flags are recorded by the shape). */
type Calc = (c: Cpu, d: number, s: number) => number;
/** A 64-bit operation on lo/hi halves: returns the lo half, leaves the hi half in c.hi. */
type Calc64 = (c: Cpu, dl: number, dh: number, sl: number, sh: number) => number;

/** One binary operation: its lazy-flag kind, whether it writes the destination, and its width table. */
interface BinOp {
  /** Lazy-flag record kind. */
  lazy: FlagOp;
  /** False for CMP and TEST, which only set flags. */
  store: boolean;
  /** Implementations for 8, 16, 32 bits (index 0, 1, 2). */
  calc: readonly [Calc, Calc, Calc];
  /** Implementation for 64 bits. */
  calc64: Calc64;
}

/** ADC/SBB carry-in: reading CF materialises an ADC/SBB record first, so overwriting LAZY_CIN is harmless. */
function carryIn(c: Cpu): number {
  const r = c.r, cin = getCF(r);
  r[LAZY_CIN] = cin;
  return cin;
}

/** Build the 8/16/32 width table of an operation from its definition on a width mask. */
function byWidth(make: (mask: number) => Calc): readonly [Calc, Calc, Calc] {
  return [make(0xff), make(0xffff), make(0xffffffff)];
}

const ADD: BinOp = {
  lazy: FlagOp.ADD, store: true,
  calc: byWidth((m) => (_c, d, s) => ((d + s) & m) >>> 0),
  calc64: (c, dl, dh, sl, sh) => {
    const lo = dl + sl;
    c.hi = (dh + sh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return lo >>> 0;
  },
};
const ADC: BinOp = {
  lazy: FlagOp.ADC, store: true,
  calc: byWidth((m) => (c, d, s) => ((d + s + carryIn(c)) & m) >>> 0),
  calc64: (c, dl, dh, sl, sh) => {
    const lo = dl + sl + carryIn(c);
    c.hi = (dh + sh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return lo >>> 0;
  },
};
const SUB: BinOp = {
  lazy: FlagOp.SUB, store: true,
  calc: byWidth((m) => (_c, d, s) => ((d - s) & m) >>> 0),
  calc64: (c, dl, dh, sl, sh) => {
    const lo = dl - sl;
    c.hi = (dh - sh - (lo < 0 ? 1 : 0)) >>> 0;
    return lo >>> 0;
  },
};
const SBB: BinOp = {
  lazy: FlagOp.SBB, store: true,
  calc: byWidth((m) => (c, d, s) => ((d - s - carryIn(c)) & m) >>> 0),
  calc64: (c, dl, dh, sl, sh) => {
    const lo = dl - sl - carryIn(c);
    c.hi = (dh - sh - (lo < 0 ? 1 : 0)) >>> 0;
    return lo >>> 0;
  },
};
const AND: BinOp = {
  lazy: FlagOp.LOGIC, store: true,
  calc: byWidth(() => (_c, d, s) => (d & s) >>> 0),
  calc64: (c, dl, dh, sl, sh) => { c.hi = (dh & sh) >>> 0; return (dl & sl) >>> 0; },
};
const OR: BinOp = {
  lazy: FlagOp.LOGIC, store: true,
  calc: byWidth(() => (_c, d, s) => (d | s) >>> 0),
  calc64: (c, dl, dh, sl, sh) => { c.hi = (dh | sh) >>> 0; return (dl | sl) >>> 0; },
};
const XOR: BinOp = {
  lazy: FlagOp.LOGIC, store: true,
  calc: byWidth(() => (_c, d, s) => (d ^ s) >>> 0),
  calc64: (c, dl, dh, sl, sh) => { c.hi = (dh ^ sh) >>> 0; return (dl ^ sl) >>> 0; },
};
const CMP: BinOp = { ...SUB, store: false };
const TEST: BinOp = { ...AND, store: false };

/** Binary operations by iced mnemonic prefix. */
const BINARY: Readonly<Record<string, BinOp>> = {
  Add: ADD, Adc: ADC, Sub: SUB, Sbb: SBB, And: AND, Or: OR, Xor: XOR, Cmp: CMP, Test: TEST,
};

/** Handler for `op dst, src` of `bits` width; the shape is chosen from the operand kinds. */
function buildBinary(op: BinOp, bits: number, d: Decoded): Exec {
  if (bits === 64) return buildBinary64(op, d);
  const lop = op.lazy, st = op.store, size = bits >>> 3;
  const calc = op.calc[bits === 8 ? 0 : bits === 16 ? 1 : 2];
  const srcType = d.ops[1];
  if (d.ops[0] === OpType.REG) {
    const dref = regOf(d, 0);
    if (size === 4) {
      const di = dref.n << 1;
      if (srcType === OpType.REG) { // reg, reg
        const si = regOf(d, 1).n << 1;
        return (c) => {
          const r = c.r, dv = r[di]!, sv = r[si]!, x = calc(c, dv, sv);
          if (st) { r[di] = x; r[di + 1] = 0; }
          setLazy32(r, lop, 32, x, dv, sv);
        };
      }
      if (srcType === OpType.IMM) { // reg, imm
        const sv = d.immLo >>> 0;
        return (c) => {
          const r = c.r, dv = r[di]!, x = calc(c, dv, sv);
          if (st) { r[di] = x; r[di + 1] = 0; }
          setLazy32(r, lop, 32, x, dv, sv);
        };
      }
      const ea = eaOf(memOf(d)); // reg, mem
      return (c) => {
        const lo = ea(c), sv = c.rd32(lo, c.hi), r = c.r, dv = r[di]!, x = calc(c, dv, sv);
        if (st) { r[di] = x; r[di + 1] = 0; }
        setLazy32(r, lop, 32, x, dv, sv);
      };
    }
    const get = gprReader(dref), set = gprWriter(dref), src = reader(d, 1, size);
    return (c) => {
      const sv = src(c), dv = get(c), x = calc(c, dv, sv);
      if (st) set(c, x);
      setLazy32(c.r, lop, bits, x, dv, sv);
    };
  }
  const ea = eaOf(memOf(d));
  if (srcType === OpType.IMM) { // mem, imm
    const sv = size === 4 ? d.immLo >>> 0 : d.immLo & maskOf(bits);
    return (c) => {
      const lo = ea(c), hi = c.hi, dv = rdN(c, lo, hi, size), x = calc(c, dv, sv);
      if (st) wrN(c, lo, hi, size, x);
      setLazy32(c.r, lop, bits, x, dv, sv);
    };
  }
  const src = gprReader(regOf(d, 1)); // mem, reg
  return (c) => {
    const lo = ea(c), hi = c.hi, dv = rdN(c, lo, hi, size), sv = src(c), x = calc(c, dv, sv);
    if (st) wrN(c, lo, hi, size, x);
    setLazy32(c.r, lop, bits, x, dv, sv);
  };
}

/** The 64-bit shapes of a binary operation. */
function buildBinary64(op: BinOp, d: Decoded): Exec {
  const lop = op.lazy, st = op.store, calc = op.calc64;
  const srcType = d.ops[1];
  if (d.ops[0] === OpType.REG) {
    const di = regOf(d, 0).n << 1;
    if (srcType === OpType.REG) { // reg, reg
      const si = regOf(d, 1).n << 1;
      return (c) => {
        const r = c.r, dl = r[di]!, dh = r[di + 1]!, sl = r[si]!, sh = r[si + 1]!;
        const xl = calc(c, dl, dh, sl, sh), xh = c.hi;
        if (st) { r[di] = xl; r[di + 1] = xh; }
        setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
      };
    }
    if (srcType === OpType.IMM) { // reg, imm (sign-extended to 64 bits by the decoder)
      const sl = d.immLo >>> 0, sh = d.immHi >>> 0;
      return (c) => {
        const r = c.r, dl = r[di]!, dh = r[di + 1]!;
        const xl = calc(c, dl, dh, sl, sh), xh = c.hi;
        if (st) { r[di] = xl; r[di + 1] = xh; }
        setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
      };
    }
    const ea = eaOf(memOf(d)); // reg, mem
    return (c) => {
      const lo = ea(c), sl = c.rd64(lo, c.hi), sh = c.hi, r = c.r, dl = r[di]!, dh = r[di + 1]!;
      const xl = calc(c, dl, dh, sl, sh), xh = c.hi;
      if (st) { r[di] = xl; r[di + 1] = xh; }
      setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
    };
  }
  const ea = eaOf(memOf(d));
  if (srcType === OpType.IMM) { // mem, imm
    const sl = d.immLo >>> 0, sh = d.immHi >>> 0;
    return (c) => {
      const lo = ea(c), hi = c.hi, dl = c.rd64(lo, hi), dh = c.hi;
      const xl = calc(c, dl, dh, sl, sh), xh = c.hi;
      if (st) c.wr64(lo, hi, xl, xh);
      setLazy64(c.r, lop, xl, xh, dl, dh, sl, sh);
    };
  }
  const si = regOf(d, 1).n << 1; // mem, reg
  return (c) => {
    const lo = ea(c), hi = c.hi, dl = c.rd64(lo, hi), dh = c.hi, r = c.r, sl = r[si]!, sh = r[si + 1]!;
    const xl = calc(c, dl, dh, sl, sh), xh = c.hi;
    if (st) c.wr64(lo, hi, xl, xh);
    setLazy64(r, lop, xl, xh, dl, dh, sl, sh);
  };
}

// ---- unary operations -------------------------------------------------------------------------

/** An 8/16/32-bit unary operation (result truncated to the width). */
type Calc1 = (v: number) => number;
/** 64-bit unary operation: returns lo, leaves hi in c.hi. */
type Calc164 = (c: Cpu, lo: number, hi: number) => number;

/**
 * One unary operation. Flags are recorded as `lazy` with (dst, src) = (0, v) for NEG (0 - v) or (v, 1) for
 * INC/DEC; NOT (lazy NONE) records nothing.
 */
interface UnOp {
  lazy: FlagOp;
  calc: readonly [Calc1, Calc1, Calc1];
  calc64: Calc164;
}

function byWidth1(make: (mask: number) => Calc1): readonly [Calc1, Calc1, Calc1] {
  return [make(0xff), make(0xffff), make(0xffffffff)];
}

const UNARY: Readonly<Record<string, UnOp>> = {
  Neg: {
    lazy: FlagOp.SUB,
    calc: byWidth1((m) => (v) => (-v & m) >>> 0),
    calc64: (c, lo, hi) => { c.hi = (-hi - (lo !== 0 ? 1 : 0)) >>> 0; return -lo >>> 0; },
  },
  Not: {
    lazy: FlagOp.NONE,
    calc: byWidth1((m) => (v) => (~v & m) >>> 0),
    calc64: (c, lo, hi) => { c.hi = ~hi >>> 0; return ~lo >>> 0; },
  },
  Inc: {
    lazy: FlagOp.INC,
    calc: byWidth1((m) => (v) => ((v + 1) & m) >>> 0),
    calc64: (c, lo, hi) => { c.hi = lo === 0xffffffff ? (hi + 1) >>> 0 : hi; return (lo + 1) >>> 0; },
  },
  Dec: {
    lazy: FlagOp.DEC,
    calc: byWidth1((m) => (v) => ((v - 1) & m) >>> 0),
    calc64: (c, lo, hi) => { c.hi = lo === 0 ? (hi - 1) >>> 0 : hi; return (lo - 1) >>> 0; },
  },
};

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

function buildUnary(op: UnOp, bits: number, d: Decoded): Exec {
  const lop = op.lazy;
  if (bits === 64) {
    const calc = op.calc64;
    if (d.ops[0] === OpType.REG) {
      const i = regOf(d, 0).n << 1;
      return (c) => {
        const r = c.r, vl = r[i]!, vh = r[i + 1]!, xl = calc(c, vl, vh), xh = c.hi;
        r[i] = xl; r[i + 1] = xh;
        record164(r, lop, xl, xh, vl, vh);
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi, vl = c.rd64(lo, hi), vh = c.hi, xl = calc(c, vl, vh), xh = c.hi;
      c.wr64(lo, hi, xl, xh);
      record164(c.r, lop, xl, xh, vl, vh);
    };
  }
  const calc = op.calc[bits === 8 ? 0 : bits === 16 ? 1 : 2], size = bits >>> 3;
  if (d.ops[0] === OpType.REG) {
    const ref = regOf(d, 0);
    if (size === 4) {
      const i = ref.n << 1;
      return (c) => {
        const r = c.r, v = r[i]!, x = calc(v);
        r[i] = x; r[i + 1] = 0;
        record1(r, lop, 32, x, v);
      };
    }
    const get = gprReader(ref), set = gprWriter(ref);
    return (c) => {
      const v = get(c), x = calc(v);
      set(c, x);
      record1(c.r, lop, bits, x, v);
    };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const lo = ea(c), hi = c.hi, v = rdN(c, lo, hi, size), x = calc(v);
    wrN(c, lo, hi, size, x);
    record1(c.r, lop, bits, x, v);
  };
}

// ---- the table --------------------------------------------------------------------------------

function makeTable(): OpMap {
  const map: Record<number, (d: Decoded) => Exec> = {};
  for (const [name, code] of codesMatching(/^(Add|Adc|Sub|Sbb|And|Or|Xor|Cmp|Test)_(rm|r|AL|AX|EAX|RAX)/)) {
    const op = BINARY[name.split('_')[0]!]!, bits = firstWidth(name);
    map[code] = (d) => buildBinary(op, bits, d);
  }
  for (const [name, code] of codesMatching(/^(Neg|Not|Inc|Dec)_rm/)) {
    const op = UNARY[name.split('_')[0]!]!, bits = firstWidth(name);
    map[code] = (d) => buildUnary(op, bits, d);
  }
  return map;
}

/** alu family handlers keyed by iced Code. */
export const aluOps: OpMap = makeTable();
