// x87 arithmetic: FADD FSUB FSUBR FMUL FDIV FDIVR in all forms (m32fp, m64fp, m16int, m32int, ST(0),ST(i),
// ST(i),ST(0), popping), and the one-operand FCHS FABS FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1.
import { Code } from 'iced-x86';
import type { Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { add, div, extract, mul, remainder, roundInt, scale, sqrt } from '../f80/arith.js';
import type { FpStatus } from '../f80/round.js';
import { F80, INDEFINITE, withSign } from '../f80/value.js';
import { regOf } from '../operands.js';
import type { OpMap } from '../table.js';
import {
  begin, commit, env, fst, isEmpty, memX87, note, pairStackFault, pop, push, raise, readSt, setC1, setSw, siteOf, Sw, underflow, writeSt,
} from './x87-stack.js';
import { MemFmt, readRaw, withMemOperand } from './x87-mem.js';

/** The six binary operations, as functions of (destination operand x, source operand y). */
type Bin = (x: F80, y: F80, st: FpStatus) => F80;
const ADD: Bin = (x, y, st) => add(x, y, false, st.prec, st);
const SUB: Bin = (x, y, st) => add(x, y, true, st.prec, st);
const SUBR: Bin = (x, y, st) => add(y, x, true, st.prec, st);
const MUL: Bin = (x, y, st) => mul(x, y, st.prec, st);
const DIV: Bin = (x, y, st) => div(x, y, st.prec, st);
const DIVR: Bin = (x, y, st) => div(y, x, st.prec, st);

/** ST(0) <- ST(0) op m. */
function memForm(op: Bin, fmt: MemFmt): (d: Decoded) => Exec {
  return (d) => {
    return memX87(d, (c, lo, hi) => {
      const raw = readRaw(c, fmt, lo, hi);
      if (isEmpty(c, 0)) {
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        const st = env(c), x = readSt(c, 0);
        commit(c, 0, withMemOperand(fmt, raw, x, st, (y) => op(x, y, st)));
      }
    });
  };
}

/** ST(dst) <- ST(dst) op ST(src), then pop when `popAfter`. Operand 0 is the destination. */
function regForm(op: Bin, popAfter: boolean): (d: Decoded) => Exec {
  return (d) => {
    const i0 = regOf(d, 0).n, i1 = regOf(d, 1).n, site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, i0) || isEmpty(c, i1)) {
        if (underflow(c)) { writeSt(c, i0, INDEFINITE); if (popAfter) pop(c); }
      } else {
        const st = env(c);
        if (commit(c, i0, op(readSt(c, i0), readSt(c, i1), st)) && popAfter) pop(c);
      }
      note(c, site);
    };
  };
}

/** A one-operand operation on ST(0). */
function unary(fn: (x: F80, st: FpStatus) => F80): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0)) {
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        commit(c, 0, fn(readSt(c, 0), env(c)));
      }
      note(c, site);
    };
  };
}

/** FCHS / FABS: sign manipulation, no exceptions but stack underflow; C1 cleared. */
function signOp(abs: boolean): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0)) {
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        const x = readSt(c, 0);
        writeSt(c, 0, withSign(x, abs ? 0 : (x.se >>> 15) ^ 1));
        setC1(c, false);
      }
      note(c, site);
    };
  };
}

/** FSCALE: ST(0) <- ST(0) * 2^trunc(ST(1)). */
function fscale(d: Decoded): Exec {
  const site = siteOf(d);
  return (c) => {
    begin(c);
    if (isEmpty(c, 0) || isEmpty(c, 1)) {
      if (underflow(c)) writeSt(c, 0, INDEFINITE);
    } else {
      commit(c, 0, scale(readSt(c, 0), readSt(c, 1), env(c)));
    }
    note(c, site);
  };
}

/** FPREM / FPREM1: ST(0) <- partial remainder of ST(0) / ST(1); C2 incomplete, C0 C3 C1 = Q2 Q1 Q0. */
function fprem(nearest: boolean): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0) || isEmpty(c, 1)) {
        setSw(c, Sw.C2, 0); // C0 C3 are kept (hardware)
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        const r = remainder(readSt(c, 0), readSt(c, 1), nearest, env(c));
        fst.up = false;
        // a NaN or invalid result (q < 0) clears C1 and C2 and keeps C0 and C3, even when IE is unmasked and
        // nothing is stored (measured on hardware)
        const nan = r.q < 0 && !r.incomplete;
        if (nan) setSw(c, Sw.C1 | Sw.C2, 0);
        if (commit(c, 0, r.value) && !nan) {
          const q = r.q < 0 ? 0 : r.q;
          setSw(c, Sw.C0 | Sw.C1 | Sw.C2 | Sw.C3,
            (q & 4 ? Sw.C0 : 0) | (q & 2 ? Sw.C3 : 0) | (q & 1 ? Sw.C1 : 0) | (r.incomplete ? Sw.C2 : 0));
        }
      }
      note(c, site);
    };
  };
}

/** FXTRACT: ST(0) <- significand, then push... precisely: ST(1) <- exponent, ST(0) <- significand. */
function fxtract(d: Decoded): Exec {
  const site = siteOf(d);
  return (c) => {
    begin(c);
    if (!pairStackFault(c)) {
      const [e, s] = extract(readSt(c, 0), env(c));
      const um = fst.unmasked();
      if (um & (Sw.IE | Sw.DE | Sw.ZE)) { raise(c, fst.exc); } else {
        writeSt(c, 0, e);
        push(c, s);
        setC1(c, false);
        raise(c, fst.exc);
      }
    }
    note(c, site);
  };
}

/** Arithmetic handlers keyed by iced Code. */
export const x87ArithOps: OpMap = {
  [Code.Fadd_m32fp]: memForm(ADD, MemFmt.F32), [Code.Fadd_m64fp]: memForm(ADD, MemFmt.F64),
  [Code.Fsub_m32fp]: memForm(SUB, MemFmt.F32), [Code.Fsub_m64fp]: memForm(SUB, MemFmt.F64),
  [Code.Fsubr_m32fp]: memForm(SUBR, MemFmt.F32), [Code.Fsubr_m64fp]: memForm(SUBR, MemFmt.F64),
  [Code.Fmul_m32fp]: memForm(MUL, MemFmt.F32), [Code.Fmul_m64fp]: memForm(MUL, MemFmt.F64),
  [Code.Fdiv_m32fp]: memForm(DIV, MemFmt.F32), [Code.Fdiv_m64fp]: memForm(DIV, MemFmt.F64),
  [Code.Fdivr_m32fp]: memForm(DIVR, MemFmt.F32), [Code.Fdivr_m64fp]: memForm(DIVR, MemFmt.F64),
  [Code.Fiadd_m16int]: memForm(ADD, MemFmt.I16), [Code.Fiadd_m32int]: memForm(ADD, MemFmt.I32),
  [Code.Fisub_m16int]: memForm(SUB, MemFmt.I16), [Code.Fisub_m32int]: memForm(SUB, MemFmt.I32),
  [Code.Fisubr_m16int]: memForm(SUBR, MemFmt.I16), [Code.Fisubr_m32int]: memForm(SUBR, MemFmt.I32),
  [Code.Fimul_m16int]: memForm(MUL, MemFmt.I16), [Code.Fimul_m32int]: memForm(MUL, MemFmt.I32),
  [Code.Fidiv_m16int]: memForm(DIV, MemFmt.I16), [Code.Fidiv_m32int]: memForm(DIV, MemFmt.I32),
  [Code.Fidivr_m16int]: memForm(DIVR, MemFmt.I16), [Code.Fidivr_m32int]: memForm(DIVR, MemFmt.I32),
  [Code.Fadd_st0_sti]: regForm(ADD, false), [Code.Fadd_sti_st0]: regForm(ADD, false), [Code.Faddp_sti_st0]: regForm(ADD, true),
  [Code.Fmul_st0_sti]: regForm(MUL, false), [Code.Fmul_sti_st0]: regForm(MUL, false), [Code.Fmulp_sti_st0]: regForm(MUL, true),
  [Code.Fsub_st0_sti]: regForm(SUB, false), [Code.Fsub_sti_st0]: regForm(SUB, false), [Code.Fsubp_sti_st0]: regForm(SUB, true),
  [Code.Fsubr_st0_sti]: regForm(SUBR, false), [Code.Fsubr_sti_st0]: regForm(SUBR, false), [Code.Fsubrp_sti_st0]: regForm(SUBR, true),
  [Code.Fdiv_st0_sti]: regForm(DIV, false), [Code.Fdiv_sti_st0]: regForm(DIV, false), [Code.Fdivp_sti_st0]: regForm(DIV, true),
  [Code.Fdivr_st0_sti]: regForm(DIVR, false), [Code.Fdivr_sti_st0]: regForm(DIVR, false), [Code.Fdivrp_sti_st0]: regForm(DIVR, true),
  [Code.Fchs]: signOp(false),
  [Code.Fabs]: signOp(true),
  [Code.Fsqrt]: unary((x, st) => sqrt(x, st.prec, st)),
  [Code.Frndint]: unary(roundInt),
  [Code.Fscale]: fscale,
  [Code.Fprem]: fprem(false),
  [Code.Fprem1]: fprem(true),
  [Code.Fxtract]: fxtract,
};
