// shift instruction family (to be filled).
import type { OpMap } from '../table.js';

/** shift family handlers keyed by iced Code. */
export const shiftOps: OpMap = {};
