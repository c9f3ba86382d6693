// The basic-block compiler: turns a hot block into one JavaScript function (via `new Function`) that runs
// all of its instructions, with the interpreter's handler called for any instruction it has no emitter for.
// Flags an instruction writes are only stored when a later reader could see them: flag liveness is computed
// backwards over the block, and every instruction that may fault (memory, fallbacks) counts as a reader so a
// fault always sees precise flags. Before the last instruction the function adds the others to c.icount and
// c.budget (as the interpreter does); it returns the completed instructions not yet accounted. When an
// instruction faults it records that instruction's index in `c.jitIndex` and rethrows.
import { Mnemonic } from 'iced-x86';
import { OpType } from '../decoded.js';
import type { Block, Cpu } from '../cpu.js';
import { Fault, Vector } from '../fault.js';
import { getFlags, testCondition } from '../flags.js';
import { Off } from '../state.js';
import { EMITTERS, mulhi } from './emit-ops.js';
import { Emitter } from './emitter.js';

/** A compiled block: runs the whole block, returns completed instructions not yet accounted. */
export type CompiledBlock = (c: Cpu) => number;

const OSZAPC = 0x8d5;
const RIP = Off.RIP >> 2;

function gp0(): never {
  throw new Fault(Vector.GP, 0, 0, 0, 'non-canonical return address');
}

/** Instructions compiled natively vs. left to handlers (statistics). */
export const jitStats = { blocks: 0, emitted: 0, fallbacks: 0 };

/** Compile a block, or return null if nothing in it benefits. */
export function compileBlock(blk: Block): CompiledBlock | null {
  const insns = blk.insns, n = insns.length;
  // opaque: handled by the interpreter's handler (may read any flag, may fault); grows if an emitter declines
  const opaque = insns.map((d) => !EMITTERS.has(d.mnemonic));
  for (;;) {
    const res = emitBlock(blk, opaque);
    if (res.declined < 0) return finish(blk, res.e, res.native, n);
    opaque[res.declined] = true;
  }
}

/** Instructions with an implicit stack access. */
const STACK_OPS = new Set([Mnemonic.Push, Mnemonic.Pop, Mnemonic.Call, Mnemonic.Ret]);

function emitBlock(blk: Block, opaque: boolean[]): { e: Emitter; native: number; declined: number } {
  const insns = blk.insns, n = insns.length, last = n - 1;
  // backward flag liveness: anything that may fault, and anything opaque, sees all flags
  const liveAfter: number[] = new Array<number>(n);
  let live = OSZAPC;
  for (let k = last; k >= 0; k--) {
    const d = insns[k]!;
    liveAfter[k] = live;
    live = (live & ~d.flagsWritten) | d.flagsRead;
    if (opaque[k] || d.ops.some((t) => t === OpType.MEM) || STACK_OPS.has(d.mnemonic)) live = OSZAPC;
  }
  const e = new Emitter();
  let native = 0;
  for (let k = 0; k < n; k++) {
    const d = insns[k]!;
    if (k === last) {
      e.emit(`r[${RIP}] = ${blk.endLo >>> 0}; r[${RIP + 1}] = ${blk.endHi >>> 0};`);
      if (last > 0) e.emit(`c.icount += ${last}; c.budget -= ${last};`); // exact counts for the last instruction
    }
    e.emit(`k = ${k};`);
    if (d.flagsWritten !== 0) e.flagSource = null;
    e.flagsLive = (liveAfter[k]! & d.flagsWritten) !== 0;
    if (!opaque[k]) {
      if (EMITTERS.get(d.mnemonic)!(e, d)) { native++; continue; }
      return { e, native, declined: k };
    }
    e.emit(`x[${k}](c);`);
    if (k !== last) e.emit(`if (c.brk) { if (c.exit.reason < 0) { r[${RIP}] = ${d.nextLo >>> 0}; r[${RIP + 1}] = ${d.nextHi >>> 0}; } return ${k + 1}; }`);
  }
  return { e, native, declined: -1 };
}

function finish(blk: Block, e: Emitter, native: number, n: number): CompiledBlock | null {
  if (native === 0) return null;
  jitStats.blocks++; jitStats.emitted += native; jitStats.fallbacks += n - native;
  const body = `return function block(c) {
  const r = c.r, u8 = c.s.u8, u16 = c.s.u16;
  let k = 0;
  try {
    ${e.lines.join('\n    ')}
  } catch (err) { c.jitIndex = k; throw err; }
  return 1;
};`;
  const factory = new Function('x', 'testCondition', 'getFlags', 'mulhi', 'gp0', body) as
    (x: Block['execs'], tc: typeof testCondition, gf: typeof getFlags, mh: typeof mulhi, g: typeof gp0) => CompiledBlock;
  return factory(blk.execs, testCondition, getFlags, mulhi, gp0);
}
