// The guest kernel's code: a SYSCALL entry, exception handlers and the first return to user mode, generated
// from this TypeScript source. Host services are requested with VMCALL; which service is meant follows from
// the routine the VMCALL is in.
import { Percpu } from '../layout.js';
import { abs, Code, Instruction, mem, Register, Routine } from './asm.js';

/** Size reserved for each routine. */
export const ROUTINE_SIZE = 256;

/** Host services, one per kind of kernel routine. */
export const enum Service { START = 0, SYSCALL = 1, PAGE_FAULT = 2, FATAL = 3 }

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
}

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

function syscallEntry(): Routine {
  const r = new Routine('entry_SYSCALL_64');
  r.emit(I.create(Code.Swapgs));
  r.emit(I.createMemReg(Code.Mov_rm64_r64, abs(Percpu.USER_RSP, Register.GS), Register.RSP));
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RSP, abs(Percpu.KERNEL_RSP, Register.GS)));
  r.emit(I.createReg(Code.Push_r64, Register.RCX));
  r.emit(I.createReg(Code.Push_r64, Register.R11));
  r.emit(I.create(Code.Vmcall)); // host: the system call in RAX with RDI RSI RDX R10 R8 R9; result in RAX
  r.emit(I.createMemU32(Code.Cmp_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 0)); // exit work (see Percpu)
  r.branch(Code.Je_rel8_64, 'restore');
  r.emit(I.createMemU32(Code.Test_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 2));
  r.branch(Code.Jne_rel8_64, 'iret');
  r.emit(I.createMemU32(Code.Mov_rm8_imm8, abs(Percpu.FLUSH_TLB, Register.GS), 0));
  r.emit(I.createRegReg(Code.Mov_r64_cr, Register.RCX, Register.CR3));
  r.emit(I.createRegReg(Code.Mov_cr_r64, Register.CR3, Register.RCX));
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
  return r;
}

function pageFault(): Routine {
  const r = new Routine('asm_exc_page_fault');
  r.emit(I.createReg(Code.Push_r64, Register.RDI));
  r.emit(I.createReg(Code.Push_r64, Register.RAX));
  r.emit(I.createRegReg(Code.Mov_r64_cr, Register.RAX, Register.CR2)); // faulting address
  r.emit(I.createRegMem(Code.Mov_r64_rm64, Register.RDI, mem(Register.RSP, 16))); // error code
  r.emit(I.create(Code.Vmcall)); // host: map the page, or end the process with SIGSEGV
  r.emit(I.createReg(Code.Pop_r64, Register.RAX));
  r.emit(I.createReg(Code.Pop_r64, Register.RDI));
  r.emit(I.createRegI32(Code.Add_rm64_imm8, Register.RSP, 8)); // drop the error code
  r.emit(I.create(Code.Iretq));
  return r;
}

function fatal(vector: number): Routine {
  const r = new Routine(EXC_NAMES[vector] ?? `exc_vector_${vector}`);
  if (!WITH_ERROR.has(vector)) r.emit(I.createI32(Code.Pushq_imm8, 0)); // uniform frame: error code slot
  r.emit(I.createReg(Code.Push_r64, Register.RDI));
  r.emit(I.createRegU32(Code.Mov_r32_imm32, Register.EDI, vector));
  r.emit(I.create(Code.Vmcall)); // host: the signal for this vector (a handler's frame, or the end of the process)
  r.emit(I.createReg(Code.Pop_r64, Register.RDI));
  r.emit(I.createRegI32(Code.Add_rm64_imm8, Register.RSP, 8)); // drop the error code
  r.emit(I.create(Code.Iretq));
  return r;
}

/** The fatal exception vectors the IDT routes to `fatal` routines. */
export const FATAL_VECTORS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 18, 19];

/** Assemble the kernel at linear address `base`; returns the code and the routine table. */
export function buildKernel(base: bigint): { code: Uint8Array; routines: KernelRoutine[] } {
  const list: [Routine, Service, number][] = [
    [startUser(), Service.START, -1],
    [syscallEntry(), Service.SYSCALL, -1],
    [pageFault(), Service.PAGE_FAULT, 14],
    ...FATAL_VECTORS.map((v): [Routine, Service, number] => [fatal(v), Service.FATAL, v]),
  ];
  const code = new Uint8Array(list.length * ROUTINE_SIZE).fill(0xcc);
  const routines: KernelRoutine[] = [];
  list.forEach(([r, service, vector], k) => {
    const offset = k * ROUTINE_SIZE;
    const bytes = r.encode(base + BigInt(offset));
    if (bytes.length > ROUTINE_SIZE) throw new Error(`kernel routine ${r.name} is ${bytes.length} bytes`);
    code.set(bytes, offset);
    routines.push({ name: r.name, offset, size: bytes.length, service, vector });
  });
  return { code, routines };
}
