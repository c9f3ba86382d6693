// The shape of the instruction table's entries (table.ts), apart from the table itself so that family files can
// use its helpers without importing the table that imports them.
import type { Code } from 'iced-x86';
import type { Builder } from './cpu.js';

/** One table entry. */
export interface OpSpec {
  /** Builds the handler for a decoded instance. */
  build: Builder;
  /** The instruction must end its block even though iced reports sequential flow (mode, paging or exit effects). */
  ends?: boolean;
  /**
   * State the instruction writes that iced's instruction info does not report (Implicit bits): the processor's
   * own facts, read by written-state.ts together with iced's.
   */
  writes?: number;
  /**
   * Builds the handler under a CPU model below the instruction's (Decoded.level) when its encoding means another
   * instruction there (TZCNT is BSF without BMI1); without it such a model raises #UD.
   */
  below?: Builder;
  /** The instruction takes a value from the host (Cpu.host: RDTSC, RDTSCP, RDRAND), which a recording logs as an input. */
  host?: boolean;
}

/** State written beyond iced's register usage (OpSpec.writes). */
export const enum Implicit {
  /** MXCSR (its exception flags, or all of it). */
  MXCSR = 1,
  /** Every XMM register (FXRSTOR). */
  XMM = 2,
  /** The x87 state: stack top, tags, status and control words, last instruction and operand pointers, registers. */
  X87 = 4,
  /** System state: segment and descriptor-table registers, MSRs, control registers, CPL, HALTED (or anything). */
  SYSTEM = 8,
  /** RFLAGS, where iced reports no modified flag for some operand values although the processor writes one. */
  FLAGS = 16,
}

/** A family's part of the table, keyed by iced `Code`. */
export type OpMap = Partial<Record<Code, Builder | OpSpec>>;

/** `map` with `writes` added to every entry (for families whose every instruction changes that state). */
export function withWrites(writes: number, map: OpMap): OpMap {
  const out: OpMap = {};
  for (const [k, v] of Object.entries(map) as [string, Builder | OpSpec][]) {
    const spec: OpSpec = typeof v === 'function' ? { build: v } : v;
    (out as Record<string, OpSpec>)[k] = { ...spec, writes: (spec.writes ?? 0) | writes };
  }
  return out;
}
