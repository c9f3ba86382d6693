// The scalar bit-manipulation instructions of x86-64-v3 (Intel SDM vol. 2): BMI1 (ANDN BEXTR BLSI BLSMSK BLSR
// TZCNT), BMI2 (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX), LZCNT and MOVBE. 64-bit values are (lo, hi) uint32
// pairs; a 32-bit destination zeroes the upper half. Flags the SDM leaves undefined are cleared.
// TZCNT and LZCNT (F3 0F BC / F3 0F BD) are BSF and BSR on a processor without BMI1 / LZCNT (the F3 prefix is
// ignored), so below x86-64-v3 their entries run the bit family's BSF/BSR (OpSpec.below).
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { eaOf, gprWriter, memOf, reader, reader64, regOf } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap, OpSpec } from '../table.js';
import { mulHi, mulU32, mulU64, prod, putStatus } from './alu-shared.js';
import { buildScan } from './bit.js';

/** The upper half of the last result and the status flags an operation computed. */
const res = { hi: 0, flags: 0 };

/** An operation on two operands as (lo, hi) pairs of a `bits`-wide value; returns lo, sets res. */
type Op = (aLo: number, aHi: number, bLo: number, bHi: number, bits: number) => number;

/** SF and ZF of a result. */
function szOf(lo: number, hi: number, bits: number): number {
  const top = bits === 64 ? hi : lo;
  return ((lo | (bits === 64 ? hi : 0)) === 0 ? Fl.ZF : 0) | (top & 0x80000000 ? Fl.SF : 0);
}

/** Reader of operand `i` as a (lo, hi) pair of `bits` (32: hi is 0). */
function operand(d: Decoded, i: number, bits: number): (c: Cpu) => number {
  if (bits === 64) return reader64(d, i);
  const get = reader(d, i, 4);
  return (c) => { const v = get(c); c.hi = 0; return v; };
}

/** dst := op(a, b) with a and b operand numbers (b -1: none); `flags` writes res.flags to the status flags. */
function build(a: number, b: number, op: Op, flags: boolean): (d: Decoded) => Exec {
  return (d) => {
    const dst = regOf(d, 0), bits = dst.size * 8, di = dst.n << 1;
    const ra = operand(d, a, bits), rb = b < 0 ? null : operand(d, b, bits);
    return (c) => {
      const aLo = ra(c), aHi = c.hi;
      let bLo = 0, bHi = 0;
      if (rb !== null) { bLo = rb(c); bHi = c.hi; }
      const lo = op(aLo, aHi, bLo, bHi, bits);
      const r = c.r;
      r[di] = lo; r[di + 1] = bits === 64 ? res.hi : 0;
      if (flags) putStatus(r, res.flags);
    };
  };
}

// ---- 64-bit shifts on pairs ---------------------------------------------------------------------------------

function shl(lo: number, hi: number, n: number): number {
  if (n === 0) { res.hi = hi; return lo; }
  if (n >= 32) { res.hi = (lo << (n - 32)) >>> 0; return 0; }
  res.hi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  return (lo << n) >>> 0;
}
function shr(lo: number, hi: number, n: number): number {
  if (n === 0) { res.hi = hi; return lo; }
  if (n >= 32) { res.hi = 0; return hi >>> (n - 32); }
  res.hi = hi >>> n;
  return ((lo >>> n) | (hi << (32 - n))) >>> 0;
}
function sar(lo: number, hi: number, n: number): number {
  if (n === 0) { res.hi = hi; return lo; }
  if (n >= 32) { res.hi = (hi >> 31) >>> 0; return (hi >> (n - 32)) >>> 0; }
  res.hi = (hi >> n) >>> 0;
  return ((lo >>> n) | (hi << (32 - n))) >>> 0;
}

// ---- BMI1 ---------------------------------------------------------------------------------------------------

/** ANDN: ~a & b; SF ZF by the result, CF OF cleared. */
const andn: Op = (aLo, aHi, bLo, bHi, bits) => {
  const lo = (~aLo & bLo) >>> 0; res.hi = (~aHi & bHi) >>> 0;
  res.flags = szOf(lo, res.hi, bits);
  return lo;
};

/** BEXTR: the field of `a` at start b[7:0], length b[15:8]; ZF by the result, CF OF cleared. */
const bextr: Op = (aLo, aHi, bLo, _bHi, bits) => {
  const start = bLo & 0xff, len = (bLo >>> 8) & 0xff;
  let lo = 0, hi = 0;
  if (start < bits) { lo = shr(aLo, aHi, start); hi = res.hi; }
  if (len < bits) {
    if (len < 32) { lo = len === 0 ? 0 : (lo & (0xffffffff >>> (32 - len))) >>> 0; hi = 0; } else hi = len === 32 ? 0 : (hi & (0xffffffff >>> (64 - len))) >>> 0;
  }
  res.hi = bits === 64 ? hi : 0;
  res.flags = (lo | res.hi) === 0 ? Fl.ZF : 0;
  return lo;
};

/** a - 1 as a pair (lo returned, hi in res.hi) of a `bits`-wide value. */
function dec(lo: number, hi: number): number {
  res.hi = lo === 0 ? (hi - 1) >>> 0 : hi;
  return (lo - 1) >>> 0;
}

/** BLSI: a & -a; SF ZF by the result, CF = (a != 0). */
const blsi: Op = (aLo, aHi, _b, _bh, bits) => {
  const nLo = (-aLo) >>> 0, nHi = (aLo === 0 ? -aHi : ~aHi) >>> 0;
  const lo = (aLo & nLo) >>> 0; res.hi = bits === 64 ? (aHi & nHi) >>> 0 : 0;
  res.flags = szOf(lo, res.hi, bits) | ((aLo | (bits === 64 ? aHi : 0)) !== 0 ? Fl.CF : 0);
  return lo;
};

/** BLSMSK: a ^ (a - 1); SF by the result, CF = (a == 0), ZF OF cleared. */
const blsmsk: Op = (aLo, aHi, _b, _bh, bits) => {
  const mLo = dec(aLo, aHi), mHi = res.hi;
  const lo = (aLo ^ mLo) >>> 0; res.hi = bits === 64 ? (aHi ^ mHi) >>> 0 : 0;
  res.flags = (szOf(lo, res.hi, bits) & Fl.SF) | ((aLo | (bits === 64 ? aHi : 0)) === 0 ? Fl.CF : 0);
  return lo;
};

/** BLSR: a & (a - 1); SF ZF by the result, CF = (a == 0). */
const blsr: Op = (aLo, aHi, _b, _bh, bits) => {
  const mLo = dec(aLo, aHi), mHi = res.hi;
  const lo = (aLo & mLo) >>> 0; res.hi = bits === 64 ? (aHi & mHi) >>> 0 : 0;
  res.flags = szOf(lo, res.hi, bits) | ((aLo | (bits === 64 ? aHi : 0)) === 0 ? Fl.CF : 0);
  return lo;
};

/** Trailing zeros of a uint32 (32 for 0). */
const ctz32 = (v: number): number => (v === 0 ? 32 : 31 - Math.clz32(v & -v));

/** TZCNT / LZCNT r, r/m (16, 32, 64 bits): the count (the width for 0); CF = (source is 0), ZF = (count is 0). */
function buildCount(leading: boolean, bits: number): (d: Decoded) => Exec {
  return (d) => {
    const dst = regOf(d, 0);
    if (bits === 64) {
      const src = reader64(d, 1), di = dst.n << 1;
      return (c) => {
        const lo = src(c), hi = c.hi;
        const n = leading ? (hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)) : (lo !== 0 ? ctz32(lo) : 32 + ctz32(hi));
        const r = c.r;
        r[di] = n; r[di + 1] = 0;
        putStatus(r, (n === 64 ? Fl.CF : 0) | (n === 0 ? Fl.ZF : 0));
      };
    }
    const src = reader(d, 1, bits >>> 3), set = gprWriter(dst);
    return (c) => {
      const v = src(c);
      const n = leading ? Math.clz32(v) - (32 - bits) : Math.min(ctz32(v), bits);
      set(c, n);
      putStatus(c.r, (n === bits ? Fl.CF : 0) | (n === 0 ? Fl.ZF : 0));
    };
  };
}

// ---- BMI2 ---------------------------------------------------------------------------------------------------

/** BZHI: a with the bits from index b[7:0] up cleared; SF ZF by the result, CF = (index > width - 1). */
const bzhi: Op = (aLo, aHi, bLo, _bHi, bits) => {
  const n = bLo & 0xff;
  let lo = aLo, hi = bits === 64 ? aHi : 0;
  if (n < bits) {
    if (n < 32) { lo = n === 0 ? 0 : (lo & (0xffffffff >>> (32 - n))) >>> 0; hi = 0; } else hi = n === 32 ? 0 : (hi & (0xffffffff >>> (64 - n))) >>> 0;
  }
  res.hi = hi;
  res.flags = szOf(lo, hi, bits) | (n > bits - 1 ? Fl.CF : 0);
  return lo;
};

/** SHLX / SHRX / SARX: a shifted by b mod the width; no flags. */
const shlx: Op = (aLo, aHi, bLo, _bHi, bits) => bits === 64 ? shl(aLo, aHi, bLo & 63) : ((aLo << (bLo & 31)) >>> 0);
const shrx: Op = (aLo, aHi, bLo, _bHi, bits) => bits === 64 ? shr(aLo, aHi, bLo & 63) : aLo >>> (bLo & 31);
const sarx: Op = (aLo, aHi, bLo, _bHi, bits) => bits === 64 ? sar(aLo, aHi, bLo & 63) : ((aLo >> (bLo & 31)) >>> 0);

/** RORX r, r/m, imm8: rotate right by imm8 mod the width; no flags. */
function buildRorx(d: Decoded): Exec {
  const dst = regOf(d, 0), bits = dst.size * 8, di = dst.n << 1, n = d.immLo & (bits - 1), src = operand(d, 1, bits);
  if (bits === 32) return (c) => { const v = src(c); c.r[di] = n === 0 ? v : ((v >>> n) | (v << (32 - n))) >>> 0; c.r[di + 1] = 0; };
  return (c) => {
    const lo = src(c), hi = c.hi;
    const rLo = shr(lo, hi, n), rHi = res.hi;
    const lLo = shl(lo, hi, (64 - n) & 63), lHi = res.hi;
    c.r[di] = n === 0 ? lo : (rLo | lLo) >>> 0; c.r[di + 1] = n === 0 ? hi : (rHi | lHi) >>> 0;
  };
}

/** Bit `i` (0..63) of a pair. */
const bitOf = (lo: number, hi: number, i: number): number => (i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1);

/** PDEP: the low bits of a deposited at the set bits of the mask b; no flags. */
const pdep: Op = (aLo, aHi, mLo, mHi, bits) => {
  let lo = 0, hi = 0, k = 0;
  for (let i = 0; i < bits; i++) {
    if (!bitOf(mLo, mHi, i)) continue;
    if (bitOf(aLo, aHi, k++)) { if (i < 32) lo |= 1 << i; else hi |= 1 << (i - 32); }
  }
  res.hi = hi >>> 0;
  return lo >>> 0;
};

/** PEXT: the bits of a at the set bits of the mask b, packed into the low bits; no flags. */
const pext: Op = (aLo, aHi, mLo, mHi, bits) => {
  let lo = 0, hi = 0, k = 0;
  for (let i = 0; i < bits; i++) {
    if (!bitOf(mLo, mHi, i)) continue;
    if (bitOf(aLo, aHi, i)) { if (k < 32) lo |= 1 << k; else hi |= 1 << (k - 32); }
    k++;
  }
  res.hi = hi >>> 0;
  return lo >>> 0;
};

/** MULX hi, lo, r/m: unsigned RDX (EDX) * r/m; operand 1 gets the low half, then operand 0 the high half. */
function buildMulx(d: Decoded): Exec {
  const hiRef = regOf(d, 0), loRef = regOf(d, 1), bits = hiRef.size * 8, src = operand(d, 2, bits);
  const h = hiRef.n << 1, l = loRef.n << 1;
  if (bits === 32) {
    return (c) => {
      const v = src(c), r = c.r, p = mulU32(r[4]!, v), ph = mulHi.v;
      r[l] = p; r[l + 1] = 0; r[h] = ph; r[h + 1] = 0;
    };
  }
  return (c) => {
    const vLo = src(c), vHi = c.hi, r = c.r;
    mulU64(r[4]!, r[5]!, vLo, vHi);
    r[l] = prod[0]!; r[l + 1] = prod[1]!; r[h] = prod[2]!; r[h + 1] = prod[3]!;
  };
}

// ---- MOVBE --------------------------------------------------------------------------------------------------

const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** MOVBE r, m / m, r (16, 32, 64 bits): a move with the bytes reversed. */
function buildMovbe(d: Decoded): Exec {
  const toMem = d.ops[0] === OpType.MEM, ref = regOf(d, toMem ? 1 : 0), size = ref.size, ea = eaOf(memOf(d)), k = ref.n << 1;
  if (toMem) {
    if (size === 8) return (c) => { const lo = ea(c), hi = c.hi; c.wr64(lo, hi, bswap32(c.r[k + 1]!), bswap32(c.r[k]!)); };
    if (size === 4) return (c) => { const lo = ea(c); c.wr32(lo, c.hi, bswap32(c.r[k]!)); };
    return (c) => { const lo = ea(c), v = c.r[k]!; c.wr16(lo, c.hi, ((v & 0xff) << 8) | ((v >>> 8) & 0xff)); };
  }
  if (size === 8) return (c) => { const lo = ea(c), vLo = c.rd64(lo, c.hi), vHi = c.hi; c.r[k] = bswap32(vHi); c.r[k + 1] = bswap32(vLo); };
  if (size === 4) return (c) => { const lo = ea(c), v = c.rd32(lo, c.hi); c.r[k] = bswap32(v); c.r[k + 1] = 0; };
  return (c) => { const lo = ea(c), v = c.rd16(lo, c.hi); c.s.u16[k << 1] = ((v & 0xff) << 8) | (v >>> 8); };
}

/** TZCNT/LZCNT entries: their own semantics at x86-64-v3, BSF/BSR below it. */
function countSpec(leading: boolean, bits: number): OpSpec {
  return { build: buildCount(leading, bits), below: (d) => buildScan(leading, bits, d) };
}

/** bmi family handlers keyed by iced Code. */
export const bmiOps: OpMap = {
  [Code.VEX_Andn_r32_r32_rm32]: build(1, 2, andn, true), [Code.VEX_Andn_r64_r64_rm64]: build(1, 2, andn, true),
  [Code.VEX_Bextr_r32_rm32_r32]: build(1, 2, bextr, true), [Code.VEX_Bextr_r64_rm64_r64]: build(1, 2, bextr, true),
  [Code.VEX_Blsi_r32_rm32]: build(1, -1, blsi, true), [Code.VEX_Blsi_r64_rm64]: build(1, -1, blsi, true),
  [Code.VEX_Blsmsk_r32_rm32]: build(1, -1, blsmsk, true), [Code.VEX_Blsmsk_r64_rm64]: build(1, -1, blsmsk, true),
  [Code.VEX_Blsr_r32_rm32]: build(1, -1, blsr, true), [Code.VEX_Blsr_r64_rm64]: build(1, -1, blsr, true),
  [Code.Tzcnt_r16_rm16]: countSpec(false, 16), [Code.Tzcnt_r32_rm32]: countSpec(false, 32), [Code.Tzcnt_r64_rm64]: countSpec(false, 64),
  [Code.Lzcnt_r16_rm16]: countSpec(true, 16), [Code.Lzcnt_r32_rm32]: countSpec(true, 32), [Code.Lzcnt_r64_rm64]: countSpec(true, 64),
  [Code.VEX_Bzhi_r32_rm32_r32]: build(1, 2, bzhi, true), [Code.VEX_Bzhi_r64_rm64_r64]: build(1, 2, bzhi, true),
  [Code.VEX_Shlx_r32_rm32_r32]: build(1, 2, shlx, false), [Code.VEX_Shlx_r64_rm64_r64]: build(1, 2, shlx, false),
  [Code.VEX_Shrx_r32_rm32_r32]: build(1, 2, shrx, false), [Code.VEX_Shrx_r64_rm64_r64]: build(1, 2, shrx, false),
  [Code.VEX_Sarx_r32_rm32_r32]: build(1, 2, sarx, false), [Code.VEX_Sarx_r64_rm64_r64]: build(1, 2, sarx, false),
  [Code.VEX_Rorx_r32_rm32_imm8]: buildRorx, [Code.VEX_Rorx_r64_rm64_imm8]: buildRorx,
  [Code.VEX_Pdep_r32_r32_rm32]: build(1, 2, pdep, false), [Code.VEX_Pdep_r64_r64_rm64]: build(1, 2, pdep, false),
  [Code.VEX_Pext_r32_r32_rm32]: build(1, 2, pext, false), [Code.VEX_Pext_r64_r64_rm64]: build(1, 2, pext, false),
  [Code.VEX_Mulx_r32_r32_rm32]: buildMulx, [Code.VEX_Mulx_r64_r64_rm64]: buildMulx,
  [Code.Movbe_r16_m16]: buildMovbe, [Code.Movbe_r32_m32]: buildMovbe, [Code.Movbe_r64_m64]: buildMovbe,
  [Code.Movbe_m16_r16]: buildMovbe, [Code.Movbe_m32_r32]: buildMovbe, [Code.Movbe_m64_r64]: buildMovbe,
};
