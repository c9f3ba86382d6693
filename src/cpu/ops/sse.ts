// SSE/SSE2 instruction family: the union of the sub-family maps (moves, integer, shuffles, floating point,
// conversions, MXCSR). Each Code appears in exactly one of them.
import type { OpMap } from '../table.js';
import { sseConvertOps } from './sse-convert.js';
import { sseFpOps } from './sse-fp.js';
import { sseIntOps } from './sse-int.js';
import { sseMoveOps } from './sse-move.js';
import { sseMxcsrOps } from './sse-mxcsr.js';
import { sseShuffleOps } from './sse-shuffle.js';

function merge(...maps: OpMap[]): OpMap {
  const out: OpMap = {};
  for (const m of maps) {
    for (const [k, v] of Object.entries(m)) {
      if (k in out) throw new Error(`sse: code ${k} defined twice`);
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

/** sse family handlers keyed by iced Code. */
export const sseOps: OpMap = merge(sseMoveOps, sseIntOps, sseShuffleOps, sseFpOps, sseConvertOps, sseMxcsrOps);
