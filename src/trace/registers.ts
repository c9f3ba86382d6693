// Register numbers of the `regs` table: every architectural field of the processor state, each with its name,
// its offset in the state buffer and its width. The recorder compares these fields after each step; the
// replayer and `trace query` translate numbers to names with this table.
import { Off } from '../cpu/state.js';

/** One register of the trace. */
export interface RegisterSlot {
  /** Number stored in regs.reg. */
  readonly id: number;
  /** Lower-case name (as in SQL and `trace step --regs`). */
  readonly name: string;
  /** Byte offset in the state buffer. */
  readonly off: number;
  /** Width in bytes: 4 or 8 (narrower fields are stored zero-extended in a 4-byte slot). */
  readonly bytes: 4 | 8;
  /** Which comparison tier covers it: 'gpr' every step, 'flags' when flags are written, 'sse', 'x87', 'system'. */
  readonly tier: 'gpr' | 'flags' | 'sse' | 'x87' | 'system';
}

const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

function build(): RegisterSlot[] {
  const out: RegisterSlot[] = [];
  const add = (name: string, off: number, bytes: 4 | 8, tier: RegisterSlot['tier']): void => { out.push({ id: out.length, name, off, bytes, tier }); };
  GPR_NAMES.forEach((n, i) => add(n, Off.GPR + 8 * i, 8, 'gpr'));
  add('rip', Off.RIP, 8, 'system'); // not logged: the next step's insns.rip
  add('rflags', Off.RFLAGS, 4, 'flags');
  SEG_NAMES.forEach((n, i) => add(n, Off.SEL + 4 * i, 4, 'system'));
  const sys: [string, number, 4 | 8][] = [
    ['fs_base', Off.FS_BASE, 8], ['gs_base', Off.GS_BASE, 8], ['kernel_gs_base', Off.KERNEL_GS_BASE, 8],
    ['cr0', Off.CR0, 8], ['cr2', Off.CR2, 8], ['cr3', Off.CR3, 8], ['cr4', Off.CR4, 8], ['efer', Off.EFER, 8],
    ['star', Off.STAR, 8], ['lstar', Off.LSTAR, 8], ['cstar', Off.CSTAR, 8], ['sfmask', Off.SFMASK, 8],
    ['tsc', Off.TSC, 8], ['tsc_aux', Off.TSC_AUX, 8], ['gdtr_base', Off.GDTR_BASE, 8], ['gdtr_limit', Off.GDTR_LIMIT, 4],
    ['idtr_limit', Off.IDTR_LIMIT, 4], ['idtr_base', Off.IDTR_BASE, 8], ['tr_base', Off.TR_BASE, 8], ['tr', Off.TR_SEL, 4],
    ['tr_limit', Off.TR_LIMIT, 4], ['cpl', Off.CPL, 4], ['halted', Off.HALTED, 4], ['int_shadow', Off.INT_SHADOW, 4],
    ['pat', Off.PAT, 8], ['cr8', Off.CR8, 4],
  ];
  for (const [n, o, b] of sys) add(n, o, b, 'system');
  add('mxcsr', Off.MXCSR, 4, 'sse');
  for (let i = 0; i < 16; i++) { add(`xmm${i}_lo`, Off.XMM + 16 * i, 8, 'sse'); add(`xmm${i}_hi`, Off.XMM + 16 * i + 8, 8, 'sse'); }
  const x87: [string, number, 4 | 8][] = [['fcw', Off.FCW, 4], ['fsw', Off.FSW, 4], ['ftop', Off.FTOP, 4], ['ftag', Off.FTAG, 4],
    ['fop', Off.FOP, 4], ['fip', Off.FIP, 8], ['fdp', Off.FDP, 8]];
  for (const [n, o, b] of x87) add(n, o, b, 'x87');
  for (let i = 0; i < 8; i++) { add(`fpr${i}_mant`, Off.ST + 16 * i, 8, 'x87'); add(`fpr${i}_se`, Off.ST + 16 * i + 8, 4, 'x87'); }
  // added after the version-3 registers (ids stay stable): the YMM upper halves (bits 191:128 and 255:192) and XCR0
  for (let i = 0; i < 16; i++) { add(`ymm${i}_h_lo`, Off.YMMH + 16 * i, 8, 'sse'); add(`ymm${i}_h_hi`, Off.YMMH + 16 * i + 8, 8, 'sse'); }
  add('xcr0', Off.XCR0, 8, 'system');
  return out;
}

/** All registers, indexed by id. */
export const REGISTERS: readonly RegisterSlot[] = build();

/** Register id of RFLAGS. */
export const RFLAGS_ID = 17;
/** Register id of RIP (never logged in regs). */
export const RIP_ID = 16;

/** The id of a register name, or undefined. */
export function registerId(name: string): number | undefined {
  return REGISTERS.find((r) => r.name === name.toLowerCase())?.id;
}
