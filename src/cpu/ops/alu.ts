// alu instruction family (to be filled).
import type { OpMap } from '../table.js';

/** alu family handlers keyed by iced Code. */
export const aluOps: OpMap = {};
