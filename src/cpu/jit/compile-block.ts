// The basic-block compiler: turns a hot block into one JavaScript function (via `new Function`) that runs
// all of its instructions, with the interpreter's handler called for any instruction it has no emitter for.
// Flags an instruction writes are only stored when a later reader could see them: flag liveness is computed
// backwards over the block, and every instruction that may fault (memory, fallbacks) counts as a reader so a
// fault always sees precise flags. Before the last instruction the function adds the others to c.icount and
// c.budget (as the interpreter does); it returns the completed instructions not yet accounted. When an
// instruction faults it records that instruction's index in `c.jitIndex` and rethrows.
// In logging mode (compileLoggingBlock, used while recording) every flag is live, each instruction is followed
// by the compare-and-log of the registers it can write, the index of each instruction is stored in c.jitIndex
// before it runs (no try/catch), and the caller does the step accounting.
import { Mnemonic } from 'iced-x86';
import { Decoded, OpType } from '../decoded.js';
import type { Block, Cpu } from '../cpu.js';
import { Fault, Vector } from '../fault.js';
import { getFlags, PARITY, testCondition } from '../flags.js';
import { Off } from '../state.js';
import { EMITTERS, mulhi } from './emit-ops.js';
import { Emitter } from './emitter.js';
import type { LoggedRows, StepLog } from '../step-log.js';
import { Tier } from '../step-log.js';
import { writtenState, writtenTier } from '../written-state.js';
import { logFlagsStatements } from './log-flags.js';
import { takesHostValue } from '../table.js';

/** A compiled block: runs the whole block, returns completed instructions not yet accounted. */
export type CompiledBlock = (c: Cpu) => number;

const OSZAPC = 0x8d5;
const RIP = Off.RIP >> 2;

function gp0(): never {
  throw new Fault(Vector.GP, 0, 0, 0, 'non-canonical return address');
}

/** Instructions compiled natively vs. left to handlers (statistics). */
export const jitStats = { blocks: 0, emitted: 0, fallbacks: 0, logged: 0 };

/** Compile a block, or return null if nothing in it benefits. */
export function compileBlock(blk: Block): CompiledBlock | null {
  const insns = blk.insns, n = insns.length;
  // opaque: handled by the interpreter's handler (may read any flag, may fault); grows if an emitter declines
  const opaque = insns.map((d) => !EMITTERS.has(d.mnemonic));
  for (;;) {
    const res = emitBlock(blk, opaque, null);
    if (res.declined < 0) return finish(blk, res.e, res.native, n);
    opaque[res.declined] = true;
  }
}

/**
 * A compiled logging block: runs the first `rows.count` instructions of a block and logs their register changes
 * into a StepLog (memory accesses go to the StepLog as the processor's MemLog); returns the instructions
 * completed (fewer than rows.count when one ended the block early). The caller appends the insns rows, keeps
 * the step counts and handles a fault (c.jitIndex = the faulting instruction, whose rows are not logged).
 */
export interface LoggingBlock {
  /** The compiled code. */
  readonly run: (c: Cpu, log: StepLog) => number;
  /** The insns rows of the instructions it runs. */
  readonly rows: LoggedRows;
}

/**
 * Compile the recordable prefix of a block for recording: every instruction up to the first that may switch
 * rings or touch system state (stepped one by one with the recorder's hook). A REP string instruction ends its
 * block, so it runs last; with the monitor trap flag it does one iteration (one step) per execution and leaves
 * RIP on itself while iterations remain. Null if the prefix is empty.
 */
export function compileLoggingBlock(blk: Block, log: StepLog): LoggingBlock | null {
  const insns = blk.insns;
  let m = 0;
  while (m < insns.length && (writtenTier(insns[m]!) & Tier.ALL) === 0) m++;
  if (m === 0) return null;
  const opaque = insns.map((d) => !EMITTERS.has(d.mnemonic));
  let res: ReturnType<typeof emitBlock>;
  for (;;) {
    res = emitBlock(blk, opaque, { log, count: m });
    if (res.declined < 0) break;
    opaque[res.declined] = true;
  }
  const rows: LoggedRows = { count: m, rip: new Uint32Array(2 * m), length: new Uint8Array(m), code: new Uint32Array(m) };
  for (let k = 0; k < m; k++) {
    const d = insns[k]!;
    rows.rip[2 * k] = d.ipLo; rows.rip[2 * k + 1] = d.ipHi; rows.length[k] = d.length; rows.code[k] = log.codeOf(d);
  }
  jitStats.logged++;
  // no try/catch (it would give every call in the block an exception edge): the index of the instruction that
  // may fault is in c.jitIndex already
  const body = `return function loggedBlock(c, L) {
  const r = c.r, u8 = c.s.u8, u16 = c.s.u16, h = L.shadow, s = L.seq;
  ${res.e.lines.join('\n  ')}
  return ${m};
};`;
  return { run: instantiate<LoggingBlock['run']>(blk, body), rows };
}

/** What generated code may call besides the block's handlers (`x`), by the names it uses. */
const RUNTIME = { testCondition, getFlags, mulhi, gp0, PARITY };

/** Create the function of a generated body (`return function ...`) over the block's handlers and RUNTIME. */
function instantiate<F>(blk: Block, body: string): F {
  const factory = new Function('x', ...Object.keys(RUNTIME), body) as (...args: unknown[]) => F;
  return factory(blk.execs, ...Object.values(RUNTIME));
}

/** Tier bits of registers beyond the GPRs and RFLAGS. */
const TIER_WIDE = Tier.MXCSR | Tier.X87 | Tier.ALL;

/**
 * Statements logging what instruction `k` changed: the GPRs it can write (written-state.ts) compared with the
 * shadow, and RFLAGS if it writes flags (computed from the emitter's locals when `emitted` and it left them), or
 * the recorder's compare of its tier when it may write more than GPRs and flags (XMM, MXCSR, x87).
 */
function emitLogCompare(e: Emitter, d: Decoded, k: number, tier: number, emitted: boolean): void {
  if ((tier & TIER_WIDE) !== 0 || tier >= Tier.XMM0) { e.emit(`L.compare(s + ${k}, ${tier});`); return; }
  compareGprs(e, writtenState(d).gprs, k);
  if ((tier & Tier.FLAGS) === 0) return;
  const inline = emitted && e.flagSource !== null ? logFlagsStatements(e.flagSource, `s + ${k}`) : null;
  e.emit(inline ?? `L.flags(s + ${k});`);
}

/** GPR compare-and-log statements for the registers in `mask` after instruction `k`. */
function compareGprs(e: Emitter, mask: number, k: number): void {
  for (let g = 0; g < 16; g++) {
    if (((mask >>> g) & 1) === 0) continue;
    const lo = 2 * g, hi = lo + 1;
    e.emit(`if (r[${lo}] !== h[${lo}] || r[${hi}] !== h[${hi}]) L.gpr(s + ${k}, ${g});`);
  }
}

/** Instructions with an implicit stack access. */
const STACK_OPS = new Set([Mnemonic.Push, Mnemonic.Pop, Mnemonic.Call, Mnemonic.Ret]);

/** Logging mode: the StepLog and how many instructions (a prefix of the block) to compile. */
interface LogMode { log: StepLog; count: number }

function emitBlock(blk: Block, opaque: boolean[], logMode: LogMode | null): { e: Emitter; native: number; declined: number } {
  const insns = blk.insns, last = insns.length - 1, n = logMode === null ? insns.length : logMode.count;
  // backward flag liveness: anything that may fault, and anything opaque, sees all flags (and logging sees
  // every flag an instruction writes)
  const liveAfter: number[] = new Array<number>(n);
  let live = OSZAPC;
  for (let k = n - 1; k >= 0; k--) {
    const d = insns[k]!;
    liveAfter[k] = live;
    live = (live & ~d.flagsWritten) | d.flagsRead;
    if (logMode !== null || opaque[k] || d.ops.some((t) => t === OpType.MEM) || STACK_OPS.has(d.mnemonic)) live = OSZAPC;
  }
  const e = new Emitter();
  let native = 0;
  for (let k = 0; k < n; k++) {
    const d = insns[k]!;
    if (k === last) {
      e.emit(`r[${RIP}] = ${blk.endLo >>> 0}; r[${RIP + 1}] = ${blk.endHi >>> 0};`);
      // exact counts for the last instruction (logging blocks never hold the instructions that read them)
      if (last > 0 && logMode === null) e.emit(`c.icount += ${last}; c.budget -= ${last};`);
    }
    e.emit(logMode !== null ? `c.jitIndex = ${k};` : `k = ${k};`);
    // the recorder needs the step's seq for its memory rows and for the input row of a host value (RDRAND)
    const touchesMemory = opaque[k] || d.mem !== undefined || STACK_OPS.has(d.mnemonic);
    if (logMode !== null && (touchesMemory || takesHostValue(d.code))) e.emit(`L.seq = s + ${k};`);
    if (d.flagsWritten !== 0) e.flagSource = null;
    e.flagsLive = (liveAfter[k]! & d.flagsWritten) !== 0;
    if (!opaque[k]) {
      if (!EMITTERS.get(d.mnemonic)!(e, d)) return { e, native, declined: k };
      native++;
      if (logMode !== null) emitLogCompare(e, d, k, writtenTier(d), true);
      continue;
    }
    e.emit(`x[${k}](c);`);
    if (logMode !== null) emitLogCompare(e, d, k, writtenTier(d), false);
    if (k !== last) e.emit(`if (c.brk) { if (c.exit.reason < 0) { r[${RIP}] = ${d.nextLo >>> 0}; r[${RIP + 1}] = ${d.nextHi >>> 0}; } return ${k + 1}; }`);
  }
  // a logging prefix that stops before the block's end leaves RIP at the next instruction
  if (n <= last) e.emit(`r[${RIP}] = ${insns[n]!.ipLo >>> 0}; r[${RIP + 1}] = ${insns[n]!.ipHi >>> 0};`);
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
  return instantiate<CompiledBlock>(blk, body);
}
