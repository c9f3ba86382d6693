// The user-mode context a signal interrupts: what Linux keeps in pt_regs plus the FPU state, as plain data, and
// the seam through which the Linux layer reads and replaces it (the machine implements it for each kernel entry).

/** GPR numbers in encoding order. */
export const enum Gpr { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8, R11 = 11 }

/** Size of the FXSAVE image. */
export const FXSAVE_SIZE = 512;

/** A thread's user-mode registers at a kernel entry. */
export interface UserContext {
  /** RAX..R15 in encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), unsigned 64-bit. */
  gpr: bigint[];
  /** Where user mode resumes. */
  rip: bigint;
  /** RFLAGS. */
  rflags: bigint;
  /** Code segment selector (0x33). */
  cs: number;
  /** Stack segment selector (0x2b). */
  ss: number;
  /** The FPU and SSE state as FXSAVE (64-bit form) writes it: 512 bytes, the last 96 not written by FXSAVE. */
  fx: Uint8Array;
}

/** Access to the interrupted user context of the current kernel entry. */
export interface ContextPort {
  /** The context user mode returns to (a copy; the last one written if `write` was called). */
  read(): UserContext;
  /** Replaces the context user mode returns to (all registers, RIP, RSP, RFLAGS and the FPU state). */
  write(ctx: UserContext): void;
}

/** A deep copy. */
export function copyContext(c: UserContext): UserContext {
  return { gpr: [...c.gpr], rip: c.rip, rflags: c.rflags, cs: c.cs, ss: c.ss, fx: c.fx.slice() };
}

/** The FPU state a handler starts with (fpu__clear_user_states: FCW 0x37f, MXCSR 0x1f80, everything else 0). */
export function initialFx(): Uint8Array {
  const fx = new Uint8Array(FXSAVE_SIZE);
  fx[0] = 0x7f; fx[1] = 0x03; // FCW
  new DataView(fx.buffer).setUint32(24, 0x1f80, true); // MXCSR
  new DataView(fx.buffer).setUint32(28, 0xffff, true); // MXCSR_MASK as the processor reports it
  return fx;
}
