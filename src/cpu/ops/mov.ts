// Data movement: MOV (all forms but segment registers), MOVZX/MOVSX/MOVSXD, XCHG, XADD, CMPXCHG,
// CMPXCHG8B/16B, LEA, CBW..CQO, LAHF/SAHF, MOVNTI, XLAT.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType, RegClass, RegRef } from '../decoded.js';
import { gp } from '../fault.js';
import { FlagOp, getFlags, setLazy32, setLazy64 } from '../flags.js';
import { eaOf, gprReader, gprWriter, memOf, reader, regOf, rmwN, wrN } from '../operands.js';
import { Fl, Off } from '../state.js';
import type { OpMap } from '../table.js';
import { prefixesOf } from './string.js';

const RF = Off.RFLAGS >> 2;
const MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

// ---- operand writers shared by this family and stack/branch ---------------------------------------

/** A writer for operand `i` (REG or MEM) of 1/2/4 bytes. */
export function writer(d: Decoded, i: number, size: number): (c: Cpu, v: number) => void {
  if (d.ops[i] === OpType.REG) return gprWriter(regOf(d, i));
  const ea = eaOf(memOf(d));
  if (size === 4) return (c, v) => { const lo = ea(c); c.wr32(lo, c.hi, v); };
  if (size === 2) return (c, v) => { const lo = ea(c); c.wr16(lo, c.hi, v); };
  return (c, v) => { const lo = ea(c); c.wr8(lo, c.hi, v); };
}

/** A 64-bit writer for operand `i` (REG or MEM). */
export function writer64(d: Decoded, i: number): (c: Cpu, lo: number, hi: number) => void {
  if (d.ops[i] === OpType.REG) {
    const k = regOf(d, i).n << 1;
    return (c, lo, hi) => { c.r[k] = lo; c.r[k + 1] = hi; };
  }
  const ea = eaOf(memOf(d));
  return (c, lo, hi) => { const a = ea(c); c.wr64(a, c.hi, lo, hi); };
}

// XCHG, XADD, CMPXCHG* read their memory operand with write intent (Cpu.rmw*): a #PF on that read reports
// W=1 (measured on hardware), so a not-present page gives error code W|U rather than U.

/** Sign-extend a `size`-byte value to 32 bits (as a uint32). */
function sext32(v: number, size: number): number {
  return size === 1 ? ((v << 24) >> 24) >>> 0 : size === 2 ? ((v << 16) >> 16) >>> 0 : v >>> 0;
}

// ---- MOV ------------------------------------------------------------------------------------------

/** MOV of 1/2/4 bytes, any operand shapes. */
function mov(size: number): (d: Decoded) => Exec {
  return (d) => {
    if (d.ops[0] === OpType.REG && size === 4) {
      const k = regOf(d, 0).n << 1;
      if (d.ops[1] === OpType.REG) {
        const j = regOf(d, 1).n << 1;
        return (c) => { const r = c.r; r[k] = r[j]!; r[k + 1] = 0; };
      }
      if (d.ops[1] === OpType.IMM) {
        const v = d.immLo >>> 0;
        return (c) => { c.r[k] = v; c.r[k + 1] = 0; };
      }
      const ea = eaOf(memOf(d));
      return (c) => { const lo = ea(c); const v = c.rd32(lo, c.hi); c.r[k] = v; c.r[k + 1] = 0; };
    }
    if (d.ops[0] === OpType.MEM && size === 4 && d.ops[1] === OpType.REG) {
      const j = regOf(d, 1).n << 1, ea = eaOf(memOf(d));
      return (c) => { const lo = ea(c); c.wr32(lo, c.hi, c.r[j]!); };
    }
    const rd = reader(d, 1, size), wr = writer(d, 0, size);
    return (c) => wr(c, rd(c));
  };
}

/** MOV of 8 bytes (r/m64, r64, imm32 sign-extended, imm64, moffs64). */
function mov64(d: Decoded): Exec {
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1;
    if (d.ops[1] === OpType.REG) {
      const j = regOf(d, 1).n << 1;
      return (c) => { const r = c.r; r[k] = r[j]!; r[k + 1] = r[j + 1]!; };
    }
    if (d.ops[1] === OpType.IMM) {
      const lo = d.immLo, hi = d.immHi;
      return (c) => { c.r[k] = lo; c.r[k + 1] = hi; };
    }
    const ea = eaOf(memOf(d));
    return (c) => { const a = ea(c); const lo = c.rd64(a, c.hi); c.r[k] = lo; c.r[k + 1] = c.hi; };
  }
  const ea = eaOf(memOf(d));
  if (d.ops[1] === OpType.REG) {
    const j = regOf(d, 1).n << 1;
    return (c) => { const a = ea(c); c.wr64(a, c.hi, c.r[j]!, c.r[j + 1]!); };
  }
  const lo = d.immLo, hi = d.immHi;
  return (c) => { const a = ea(c); c.wr64(a, c.hi, lo, hi); };
}

// ---- MOVZX / MOVSX / MOVSXD -----------------------------------------------------------------------

/** Zero- or sign-extend a `from`-byte source into a `to`-byte register. */
function extend(from: number, to: number, signed: boolean): (d: Decoded) => Exec {
  return (d) => {
    const rd = reader(d, 1, from);
    const k = regOf(d, 0).n << 1;
    if (to === 8) {
      if (!signed) return (c) => { const v = rd(c); c.r[k] = v; c.r[k + 1] = 0; };
      return (c) => { const v = sext32(rd(c), from); c.r[k] = v; c.r[k + 1] = v & 0x80000000 ? 0xffffffff : 0; };
    }
    const wr = gprWriter(regOf(d, 0));
    const m = MASK[to]!;
    if (!signed) return (c) => wr(c, rd(c));
    return (c) => wr(c, (sext32(rd(c), from) & m) >>> 0);
  };
}

// ---- XCHG -----------------------------------------------------------------------------------------

function xchg(size: number): (d: Decoded) => Exec {
  return (d) => {
    const r1 = regOf(d, 1), rd1 = gprReader(r1), wr1 = gprWriter(r1);
    if (d.ops[0] === OpType.REG) {
      const r0 = regOf(d, 0), rd0 = gprReader(r0), wr0 = gprWriter(r0);
      return (c) => { const a = rd0(c), b = rd1(c); wr0(c, b); wr1(c, a); };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi;
      const a = rmwN(c, lo, hi, size);
      wrN(c, lo, hi, size, rd1(c));
      wr1(c, a);
    };
  };
}

function xchg64(d: Decoded): Exec {
  const j = regOf(d, 1).n << 1;
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1;
    return (c) => {
      const r = c.r, alo = r[k]!, ahi = r[k + 1]!;
      r[k] = r[j]!; r[k + 1] = r[j + 1]!; r[j] = alo; r[j + 1] = ahi;
    };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const lo = ea(c), hi = c.hi;
    const alo = c.rmw64(lo, hi), ahi = c.hi;
    c.wr64(lo, hi, c.r[j]!, c.r[j + 1]!);
    c.r[j] = alo; c.r[j + 1] = ahi;
  };
}

// ---- XADD -----------------------------------------------------------------------------------------

function xadd(size: number): (d: Decoded) => Exec {
  const m = MASK[size]!, bits = size * 8;
  return (d) => {
    const rs = regOf(d, 1), rds = gprReader(rs), wrs = gprWriter(rs);
    if (d.ops[0] === OpType.REG) {
      const rdd = gprReader(regOf(d, 0)), wrd = gprWriter(regOf(d, 0));
      return (c) => {
        const dst = rdd(c), src = rds(c), sum = ((dst + src) & m) >>> 0;
        wrs(c, dst); wrd(c, sum); // SRC := DEST, then DEST := TEMP
        setLazy32(c.r, FlagOp.ADD, bits, sum, dst, src);
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi;
      const dst = rmwN(c, lo, hi, size), src = rds(c), sum = ((dst + src) & m) >>> 0;
      wrN(c, lo, hi, size, sum);
      wrs(c, dst);
      setLazy32(c.r, FlagOp.ADD, bits, sum, dst, src);
    };
  };
}

function xadd64(d: Decoded): Exec {
  const j = regOf(d, 1).n << 1;
  const add = (c: Cpu, dlo: number, dhi: number, slo: number, shi: number): number => {
    const s = dlo + slo;
    c.hi = (dhi + shi + (s > 0xffffffff ? 1 : 0)) >>> 0;
    return s >>> 0;
  };
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1;
    return (c) => {
      const r = c.r, dlo = r[k]!, dhi = r[k + 1]!, slo = r[j]!, shi = r[j + 1]!;
      const lo = add(c, dlo, dhi, slo, shi), hi = c.hi;
      r[j] = dlo; r[j + 1] = dhi; r[k] = lo; r[k + 1] = hi;
      setLazy64(r, FlagOp.ADD, lo, hi, dlo, dhi, slo, shi);
    };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const a = ea(c), ah = c.hi, r = c.r;
    const dlo = c.rmw64(a, ah), dhi = c.hi, slo = r[j]!, shi = r[j + 1]!;
    const lo = add(c, dlo, dhi, slo, shi), hi = c.hi;
    c.wr64(a, ah, lo, hi);
    r[j] = dlo; r[j + 1] = dhi;
    setLazy64(r, FlagOp.ADD, lo, hi, dlo, dhi, slo, shi);
  };
}

// ---- CMPXCHG --------------------------------------------------------------------------------------
// TEMP := DEST; flags := CMP accumulator, TEMP; equal: DEST := SRC; else accumulator := TEMP and (for a
// memory destination) DEST := TEMP. A register destination is not written on failure, so its upper half
// is kept; the accumulator is not written on success.

function cmpxchg(size: number): (d: Decoded) => Exec {
  const m = MASK[size]!, bits = size * 8;
  return (d) => {
    const rds = gprReader(regOf(d, 1));
    const acc: RegRef = { cls: RegClass.GPR, n: 0, size, high8: false };
    const rda = gprReader(acc), wra = gprWriter(acc);
    if (d.ops[0] === OpType.REG) {
      const rdd = gprReader(regOf(d, 0)), wrd = gprWriter(regOf(d, 0));
      return (c) => {
        const dst = rdd(c), a = rda(c);
        if (a === dst) wrd(c, rds(c)); else wra(c, dst);
        setLazy32(c.r, FlagOp.SUB, bits, ((a - dst) & m) >>> 0, a, dst);
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi;
      const dst = rmwN(c, lo, hi, size), a = rda(c);
      if (a === dst) wrN(c, lo, hi, size, rds(c));
      else { wrN(c, lo, hi, size, dst); wra(c, dst); }
      setLazy32(c.r, FlagOp.SUB, bits, ((a - dst) & m) >>> 0, a, dst);
    };
  };
}

function cmpxchg64(d: Decoded): Exec {
  const j = regOf(d, 1).n << 1;
  const flags = (r: Uint32Array, alo: number, ahi: number, dlo: number, dhi: number): void => {
    const s = alo - dlo;
    setLazy64(r, FlagOp.SUB, s >>> 0, (ahi - dhi - (s < 0 ? 1 : 0)) >>> 0, alo, ahi, dlo, dhi);
  };
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1;
    return (c) => {
      const r = c.r, dlo = r[k]!, dhi = r[k + 1]!, alo = r[0]!, ahi = r[1]!;
      if (alo === dlo && ahi === dhi) { r[k] = r[j]!; r[k + 1] = r[j + 1]!; } else { r[0] = dlo; r[1] = dhi; }
      flags(r, alo, ahi, dlo, dhi);
    };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const a = ea(c), ah = c.hi, r = c.r;
    const dlo = c.rmw64(a, ah), dhi = c.hi, alo = r[0]!, ahi = r[1]!;
    if (alo === dlo && ahi === dhi) c.wr64(a, ah, r[j]!, r[j + 1]!);
    else { c.wr64(a, ah, dlo, dhi); r[0] = dlo; r[1] = dhi; }
    flags(r, alo, ahi, dlo, dhi);
  };
}

/** Set or clear ZF alone (CMPXCHG8B/16B leave the other flags unchanged). */
function setZF(r: Uint32Array, z: boolean): void {
  const f = getFlags(r);
  r[RF] = (z ? f | Fl.ZF : f & ~Fl.ZF) >>> 0;
}

/** CMPXCHG8B m64: compare EDX:EAX with m64; equal: m64 := ECX:EBX; else EDX:EAX := m64 (zero-extended). */
function cmpxchg8b(d: Decoded): Exec {
  const ea = eaOf(memOf(d));
  return (c) => {
    const a = ea(c), ah = c.hi, r = c.r;
    const lo = c.rmw64(a, ah), hi = c.hi;
    const eq = lo === r[0] && hi === r[4];
    if (eq) c.wr64(a, ah, r[6]!, r[2]!);
    else { c.wr64(a, ah, lo, hi); r[0] = lo; r[1] = 0; r[4] = hi; r[5] = 0; }
    setZF(r, eq);
  };
}

/** CMPXCHG16B m128 (16-byte aligned, else #GP(0)): compare RDX:RAX; equal: m128 := RCX:RBX; else RDX:RAX := m128. */
function cmpxchg16b(d: Decoded): Exec {
  const ea = eaOf(memOf(d));
  return (c) => {
    const a = ea(c), ah = c.hi, r = c.r;
    if (a & 15) gp(0);
    const a8 = (a + 8) >>> 0; // 16-byte aligned: never carries into the hi half, same page
    const l0 = c.rmw64(a, ah), h0 = c.hi, l1 = c.rmw64(a8, ah), h1 = c.hi;
    const eq = l0 === r[0] && h0 === r[1] && l1 === r[4] && h1 === r[5];
    if (eq) { c.wr64(a, ah, r[6]!, r[7]!); c.wr64(a8, ah, r[2]!, r[3]!); } else {
      c.wr64(a, ah, l0, h0); c.wr64(a8, ah, l1, h1);
      r[0] = l0; r[1] = h0; r[4] = l1; r[5] = h1;
    }
    setZF(r, eq);
  };
}

// ---- LEA ------------------------------------------------------------------------------------------

/** LEA: the effective address without any segment base, truncated to the operand size. */
function lea(size: number): (d: Decoded) => Exec {
  return (d) => {
    const ea = eaOf({ ...memOf(d), seg: -1 });
    const k = regOf(d, 0).n << 1;
    if (size === 8) return (c) => { const lo = ea(c); c.r[k] = lo; c.r[k + 1] = c.hi; };
    if (size === 4) return (c) => { c.r[k] = ea(c); c.r[k + 1] = 0; };
    const i = k << 1;
    return (c) => { c.s.u16[i] = ea(c); };
  };
}

// ---- accumulator sign extensions ------------------------------------------------------------------

function cbw(): Exec { return (c) => { c.s.u16[0] = (c.s.u8[0]! << 24) >> 24; }; }
function cwde(): Exec { return (c) => { c.r[0] = ((c.s.u16[0]! << 16) >> 16) >>> 0; c.r[1] = 0; }; }
function cdqe(): Exec { return (c) => { c.r[1] = c.r[0]! & 0x80000000 ? 0xffffffff : 0; }; }
function cwd(): Exec { return (c) => { c.s.u16[8] = c.s.u16[0]! & 0x8000 ? 0xffff : 0; }; }
function cdq(): Exec { return (c) => { c.r[4] = c.r[0]! & 0x80000000 ? 0xffffffff : 0; c.r[5] = 0; }; }
function cqo(): Exec { return (c) => { const v = c.r[1]! & 0x80000000 ? 0xffffffff : 0; c.r[4] = v; c.r[5] = v; }; }

// ---- LAHF / SAHF ----------------------------------------------------------------------------------

const AH_FLAGS = Fl.SF | Fl.ZF | Fl.AF | Fl.PF | Fl.CF;

/** LAHF: AH := SF:ZF:0:AF:0:PF:1:CF. */
function lahf(): Exec {
  return (c) => { c.s.u8[1] = (getFlags(c.r) & AH_FLAGS) | Fl.FIXED; };
}

/** SAHF: SF ZF AF PF CF := AH bits 7 6 4 2 0 (OF unchanged). */
function sahf(): Exec {
  return (c) => {
    const f = getFlags(c.r);
    c.r[RF] = ((f & ~AH_FLAGS) | (c.s.u8[1]! & AH_FLAGS)) >>> 0;
  };
}

// ---- XLAT -----------------------------------------------------------------------------------------

/** XLAT: AL := [RBX + zero-extended AL] (EBX with 0x67), with any FS/GS override. */
function xlat(d: Decoded): Exec {
  const { a32, seg } = prefixesOf(d);
  return (c) => {
    const r = c.r;
    let lo = r[6]! + c.s.u8[0]!, hi = a32 ? 0 : (r[7]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    lo = lo >>> 0;
    if (seg >= 0) { const t = lo + r[seg]!; hi = (hi + r[seg + 1]! + (t > 0xffffffff ? 1 : 0)) >>> 0; lo = t >>> 0; }
    c.s.u8[0] = c.rd8(lo, hi);
  };
}

/** mov family handlers keyed by iced Code. */
export const movOps: OpMap = {
  [Code.Mov_rm8_r8]: mov(1), [Code.Mov_rm16_r16]: mov(2), [Code.Mov_rm32_r32]: mov(4), [Code.Mov_rm64_r64]: mov64,
  [Code.Mov_r8_rm8]: mov(1), [Code.Mov_r16_rm16]: mov(2), [Code.Mov_r32_rm32]: mov(4), [Code.Mov_r64_rm64]: mov64,
  [Code.Mov_r8_imm8]: mov(1), [Code.Mov_r16_imm16]: mov(2), [Code.Mov_r32_imm32]: mov(4), [Code.Mov_r64_imm64]: mov64,
  [Code.Mov_rm8_imm8]: mov(1), [Code.Mov_rm16_imm16]: mov(2), [Code.Mov_rm32_imm32]: mov(4), [Code.Mov_rm64_imm32]: mov64,
  [Code.Mov_AL_moffs8]: mov(1), [Code.Mov_AX_moffs16]: mov(2), [Code.Mov_EAX_moffs32]: mov(4), [Code.Mov_RAX_moffs64]: mov64,
  [Code.Mov_moffs8_AL]: mov(1), [Code.Mov_moffs16_AX]: mov(2), [Code.Mov_moffs32_EAX]: mov(4), [Code.Mov_moffs64_RAX]: mov64,
  [Code.Movnti_m32_r32]: mov(4), [Code.Movnti_m64_r64]: mov64,

  [Code.Movzx_r16_rm8]: extend(1, 2, false), [Code.Movzx_r32_rm8]: extend(1, 4, false), [Code.Movzx_r64_rm8]: extend(1, 8, false),
  [Code.Movzx_r16_rm16]: extend(2, 2, false), [Code.Movzx_r32_rm16]: extend(2, 4, false), [Code.Movzx_r64_rm16]: extend(2, 8, false),
  [Code.Movsx_r16_rm8]: extend(1, 2, true), [Code.Movsx_r32_rm8]: extend(1, 4, true), [Code.Movsx_r64_rm8]: extend(1, 8, true),
  [Code.Movsx_r16_rm16]: extend(2, 2, true), [Code.Movsx_r32_rm16]: extend(2, 4, true), [Code.Movsx_r64_rm16]: extend(2, 8, true),
  // MOVSXD without REX.W is a plain move (SDM: "use of MOVSXD without REX.W is discouraged")
  [Code.Movsxd_r16_rm16]: extend(2, 2, false), [Code.Movsxd_r32_rm32]: extend(4, 4, false), [Code.Movsxd_r64_rm32]: extend(4, 8, true),

  [Code.Xchg_rm8_r8]: xchg(1), [Code.Xchg_rm16_r16]: xchg(2), [Code.Xchg_rm32_r32]: xchg(4), [Code.Xchg_rm64_r64]: xchg64,
  [Code.Xchg_r16_AX]: xchg(2), [Code.Xchg_r32_EAX]: xchg(4), [Code.Xchg_r64_RAX]: xchg64,
  [Code.Xadd_rm8_r8]: xadd(1), [Code.Xadd_rm16_r16]: xadd(2), [Code.Xadd_rm32_r32]: xadd(4), [Code.Xadd_rm64_r64]: xadd64,
  [Code.Cmpxchg_rm8_r8]: cmpxchg(1), [Code.Cmpxchg_rm16_r16]: cmpxchg(2), [Code.Cmpxchg_rm32_r32]: cmpxchg(4),
  [Code.Cmpxchg_rm64_r64]: cmpxchg64,
  [Code.Cmpxchg8b_m64]: cmpxchg8b, [Code.Cmpxchg16b_m128]: cmpxchg16b,

  [Code.Lea_r16_m]: lea(2), [Code.Lea_r32_m]: lea(4), [Code.Lea_r64_m]: lea(8),
  [Code.Cbw]: cbw, [Code.Cwde]: cwde, [Code.Cdqe]: cdqe, [Code.Cwd]: cwd, [Code.Cdq]: cdq, [Code.Cqo]: cqo,
  [Code.Lahf]: lahf, [Code.Sahf]: sahf,
  [Code.Xlat_m8]: xlat,
};
