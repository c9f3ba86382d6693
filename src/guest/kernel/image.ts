// The guest kernel's code: a SYSCALL entry, exception handlers and the first return to user mode, generated
// from this TypeScript source. Host services are requested with VMCALL; which service is meant follows from
// the routine the VMCALL is in.
import { kernelLinear, Percpu, PERCPU_PHYS } from '../layout.js';
import { abs, Code, Instruction, mem, MemoryOperand, Register, Routine } from './asm.js';
import { SAVED_GPRS, switchTo } from './switch-to.js';
import { Decoder, DecoderOptions } from 'iced-x86';

/** Size reserved for each routine. */
export const ROUTINE_SIZE = 256;

/** Host services, one per kind of kernel routine. */
export const enum Service { START = 0, SYSCALL = 1, PAGE_FAULT = 2, FATAL = 3, SWITCH = 4 }

/** A kernel routine as placed in memory. */
export interface KernelRoutine {
  /** Symbol name (shown by `trace step` and `trace query`). */
  name: string;
  /** Offset from the start of the kernel code. */
  offset: number;
  /** Encoded length in bytes. */
  size: number;
  /** The host service its VMCALL requests. */
  service: Service;
  /** For exception routines: the vector handled. */
  vector: number;
  /** SYSCALL entry: offset (from the start of the kernel code) where a task switched to resumes (after the CALL of __switch_to). */
  resume?: number;
}

/**
 * Steps from the VMCALL of a system call after which the host asked for a switch (exclusive) to the first step of
 * the task switched to: the checks of FLUSH_TLB and SWITCH, the switch path's pushes and CALL, and __switch_to
 * up to its RET. When FLUSH_TLB was set, SWITCH_FLUSH_STEPS more (the CR3 reload).
 */
export const SWITCH_STEPS = 4 + 3 + SAVED_GPRS.length + switchTo().length;
/** Extra steps of the switch when FLUSH_TLB was set too (its TEST and JNE, and the CR3 reload). */
export const SWITCH_FLUSH_STEPS = 5;

/** Exception vectors that push an error code. */
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** Names of the fatal exception routines, by vector (Linux's handler names). */
const EXC_NAMES: Record<number, string> = {
  0: 'exc_divide_error', 1: 'exc_debug', 2: 'exc_nmi', 3: 'exc_int3', 4: 'exc_overflow', 5: 'exc_bounds',
  6: 'exc_invalid_op', 7: 'exc_device_not_available', 8: 'exc_double_fault', 10: 'exc_invalid_tss',
  11: 'exc_segment_not_present', 12: 'exc_stack_segment', 13: 'exc_general_protection', 16: 'exc_coprocessor_error',
  17: 'exc_alignment_check', 18: 'exc_machine_check', 19: 'exc_simd_coprocessor_error',
};

const I = Instruction;

function startUser(): Routine {
  // The host leaves an IRETQ frame (RIP, CS, RFLAGS, RSP, SS) on the kernel stack: drop to ring 3.
  return new Routine('ret_to_user').emit(I.create(Code.Iretq));
}

function syscallEntry(switchAddress: bigint): Routine {
  const r = new Routine('entry_SYSCALL_64');
  r.emit(I.create(Code.Swapgs));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, abs(Percpu.USER_RSP, Register.GS), Register.RSP));
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RSP, abs(Percpu.KERNEL_RSP, Register.GS)));
  r.emit(I.createReg(Code.Push_r64, Register.RCX));
  r.emit(I.createReg(Code.Push_r64, Register.R11));
  r.emit(I.create(Code.Vmcall)); // host: the system call in RAX with RDI RSI RDX R10 R8 R9; result in RAX
  r.emit(I.createMemU32(Code.Cmp_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 0)); // exit work (see Percpu)
  r.branch(Code.Je_rel8_64, 'check_switch');
  r.emit(I.createMemU32(Code.Test_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 2));
  r.branch(Code.Jne_rel32_64, 'iret');
  r.emit(I.createMemU32(Code.Mov_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 0));
  r.emit(I.createRegReg(Code.Mov_r64_cr, Register.RCX, Register.CR3));
  r.emit(I.createRegReg(Code.Mov_cr_r64, Register.CR3, Register.RCX));
  r.label('check_switch');
  r.emit(I.createMemU32(Code.Cmp_rm8_imm8, abs(Percpu.SWITCH, Register.GS), 0));
  r.branch(Code.Jne_rel32_64, 'switch');
  r.label('restore');
  r.emit(I.createReg(Code.Pop_r64, Register.R11));
  r.emit(I.createReg(Code.Pop_r64, Register.RCX));
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RSP, abs(Percpu.USER_RSP, Register.GS)));
  r.emit(I.create(Code.Swapgs));
  r.emit(I.create(Code.Sysretq));
  // the host replaced the whole user context (a signal handler, rt_sigreturn, a restarted call): it set every
  // register and wrote an IRET frame just below the two values pushed above
  r.label('iret');
  r.emit(I.createRegI32(Code.Sub_rm64_imm8, Register.RSP, 24));
  r.emit(I.createMemU32(Code.Test_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 1));
  r.branch(Code.Je_rel8_64, 'noflush');
  r.emit(I.createReg(Code.Push_r64, Register.RAX));
  r.emit(I.createRegReg(Code.Mov_r64_cr, Register.RAX, Register.CR3));
  r.emit(I.createRegReg(Code.Mov_cr_r64, Register.CR3, Register.RAX));
  r.emit(I.createReg(Code.Pop_r64, Register.RAX));
  r.label('noflush');
  r.emit(I.createMemU32(Code.Mov_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 0));
  r.emit(I.create(Code.Swapgs));
  r.emit(I.create(Code.Iretq));
  // the host chose another task (this one blocks or ended): save the rest of the user registers on this task's
  // kernel stack and switch; a task switched back to resumes after the CALL (a new task starts there too)
  r.label('switch');
  r.emit(I.createMemU32(Code.Mov_rm8_imm8, abs(Percpu.SWITCH, Register.GS), 0));
  r.emit(I.createMem(Code.Push_rm64, abs(Percpu.USER_RSP, Register.GS)));
  for (const g of SAVED_GPRS) r.emit(I.createReg(Code.Push_r64, g));
  r.emit(I.createBranch(Code.Call_rel32_64, switchAddress));
  for (const g of [...SAVED_GPRS].reverse()) r.emit(I.createReg(Code.Pop_r64, g));
  r.emit(I.createMem(Code.Pop_rm64, abs(Percpu.USER_RSP, Register.GS)));
  r.branch(Code.Jmp_rel32_64, 'restore');
  return r;
}

/** After the VMCALL of a fault whose task is ended: when the host asked for a switch, go to the next task for good. */
function switchIfAsked(r: Routine): void {
  r.emit(I.createMemU32(Code.Cmp_rm8_imm8, kernelAbs(Percpu.SWITCH), 0));
  r.branch(Code.Jne_rel32_64, 'dead_switch');
}

/** The switch away from a task that never resumes (its kernel stack is dropped). */
function deadSwitch(r: Routine, switchAddress: bigint): void {
  r.label('dead_switch');
  r.emit(I.createMemU32(Code.Mov_rm8_imm8, kernelAbs(Percpu.SWITCH), 0));
  r.emit(I.createBranch(Code.Call_rel32_64, switchAddress));
  r.emit(I.create(Code.Hlt));
}

function pageFault(switchAddress: bigint): Routine {
  const r = new Routine('asm_exc_page_fault');
  r.emit(I.createReg(Code.Push_r64, Register.RDI));
  r.emit(I.createReg(Code.Push_r64, Register.RAX));
  r.emit(I.createRegReg(Code.Mov_r64_cr, Register.RAX, Register.CR2)); // faulting address
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RDI, mem(Register.RSP, 16))); // error code
  r.emit(I.create(Code.Vmcall)); // host: map the page, or end the process with SIGSEGV
  switchIfAsked(r);
  r.emit(I.createReg(Code.Pop_r64, Register.RAX));
  r.emit(I.createReg(Code.Pop_r64, Register.RDI));
  r.emit(I.createRegI32(Code.Add_rm64_imm8, Register.RSP, 8)); // drop the error code
  r.emit(I.create(Code.Iretq));
  deadSwitch(r, switchAddress);
  return r;
}

function fatal(vector: number, switchAddress: bigint): Routine {
  const r = new Routine(EXC_NAMES[vector] ?? `exc_vector_${vector}`);
  if (!WITH_ERROR.has(vector)) r.emit(I.createI32(Code.Pushq_imm8, 0)); // uniform frame: error code slot
  r.emit(I.createReg(Code.Push_r64, Register.RDI));
  r.emit(I.createRegU32(Code.Mov_r32_imm32, Register.EDI, vector));
  r.emit(I.create(Code.Vmcall)); // host: the signal for this vector (a handler's frame, or the end of the process)
  switchIfAsked(r); // the process ended and another task runs
  r.emit(I.createReg(Code.Pop_r64, Register.RDI));
  r.emit(I.createRegI32(Code.Add_rm64_imm8, Register.RSP, 8)); // drop the error code
  r.emit(I.create(Code.Iretq));
  deadSwitch(r, switchAddress);
  return r;
}

/** A RIP-relative operand for a per-CPU field (usable whatever GS holds: fault paths do not SWAPGS). */
function kernelAbs(off: number): MemoryOperand {
  return new MemoryOperand(Register.RIP, Register.None, 1, kernelLinear(PERCPU_PHYS + off), 8, false, Register.None);
}

/** Steps from the VMCALL of a fault that ended its task (exclusive) to the first step of the task switched to. */
export const DEAD_SWITCH_STEPS = 4 + switchTo().length;

/** The fatal exception vectors the IDT routes to `fatal` routines. */
export const FATAL_VECTORS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 18, 19];

/** Offset of the instruction after the first CALL in `bytes`. */
function afterCall(bytes: Uint8Array): number {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  const ins = new Instruction();
  try {
    while (d.canDecode) {
      d.decodeOut(ins);
      if (ins.code === Code.Call_rel32_64) return Number(ins.nextIP);
    }
  } finally {
    d.free(); ins.free();
  }
  throw new Error('the SYSCALL entry has no CALL of __switch_to');
}

/** Assemble the kernel at linear address `base`; returns the code and the routine table. */
export function buildKernel(base: bigint): { code: Uint8Array; routines: KernelRoutine[] } {
  // __switch_to is the last routine: its address is known before the SYSCALL entry that calls it is encoded
  const switchAddress = base + BigInt((3 + FATAL_VECTORS.length) * ROUTINE_SIZE);
  const list: [Routine, Service, number][] = [
    [startUser(), Service.START, -1],
    [syscallEntry(switchAddress), Service.SYSCALL, -1],
    [pageFault(switchAddress), Service.PAGE_FAULT, 14],
    ...FATAL_VECTORS.map((v): [Routine, Service, number] => [fatal(v, switchAddress), Service.FATAL, v]),
    [switchTo(), Service.SWITCH, -1],
  ];
  const code = new Uint8Array(list.length * ROUTINE_SIZE).fill(0xcc);
  const routines: KernelRoutine[] = [];
  list.forEach(([r, service, vector], k) => {
    const offset = k * ROUTINE_SIZE;
    const bytes = r.encode(base + BigInt(offset));
    if (bytes.length > ROUTINE_SIZE) throw new Error(`kernel routine ${r.name} is ${bytes.length} bytes`);
    code.set(bytes, offset);
    const routine: KernelRoutine = { name: r.name, offset, size: bytes.length, service, vector };
    if (service === Service.SYSCALL) routine.resume = offset + afterCall(bytes);
    routines.push(routine);
  });
  return { code, routines };
}
