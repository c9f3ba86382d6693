// One pass over a trace's steps: steps and calls per function (the function holding each step's rip, by
// symbol), and the user-mode call sequence with depths (a CALL at CPL 3 opens a call of the function it lands
// in, a RET at CPL 3 closes the innermost), so two runs can be aligned by callee name and depth even when
// their addresses differ.
import { kindOf } from '../replayer/index-builder.js';
import { Kind } from '../replayer/step-index.js';
import { NO_CODE, TraceSide } from './trace-side.js';

/** One user-mode call. */
export interface CallNode {
  /** Callee symbol. */
  readonly name: string;
  /** Nesting depth (0: called from code outside any call). */
  readonly depth: number;
  /** Step of the CALL. */
  readonly seq: number;
  /** Step of its RET (or the last step if it never returns). */
  end: number;
}

/** What one pass collects. */
export interface CallProfile {
  /** Steps per function name. */
  readonly steps: Map<string, number>;
  /** Calls per callee name (user mode). */
  readonly calls: Map<string, number>;
  /** User-mode calls in order, nested ones included. */
  readonly nodes: CallNode[];
}

/** Name of an address: its symbol, or `?` plus the page. */
function nameOf(side: TraceSide, rip: bigint): string {
  const hit = side.symbols.lookup(rip);
  return hit !== undefined ? side.symbols.label(hit.symbol) : `?0x${(rip >> 12n << 12n).toString(16)}`;
}

/** Walk every step of a side. */
export function callProfile(side: TraceSide): CallProfile {
  const names: string[] = [];
  const nameId = new Map<string, number>();
  const fn = Int32Array.from(side.codeRip, (rip) => {
    const name = nameOf(side, rip);
    let id = nameId.get(name);
    if (id === undefined) { id = names.length; names.push(name); nameId.set(name, id); }
    return id;
  });
  const kind = Uint8Array.from(side.codeRip, (rip, id) => kindOf(rip, side.codeBytes[id]!));
  // what a call to each code row counts as (a PLT stub: the function it jumps to, as in the calls table)
  const callee = Array.from(side.codeRip, (rip) => side.symbols.callee(rip) ?? nameOf(side, rip));
  const steps = new Float64Array(names.length + 1);
  const nodes: CallNode[] = [];
  const open: CallNode[] = [];
  let pendingCall = false, seq = 0;
  const t = side.insns.batches;
  for (let b = 0; b < t.batches; b++) {
    const cols = t.batch(b);
    const code = cols.ints('code') as Uint32Array, cpl = cols.ints('cpl'), faulted = cols.ints('faulted'), rip = cols.words('rip');
    for (let i = 0; i < cols.length; i++, seq++) {
      const c = code[i]!;
      const f = c === NO_CODE ? names.length : fn[c]!;
      steps[f] = steps[f]! + 1;
      if (pendingCall) {
        pendingCall = false;
        const name = c === NO_CODE ? nameOf(side, BigInt(rip[2 * i]!) | (BigInt(rip[2 * i + 1]!) << 32n)) : callee[c]!;
        const node: CallNode = { name, depth: open.length, seq: seq - 1, end: -1 };
        nodes.push(node);
        open.push(node);
      }
      if (c === NO_CODE || cpl[i] !== 3) continue;
      const k = kind[c]!;
      if (k & Kind.CALL) pendingCall = faulted[i] === 0;
      else if (k & Kind.RET) { const n = open.pop(); if (n !== undefined) n.end = seq; }
    }
  }
  for (const n of open) n.end = seq - 1;
  const stepMap = new Map<string, number>();
  names.forEach((name, i) => { if (steps[i]! > 0) stepMap.set(name, steps[i]!); });
  if (steps[names.length]! > 0) stepMap.set('(fetch faulted)', steps[names.length]!);
  const calls = new Map<string, number>();
  for (const n of nodes) calls.set(n.name, (calls.get(n.name) ?? 0) + 1);
  return { steps: stepMap, calls, nodes };
}
