// system instruction family (to be filled).
import type { OpMap } from '../table.js';

/** system family handlers keyed by iced Code. */
export const systemOps: OpMap = {};
