// The context switch, as guest kernel code: __switch_to saves the running task's kernel RSP, FXSAVE image and
// FS/GS bases into its TaskArea, then loads the next task's (chosen by the host: Percpu.NEXT_TASK), its kernel
// stack top (TSS.RSP0 and the per-CPU KERNEL_RSP), its CR3, and returns on its kernel stack. The user registers
// are on each task's kernel stack, pushed by the caller (the SYSCALL entry's switch path) in SAVED_GPRS order.
import { kernelLinear, Percpu, PERCPU_PHYS, TaskArea, TSS_PHYS } from '../layout.js';
import { Code, Instruction, MemoryOperand, mem, Register, Routine } from './asm.js';

/** The general registers the SYSCALL entry's switch path pushes after the user RSP, in push order. */
export const SAVED_GPRS: readonly Register[] = [
  Register.RAX, Register.RBX, Register.RDX, Register.RSI, Register.RDI, Register.RBP, Register.R8, Register.R9,
  Register.R10, Register.R12, Register.R13, Register.R14, Register.R15,
];

/** GPR numbers (0 RAX .. 15 R15) of SAVED_GPRS, in push order. */
export const SAVED_GPR_NUMBERS: readonly number[] = [0, 3, 2, 6, 7, 5, 8, 9, 10, 12, 13, 14, 15];

/**
 * Bytes a switched-out task has on its kernel stack below the top: RCX and R11 (the SYSCALL entry's), the user
 * RSP, the SAVED_GPRS and __switch_to's return address. TaskArea.RSP = stack top - SWITCH_FRAME_SIZE.
 */
export const SWITCH_FRAME_SIZE = 8 * (3 + SAVED_GPRS.length + 1);

/**
 * Offset from the saved kernel RSP of each stacked value of a task switched out in a system call: the return
 * address at 0, then the SAVED_GPRS in reverse push order, the user RSP, R11 (user RFLAGS) and RCX (user RIP).
 */
export function switchFrameOffset(what: 'ret' | 'user_rsp' | 'r11' | 'rcx' | number): number {
  const n = SAVED_GPRS.length;
  if (what === 'ret') return 0;
  if (what === 'user_rsp') return 8 * (n + 1);
  if (what === 'r11') return 8 * (n + 2);
  if (what === 'rcx') return 8 * (n + 3);
  const k = SAVED_GPR_NUMBERS.indexOf(what);
  if (k < 0) throw new Error(`GPR ${what} is not saved by the switch path`);
  return 8 * (n - k);
}

/** A RIP-relative operand for a kernel address (the kernel image and its data are within 2 GiB of each other). */
function kabs(addr: bigint): MemoryOperand {
  return new MemoryOperand(Register.RIP, Register.None, 1, addr, 8, false, Register.None);
}

const percpu = (off: number): MemoryOperand => kabs(kernelLinear(PERCPU_PHYS + off));

const I = Instruction;

/** MSRs saved and restored per task, with their TaskArea slots. */
const TASK_MSRS: [number, number][] = [
  [0xc0000100, TaskArea.FS_BASE], [0xc0000101, TaskArea.GS_BASE], [0xc0000102, TaskArea.KERNEL_GS_BASE],
];

/** __switch_to: from the task at Percpu.CURRENT_TASK to the one at Percpu.NEXT_TASK (clobbers RAX RCX RDX RSI RDI). */
export function switchTo(): Routine {
  const r = new Routine('__switch_to');
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RSI, percpu(Percpu.CURRENT_TASK)));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, mem(Register.RSI, TaskArea.RSP), Register.RSP));
  r.emit(I.createMem(Code.Fxsave64_m512byte, mem(Register.RSI, TaskArea.FXSAVE)));
  for (const [msr, slot] of TASK_MSRS) {
    r.emit(I.createRegU32(Code.Mov_r32_imm32, Register.ECX, msr));
    r.emit(I.create(Code.Rdmsr));
    r.emit(I.createMemReg(Code.Mov_rm32_r32, mem(Register.RSI, slot), Register.EAX));
    r.emit(I.createMemReg(Code.Mov_rm32_r32, mem(Register.RSI, slot + 4), Register.EDX));
  }
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RDI, percpu(Percpu.NEXT_TASK)));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, percpu(Percpu.CURRENT_TASK), Register.RDI));
  r.emit(I.createMem(Code.Fxrstor64_m512byte, mem(Register.RDI, TaskArea.FXSAVE)));
  for (const [msr, slot] of TASK_MSRS) {
    r.emit(I.createRegU32(Code.Mov_r32_imm32, Register.ECX, msr));
    r.emit(I.createRegMem(Code.Mov_r32_rm32, Register.EAX, mem(Register.RDI, slot)));
    r.emit(I.createRegMem(Code.Mov_r32_rm32, Register.EDX, mem(Register.RDI, slot + 4)));
    r.emit(I.create(Code.Wrmsr));
  }
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RAX, mem(Register.RDI, TaskArea.KSTACK_TOP)));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, percpu(Percpu.KERNEL_RSP), Register.RAX));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, kabs(kernelLinear(TSS_PHYS + 4)), Register.RAX)); // TSS.RSP0
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RAX, mem(Register.RDI, TaskArea.CR3)));
  r.emit(I.createRegReg(Code.Mov_cr_r64, Register.CR3, Register.RAX));
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RSP, mem(Register.RDI, TaskArea.RSP)));
  r.emit(I.create(Code.Retnq));
  return r;
}
