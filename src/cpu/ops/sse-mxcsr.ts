// LDMXCSR and STMXCSR (FXSAVE/FXRSTOR belong to the x87 family).
import { Code } from 'iced-x86';
import type { Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { eaOf, memOf } from '../operands.js';
import { Implicit } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { Mx, MXCSR } from './sse-common.js';

/** LDMXCSR m32: #GP(0) if a reserved bit (31:16) is set. */
function ldmxcsr(d: Decoded): Exec {
  const ea = eaOf(memOf(d));
  return (c) => {
    const lo = ea(c);
    const v = c.rd32(lo, c.hi);
    if (v & Mx.RESERVED) throw new Fault(Vector.GP, 0, 0, 0, 'LDMXCSR with reserved bits set');
    c.r[MXCSR] = v;
  };
}

/** STMXCSR m32. */
function stmxcsr(d: Decoded): Exec {
  const ea = eaOf(memOf(d));
  return (c) => { const lo = ea(c); c.wr32(lo, c.hi, c.r[MXCSR]!); };
}

/** MXCSR load/store. */
export const sseMxcsrOps: OpMap = {
  [Code.Ldmxcsr_m32]: { build: ldmxcsr, writes: Implicit.MXCSR },
  [Code.Stmxcsr_m32]: stmxcsr,
};
