// branch instruction family (to be filled).
import type { OpMap } from '../table.js';

/** branch family handlers keyed by iced Code. */
export const branchOps: OpMap = {};
