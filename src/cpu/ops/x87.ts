// x87 instruction family (to be filled).
import type { OpMap } from '../table.js';

/** x87 family handlers keyed by iced Code. */
export const x87Ops: OpMap = {};
