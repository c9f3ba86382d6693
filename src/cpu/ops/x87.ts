// x87 instruction family: the merged table of the arithmetic, data-movement, comparison, control and
// transcendental handlers (src/cpu/ops/x87-*.ts) over the 80-bit arithmetic in src/cpu/f80.
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { x87ArithOps } from './x87-arith.js';
import { x87CompareOps } from './x87-compare.js';
import { x87ControlOps } from './x87-control.js';
import { x87MoveOps } from './x87-move.js';
import { x87TransOps } from './x87-trans.js';

/**
 * x87 family handlers keyed by iced Code. Every x87 instruction may change x87 state iced does not report (the
 * stack top and tags of pushes and pops, the status word, the last instruction and operand pointers).
 */
export const x87Ops: OpMap = withWrites(Implicit.X87, { ...x87ArithOps, ...x87MoveOps, ...x87CompareOps, ...x87ControlOps, ...x87TransOps });
