// muldiv instruction family (to be filled).
import type { OpMap } from '../table.js';

/** muldiv family handlers keyed by iced Code. */
export const muldivOps: OpMap = {};
