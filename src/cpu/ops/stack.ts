// stack instruction family (to be filled).
import type { OpMap } from '../table.js';

/** stack family handlers keyed by iced Code. */
export const stackOps: OpMap = {};
