// x87 data movement: FLD FILD FBLD and the constant loads (push), FST FSTP FIST FISTP FISTTP FBSTP (store),
// FXCH, FCMOVcc, FFREE FFREEP, FINCSTP FDECSTP.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { constant, CONST_FIXED } from '../f80/constants.js';
import { BCD_INDEFINITE, fromBcd, ieeeIndefinite, toBcd, toInt, toIeee } from '../f80/convert.js';
import { DBL, Exc, Format, Rc, SGL } from '../f80/round.js';
import { F80, INDEFINITE, Kind, kindOf, quiet, zero } from '../f80/value.js';
import { fromInt } from '../f80/convert.js';
import { getFlags } from '../flags.js';
import { regOf } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';
import {
  begin, canPush, env, FCW, freePhys, FTOP, isEmpty, memX87, note, overflow, physOf, pop, push, raise, readPhys, readSt, setC1, siteOf, tagOf, underflow, writePhys, writeSt,
} from './x87-stack.js';
import { f80Raw, MemFmt, readBytes, readRaw, toF80, writeBytes, writeRaw } from './x87-mem.js';

/** FLD m32fp / m64fp / m80fp, FILD m16/m32/m64: push the converted operand. */
function loadMem(fmt: MemFmt): (d: Decoded) => Exec {
  return (d) => {
    return memX87(d, (c, lo, hi) => {
      const raw = readRaw(c, fmt, lo, hi);
      if (!canPush(c)) { overflow(c); return; }
      const st = env(c);
      let x = toF80(fmt, raw, st);
      if ((fmt === MemFmt.F32 || fmt === MemFmt.F64) && kindOf(x) === Kind.SNAN) { st.exc |= Exc.IE; x = quiet(x); }
      if (!(st.unmasked() & (Exc.IE | Exc.DE))) { push(c, x); setC1(c, false); }
      raise(c, st.exc);
    });
  };
}

/** FBLD m80bcd. */
function fbld(d: Decoded): Exec {
  return memX87(d, (c, lo, hi) => {
    const bytes = readBytes(c, lo, hi, 10);
    if (!canPush(c)) overflow(c); else { push(c, fromBcd(bytes)); setC1(c, false); }
  });
}

/** FLD ST(i): push a copy of ST(i) (read before the push). */
function fldReg(d: Decoded): Exec {
  const i = regOf(d, 0).n, site = siteOf(d);
  return (c) => {
    begin(c);
    // an empty source is an underflow (C1 = 0) even when the push would also overflow (measured on hardware)
    if (isEmpty(c, i)) { if (underflow(c)) push(c, INDEFINITE); note(c, site); return; }
    if (!canPush(c)) { overflow(c); note(c, site); return; }
    push(c, readSt(c, i));
    setC1(c, false);
    note(c, site);
  };
}

/** FLD1 FLDZ FLDPI FLDL2T FLDL2E FLDLG2 FLDLN2. */
function loadConst(name: keyof typeof CONST_FIXED | 'one' | 'zero'): (d: Decoded) => Exec {
  const fixed: F80[] = [];
  if (name === 'one') for (let rc = 0; rc < 4; rc++) fixed.push(fromInt(1n));
  else if (name === 'zero') for (let rc = 0; rc < 4; rc++) fixed.push(zero(0));
  else for (let rc = 0; rc < 4; rc++) fixed.push(constant(name, rc as Rc));
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (!canPush(c)) overflow(c); else { push(c, fixed[(c.r[FCW]! >>> 10) & 3]!); setC1(c, false); }
      note(c, site);
    };
  };
}

/** FST/FSTP m32fp / m64fp and FSTP m80fp. */
function storeFloat(fmt: Format | null, popAfter: boolean): (d: Decoded) => Exec {
  const bytes = fmt === null ? 10 : fmt === SGL ? 4 : 8;
  return (d) => {
    return memX87(d, (c, lo, hi) => {
      if (isEmpty(c, 0)) {
        const masked = imMaskedUnderflowPreview(c);
        if (masked) writeRaw(c, lo, hi, bytes, fmt === null ? f80Raw(INDEFINITE) : ieeeIndefinite(fmt));
        underflow(c);
        if (masked && popAfter) pop(c);
        return;
      }
      const st = env(c);
      const x = readSt(c, 0);
      const raw = fmt === null ? f80Raw(x) : toIeee(x, fmt, st);
      if (st.unmasked() & (Exc.IE | Exc.DE | Exc.OE | Exc.UE)) { raise(c, st.exc); return; }
      writeRaw(c, lo, hi, bytes, raw);
      setC1(c, st.up);
      raise(c, st.exc);
      if (popAfter) pop(c);
    });
  };
}

/** Whether a stack underflow would be masked (checked before the memory write it leads to). */
function imMaskedUnderflowPreview(c: Cpu): boolean {
  return (c.r[FCW]! & 1) !== 0;
}

/** FIST/FISTP (RC rounding) and FISTTP (truncation) to m16/m32/m64. */
function storeInt(bits: number, popAfter: boolean, truncate: boolean): (d: Decoded) => Exec {
  const indefinite = 1n << BigInt(bits - 1);
  return (d) => {
    return memX87(d, (c, lo, hi) => {
      if (isEmpty(c, 0)) {
        const masked = imMaskedUnderflowPreview(c);
        if (masked) writeRaw(c, lo, hi, bits / 8, indefinite);
        underflow(c);
        if (masked && popAfter) pop(c);
        return;
      }
      const st = env(c);
      const v = toInt(readSt(c, 0), bits, truncate, st);
      if (st.unmasked() & (Exc.IE | Exc.DE)) { raise(c, st.exc); return; }
      writeRaw(c, lo, hi, bits / 8, v === null ? indefinite : BigInt.asUintN(bits, v));
      setC1(c, st.up);
      raise(c, st.exc);
      if (popAfter) pop(c);
    });
  };
}

/** FBSTP m80bcd. */
function fbstp(d: Decoded): Exec {
  return memX87(d, (c, lo, hi) => {
    if (isEmpty(c, 0)) {
      const masked = imMaskedUnderflowPreview(c);
      if (masked) writeBytes(c, lo, hi, BCD_INDEFINITE);
      underflow(c);
      if (masked) pop(c);
      return;
    }
    const st = env(c);
    const v = toBcd(readSt(c, 0), st);
    if (st.unmasked() & (Exc.IE | Exc.DE)) { raise(c, st.exc); return; }
    writeBytes(c, lo, hi, v ?? BCD_INDEFINITE);
    setC1(c, st.up);
    raise(c, st.exc);
    pop(c);
  });
}

/** FST ST(i) / FSTP ST(i): copy ST(0) to ST(i) (raw, tag included). */
function storeReg(popAfter: boolean): (d: Decoded) => Exec {
  return (d) => {
    const i = regOf(d, 0).n, site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0)) {
        if (underflow(c)) { writeSt(c, i, INDEFINITE); if (popAfter) pop(c); }
      } else {
        writeSt(c, i, readSt(c, 0));
        setC1(c, false);
        if (popAfter) pop(c);
      }
      note(c, site);
    };
  };
}

/**
 * FSTPNCE ST(i) (D9 D8+i): FSTP ST(i) without the stack check. Measured on hardware: an empty ST(0) raises
 * nothing and writes nothing (ST(i) keeps its value and tag); the pop still happens and C1 is cleared.
 */
function fstpnce(d: Decoded): Exec {
  const i = regOf(d, 0).n, site = siteOf(d);
  return (c) => {
    begin(c);
    if (!isEmpty(c, 0)) writeSt(c, i, readSt(c, 0));
    setC1(c, false);
    pop(c);
    note(c, site);
  };
}

/** FXCH ST(i). */
function fxch(d: Decoded): Exec {
  const i = regOf(d, 1).n, site = siteOf(d);
  return (c) => {
    begin(c);
    const p0 = physOf(c, 0), pi = physOf(c, i);
    const e0 = tagOf(c, p0) === 3, ei = tagOf(c, pi) === 3;
    if (e0 || ei) {
      if (!underflow(c)) { note(c, site); return; }
      const a = e0 ? INDEFINITE : readPhys(c, p0), b = ei ? INDEFINITE : readPhys(c, pi);
      writePhys(c, p0, b); writePhys(c, pi, a);
    } else {
      const a = readPhys(c, p0), b = readPhys(c, pi);
      writePhys(c, p0, b); writePhys(c, pi, a);
      setC1(c, false);
    }
    note(c, site);
  };
}

/** FCMOVcc ST(0), ST(i): the condition from RFLAGS (CF, ZF, PF); an empty operand is a stack underflow either way. */
function fcmov(test: (f: number) => boolean): (d: Decoded) => Exec {
  return (d) => {
    const i = regOf(d, 1).n, site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0) || isEmpty(c, i)) {
        // Measured on hardware: the stack fault is taken before the condition is looked at, and a masked
        // underflow writes the indefinite to ST(0) whether or not the condition holds.
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        // C1 is left alone without a stack fault (SDM: "set to 0 if stack underflow occurred"; hardware agrees).
        if (test(getFlags(c.r))) writeSt(c, 0, readSt(c, i));
      }
      note(c, site);
    };
  };
}

/** FFREE ST(i) (FFREEP also pops). */
function ffree(popAfter: boolean): (d: Decoded) => Exec {
  return (d) => {
    const i = regOf(d, 0).n, site = siteOf(d);
    return (c) => {
      begin(c);
      freePhys(c, physOf(c, i));
      if (popAfter) pop(c);
      note(c, site);
    };
  };
}

/** FINCSTP / FDECSTP: rotate TOP without touching tags; C1 cleared. */
function rotate(delta: number): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      c.r[FTOP] = (c.r[FTOP]! + delta) & 7;
      setC1(c, false);
      note(c, site);
    };
  };
}

const CF = (f: number): boolean => (f & Fl.CF) !== 0;
const ZF = (f: number): boolean => (f & Fl.ZF) !== 0;
const PF = (f: number): boolean => (f & Fl.PF) !== 0;

/** Data-movement handlers keyed by iced Code. */
export const x87MoveOps: OpMap = {
  [Code.Fld_m32fp]: loadMem(MemFmt.F32), [Code.Fld_m64fp]: loadMem(MemFmt.F64), [Code.Fld_m80fp]: loadMem(MemFmt.F80),
  [Code.Fild_m16int]: loadMem(MemFmt.I16), [Code.Fild_m32int]: loadMem(MemFmt.I32), [Code.Fild_m64int]: loadMem(MemFmt.I64),
  [Code.Fbld_m80bcd]: fbld,
  [Code.Fld_sti]: fldReg,
  [Code.Fld1]: loadConst('one'), [Code.Fldz]: loadConst('zero'), [Code.Fldpi]: loadConst('pi'),
  [Code.Fldl2t]: loadConst('l2t'), [Code.Fldl2e]: loadConst('l2e'), [Code.Fldlg2]: loadConst('lg2'), [Code.Fldln2]: loadConst('ln2'),
  [Code.Fst_m32fp]: storeFloat(SGL, false), [Code.Fstp_m32fp]: storeFloat(SGL, true),
  [Code.Fst_m64fp]: storeFloat(DBL, false), [Code.Fstp_m64fp]: storeFloat(DBL, true),
  [Code.Fstp_m80fp]: storeFloat(null, true),
  [Code.Fist_m16int]: storeInt(16, false, false), [Code.Fistp_m16int]: storeInt(16, true, false),
  [Code.Fist_m32int]: storeInt(32, false, false), [Code.Fistp_m32int]: storeInt(32, true, false),
  [Code.Fistp_m64int]: storeInt(64, true, false),
  [Code.Fisttp_m16int]: storeInt(16, true, true), [Code.Fisttp_m32int]: storeInt(32, true, true),
  [Code.Fisttp_m64int]: storeInt(64, true, true),
  [Code.Fbstp_m80bcd]: fbstp,
  [Code.Fst_sti]: storeReg(false), [Code.Fstp_sti]: storeReg(true), [Code.Fstpnce_sti]: fstpnce,
  [Code.Fstp_sti_DFD0]: storeReg(true), [Code.Fstp_sti_DFD8]: storeReg(true),
  [Code.Fxch_st0_sti]: fxch, [Code.Fxch_st0_sti_DDC8]: fxch, [Code.Fxch_st0_sti_DFC8]: fxch,
  [Code.Fcmovb_st0_sti]: fcmov(CF), [Code.Fcmovnb_st0_sti]: fcmov((f) => !CF(f)),
  [Code.Fcmove_st0_sti]: fcmov(ZF), [Code.Fcmovne_st0_sti]: fcmov((f) => !ZF(f)),
  [Code.Fcmovbe_st0_sti]: fcmov((f) => CF(f) || ZF(f)), [Code.Fcmovnbe_st0_sti]: fcmov((f) => !CF(f) && !ZF(f)),
  [Code.Fcmovu_st0_sti]: fcmov(PF), [Code.Fcmovnu_st0_sti]: fcmov((f) => !PF(f)),
  [Code.Ffree_sti]: ffree(false), [Code.Ffreep_sti]: ffree(true),
  [Code.Fincstp]: rotate(1), [Code.Fdecstp]: rotate(-1),
};
