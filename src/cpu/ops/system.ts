// System instructions of 64-bit mode (SDM vol. 2 and vol. 3A): fast system calls (SYSCALL, SYSRETQ), IRETQ,
// SWAPGS, RDMSR/WRMSR, INVLPG, cache control, HLT, CLI/STI, VMCALL, RDPMC; control registers, segmentation
// and port I/O live in system-cr.ts, system-seg.ts and system-io.ts.
import { Code } from 'iced-x86';
import type { Builder, Cpu } from '../cpu.js';
import { gp, ud } from '../fault.js';
import { getFlags, setFlags } from '../flags.js';
import { iretq } from '../deliver.js';
import { isCanonical } from '../mmu.js';
import { Efer, readMsr, writeMsr } from '../msr.js';
import { eaOf, memOf, notImplemented } from '../operands.js';
import { Fl, Gpr, Off, Seg } from '../state.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { crOps } from './system-cr.js';
import { ioOps } from './system-io.js';
import { segOps } from './system-seg.js';
import { needCpl0, R } from './system-common.js';

const RIP = R(Off.RIP);
const RCX = Gpr.RCX << 1, R11 = Gpr.R11 << 1, RAX = Gpr.RAX << 1, RDX = Gpr.RDX << 1;
const SEL = R(Off.SEL);

/** VM-exit reasons (SDM vol. 3C appendix C) raised here. */
const enum Exit { HLT = 12, VMCALL = 18 }

/** SYSCALL (SDM vol. 2B): enter CPL 0 at IA32_LSTAR with RCX = return RIP and R11 = RFLAGS. */
const syscall: Builder = () => (c: Cpu) => {
  const r = c.r;
  if (!(r[R(Off.EFER)]! & Efer.SCE)) ud('SYSCALL with EFER.SCE clear');
  const fl = getFlags(r);
  r[RCX] = r[RIP]!; r[RCX + 1] = r[RIP + 1]!; // the loop already set RIP to the next instruction
  r[R11] = ((fl & ~Fl.RF) | Fl.FIXED) >>> 0; r[R11 + 1] = 0; // bit 1 always reads as 1
  setFlags(r, fl & ~r[R(Off.SFMASK)]! & ~Fl.RF);
  const sel = r[R(Off.STAR) + 1]! & 0xffff; // STAR[47:32]
  r[SEL + Seg.CS] = sel & 0xfffc;
  r[SEL + Seg.SS] = (sel + 8) & 0xffff;
  r[RIP] = r[R(Off.LSTAR)]!; r[RIP + 1] = r[R(Off.LSTAR) + 1]!;
  c.setCpl(0);
  c.brk = true;
};

/** SYSRET without REX.W (return to compatibility mode): the SDM's #UD and #GP checks, then unsupported. */
const sysret32: Builder = (d) => {
  const unsup = unsupported('SYSRET (32-bit operand size, return to compatibility mode)')(d);
  return (c: Cpu) => {
    if (!(c.r[R(Off.EFER)]! & Efer.SCE)) ud('SYSRET with EFER.SCE clear');
    needCpl0(c, 'SYSRET');
    unsup(c);
  };
};

/** SYSRET with REX.W: return to 64-bit CPL 3 code at RCX with RFLAGS from R11. */
const sysretq: Builder = () => (c: Cpu) => {
  const r = c.r;
  if (!(r[R(Off.EFER)]! & Efer.SCE)) ud('SYSRET with EFER.SCE clear');
  needCpl0(c, 'SYSRET');
  if (!isCanonical(r[RCX + 1]!)) gp(0, 'SYSRET to a non-canonical RCX');
  r[RIP] = r[RCX]!; r[RIP + 1] = r[RCX + 1]!;
  setFlags(r, (r[R11]! & 0x3c7fd7) | Fl.FIXED);
  const sel = r[R(Off.STAR) + 1]! >>> 16; // STAR[63:48]
  r[SEL + Seg.CS] = ((sel + 16) | 3) & 0xffff;
  r[SEL + Seg.SS] = ((sel + 8) | 3) & 0xffff;
  c.setCpl(3);
  c.brk = true;
};

/** SWAPGS: exchange IA32_GS_BASE and IA32_KERNEL_GS_BASE. */
const swapgs: Builder = () => (c: Cpu) => {
  needCpl0(c, 'SWAPGS');
  const r = c.r, g = R(Off.GS_BASE), k = R(Off.KERNEL_GS_BASE);
  const lo = r[g]!, hi = r[g + 1]!;
  r[g] = r[k]!; r[g + 1] = r[k + 1]!; r[k] = lo; r[k + 1] = hi;
};

/** RDMSR: EDX:EAX = MSR[ECX]. */
const rdmsr: Builder = () => (c: Cpu) => {
  needCpl0(c, 'RDMSR');
  const r = c.r;
  const lo = readMsr(c, r[RCX]!);
  r[RAX] = lo; r[RAX + 1] = 0; r[RDX] = c.hi; r[RDX + 1] = 0;
};

/** WRMSR: MSR[ECX] = EDX:EAX. */
const wrmsr: Builder = () => (c: Cpu) => {
  needCpl0(c, 'WRMSR');
  const r = c.r;
  writeMsr(c, r[RCX]!, r[RAX]!, r[RDX]!);
  c.brk = true;
};

/** IRETQ (64-bit operand size). */
const iret64: Builder = () => (c: Cpu) => { iretq(c); c.brk = true; };

/** INVLPG m: drop the TLB entries of the page holding the operand's linear address. */
const invlpg: Builder = (d) => {
  const ea = eaOf(memOf(d));
  return (c) => {
    needCpl0(c, 'INVLPG');
    const lo = ea(c), hi = c.hi;
    if (isCanonical(hi)) c.flushTlbPage(lo, hi); // a non-canonical operand is a no-op
    c.brk = true;
  };
};

/** WBINVD/INVD: caches are not modelled; privileged no-ops. */
function cacheNop(name: string): Builder {
  return () => (c) => needCpl0(c, name);
}

/** HLT: stop until an interrupt (or exit to the hypervisor when HLT exiting is on). RIP is after HLT. */
const hlt: Builder = (d) => (c) => {
  needCpl0(c, 'HLT');
  if (c.controls.hltExiting) { c.vmexit(Exit.HLT, d); return; }
  c.r[R(Off.HALTED)] = 1;
  c.brk = true;
};

/** #GP(0) unless CPL <= IOPL (CLI, STI). */
function needIopl(c: Cpu, fl: number, name: string): void {
  if (c.cpl > ((fl >>> 12) & 3)) gp(0, `${name} at CPL ${c.cpl} with IOPL ${(fl >>> 12) & 3}`);
}

/** CLI: clear IF. */
const cli: Builder = () => (c) => {
  const fl = getFlags(c.r);
  needIopl(c, fl, 'CLI');
  setFlags(c.r, fl & ~Fl.IF);
};

/** STI: set IF; interrupts stay blocked for one more instruction when IF was clear (the STI shadow). */
const sti: Builder = () => (c) => {
  const fl = getFlags(c.r);
  needIopl(c, fl, 'STI');
  if (!(fl & Fl.IF)) c.r[R(Off.INT_SHADOW)] = 1;
  setFlags(c.r, fl | Fl.IF);
  c.brk = true;
};

/** VMCALL: a call to the hypervisor (exit reason 18), or #UD when there is none. */
const vmcall: Builder = (d) => (c) => {
  if (!c.controls.vmcallExits) ud('VMCALL with no hypervisor');
  c.vmexit(Exit.VMCALL, d);
};

/** RDPMC: no performance counters are implemented (CPUID leaf 0xA reports none). */
const rdpmc: Builder = () => () => gp(0, 'RDPMC: no performance-monitoring counters');

const unsupported = (name: string): Builder => (d) => notImplemented(d, name);

const e = (b: Builder): { build: Builder; ends: true } => ({ build: b, ends: true });

/** system family handlers keyed by iced Code (every one may change system registers, MSRs, CPL or HALTED). */
export const systemOps: OpMap = withWrites(Implicit.SYSTEM, {
  [Code.Syscall]: e(syscall),
  [Code.Sysretq]: e(sysretq),
  [Code.Sysretd]: e(sysret32),
  [Code.Iretq]: e(iret64),
  [Code.Iretd]: e(unsupported('IRETD (32-bit operand size)')),
  [Code.Iretw]: e(unsupported('IRET (16-bit operand size)')),
  [Code.Swapgs]: e(swapgs),
  [Code.Rdmsr]: rdmsr,
  [Code.Wrmsr]: e(wrmsr),
  [Code.Invlpg_m]: e(invlpg),
  [Code.Wbinvd]: cacheNop('WBINVD'),
  [Code.Invd]: cacheNop('INVD'),
  [Code.Hlt]: e(hlt),
  [Code.Cli]: e(cli),
  [Code.Sti]: e(sti),
  [Code.Vmcall]: e(vmcall),
  [Code.Rdpmc]: rdpmc,
  ...crOps,
  ...segOps,
  ...ioOps,
});
