// Fixed addresses of the guest machine: physical placement of the kernel and its tables, the kernel's
// linear mappings, the GDT selectors (Linux's values), and the Linux user address-space constants
// (address randomisation off), so that a native `setarch -R` run and an emulated run agree.

/** Default guest physical memory size in bytes. */
export const DEFAULT_MEMORY = 1024 * 1024 * 1024;

/** Physical address of the kernel's code (routines of 256 bytes each). */
export const KERNEL_CODE_PHYS = 0x100000;
/** Physical address of the GDT. */
export const GDT_PHYS = 0x110000;
/** Physical address of the 64-bit TSS. */
export const TSS_PHYS = 0x110100;
/** Physical address of the IDT (256 gates of 16 bytes). */
export const IDT_PHYS = 0x111000;
/** Physical address of the per-CPU area that KERNEL_GS_BASE points to. */
export const PERCPU_PHYS = 0x112000;
/** Offsets in the per-CPU area. */
export const enum Percpu {
  USER_RSP = 0x08, // u64: user RSP saved by the SYSCALL entry
  KERNEL_RSP = 0x10, // u64: top of the kernel stack loaded by the SYSCALL entry
  FLUSH_TLB = 0x18, // u8 exit work, set by the host: bit 0 the SYSCALL return path reloads CR3, bit 1 it returns with IRETQ
  SWITCH = 0x20, // u8: set by the host when the SYSCALL return path must switch to NEXT_TASK (__switch_to)
  CURRENT_TASK = 0x28, // u64: kernel linear address of the running task's TaskArea
  NEXT_TASK = 0x30, // u64: kernel linear address of the TaskArea __switch_to switches to (written by the host)
}
/**
 * Layout of a task's page (one 4 KiB frame per thread, reached through the direct map; the first task's is
 * TASK0_PHYS): the FXSAVE image, the registers __switch_to saves and restores, and the task's kernel stack, which
 * grows down from the end of the page (task 0 keeps the boot kernel stack at KERNEL_STACK_TOP_PHYS).
 */
export const enum TaskArea {
  FXSAVE = 0x000, // 512 bytes: FXSAVE64 image (x87, MXCSR, XMM0-15)
  RSP = 0x200, // u64: kernel RSP of the switched-out task (points at __switch_to's return address)
  CR3 = 0x208, // u64: the task's page-table root (its process's PML4)
  KSTACK_TOP = 0x210, // u64: top of the task's kernel stack (loaded into TSS.RSP0 and the per-CPU KERNEL_RSP)
  FS_BASE = 0x218, // u64: IA32_FS_BASE
  GS_BASE = 0x220, // u64: IA32_GS_BASE
  KERNEL_GS_BASE = 0x228, // u64: IA32_KERNEL_GS_BASE
}
/** Physical address of the first task's TaskArea (in the kernel image mapping, written at boot). */
export const TASK0_PHYS = 0x113000;
/** Top of the kernel stack used for SYSCALL and for events from ring 3 (TSS.RSP0). */
export const KERNEL_STACK_TOP_PHYS = 0x140000;
/** Top of the IST1 stack (double fault). */
export const IST1_STACK_TOP_PHYS = 0x148000;
/** Physical address of the kernel's PML4. */
export const PML4_PHYS = 0x150000;
/** First physical frame handed out by the frame allocator (page tables and user pages). */
export const FIRST_FREE_FRAME = 0x400000;

/** Linear base of the kernel image mapping (phys 0..2 MiB), as Linux's __START_KERNEL_map. */
export const KERNEL_BASE = 0xffffffff80000000n;
/** Linear base of the direct map of all physical memory (supervisor, no-execute), as Linux's page_offset_base. */
export const DIRECT_MAP = 0xffff888000000000n;

/** Physical address of a kernel linear address (the kernel image mapping or the direct map). */
export function kernelPhys(linear: bigint): number {
  return Number(linear >= KERNEL_BASE ? linear - KERNEL_BASE : linear - DIRECT_MAP);
}

/** Kernel linear address of a kernel physical address in the first 2 MiB. */
export const kernelLinear = (phys: number): bigint => KERNEL_BASE + BigInt(phys);
/** Direct-map linear address of any physical address. */
export const directMap = (phys: number): bigint => DIRECT_MAP + BigInt(phys);

/** GDT selectors, as Linux x86-64 uses them. */
export const enum Selector {
  KERNEL_CS = 0x10,
  KERNEL_DS = 0x18,
  USER_CS32 = 0x23,
  USER_DS = 0x2b,
  USER_CS = 0x33,
  TSS = 0x40,
}

/** Top of the user stack with randomisation off (Linux's STACK_TOP = TASK_SIZE). */
export const STACK_TOP = 0x7ffffffff000n;
/** Maximum user stack size (RLIMIT_STACK default). */
export const STACK_LIMIT = 8n * 1024n * 1024n;
/** Base below which top-down mmap allocates with randomisation off: TASK_SIZE - max(128 MiB, stack gap). */
export const MMAP_BASE = 0x7ffff7fff000n;
/** End of the user address space (exclusive). */
export const TASK_SIZE = 0x7ffffffff000n;
/** Lowest address mmap hands out (vm.mmap_min_addr). */
export const MMAP_MIN_ADDR = 0x10000n;
/** Page size. */
export const PAGE = 4096n;
