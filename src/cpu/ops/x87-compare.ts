// x87 comparisons and classification: FCOM FCOMP FCOMPP FUCOM FUCOMP FUCOMPP FICOM FICOMP FTST (C3 C2 C0),
// FCOMI FCOMIP FUCOMI FUCOMIP (ZF PF CF in RFLAGS), FXAM.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Cmp, compare } from '../f80/arith.js';
import { Exc, FpStatus } from '../f80/round.js';
import { F80, Kind, kindOf, zero } from '../f80/value.js';
import { setStatusFlags } from '../flags.js';
import { regOf } from '../operands.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';
import {
  begin, env, isEmpty, memX87, note, pop, raise, readSt, setSw, siteOf, Sw, underflow,
} from './x87-stack.js';
import { MemFmt, readRaw, withMemOperand } from './x87-mem.js';

/** C3 C2 C0 for each comparison outcome. */
const CC_BITS = [0, Sw.C0, Sw.C3, Sw.C3 | Sw.C2 | Sw.C0];
/** ZF PF CF for each comparison outcome. */
const EFL_BITS = [0, Fl.CF, Fl.ZF, Fl.ZF | Fl.PF | Fl.CF];
const CC_MASK = Sw.C0 | Sw.C1 | Sw.C2 | Sw.C3;
const ZERO = zero(0);

/** Set the outcome in C3 C2 C0 (C1 cleared). */
function setCc(c: Cpu, r: Cmp): void {
  setSw(c, CC_MASK, CC_BITS[r]!);
}

/**
 * Set the outcome in ZF PF CF (OF SF AF cleared). C1 is left alone: the SDM says "set to 0", but hardware
 * keeps it (a stack underflow clears it in `underflow`).
 */
function setEfl(c: Cpu, r: Cmp): void {
  setStatusFlags(c.r, EFL_BITS[r]!);
}

/**
 * Compare ST(0) with a second operand and report the outcome; `pops` pops after. Returns nothing; an
 * unmasked IE/DE leaves the condition codes and the stack unchanged.
 */
function doCompare(c: Cpu, b: ((a: F80, st: FpStatus) => Cmp) | null, pops: number, eflags: boolean): void {
  const report = eflags ? setEfl : setCc;
  if (isEmpty(c, 0) || b === null) {
    if (underflow(c)) { report(c, Cmp.UNORDERED); for (let k = 0; k < pops; k++) pop(c); }
    return;
  }
  const st = env(c);
  const r = b(readSt(c, 0), st);
  if (st.unmasked() & (Exc.IE | Exc.DE)) { raise(c, st.exc); return; }
  report(c, r);
  raise(c, st.exc);
  for (let k = 0; k < pops; k++) pop(c);
}

/** FCOM/FCOMP/FICOM/FICOMP with a memory operand. */
function memCompare(fmt: MemFmt, pops: number): (d: Decoded) => Exec {
  return (d) => {
    return memX87(d, (c, lo, hi) => {
      const raw = readRaw(c, fmt, lo, hi);
      doCompare(c, (a, st) => withMemOperand(fmt, raw, a, st, (y) => compare(a, y, false, st)), pops, false);
    });
  };
}

/** Register comparisons: FCOM, FUCOM (quiet), FCOMI (eflags), with 0..2 pops. Operand 1 is ST(i) (default ST(1)). */
function regCompare(quietNaN: boolean, pops: number, eflags: boolean): (d: Decoded) => Exec {
  return (d) => {
    const i = d.opCount >= 2 ? regOf(d, 1).n : 1, site = siteOf(d);
    return (c) => {
      begin(c);
      doCompare(c, isEmpty(c, i) ? null : (a, st) => compare(a, readSt(c, i), quietNaN, st), pops, eflags);
      note(c, site);
    };
  };
}

/** FTST: compare ST(0) with +0.0. */
function ftst(d: Decoded): Exec {
  const site = siteOf(d);
  return (c) => {
    begin(c);
    doCompare(c, (a, st) => compare(a, ZERO, false, st), 0, false);
    note(c, site);
  };
}

/** FXAM: classify ST(0) into C3 C2 C0, sign into C1. */
function fxam(d: Decoded): Exec {
  const site = siteOf(d);
  return (c) => {
    begin(c);
    const x = readSt(c, 0);
    let cls: number;
    if (isEmpty(c, 0)) cls = Sw.C3 | Sw.C0;
    else {
      switch (kindOf(x)) {
        case Kind.UNSUPPORTED: cls = 0; break;
        case Kind.QNAN: case Kind.SNAN: cls = Sw.C0; break;
        case Kind.NORMAL: cls = Sw.C2; break;
        case Kind.INF: cls = Sw.C2 | Sw.C0; break;
        case Kind.ZERO: cls = Sw.C3; break;
        default: cls = Sw.C3 | Sw.C2; break; // denormal
      }
    }
    setSw(c, CC_MASK, cls | (x.se & 0x8000 ? Sw.C1 : 0));
    note(c, site);
  };
}

/** Comparison handlers keyed by iced Code. */
export const x87CompareOps: OpMap = {
  [Code.Fcom_m32fp]: memCompare(MemFmt.F32, 0), [Code.Fcom_m64fp]: memCompare(MemFmt.F64, 0),
  [Code.Fcomp_m32fp]: memCompare(MemFmt.F32, 1), [Code.Fcomp_m64fp]: memCompare(MemFmt.F64, 1),
  [Code.Ficom_m16int]: memCompare(MemFmt.I16, 0), [Code.Ficom_m32int]: memCompare(MemFmt.I32, 0),
  [Code.Ficomp_m16int]: memCompare(MemFmt.I16, 1), [Code.Ficomp_m32int]: memCompare(MemFmt.I32, 1),
  [Code.Fcom_st0_sti]: regCompare(false, 0, false), [Code.Fcom_st0_sti_DCD0]: regCompare(false, 0, false),
  [Code.Fcomp_st0_sti]: regCompare(false, 1, false), [Code.Fcomp_st0_sti_DCD8]: regCompare(false, 1, false),
  [Code.Fcomp_st0_sti_DED0]: regCompare(false, 1, false),
  [Code.Fcompp]: regCompare(false, 2, false),
  [Code.Fucom_st0_sti]: regCompare(true, 0, false), [Code.Fucomp_st0_sti]: regCompare(true, 1, false),
  [Code.Fucompp]: regCompare(true, 2, false),
  [Code.Fcomi_st0_sti]: regCompare(false, 0, true), [Code.Fcomip_st0_sti]: regCompare(false, 1, true),
  [Code.Fucomi_st0_sti]: regCompare(true, 0, true), [Code.Fucomip_st0_sti]: regCompare(true, 1, true),
  [Code.Ftst]: ftst,
  [Code.Fxam]: fxam,
};
