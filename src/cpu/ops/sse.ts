// SSE instruction family (SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 on XMM registers): the union of the sub-family
// maps (moves, integer, shuffles, floating point, conversions, MXCSR, and one map per later extension). Each Code
// appears in exactly one of them.
import type { OpMap } from '../table.js';
import { sseApproxOps } from './sse-approx.js';
import { sseConvertOps } from './sse-convert.js';
import { sseFpOps } from './sse-fp.js';
import { sseIntOps } from './sse-int.js';
import { sseMoveOps } from './sse-move.js';
import { sseMxcsrOps } from './sse-mxcsr.js';
import { sseShuffleOps } from './sse-shuffle.js';
import { sse3Ops } from './sse3.js';
import { sse41FpOps } from './sse41-fp.js';
import { sse41Ops } from './sse41.js';
import { sse42Ops } from './sse42.js';
import { ssse3Ops } from './ssse3.js';

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
export const sseOps: OpMap = merge(
  sseMoveOps, sseIntOps, sseShuffleOps, sseFpOps, sseConvertOps, sseMxcsrOps,
  sse3Ops, ssse3Ops, sse41Ops, sse41FpOps, sse42Ops, sseApproxOps,
);
