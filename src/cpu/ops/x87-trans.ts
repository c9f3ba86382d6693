// x87 transcendental instructions over src/cpu/f80/trans.ts: FSIN FCOS FSINCOS FPTAN (C2 = operand out of
// range), FPATAN F2XM1 FYL2X FYL2XP1.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Exc, FpStatus } from '../f80/round.js';
import { f2xm1, fcos, fpatan, fsin, fsincos, ftan, fyl2x, fyl2xp1, trigOutOfRange } from '../f80/trans.js';
import { F80, INDEFINITE, isNaNKind, kindOf } from '../f80/value.js';
import type { OpMap } from '../table.js';
import {
  begin, commit, env, fst, isEmpty, note, pairStackFault, pop, push, raise, readSt, setC1, setSw, siteOf, Sw,
  underflow, writeSt,
} from './x87-stack.js';

/** FSIN / FCOS / F2XM1: ST(0) <- f(ST(0)); `trig` sets C2 for out-of-range operands. */
function unary(fn: (x: F80, st: FpStatus) => F80, trig: boolean): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (isEmpty(c, 0)) {
        if (trig) setSw(c, Sw.C2, 0);
        if (underflow(c)) writeSt(c, 0, INDEFINITE);
      } else {
        const x = readSt(c, 0);
        if (trig && trigOutOfRange(x)) setSw(c, Sw.C1 | Sw.C2, Sw.C2);
        else {
          if (trig) setSw(c, Sw.C2, 0);
          commit(c, 0, fn(x, env(c)));
        }
      }
      note(c, site);
    };
  };
}

/** FSINCOS / FPTAN: ST(0) <- first, then push second. */
function pair(fn: (x: F80, st: FpStatus) => [F80, F80]): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c) => {
      begin(c);
      if (pairStackFault(c)) {
        setSw(c, Sw.C2, 0);
      } else {
        const x = readSt(c, 0);
        if (trigOutOfRange(x)) setSw(c, Sw.C1 | Sw.C2, Sw.C2);
        else {
          setSw(c, Sw.C2, 0);
          const [a, b] = fn(x, env(c));
          if (fst.unmasked() & (Exc.IE | Exc.DE | Exc.ZE)) raise(c, fst.exc);
          else {
            writeSt(c, 0, a);
            push(c, b);
            setC1(c, fst.up);
            raise(c, fst.exc);
          }
        }
      }
      note(c, site);
    };
  };
}

/** FPATAN / FYL2X / FYL2XP1: ST(1) <- f(ST(1), ST(0)), pop. */
function binaryPop(fn: (y: F80, x: F80, st: FpStatus) => F80): (d: Decoded) => Exec {
  return (d) => {
    const site = siteOf(d);
    return (c: Cpu) => {
      begin(c);
      if (isEmpty(c, 0) || isEmpty(c, 1)) {
        if (underflow(c)) { writeSt(c, 1, INDEFINITE); pop(c); }
      } else if (commit(c, 1, fn(readSt(c, 1), readSt(c, 0), env(c)))) {
        pop(c);
      }
      note(c, site);
    };
  };
}

const ONE: F80 = { se: 0x3fff, m: 1n << 63n };

/** Transcendental handlers keyed by iced Code. */
export const x87TransOps: OpMap = {
  [Code.Fsin]: unary(fsin, true),
  [Code.Fcos]: unary(fcos, true),
  [Code.F2xm1]: unary(f2xm1, false),
  [Code.Fsincos]: pair(fsincos),
  // a NaN result (NaN operand or invalid operation) goes to both registers; hardware pushes it instead of 1.0
  [Code.Fptan]: pair((x, st) => { const t = ftan(x, st); return [t, isNaNKind(kindOf(t)) ? t : ONE]; }),
  [Code.Fpatan]: binaryPop(fpatan),
  [Code.Fyl2x]: binaryPop(fyl2x),
  [Code.Fyl2xp1]: binaryPop(fyl2xp1),
};
