// Model-specific registers reachable with RDMSR/WRMSR (SDM vol. 4): the long-mode MSRs that live in the
// state buffer, plus the few an operating system reads or writes at boot (APIC base, PAT, misc enable).
// Any other MSR number raises #GP(0), as on hardware for an MSR the processor does not have.
import type { Cpu } from './cpu.js';
import { gp } from './fault.js';
import { isCanonical } from './mmu.js';
import { Off } from './state.js';

/** MSR numbers the processor implements. */
export const enum Msr {
  TSC = 0x10, // IA32_TIME_STAMP_COUNTER
  APIC_BASE = 0x1b, // IA32_APIC_BASE (constant: BSP, xAPIC enabled at 0xFEE00000)
  MISC_ENABLE = 0x1a0, // IA32_MISC_ENABLE (constant: fast strings)
  PAT = 0x277, // IA32_PAT
  EFER = 0xc0000080, // IA32_EFER
  STAR = 0xc0000081, // IA32_STAR
  LSTAR = 0xc0000082, // IA32_LSTAR
  CSTAR = 0xc0000083, // IA32_CSTAR
  FMASK = 0xc0000084, // IA32_FMASK
  FS_BASE = 0xc0000100, // IA32_FS_BASE
  GS_BASE = 0xc0000101, // IA32_GS_BASE
  KERNEL_GS_BASE = 0xc0000102, // IA32_KERNEL_GS_BASE
  TSC_AUX = 0xc0000103, // IA32_TSC_AUX
}

/** IA32_EFER bits. */
export const enum Efer { SCE = 1 << 0, LME = 1 << 8, LMA = 1 << 10, NXE = 1 << 11 }

/** Value IA32_APIC_BASE reads as: base 0xFEE00000, global enable (bit 11), bootstrap processor (bit 8). */
export const APIC_BASE_VALUE = 0xfee00900;
/** Value IA32_MISC_ENABLE reads as: fast-string enable (bit 0). */
export const MISC_ENABLE_VALUE = 0x1;
/** IA32_PAT after reset (SDM 13.12.4): WB WT UC- UC, twice. */
export const PAT_RESET_LO = 0x00070406;
export const PAT_RESET_HI = 0x00070406;

const CR0_PG = 0x80000000;

/** State-buffer offset of an MSR that is a plain 64-bit field, or -1. */
function fieldOf(msr: number): number {
  switch (msr) {
    case Msr.TSC: return Off.TSC;
    case Msr.STAR: return Off.STAR;
    case Msr.LSTAR: return Off.LSTAR;
    case Msr.CSTAR: return Off.CSTAR;
    case Msr.FMASK: return Off.SFMASK;
    case Msr.FS_BASE: return Off.FS_BASE;
    case Msr.GS_BASE: return Off.GS_BASE;
    case Msr.KERNEL_GS_BASE: return Off.KERNEL_GS_BASE;
    case Msr.TSC_AUX: return Off.TSC_AUX;
    case Msr.EFER: return Off.EFER;
    default: return -1;
  }
}

/** RDMSR: the value of MSR `msr` (lo returned, hi left in c.hi), or #GP(0) for an unknown MSR. */
export function readMsr(c: Cpu, msr: number): number {
  msr >>>= 0;
  const f = fieldOf(msr);
  if (f >= 0) { c.hi = c.r[(f >> 2) + 1]!; return c.r[f >> 2]!; }
  switch (msr) {
    case Msr.APIC_BASE: c.hi = 0; return APIC_BASE_VALUE;
    case Msr.MISC_ENABLE: c.hi = 0; return MISC_ENABLE_VALUE;
    case Msr.PAT: { c.hi = c.r[(Off.PAT >> 2) + 1]!; return c.r[Off.PAT >> 2]!; }
    default: return gp(0, `RDMSR of unknown MSR 0x${msr.toString(16)}`);
  }
}

/** True if every byte of a PAT value holds a valid memory type (0, 1, 4, 5, 6, 7). */
function validPat(lo: number, hi: number): boolean {
  for (let k = 0; k < 4; k++) {
    const a = (lo >>> (8 * k)) & 0xff, b = (hi >>> (8 * k)) & 0xff;
    if (a === 2 || a === 3 || a > 7 || b === 2 || b === 3 || b > 7) return false;
  }
  return true;
}

/**
 * WRMSR: write MSR `msr` with hi:lo, or #GP(0) for an unknown MSR, reserved bits, or a non-canonical
 * address in a base/entry-point MSR. Flushes the TLB when EFER.NXE changes.
 */
export function writeMsr(c: Cpu, msr: number, lo: number, hi: number): void {
  msr >>>= 0; lo >>>= 0; hi >>>= 0;
  const r = c.r;
  switch (msr) {
    case Msr.EFER: {
      const cur = r[Off.EFER >> 2]!;
      if (hi !== 0 || (lo & ~(Efer.SCE | Efer.LME | Efer.LMA | Efer.NXE)) !== 0) gp(0, 'WRMSR EFER: reserved bit');
      // LME may not change while paging is enabled (SDM 9.8.5); LMA is read-only
      if ((r[Off.CR0 >> 2]! & CR0_PG) && ((lo ^ cur) & Efer.LME)) gp(0, 'WRMSR EFER: LME change with paging on');
      const v = ((lo & ~Efer.LMA) | (cur & Efer.LMA)) >>> 0;
      r[Off.EFER >> 2] = v; r[(Off.EFER >> 2) + 1] = 0;
      if ((v ^ cur) & Efer.NXE) c.flushTlb();
      return;
    }
    case Msr.LSTAR: case Msr.CSTAR: case Msr.FS_BASE: case Msr.GS_BASE: case Msr.KERNEL_GS_BASE:
      if (!isCanonical(hi)) gp(0, `WRMSR 0x${msr.toString(16)}: non-canonical address`);
      break;
    case Msr.FMASK: case Msr.TSC_AUX:
      if (hi !== 0) gp(0, `WRMSR 0x${msr.toString(16)}: reserved bits 63:32`);
      break;
    case Msr.STAR: case Msr.TSC:
      break;
    case Msr.APIC_BASE: case Msr.MISC_ENABLE:
      return; // accepted and ignored: these read as constants
    case Msr.PAT: {
      if (!validPat(lo, hi)) gp(0, 'WRMSR PAT: invalid memory type');
      c.r[Off.PAT >> 2] = lo; c.r[(Off.PAT >> 2) + 1] = hi;
      return;
    }
    default:
      gp(0, `WRMSR of unknown MSR 0x${msr.toString(16)}`);
  }
  const f = fieldOf(msr) >> 2;
  r[f] = lo; r[f + 1] = hi;
}
