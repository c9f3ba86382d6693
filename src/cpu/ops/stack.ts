// Stack: PUSH/POP (r, r/m, imm; 64- and 16-bit), PUSHF/POPF, ENTER, LEAVE. The stack address size is
// always 64 bits. A push writes memory before RSP changes, so a faulting push leaves RSP unchanged.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import { Decoded, OpType } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { getFlags, setFlags } from '../flags.js';
import { Access } from '../mmu.js';
import { eaOf, gprWriter, memOf, reader, regOf } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';

const SP = 8; // index of RSP lo in c.r

/** Stack-segment accesses to non-canonical addresses raise #SS(0), not #GP(0). */
export function ssCheck(hi: number): void {
  const top = hi >>> 15;
  if (top !== 0 && top !== 0x1ffff) throw new Fault(Vector.SS, 0, 0, 0, 'non-canonical stack address');
}

/** Push a 64-bit value: write [RSP-8], then RSP -= 8. */
export function push64(c: Cpu, lo: number, hi: number): void {
  const r = c.r, sl = r[SP]!, nl = (sl - 8) >>> 0, nh = sl < 8 ? (r[SP + 1]! - 1) >>> 0 : r[SP + 1]!;
  ssCheck(nh);
  c.wr64(nl, nh, lo, hi);
  r[SP] = nl; r[SP + 1] = nh;
}

/** Push a 16-bit value: write [RSP-2], then RSP -= 2. */
export function push16(c: Cpu, v: number): void {
  const r = c.r, sl = r[SP]!, nl = (sl - 2) >>> 0, nh = sl < 2 ? (r[SP + 1]! - 1) >>> 0 : r[SP + 1]!;
  ssCheck(nh);
  c.wr16(nl, nh, v);
  r[SP] = nl; r[SP + 1] = nh;
}

/** Read the 64-bit value at RSP (lo returned, hi in c.hi) without moving RSP. */
export function peek64(c: Cpu): number {
  ssCheck(c.r[SP + 1]!);
  return c.rd64(c.r[SP]!, c.r[SP + 1]!);
}

/** Read the 16-bit value at RSP without moving RSP. */
function peek16(c: Cpu): number {
  ssCheck(c.r[SP + 1]!);
  return c.rd16(c.r[SP]!, c.r[SP + 1]!);
}

/** RSP += n (n < 2^32). */
export function addRsp(c: Cpu, n: number): void {
  const r = c.r, s = r[SP]! + n;
  r[SP] = s >>> 0;
  if (s > 0xffffffff) r[SP + 1] = (r[SP + 1]! + 1) >>> 0;
}

// ---- PUSH -----------------------------------------------------------------------------------------

function push64Op(d: Decoded): Exec {
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1; // PUSH RSP pushes the value before the decrement
    return (c) => push64(c, c.r[k]!, c.r[k + 1]!);
  }
  if (d.ops[0] === OpType.IMM) {
    const lo = d.immLo, hi = d.immHi;
    return (c) => push64(c, lo, hi);
  }
  const ea = eaOf(memOf(d)); // the address uses RSP before the decrement
  return (c) => { const a = ea(c); const lo = c.rd64(a, c.hi); push64(c, lo, c.hi); };
}

function push16Op(d: Decoded): Exec {
  const rd = reader(d, 0, 2);
  return (c) => push16(c, rd(c));
}

// ---- POP ------------------------------------------------------------------------------------------

function pop64Op(d: Decoded): Exec {
  if (d.ops[0] === OpType.REG) {
    const k = regOf(d, 0).n << 1;
    return (c) => {
      const lo = peek64(c), hi = c.hi;
      addRsp(c, 8);
      c.r[k] = lo; c.r[k + 1] = hi; // POP RSP: RSP := the popped value
    };
  }
  // POP m64: the address is computed after RSP is incremented; restore RSP if the write faults
  const ea = eaOf(memOf(d));
  return (c) => {
    const r = c.r, lo = peek64(c), hi = c.hi, sl = r[SP]!, sh = r[SP + 1]!;
    addRsp(c, 8);
    const nl = r[SP]!, nh = r[SP + 1]!;
    const a = ea(c), ah = c.hi;
    r[SP] = sl; r[SP + 1] = sh;
    c.wr64(a, ah, lo, hi);
    r[SP] = nl; r[SP + 1] = nh;
  };
}

function pop16Op(d: Decoded): Exec {
  if (d.ops[0] === OpType.REG) {
    const wr = gprWriter(regOf(d, 0));
    return (c) => { const v = peek16(c); addRsp(c, 2); wr(c, v); };
  }
  const ea = eaOf(memOf(d));
  return (c) => {
    const r = c.r, v = peek16(c), sl = r[SP]!, sh = r[SP + 1]!;
    addRsp(c, 2);
    const nl = r[SP]!, nh = r[SP + 1]!;
    const a = ea(c), ah = c.hi;
    r[SP] = sl; r[SP + 1] = sh;
    c.wr16(a, ah, v);
    r[SP] = nl; r[SP + 1] = nh;
  };
}

// ---- PUSHF / POPF ---------------------------------------------------------------------------------

/** PUSHFQ: RFLAGS with VM and RF cleared (bit 1 always reads as 1). */
function pushfq(): Exec {
  return (c) => push64(c, ((getFlags(c.r) | Fl.FIXED) & ~(Fl.VM | Fl.RF)) >>> 0, 0);
}

/** PUSHF (16-bit): FLAGS[15:0]. */
function pushfw(): Exec {
  return (c) => push16(c, (getFlags(c.r) | Fl.FIXED) & 0xffff);
}

/** Flags POPF may change at this privilege (SDM POPF, 64-bit mode): IOPL only at CPL 0, IF only when CPL <= IOPL. */
function popfMask(c: Cpu, f: number): number {
  let m = Fl.OSZAPC | Fl.TF | Fl.DF | Fl.NT | Fl.AC | Fl.ID;
  const cpl = c.cpl;
  if (cpl === 0) m |= Fl.IOPL | Fl.IF;
  else if (cpl <= ((f & Fl.IOPL) >>> 12)) m |= Fl.IF;
  return m;
}

/** POPFQ: RF is cleared; VIP, VIF, VM unaffected. */
function popfq(): Exec {
  return (c) => {
    const v = peek64(c);
    addRsp(c, 8);
    const f = getFlags(c.r), m = popfMask(c, f);
    setFlags(c.r, ((f & ~m) | (v & m)) & ~Fl.RF);
  };
}

/** POPF (16-bit): only FLAGS[15:0] change, under the same privilege rules. */
function popfw(): Exec {
  return (c) => {
    const v = peek16(c);
    addRsp(c, 2);
    const f = getFlags(c.r), m = popfMask(c, f) & 0xffff;
    setFlags(c.r, (f & ~m) | (v & m));
  };
}

// ---- ENTER / LEAVE --------------------------------------------------------------------------------

/**
 * ENTER imm16, imm8 (operand size 8 or 2): push RBP; copy level-1 frame pointers from the old frame; push
 * the new frame pointer if level > 0; RBP := frame; RSP -= imm16. Memory is written before any register,
 * and the final RSP is probed for writability (as the processor does) before committing.
 */
function enter(size: number): (d: Decoded) => Exec {
  return (d) => {
    const alloc = d.immLo & 0xffff, level = d.imm2 & 31;
    return (c) => {
      const r = c.r;
      let sl = r[SP]!, sh = r[SP + 1]!;
      const down = (n: number): void => { const t = sl - n; if (t < 0) sh = (sh - 1) >>> 0; sl = t >>> 0; ssCheck(sh); };
      let bl = r[10]!, bh = r[11]!;
      down(size);
      if (size === 8) c.wr64(sl, sh, bl, bh); else c.wr16(sl, sh, c.s.u16[20]!);
      const fl = sl, fh = sh;
      if (level > 0) {
        for (let i = 1; i < level; i++) {
          const t = bl - size; if (t < 0) bh = (bh - 1) >>> 0; bl = t >>> 0;
          ssCheck(bh);
          down(size);
          if (size === 8) { const v = c.rd64(bl, bh); c.wr64(sl, sh, v, c.hi); } else c.wr16(sl, sh, c.rd16(bl, bh));
        }
        down(size);
        if (size === 8) c.wr64(sl, sh, fl, fh); else c.wr16(sl, sh, fl & 0xffff);
      }
      down(alloc);
      c.translate(sl, sh, Access.WRITE);
      if (size === 8) { r[10] = fl; r[11] = fh; } else c.s.u16[20] = fl;
      r[SP] = sl; r[SP + 1] = sh;
    };
  };
}

/** LEAVE: RSP := RBP, then pop RBP (8 or 2 bytes). */
function leave(size: number): () => Exec {
  return () => (c) => {
    const r = c.r, bl = r[10]!, bh = r[11]!;
    ssCheck(bh);
    if (size === 8) {
      const lo = c.rd64(bl, bh), hi = c.hi;
      r[SP] = bl; r[SP + 1] = bh; addRsp(c, 8);
      r[10] = lo; r[11] = hi;
    } else {
      const v = c.rd16(bl, bh);
      r[SP] = bl; r[SP + 1] = bh; addRsp(c, 2);
      c.s.u16[20] = v;
    }
  };
}

/** stack family handlers keyed by iced Code. */
export const stackOps: OpMap = {
  [Code.Push_r64]: push64Op, [Code.Push_rm64]: push64Op, [Code.Pushq_imm32]: push64Op, [Code.Pushq_imm8]: push64Op,
  [Code.Push_r16]: push16Op, [Code.Push_rm16]: push16Op, [Code.Push_imm16]: push16Op, [Code.Pushw_imm8]: push16Op,
  [Code.Pop_r64]: pop64Op, [Code.Pop_rm64]: pop64Op, [Code.Pop_r16]: pop16Op, [Code.Pop_rm16]: pop16Op,
  [Code.Pushfq]: pushfq, [Code.Pushfw]: pushfw,
  [Code.Popfq]: { build: popfq, ends: true }, [Code.Popfw]: { build: popfw, ends: true },
  [Code.Enterq_imm16_imm8]: enter(8), [Code.Enterw_imm16_imm8]: enter(2),
  [Code.Leaveq]: leave(8), [Code.Leavew]: leave(2),
};
