// Control registers (SDM vol. 3A 2.5, MOV CR in vol. 2B): MOV to/from CR0 CR2 CR3 CR4 CR8, CLTS, LMSW, SMSW.
// Every write of CR0, CR3 or CR4 flushes the whole software TLB (no PCID, global pages flushed too).
import { Code } from 'iced-x86';
import type { Builder, Cpu } from '../cpu.js';
import { OpType, RegClass } from '../decoded.js';
import { gp, ud } from '../fault.js';
import { eaOf, memOf, regOf } from '../operands.js';
import { Off } from '../state.js';
import type { OpMap } from '../table.js';
import { needCpl0, R } from './system-common.js';

/** CR0 bits. */
const enum Cr0 {
  PE = 1 << 0, MP = 1 << 1, EM = 1 << 2, TS = 1 << 3, ET = 1 << 4, NE = 1 << 5, WP = 1 << 16, AM = 1 << 18,
  NW = 1 << 29, CD = 1 << 30, PG = 0x80000000,
}
/** CR0 bits that exist; writes of other bits in CR0[31:0] are ignored (they read as 0). */
const CR0_DEFINED = (Cr0.PE | Cr0.MP | Cr0.EM | Cr0.TS | Cr0.ET | Cr0.NE | Cr0.WP | Cr0.AM | Cr0.NW | Cr0.CD | Cr0.PG) >>> 0;

/** CR4 bits. */
const enum Cr4 {
  TSD = 1 << 2, PSE = 1 << 4, PAE = 1 << 5, PGE = 1 << 7, PCE = 1 << 8, OSFXSR = 1 << 9, OSXMMEXCPT = 1 << 10,
  OSXSAVE = 1 << 18,
}
/**
 * CR4 bits the processor accepts: those whose feature CPUID (cpuid.ts) advertises, plus PCE (no CPUID bit);
 * OSXSAVE only under x86-64-v3 (CR4_ALLOWED_V3), whose CPUID reports XSAVE.
 * Everything else (VME, PVI, DE, MCE, UMIP, LA57, VMXE, FSGSBASE, PCIDE, SMEP, SMAP, PKE, CET, ...)
 * is a feature CPUID does not report, so setting it is a reserved-bit #GP(0).
 */
const CR4_ALLOWED = Cr4.TSD | Cr4.PSE | Cr4.PAE | Cr4.PGE | Cr4.PCE | Cr4.OSFXSR | Cr4.OSXMMEXCPT;
/** CR4 bits accepted under x86-64-v3. */
const CR4_ALLOWED_V3 = CR4_ALLOWED | Cr4.OSXSAVE;

/** CR3 bits 63:40 are reserved: MAXPHYADDR is 40 (CPUID 0x80000008); PCID is not supported, so bit 63 is too. */
const CR3_RESERVED_HI = 0xffffff00;

/** Read control register n as lo (hi in c.hi). */
function readCr(c: Cpu, n: number): number {
  const r = c.r;
  switch (n) {
    case 0: c.hi = r[R(Off.CR0) + 1]!; return r[R(Off.CR0)]!;
    case 2: c.hi = r[R(Off.CR2) + 1]!; return r[R(Off.CR2)]!;
    case 3: c.hi = r[R(Off.CR3) + 1]!; return r[R(Off.CR3)]!;
    case 4: c.hi = r[R(Off.CR4) + 1]!; return r[R(Off.CR4)]!;
    default: c.hi = 0; return c.r[Off.CR8 >> 2]!; // n === 8 (others are rejected by the builders)
  }
}

/** Write a new CR0 value (64-bit mode rules), flushing the TLB. */
export function writeCr0(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) gp(0, 'MOV CR0: reserved bit 63:32');
  if ((lo & Cr0.NW) && !(lo & Cr0.CD)) gp(0, 'MOV CR0: NW=1 with CD=0');
  if ((lo & Cr0.PG) && !(lo & Cr0.PE)) gp(0, 'MOV CR0: PG=1 with PE=0');
  if (!(lo & Cr0.PG)) gp(0, 'MOV CR0: clearing PG in 64-bit mode');
  const r = c.r;
  r[R(Off.CR0)] = ((lo & CR0_DEFINED) | Cr0.ET) >>> 0; r[R(Off.CR0) + 1] = 0;
  c.flushTlb();
  c.brk = true;
}

function writeCr(c: Cpu, n: number, lo: number, hi: number): void {
  const r = c.r;
  switch (n) {
    case 0: writeCr0(c, lo, hi); return;
    case 2: r[R(Off.CR2)] = lo; r[R(Off.CR2) + 1] = hi; return;
    case 3:
      if (hi & CR3_RESERVED_HI) gp(0, 'MOV CR3: reserved bit 63:40');
      r[R(Off.CR3)] = lo; r[R(Off.CR3) + 1] = hi;
      c.flushTlb();
      c.brk = true;
      return;
    case 4:
      if (hi !== 0 || (lo & ~(c.level >= 3 ? CR4_ALLOWED_V3 : CR4_ALLOWED)) !== 0) gp(0, 'MOV CR4: reserved or unsupported bit');
      if (!(lo & Cr4.PAE)) gp(0, 'MOV CR4: clearing PAE in IA-32e mode');
      r[R(Off.CR4)] = lo; r[R(Off.CR4) + 1] = 0;
      c.flushTlb();
      c.brk = true;
      return;
    default: // CR8: task priority in bits 3:0
      if (hi !== 0 || (lo & ~0xf) !== 0) gp(0, 'MOV CR8: reserved bit');
      c.r[Off.CR8 >> 2] = lo;
  }
}

/** The CR number of operand i, or a build-time #UD handler for CR1, CR5-7, CR9-15 (iced rejects most). */
function crNumber(d: Parameters<Builder>[0], i: number): number {
  const ref = regOf(d, i);
  if (ref.cls !== RegClass.CR) throw new Error(`operand ${i} of ${Code[d.code]} is not a control register`);
  return ref.n;
}

const VALID_CR = (n: number): boolean => n === 0 || n === 2 || n === 3 || n === 4 || n === 8;

/** MOV r64, CRn. */
const movFromCr: Builder = (d) => {
  const n = crNumber(d, 1), g = regOf(d, 0).n << 1;
  if (!VALID_CR(n)) return () => ud(`MOV from CR${n}`);
  return (c) => {
    needCpl0(c, 'MOV from CR');
    const lo = readCr(c, n);
    c.r[g] = lo; c.r[g + 1] = c.hi;
  };
};

/** MOV CRn, r64. */
const movToCr: Builder = (d) => {
  const n = crNumber(d, 0), g = regOf(d, 1).n << 1;
  if (!VALID_CR(n)) return () => ud(`MOV to CR${n}`);
  return (c) => {
    needCpl0(c, 'MOV to CR');
    writeCr(c, n, c.r[g]!, c.r[g + 1]!);
  };
};

/** CLTS: clear CR0.TS. */
const clts: Builder = () => (c) => {
  needCpl0(c, 'CLTS');
  c.r[R(Off.CR0)] = (c.r[R(Off.CR0)]! & ~Cr0.TS) >>> 0;
};

/** LMSW r/m16: load PE MP EM TS from the source; PE can be set but not cleared. */
const lmsw: Builder = (d) => {
  let src: (c: Cpu) => number;
  if (d.ops[0] === OpType.REG) { const i = regOf(d, 0).n << 2; src = (c) => c.s.u16[i]!; } else {
    const ea = eaOf(memOf(d));
    src = (c) => { const lo = ea(c); return c.rd16(lo, c.hi); };
  }
  return (c) => {
    needCpl0(c, 'LMSW');
    const v = src(c), cur = c.r[R(Off.CR0)]!;
    const nv = ((cur & ~0xe) | (v & 0xf) | (cur & Cr0.PE)) >>> 0;
    if (nv !== cur) { c.r[R(Off.CR0)] = nv; c.flushTlb(); }
  };
};

/** SMSW: store CR0 (16 bits to memory; zero-extended to a 32/64-bit register, merged into a 16-bit one). */
const smsw: Builder = (d) => {
  if (d.ops[0] === OpType.MEM) {
    const ea = eaOf(memOf(d));
    return (c) => { const lo = ea(c); c.wr16(lo, c.hi, c.r[R(Off.CR0)]! & 0xffff); };
  }
  const ref = regOf(d, 0);
  if (ref.size === 2) { const i = ref.n << 2; return (c) => { c.s.u16[i] = c.r[R(Off.CR0)]! & 0xffff; }; }
  const g = ref.n << 1;
  return (c) => { c.r[g] = c.r[R(Off.CR0)]!; c.r[g + 1] = 0; };
};

/** Control-register instructions. */
export const crOps: OpMap = {
  [Code.Mov_r64_cr]: movFromCr,
  [Code.Mov_cr_r64]: { build: movToCr, ends: true },
  [Code.Clts]: { build: clts, ends: true },
  [Code.Lmsw_rm16]: { build: lmsw, ends: true },
  [Code.Lmsw_r32m16]: { build: lmsw, ends: true },
  [Code.Lmsw_r64m16]: { build: lmsw, ends: true },
  [Code.Smsw_rm16]: smsw,
  [Code.Smsw_r32m16]: smsw,
  [Code.Smsw_r64m16]: smsw,
};
