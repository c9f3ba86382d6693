// sse instruction family (to be filled).
import type { OpMap } from '../table.js';

/** sse family handlers keyed by iced Code. */
export const sseOps: OpMap = {};
