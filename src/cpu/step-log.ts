// What a recorder offers the processor so that hot blocks can be recorded without a per-step callback: compiled
// logging blocks (jit/compile-block.ts, logging mode) compare the registers each instruction writes against the
// recorder's shadow copy and log the changes themselves, memory accesses reach the recorder as its MemLog, and
// the run loop appends the blocks' insns rows from a per-block template.
import type { Decoded } from './decoded.js';
import type { MemLog } from './mem-log.js';

/** The insns-row template of a compiled logging block: one entry per instruction it runs. */
export interface LoggedRows {
  /** Instructions the compiled code runs (a prefix of the block). */
  readonly count: number;
  /** RIP of each instruction, lo/hi pairs. */
  readonly rip: Uint32Array;
  /** Length of each instruction in bytes. */
  readonly length: Uint8Array;
  /** Code-table id of each instruction. */
  readonly code: Uint32Array;
}

/** A recorder that compiled blocks log into. */
export interface StepLog extends MemLog {
  /** The step being executed (its number is the seq of the rows it logs). */
  seq: number;
  /** Steps before this seq may run without the per-step hook (checkpoints, progress, limits are due there). */
  quietUntil: number;
  /** Register values as of the last logged step (the 32-bit state layout). */
  readonly shadow: Uint32Array;
  /**
   * GPR `n` (0..15, which is also its register id) differs from the shadow after step `seq`: log its value and
   * update the shadow (only small integers cross the call, so no number is boxed).
   */
  gpr(seq: number, n: number): void;
  /** Materialise RFLAGS and log it for step `seq` if it differs from the shadow. */
  flags(seq: number): void;
  /** Log RFLAGS of step `seq` as changed to `value` (materialised and in the shadow already). */
  rflags(seq: number, value: number): void;
  /** Compare the registers of `tier` with the shadow and log the changes of step `seq`. */
  compare(seq: number, tier: number): void;
  /** The code-table id of instruction `d` (assigned on first use). */
  codeOf(d: Decoded): number;
  /** Append the insns rows of the first `n` instructions of a template and advance seq past them. */
  rows(t: LoggedRows, n: number): void;
}

/**
 * Register groups an instruction can change (written-state.ts; cached as Decoded.logTier): GPR alone is 0; the
 * bits add RFLAGS, MXCSR, the x87 state, or everything (system state: the instruction may also switch rings);
 * XMM register n is the bit XMM0 << n (bits 16..31, so a tier is a non-negative number below 2^32, not an int32).
 */
export const enum Tier { GPR = 0, FLAGS = 1, MXCSR = 2, X87 = 4, ALL = 8, XMM0 = 0x10000 }
