// The AVX/AVX2 family (x86-64-v3): the hand-written moves and permutes (avx-move.ts) and every VEX form that is
// an SSE instruction with a third operand (avx-lanes.ts, derived from the SSE table).
import type { OpMap, OpSpec } from '../op-spec.js';
import { avxMoveOps } from './avx-move.js';
import { laneOps } from './avx-lanes.js';
import { sseOps } from './sse.js';

const own = new Set(Object.keys(avxMoveOps).map(Number));
const sseSpec = (code: number): OpSpec | undefined => {
  const v = (sseOps as Record<number, OpSpec | OpSpec['build'] | undefined>)[code];
  return v === undefined ? undefined : typeof v === 'function' ? { build: v } : v;
};

/** avx family handlers keyed by iced Code. */
export const avxOps: OpMap = { ...laneOps(sseSpec, own), ...avxMoveOps };
