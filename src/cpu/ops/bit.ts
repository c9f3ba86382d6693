// bit instruction family (to be filled).
import type { OpMap } from '../table.js';

/** bit family handlers keyed by iced Code. */
export const bitOps: OpMap = {};
