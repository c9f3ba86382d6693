// Miscellaneous instructions: NOPs and hints (multi-byte NOP, PAUSE, fences, prefetches), flag bits
// (CLC STC CMC CLD STD), UD0/UD1/UD2, INT3 and INT n, CPUID, RDTSC/RDTSCP, RDRAND, XGETBV.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { cpuid } from '../cpuid.js';
import { Decoded, OpType } from '../decoded.js';
import { deliverEvent } from '../deliver.js';
import { Fault, gp, ud, Vector } from '../fault.js';
import { getFlags, setStatusFlags } from '../flags.js';
import { HostValue } from '../host-values.js';
import { regOf } from '../operands.js';
import { Fl, Off } from '../state.js';
import { Implicit } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { VENDOR_TABLE } from '../vendor-model.js';

const RF = Off.RFLAGS >> 2;
const CR4_TSD = 1 << 2;
const CR4_OSXSAVE = 1 << 18;

/** VM-exit reasons (SDM vol. 3C appendix C) raised here. */
const enum Exit { EXCEPTION_OR_NMI = 0, CPUID = 10, RDTSC = 16, RDTSCP = 51 }

const nop: Builder = () => () => {};

// ---- flag bits ------------------------------------------------------------------------------------

/** CLC/STC/CMC: CF := 0 / 1 / NOT CF; the other flags are kept. */
function carry(op: 0 | 1 | 2): Builder {
  return () => (c) => {
    const f = getFlags(c.r);
    c.r[RF] = (op === 0 ? f & ~Fl.CF : op === 1 ? f | Fl.CF : f ^ Fl.CF) >>> 0;
  };
}

/** CLD/STD: DF is never lazy, so RFLAGS can be written directly. */
function direction(set: boolean): Builder {
  return () => set ? (c) => { c.r[RF] = (c.r[RF]! | Fl.DF) >>> 0; } : (c) => { c.r[RF] = (c.r[RF]! & ~Fl.DF) >>> 0; };
}

// ---- software interrupts --------------------------------------------------------------------------

/** INT3: #BP as a trap (saved RIP = next instruction); an exit when the exception bitmap selects #BP. */
function int3(d: Decoded): Exec {
  return (c) => {
    if ((c.controls.exceptionBitmap >>> Vector.BP) & 1) {
      c.lastFault = new Fault(Vector.BP);
      c.vmexit(Exit.EXCEPTION_OR_NMI, d, Vector.BP);
      return;
    }
    deliverEvent(c, Vector.BP, undefined, true);
  };
}

/** INT imm8: software interrupt through the IDT (gate DPL checked against CPL). */
function intN(d: Decoded): Exec {
  const vector = d.immLo & 0xff;
  return (c) => deliverEvent(c, vector, undefined, true);
}

// ---- CPUID, TSC, RDRAND ---------------------------------------------------------------------------

function cpuidOp(d: Decoded): Exec {
  return (c) => {
    if (c.controls.cpuidExiting) { c.vmexit(Exit.CPUID, d); return; }
    const r = c.r;
    const [a, b, cx, dx] = cpuid(r[0]!, r[2]!, { level: c.level, osxsave: (r[Off.CR4 >> 2]! & CR4_OSXSAVE) !== 0, xcr0: r[Off.XCR0 >> 2]! });
    r[0] = a; r[1] = 0; r[6] = b; r[7] = 0; r[2] = cx; r[3] = 0; r[4] = dx; r[5] = 0;
  };
}

/** EDX:EAX := the TSC (a host value, Cpu.host); RDTSCP also ECX := IA32_TSC_AUX[31:0]. */
function rdtsc(withAux: boolean): Builder {
  return (d) => (c: Cpu) => {
    const r = c.r;
    if ((r[Off.CR4 >> 2]! & CR4_TSD) && c.cpl !== 0) gp(0, 'RDTSC with CR4.TSD set at CPL > 0');
    if (c.controls.rdtscExiting) { c.vmexit(withAux ? Exit.RDTSCP : Exit.RDTSC, d); return; }
    const lo = c.host.value(c, withAux ? HostValue.TSCP : HostValue.TSC, 8);
    r[0] = lo; r[1] = 0; r[4] = c.hi; r[5] = 0;
    if (withAux) { r[2] = r[Off.TSC_AUX >> 2]!; r[3] = 0; }
  };
}

/** RDRAND r16/r32/r64: a random value (a host value, Cpu.host), CF := 1, OF SF ZF AF PF := 0. */
function rdrand(d: Decoded): Exec {
  const ref = regOf(d, 0), k = ref.n << 1, size = ref.size;
  return (c) => {
    const lo = c.host.value(c, HostValue.RANDOM, size);
    if (size === 8) { c.r[k] = lo; c.r[k + 1] = c.hi; }
    else if (size === 4) { c.r[k] = lo; c.r[k + 1] = 0; }
    else c.s.u16[k << 1] = lo;
    setStatusFlags(c.r, Fl.CF);
  };
}

const NOPS = [
  Code.Nopw, Code.Nopd, Code.Nopq, Code.Nop_rm16, Code.Nop_rm32, Code.Nop_rm64, Code.Pause,
  Code.Lfence, Code.Lfence_E9, Code.Lfence_EA, Code.Lfence_EB, Code.Lfence_EC, Code.Lfence_ED, Code.Lfence_EE, Code.Lfence_EF,
  Code.Mfence, Code.Mfence_F1, Code.Mfence_F2, Code.Mfence_F3, Code.Mfence_F4, Code.Mfence_F5, Code.Mfence_F6, Code.Mfence_F7,
  Code.Sfence, Code.Sfence_F9, Code.Sfence_FA, Code.Sfence_FB, Code.Sfence_FC, Code.Sfence_FD, Code.Sfence_FE, Code.Sfence_FF,
  // prefetches are hints: no access, no fault
  Code.Prefetchnta_m8, Code.Prefetcht0_m8, Code.Prefetcht1_m8, Code.Prefetcht2_m8, Code.Prefetchw_m8, Code.Prefetch_m8,
  Code.Prefetchwt1_m8, Code.Prefetchit0_m8, Code.Prefetchit1_m8, Code.Prefetchreserved3_m8, Code.Prefetchreserved4_m8,
  Code.Prefetchreserved5_m8, Code.Prefetchreserved6_m8, Code.Prefetchreserved7_m8,
  // CET is not advertised: ENDBR and RDSSP (both in the 0F 1E hint space) execute as NOPs (glibc relies on
  // it); INCSSP (0F AE /5) is #UD below
  Code.Endbr64, Code.Endbr32, Code.Rdsspd_r32, Code.Rdsspq_r64,
  // CLDEMOTE is a hint that executes as a NOP where it is not supported
  Code.Cldemote_m8,
  // reserved-NOP hint space 0F 18..0F 1F (0F 0D is vendor-dependent: reservedNop0F0D below)
  Code.Reservednop_rm16_r16_0F18, Code.Reservednop_rm32_r32_0F18, Code.Reservednop_rm64_r64_0F18,
  Code.Reservednop_rm16_r16_0F19, Code.Reservednop_rm32_r32_0F19, Code.Reservednop_rm64_r64_0F19,
  Code.Reservednop_rm16_r16_0F1A, Code.Reservednop_rm32_r32_0F1A, Code.Reservednop_rm64_r64_0F1A,
  Code.Reservednop_rm16_r16_0F1B, Code.Reservednop_rm32_r32_0F1B, Code.Reservednop_rm64_r64_0F1B,
  Code.Reservednop_rm16_r16_0F1C, Code.Reservednop_rm32_r32_0F1C, Code.Reservednop_rm64_r64_0F1C,
  Code.Reservednop_rm16_r16_0F1D, Code.Reservednop_rm32_r32_0F1D, Code.Reservednop_rm64_r64_0F1D,
  Code.Reservednop_rm16_r16_0F1E, Code.Reservednop_rm32_r32_0F1E, Code.Reservednop_rm64_r64_0F1E,
  Code.Reservednop_rm16_r16_0F1F, Code.Reservednop_rm32_r32_0F1F, Code.Reservednop_rm64_r64_0F1F,
];

/**
 * 0F 0D /r: the memory forms are prefetch hints on every vendor; the register form follows the CPU
 * model (VENDOR_TABLE.reservedNop0F0DRegister: a NOP as on Intel, #UD as on AMD).
 */
const reservedNop0F0D: Builder = (d) =>
  d.ops[0] === OpType.REG && VENDOR_TABLE.reservedNop0F0DRegister.model === 'ud'
    ? () => ud('0F 0D with a register operand (PREFETCH group)')
    : () => {};

/** misc family handlers keyed by iced Code. */
export const miscOps: OpMap = {
  ...Object.fromEntries(NOPS.map((k) => [k, nop])),
  ...Object.fromEntries(VENDOR_TABLE.reservedNop0F0DRegister.codes().map((k) => [k, reservedNop0F0D])),
  [Code.Clc]: carry(0), [Code.Stc]: carry(1), [Code.Cmc]: carry(2),
  [Code.Cld]: direction(false), [Code.Std]: direction(true),
  [Code.Ud2]: () => () => ud('UD2'),
  [Code.Ud0]: () => () => ud('UD0'), [Code.Ud0_r16_rm16]: () => () => ud('UD0'),
  [Code.Ud0_r32_rm32]: () => () => ud('UD0'), [Code.Ud0_r64_rm64]: () => () => ud('UD0'),
  [Code.Ud1_r16_rm16]: () => () => ud('UD1'), [Code.Ud1_r32_rm32]: () => () => ud('UD1'),
  [Code.Ud1_r64_rm64]: () => () => ud('UD1'),
  [Code.Incsspd_r32]: () => () => ud('INCSSP with CET disabled'), [Code.Incsspq_r64]: () => () => ud('INCSSP with CET disabled'),
  // software interrupts deliver through the IDT (a ring switch)
  [Code.Int3]: { build: int3, ends: true, writes: Implicit.SYSTEM },
  [Code.Int_imm8]: { build: intN, ends: true, writes: Implicit.SYSTEM },
  [Code.Cpuid]: { build: cpuidOp, ends: true },
  [Code.Rdtsc]: { build: rdtsc(false), ends: true, host: true },
  [Code.Rdtscp]: { build: rdtsc(true), ends: true, host: true },
  [Code.Rdrand_r16]: { build: rdrand, host: true }, [Code.Rdrand_r32]: { build: rdrand, host: true },
  [Code.Rdrand_r64]: { build: rdrand, host: true },
};
