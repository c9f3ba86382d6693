// string instruction family (to be filled).
import type { OpMap } from '../table.js';

/** string family handlers keyed by iced Code. */
export const stringOps: OpMap = {};
