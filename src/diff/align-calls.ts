// Re-synchronising two runs on their call trees: the calls down to a depth are matched in order by callee name
// and depth (longest common subsequence), then walked to report what differs: calls made in one run only, and
// matched calls whose subtrees took a different number of steps. The runs converge again at the first matched
// call after which every matched call has the same length and nothing is unmatched.
import { CallNode } from './call-profile.js';

/** One region where the runs differ. */
export interface Region {
  /** only-a / only-b: a call made in one run only; steps: the same call with a different step count. */
  readonly kind: 'only-a' | 'only-b' | 'steps';
  /** Callee. */
  readonly symbol: string;
  /** Depth of the call. */
  readonly depth: number;
  /** The call in A and in B: [CALL step, RET step] (null where absent). */
  readonly a: [number, number] | null;
  readonly b: [number, number] | null;
}

/** The alignment. */
export interface Alignment {
  /** Regions in order. */
  readonly regions: Region[];
  /** Matched calls (pairs of CALL steps). */
  readonly matched: number;
  /** Where the runs are in step again for good: CALL steps of the first matched call of the common tail, or null. */
  readonly converge: { seqA: number; seqB: number; symbol: string } | null;
  /** Calls considered per side (depth <= maxDepth). */
  readonly callsA: number;
  readonly callsB: number;
  /** True if the sequences were too long for the LCS and were matched greedily. */
  readonly greedy: boolean;
}

const MAX_CELLS = 16_000_000;

/** Longest common subsequence of two token arrays: matched index pairs. */
function lcs(x: readonly string[], y: readonly string[]): [number, number][] {
  const n = x.length, m = y.length;
  const dp = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i * (m + 1) + j] = x[i] === y[j] ? dp[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(dp[(i + 1) * (m + 1) + j]!, dp[i * (m + 1) + j + 1]!);
    }
  }
  const out: [number, number][] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([i, j]); i++; j++; } else if (dp[(i + 1) * (m + 1) + j]! >= dp[i * (m + 1) + j + 1]!) i++; else j++;
  }
  return out;
}

/** Greedy matching for long sequences: each token of x matched to its next occurrence in y within a window. */
function greedy(x: readonly string[], y: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  let j = 0;
  for (let i = 0; i < x.length && j < y.length; i++) {
    for (let k = j; k < Math.min(y.length, j + 64); k++) if (x[i] === y[k]) { out.push([i, k]); j = k + 1; break; }
  }
  return out;
}

/** Align the calls of two runs down to maxDepth. */
export function alignCalls(nodesA: readonly CallNode[], nodesB: readonly CallNode[], maxDepth: number): Alignment {
  const a = nodesA.filter((n) => n.depth <= maxDepth), b = nodesB.filter((n) => n.depth <= maxDepth);
  const tok = (n: CallNode): string => `${n.depth}:${n.name}`;
  const useGreedy = (a.length + 1) * (b.length + 1) > MAX_CELLS;
  const pairs = useGreedy ? greedy(a.map(tok), b.map(tok)) : lcs(a.map(tok), b.map(tok));
  const regions: Region[] = [];
  const span = (n: CallNode): [number, number] => [n.seq, n.end];
  let i = 0, j = 0, lastDiff = -1;
  const pairDiffers: boolean[] = [];
  for (const [pi, pj] of pairs) {
    let diff = false;
    for (; i < pi; i++) { regions.push({ kind: 'only-a', symbol: a[i]!.name, depth: a[i]!.depth, a: span(a[i]!), b: null }); diff = true; }
    for (; j < pj; j++) { regions.push({ kind: 'only-b', symbol: b[j]!.name, depth: b[j]!.depth, a: null, b: span(b[j]!) }); diff = true; }
    const x = a[pi]!, y = b[pj]!;
    if (x.end - x.seq !== y.end - y.seq) {
      regions.push({ kind: 'steps', symbol: x.name, depth: x.depth, a: span(x), b: span(y) });
      diff = true;
    }
    pairDiffers.push(diff);
    if (diff) lastDiff = pairDiffers.length - 1;
    i = pi + 1; j = pj + 1;
  }
  let tailDiff = false;
  for (; i < a.length; i++) { regions.push({ kind: 'only-a', symbol: a[i]!.name, depth: a[i]!.depth, a: span(a[i]!), b: null }); tailDiff = true; }
  for (; j < b.length; j++) { regions.push({ kind: 'only-b', symbol: b[j]!.name, depth: b[j]!.depth, a: null, b: span(b[j]!) }); tailDiff = true; }
  let converge: Alignment['converge'] = null;
  const k = lastDiff + 1;
  if (!tailDiff && lastDiff >= 0 && k < pairs.length) {
    const [pi, pj] = pairs[k]!;
    converge = { seqA: a[pi]!.seq, seqB: b[pj]!.seq, symbol: a[pi]!.name };
  }
  return { regions, matched: pairs.length, converge, callsA: a.length, callsB: b.length, greedy: useGreedy };
}
