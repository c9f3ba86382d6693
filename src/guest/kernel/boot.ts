// Boot: what firmware and early kernel setup leave behind. Writes the kernel code, GDT, TSS, IDT and the
// kernel's page tables into guest physical memory and puts the processor in 64-bit mode at CPL 0, ready to
// IRETQ into the program. This happens before step 0, so it is part of the first checkpoint.
import type { Cpu } from '../../cpu/cpu.js';
import { setFlags } from '../../cpu/flags.js';
import type { PhysMemory } from '../../cpu/phys-memory.js';
import { Off, Seg } from '../../cpu/state.js';
import {
  DIRECT_MAP, GDT_PHYS, IDT_PHYS, IST1_STACK_TOP_PHYS, KERNEL_BASE, KERNEL_CODE_PHYS, KERNEL_STACK_TOP_PHYS,
  kernelLinear, Percpu, PERCPU_PHYS, PML4_PHYS, Selector, TASK0_PHYS, TaskArea, TSS_PHYS,
} from '../layout.js';
import { buildKernel, KernelRoutine, Service } from './image.js';

const R = (off: number): number => off >> 2;

/** What boot produced: the kernel's routines (for symbols and service dispatch). */
export interface BootInfo {
  /** Kernel routines with their linear addresses. */
  routines: (KernelRoutine & { address: bigint })[];
  /** Linear address of the kernel code. */
  codeBase: bigint;
}

/** Write a u64 into physical memory, marking its frame dirty (so checkpoint 0 holds everything boot wrote). */
function set64(mem: PhysMemory, at: number, v: bigint): void {
  mem.dv.setUint32(at, Number(v & 0xffffffffn), true);
  mem.dv.setUint32(at + 4, Number((v >> 32n) & 0xffffffffn), true);
  mem.dirty[at >>> 12] = 1;
}

function setReg64(cpu: Cpu, off: number, v: bigint): void {
  cpu.r[R(off)] = Number(v & 0xffffffffn);
  cpu.r[R(off) + 1] = Number((v >> 32n) & 0xffffffffn);
}

/** Write the kernel into memory and set the processor state; returns the routine table. */
export function boot(cpu: Cpu): BootInfo {
  const mem = cpu.mem;
  const codeBase = kernelLinear(KERNEL_CODE_PHYS);
  const { code, routines } = buildKernel(codeBase);
  mem.bytes.set(code, KERNEL_CODE_PHYS);
  mem.dirty.fill(1, KERNEL_CODE_PHYS >>> 12, (KERNEL_CODE_PHYS + code.length + 0xfff) >>> 12);
  const addr = (service: Service): bigint => codeBase + BigInt(routines.find((r) => r.service === service)!.offset);

  // GDT: Linux's layout (kernel CS 0x10, DS 0x18, user CS32 0x23, DS 0x2b, CS 0x33, TSS 0x40)
  const gdt: bigint[] = [0n, 0x00cf9a000000ffffn, 0x00af9a000000ffffn, 0x00cf92000000ffffn, 0x00cffa000000ffffn,
    0x00cff2000000ffffn, 0x00affa000000ffffn, 0n];
  gdt.forEach((d, i) => set64(mem, GDT_PHYS + i * 8, d));
  const tss = kernelLinear(TSS_PHYS), tssLimit = 0x67n;
  const tssLow = (tssLimit & 0xffffn) | ((tss & 0xffffffn) << 16n) | (0x89n << 40n) | (((tss >> 24n) & 0xffn) << 56n);
  set64(mem, GDT_PHYS + Selector.TSS, tssLow);
  set64(mem, GDT_PHYS + Selector.TSS + 8, tss >> 32n);

  // TSS: RSP0 for events from ring 3, IST1 for the double fault
  set64(mem, TSS_PHYS + 4, kernelLinear(KERNEL_STACK_TOP_PHYS));
  set64(mem, TSS_PHYS + 0x24, kernelLinear(IST1_STACK_TOP_PHYS));
  mem.dv.setUint16(TSS_PHYS + 0x66, 0x68, true); // I/O map base beyond the limit: no I/O permission bitmap

  // IDT: interrupt gates to the exception routines (#BP reachable from ring 3, #DF on IST1)
  for (const r of routines) {
    if (r.vector < 0) continue;
    const target = codeBase + BigInt(r.offset);
    const dpl = r.vector === 3 ? 3n : 0n, ist = r.vector === 8 ? 1n : 0n;
    const low = (target & 0xffffn) | (BigInt(Selector.KERNEL_CS) << 16n) | (ist << 32n) |
      ((0x8en | (dpl << 5n)) << 40n) | (((target >> 16n) & 0xffffn) << 48n);
    set64(mem, IDT_PHYS + r.vector * 16, low);
    set64(mem, IDT_PHYS + r.vector * 16 + 8, target >> 32n);
  }

  // per-CPU area (KERNEL_GS_BASE while in ring 3)
  set64(mem, PERCPU_PHYS + Percpu.KERNEL_RSP, kernelLinear(KERNEL_STACK_TOP_PHYS));
  // the first task: its TaskArea (the rest is filled by __switch_to when it is first switched away from)
  set64(mem, PERCPU_PHYS + Percpu.CURRENT_TASK, kernelLinear(TASK0_PHYS));
  set64(mem, TASK0_PHYS + TaskArea.CR3, BigInt(PML4_PHYS));
  set64(mem, TASK0_PHYS + TaskArea.KSTACK_TOP, kernelLinear(KERNEL_STACK_TOP_PHYS));

  // kernel page tables: the kernel image (phys 0..2 MiB) at KERNEL_BASE, all memory in the direct map
  const pdptK = PML4_PHYS + 0x1000, pdK = PML4_PHYS + 0x2000, pdptDm = PML4_PHYS + 0x3000;
  const idx = (va: bigint, level: number): number => Number((va >> BigInt(39 - 9 * level)) & 0x1ffn);
  set64(mem, PML4_PHYS + idx(KERNEL_BASE, 0) * 8, BigInt(pdptK) | 0x23n); // P RW A, supervisor
  set64(mem, pdptK + idx(KERNEL_BASE, 1) * 8, BigInt(pdK) | 0x23n);
  set64(mem, pdK + idx(KERNEL_BASE, 2) * 8, 0x0n | 0x1e3n); // 2 MiB page: P RW A D PS G
  set64(mem, PML4_PHYS + idx(DIRECT_MAP, 0) * 8, BigInt(pdptDm) | 0x23n);
  for (let g = 0; g * 2 ** 30 < mem.size; g++) {
    set64(mem, pdptDm + g * 8, (BigInt(g) << 30n) | 0x1e3n | (1n << 63n)); // 1 GiB page, no-execute
  }

  // processor state: long mode, paging, SYSCALL MSRs, descriptor tables
  const r = cpu.r;
  setReg64(cpu, Off.CR0, 0x80050033n); // PG AM WP NE ET MP PE
  setReg64(cpu, Off.CR3, BigInt(PML4_PHYS));
  setReg64(cpu, Off.CR4, 0x6a0n); // OSXMMEXCPT OSFXSR PGE PAE
  if (cpu.level >= 3) { // x86-64-v3: CR4.OSXSAVE and XCR0 = x87 | SSE | AVX, as Linux enables them
    setReg64(cpu, Off.CR4, 0x406a0n);
    setReg64(cpu, Off.XCR0, 7n);
  }
  setReg64(cpu, Off.EFER, 0xd01n); // NXE LMA LME SCE
  setReg64(cpu, Off.STAR, (BigInt(Selector.USER_CS32) << 48n) | (BigInt(Selector.KERNEL_CS) << 32n));
  setReg64(cpu, Off.LSTAR, addr(Service.SYSCALL));
  setReg64(cpu, Off.SFMASK, 0x47700n); // TF DF IF IOPL AC NT, as Linux
  setReg64(cpu, Off.GDTR_BASE, kernelLinear(GDT_PHYS));
  r[R(Off.GDTR_LIMIT)] = Selector.TSS + 15;
  setReg64(cpu, Off.IDTR_BASE, kernelLinear(IDT_PHYS));
  r[R(Off.IDTR_LIMIT)] = 256 * 16 - 1;
  setReg64(cpu, Off.TR_BASE, tss);
  r[R(Off.TR_SEL)] = Selector.TSS;
  r[R(Off.TR_LIMIT)] = Number(tssLimit);
  setReg64(cpu, Off.KERNEL_GS_BASE, kernelLinear(PERCPU_PHYS));
  r[R(Off.MXCSR)] = 0x1f80;
  r[R(Off.FCW)] = 0x37f;
  r[R(Off.FTAG)] = 0xffff;
  r[R(Off.SEL) + Seg.CS] = Selector.KERNEL_CS;
  r[R(Off.SEL) + Seg.SS] = Selector.KERNEL_DS;
  setFlags(r, 0x2);
  setReg64(cpu, Off.RIP, addr(Service.START));
  setReg64(cpu, Off.GPR + 4 * 8, kernelLinear(KERNEL_STACK_TOP_PHYS));
  cpu.setCpl(0);
  cpu.flushTlb();
  cpu.invalidateAllCode();
  return { routines: routines.map((x) => ({ ...x, address: codeBase + BigInt(x.offset) })), codeBase };
}

/** Leave the IRETQ frame that `ret_to_user` consumes: enter the program at `entry` with stack `rsp`. */
export function prepareUserEntry(cpu: Cpu, entry: bigint, rsp: bigint): void {
  const mem = cpu.mem;
  const top = KERNEL_STACK_TOP_PHYS - 40;
  set64(mem, top, entry);
  set64(mem, top + 8, BigInt(Selector.USER_CS));
  set64(mem, top + 16, 0x202n); // IF, as Linux's start_thread
  set64(mem, top + 24, rsp);
  set64(mem, top + 32, BigInt(Selector.USER_DS));
  setReg64(cpu, Off.GPR + 4 * 8, kernelLinear(top));
}
