// Segmentation in 64-bit mode (SDM vol. 3A ch. 3, 5.4, 7.2.3): descriptor-table registers (LGDT LIDT SGDT
// SIDT), the task register (LTR STR), the LDT register (LLDT with a null selector only, SLDT), MOV to/from
// segment registers, PUSH/POP FS/GS, and RD/WR FS/GS BASE (#UD: CR4.FSGSBASE is not supported).
//
// Model: segment bases are 0 except FS and GS, whose bases are IA32_FS_BASE / IA32_GS_BASE. Loading a
// non-null selector into FS or GS loads the descriptor's 32-bit base into the MSR, as hardware does;
// loading a null selector keeps the base (the AMD behaviour; Intel may clear it). Limits and attributes
// are checked when a selector is loaded and not kept. The LDT is always null, so TI=1 selectors #GP.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { Fault, gp, ud, Vector } from '../fault.js';
import { Access } from '../mmu.js';
import { eaOf, memOf, regOf } from '../operands.js';
import { Gpr, Off, Seg } from '../state.js';
import type { OpMap } from '../table.js';
import { addLinear, needCpl0, R, sysRead32, sysRead8, sysWrite8 } from './system-common.js';

const SEL = R(Off.SEL);
const RSP = Gpr.RSP << 1;

/** Linear address of the GDT descriptor of `sel` (lo; hi in c.hi), or #GP(sel) if beyond the limit. */
function gdtEntry(c: Cpu, sel: number, bytes: number): number {
  const idx = sel & 0xfff8;
  if (idx + bytes - 1 > c.r[R(Off.GDTR_LIMIT)]!) gp(sel & 0xfffc, `selector 0x${sel.toString(16)} beyond the GDT limit`);
  return addLinear(c, c.r[R(Off.GDTR_BASE)]!, c.r[R(Off.GDTR_BASE) + 1]!, idx);
}

/**
 * Load a data-segment register (DS ES FS GS SS) with a selector after the SDM's protected-mode checks
 * (MOV Sreg / POP Sreg). Faults before changing anything.
 */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  const r = c.r, cpl = c.cpl, rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    // null selector: allowed for DS ES FS GS; for SS only at CPL < 3 with RPL = CPL (64-bit mode)
    if (seg === Seg.SS && (cpl === 3 || rpl !== cpl)) gp(0, 'null SS selector');
    r[SEL + seg] = sel;
    return;
  }
  if (sel & 4) gp(sel & 0xfffc, 'LDT selectors are not supported (the LDT is null)');
  const lo = gdtEntry(c, sel, 8), hi = c.hi;
  const w0 = sysRead32(c, lo, hi);
  const a4 = addLinear(c, lo, hi, 4);
  const w1 = sysRead32(c, a4, c.hi);
  const type = (w1 >>> 8) & 0xf, s = (w1 >>> 12) & 1, dpl = (w1 >>> 13) & 3, present = (w1 >>> 15) & 1;
  const err = sel & 0xfffc;
  if (seg === Seg.SS) {
    // writable data segment with RPL = DPL = CPL
    if (!s || (type & 0xa) !== 0x2 || rpl !== cpl || dpl !== cpl) gp(err, 'SS: not a writable data segment at CPL');
    if (!present) throw new Fault(Vector.SS, err, 0, 0, 'SS: segment not present');
  } else {
    // data or readable code; privilege checked unless conforming code
    if (!s || (type & 0xa) === 0x8) gp(err, 'not a data or readable code segment');
    if ((type & 0xc) !== 0xc && (rpl > dpl || cpl > dpl)) gp(err, 'segment privilege');
    if (!present) throw new Fault(Vector.NP, err, 0, 0, 'segment not present');
  }
  if (!(type & 1)) { // set the accessed bit in the descriptor
    const a5 = addLinear(c, lo, hi, 5);
    sysWrite8(c, a5, c.hi, ((w1 >>> 8) & 0xff) | 1);
  }
  r[SEL + seg] = sel;
  if (seg === Seg.FS || seg === Seg.GS) {
    const base = ((w0 >>> 16) | ((w1 & 0xff) << 16) | (w1 & 0xff000000)) >>> 0;
    const b = R(seg === Seg.FS ? Off.FS_BASE : Off.GS_BASE);
    r[b] = base; r[b + 1] = 0;
  }
  if (seg === Seg.SS) r[R(Off.INT_SHADOW)] = 1;
}

// ---- descriptor-table registers --------------------------------------------------------------

/** LGDT/LIDT m16&64: limit (u16) then base (u64). */
function loadDtr(limitOff: number, baseOff: number, name: string): Builder {
  return (d) => {
    const ea = eaOf(memOf(d));
    return (c) => {
      needCpl0(c, name);
      const lo = ea(c), hi = c.hi;
      const limit = c.rd16(lo, hi);
      const a = addLinear(c, lo, hi, 2);
      const bLo = c.rd64(a, c.hi), bHi = c.hi;
      const r = c.r;
      r[R(limitOff)] = limit; r[R(baseOff)] = bLo; r[R(baseOff) + 1] = bHi;
    };
  };
}

/** SGDT/SIDT m16&64 (allowed at any CPL: UMIP is not supported). */
function storeDtr(limitOff: number, baseOff: number): Builder {
  return (d) => {
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi;
      const a = addLinear(c, lo, hi, 2), ahi = c.hi;
      const e = addLinear(c, lo, hi, 9), ehi = c.hi;
      c.translate(e, ehi, Access.WRITE); // fault on the last byte before writing the first
      const r = c.r;
      c.wr16(lo, hi, r[R(limitOff)]! & 0xffff);
      c.wr64(a, ahi, r[R(baseOff)]!, r[R(baseOff) + 1]!);
    };
  };
}

// ---- TR and LDTR -----------------------------------------------------------------------------

/** A reader of a 16-bit selector operand (r16/r32/r64 low 16 bits, or m16). */
function selectorSource(d: Decoded, i: number): (c: Cpu) => number {
  if (d.ops[i] === OpType.REG) { const k = regOf(d, i).n << 2; return (c) => c.s.u16[k]!; }
  const ea = eaOf(memOf(d));
  return (c) => { const lo = ea(c); return c.rd16(lo, c.hi); };
}

/** A writer of a 16-bit selector to operand i: m16, or a register (zero-extended unless 16-bit). */
function selectorDest(d: Decoded, i: number): (c: Cpu, v: number) => void {
  if (d.ops[i] === OpType.MEM) {
    const ea = eaOf(memOf(d));
    return (c, v) => { const lo = ea(c); c.wr16(lo, c.hi, v); };
  }
  const ref = regOf(d, i);
  if (ref.size === 2) { const k = ref.n << 2; return (c, v) => { c.s.u16[k] = v; }; }
  const g = ref.n << 1;
  return (c, v) => { c.r[g] = v; c.r[g + 1] = 0; };
}

/** LTR: load TR from an available 64-bit TSS descriptor (16 bytes in the GDT) and mark it busy. */
const ltr: Builder = (d) => {
  const src = selectorSource(d, 0);
  return (c) => {
    needCpl0(c, 'LTR');
    const sel = src(c);
    if ((sel & 0xfffc) === 0) gp(0, 'LTR: null selector');
    if (sel & 4) gp(sel & 0xfffc, 'LTR: LDT selector');
    const lo = gdtEntry(c, sel, 16), hi = c.hi;
    const w = [0, 0, 0];
    for (let k = 0; k < 3; k++) { const a = addLinear(c, lo, hi, 4 * k); w[k] = sysRead32(c, a, c.hi); }
    const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!;
    const type = (w1 >>> 8) & 0x1f; // S bit included: system descriptor has S = 0
    if (type !== 0x09) gp(sel & 0xfffc, 'LTR: not an available 64-bit TSS');
    if (!((w1 >>> 15) & 1)) throw new Fault(Vector.NP, sel & 0xfffc, 0, 0, 'LTR: TSS not present');
    let limit = (w0 & 0xffff) | (w1 & 0xf0000);
    if (w1 & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
    const a5 = addLinear(c, lo, hi, 5);
    sysWrite8(c, a5, c.hi, sysRead8(c, a5, c.hi) | 0x02); // busy
    const r = c.r;
    r[R(Off.TR_SEL)] = sel;
    r[R(Off.TR_LIMIT)] = limit;
    r[R(Off.TR_BASE)] = ((w0 >>> 16) | ((w1 & 0xff) << 16) | (w1 & 0xff000000)) >>> 0;
    r[R(Off.TR_BASE) + 1] = w2;
  };
};

/** STR: store the TR selector. */
const str: Builder = (d) => {
  const dst = selectorDest(d, 0);
  return (c) => dst(c, c.r[R(Off.TR_SEL)]! & 0xffff);
};

/** LLDT: only a null selector (no LDT) is supported. */
const lldt: Builder = (d) => {
  const src = selectorSource(d, 0);
  return (c) => {
    needCpl0(c, 'LLDT');
    const sel = src(c);
    if ((sel & 0xfffc) !== 0) ud(`LLDT with a non-null selector 0x${sel.toString(16)} is not supported`);
  };
};

/** SLDT: the LDTR selector is always null. */
const sldt: Builder = (d) => {
  const dst = selectorDest(d, 0);
  return (c) => dst(c, 0);
};

// ---- MOV Sreg, PUSH/POP FS/GS ----------------------------------------------------------------

/** MOV r/m, Sreg. */
const movFromSreg: Builder = (d) => {
  const seg = regOf(d, 1).n, dst = selectorDest(d, 0);
  return (c) => dst(c, c.r[SEL + seg]! & 0xffff);
};

/** MOV Sreg, r/m (CS is rejected by the decoder). */
const movToSreg: Builder = (d) => {
  const seg = regOf(d, 0).n, src = selectorSource(d, 1);
  return (c) => loadSegment(c, seg, src(c));
};

/** PUSH FS/GS with a 64-bit (zero-extended selector) or 16-bit push. */
function pushSeg(seg: number, size: 2 | 8): Builder {
  return () => (c: Cpu) => {
    const r = c.r;
    const lo = (r[RSP]! - size) >>> 0, hi = r[RSP]! < size ? (r[RSP + 1]! - 1) >>> 0 : r[RSP + 1]!;
    const v = r[SEL + seg]! & 0xffff;
    if (size === 8) c.wr64(lo, hi, v, 0); else c.wr16(lo, hi, v);
    r[RSP] = lo; r[RSP + 1] = hi;
  };
}

/** POP FS/GS (64-bit or 16-bit). */
function popSeg(seg: number, size: 2 | 8): Builder {
  return () => (c: Cpu) => {
    const r = c.r, lo = r[RSP]!, hi = r[RSP + 1]!;
    const v = size === 8 ? c.rd64(lo, hi) : c.rd16(lo, hi);
    loadSegment(c, seg, v & 0xffff);
    r[RSP] = addLinear(c, lo, hi, size); r[RSP + 1] = c.hi;
  };
}

const noFsgsbase: Builder = (d: Decoded): Exec => {
  const name = Code[d.code] ?? 'RDFSBASE';
  return () => ud(`${name}: CR4.FSGSBASE is not supported`);
};

/** Segmentation instructions. */
export const segOps: OpMap = {
  [Code.Lgdt_m1664]: loadDtr(Off.GDTR_LIMIT, Off.GDTR_BASE, 'LGDT'),
  [Code.Lidt_m1664]: loadDtr(Off.IDTR_LIMIT, Off.IDTR_BASE, 'LIDT'),
  [Code.Sgdt_m1664]: storeDtr(Off.GDTR_LIMIT, Off.GDTR_BASE),
  [Code.Sidt_m1664]: storeDtr(Off.IDTR_LIMIT, Off.IDTR_BASE),
  [Code.Ltr_rm16]: ltr, [Code.Ltr_r32m16]: ltr, [Code.Ltr_r64m16]: ltr,
  [Code.Str_rm16]: str, [Code.Str_r32m16]: str, [Code.Str_r64m16]: str,
  [Code.Lldt_rm16]: lldt, [Code.Lldt_r32m16]: lldt, [Code.Lldt_r64m16]: lldt,
  [Code.Sldt_rm16]: sldt, [Code.Sldt_r32m16]: sldt, [Code.Sldt_r64m16]: sldt,
  [Code.Mov_rm16_Sreg]: movFromSreg, [Code.Mov_r32m16_Sreg]: movFromSreg, [Code.Mov_r64m16_Sreg]: movFromSreg,
  // MOV SS blocks interrupts for one instruction: end the block so the shadow is visible to the VMM
  [Code.Mov_Sreg_rm16]: { build: movToSreg, ends: true },
  [Code.Mov_Sreg_r32m16]: { build: movToSreg, ends: true },
  [Code.Mov_Sreg_r64m16]: { build: movToSreg, ends: true },
  [Code.Pushq_FS]: pushSeg(Seg.FS, 8), [Code.Pushw_FS]: pushSeg(Seg.FS, 2),
  [Code.Pushq_GS]: pushSeg(Seg.GS, 8), [Code.Pushw_GS]: pushSeg(Seg.GS, 2),
  [Code.Popq_FS]: popSeg(Seg.FS, 8), [Code.Popw_FS]: popSeg(Seg.FS, 2),
  [Code.Popq_GS]: popSeg(Seg.GS, 8), [Code.Popw_GS]: popSeg(Seg.GS, 2),
  [Code.Rdfsbase_r32]: noFsgsbase, [Code.Rdfsbase_r64]: noFsgsbase,
  [Code.Rdgsbase_r32]: noFsgsbase, [Code.Rdgsbase_r64]: noFsgsbase,
  [Code.Wrfsbase_r32]: noFsgsbase, [Code.Wrfsbase_r64]: noFsgsbase,
  [Code.Wrgsbase_r32]: noFsgsbase, [Code.Wrgsbase_r64]: noFsgsbase,
};
