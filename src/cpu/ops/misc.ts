// misc instruction family (to be filled).
import type { OpMap } from '../table.js';

/** misc family handlers keyed by iced Code. */
export const miscOps: OpMap = {};
