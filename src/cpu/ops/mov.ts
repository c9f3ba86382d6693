// mov instruction family (to be filled).
import type { OpMap } from '../table.js';

/** mov family handlers keyed by iced Code. */
export const movOps: OpMap = {};
