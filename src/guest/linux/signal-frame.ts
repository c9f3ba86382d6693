// Linux's x86-64 signal frame, byte for byte (arch/x86/include/uapi/asm/sigcontext.h, arch/x86/kernel/signal*.c):
//   struct rt_sigframe { char *pretcode; struct ucontext uc; struct siginfo info; }  (440 bytes)
//   struct ucontext { u64 uc_flags; ucontext *uc_link; stack_t uc_stack; sigcontext uc_mcontext; sigset_t uc_sigmask; }
// below it (higher addresses) the 64-byte aligned FXSAVE area that sigcontext.fpstate points to. Only the fields
// Linux writes are written: stack_t's padding, sigcontext's reserved1 and FXSAVE's bytes 416..463 keep what was
// on the stack, and siginfo is written only for SA_SIGINFO handlers.
import { FXSAVE_SIZE, Gpr, type UserContext, copyContext, initialFx } from './signal-context.js';
import { SIGINFO_SIZE, type SigInfo, encodeSigInfo } from './signal-info.js';
import { type AltStack, type FaultRecord, SA, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, type SigAction } from './signal-state.js';
import { StructWriter, le32, le64 } from './struct-writer.js';

/** Offsets in struct rt_sigframe. */
export const FRAME = { PRETCODE: 0, UC: 8, MCONTEXT: 48, SIGMASK: 304, INFO: 312, SIZE: 440 } as const;
/** Offsets in struct sigcontext (x86-64). */
export const SC = { RIP: 128, EFLAGS: 136, CS: 144, SS: 150, ERR: 152, TRAPNO: 160, OLDMASK: 168, CR2: 176, FPSTATE: 184 } as const;
/** GPR number of each of the first 16 sigcontext slots (r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp). */
export const SC_GPRS = [8, 9, 10, 11, 12, 13, 14, 15, Gpr.RDI, Gpr.RSI, Gpr.RBP, Gpr.RBX, Gpr.RDX, Gpr.RAX, Gpr.RCX, Gpr.RSP];
/** uc_flags without XSAVE: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS (UC_FP_XSTATE is for processors with XSAVE). */
const UC_FLAGS = 6n;
/** Bytes below the interrupted RSP that the ABI lets a function use without moving RSP. */
const REDZONE = 128n;
/** The RFLAGS bits sigreturn takes from the frame (FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF RF). */
const FIX_EFLAGS = 0x50dd5n;
/** RFLAGS bits cleared at handler entry: DF, RF, TF. */
const HANDLER_CLEARS = 0x10500n;
/** Where FXSAVE leaves bytes untouched, and the software-reserved bytes Linux fills in (struct _fpx_sw_bytes). */
const FX_WRITTEN = 416, SW_BYTES = 464;
const FP_XSTATE_MAGIC1 = 0x46505853;
/** User code and stack selectors. */
export const USER_CS = 0x33, USER_DS = 0x2b, USER_CS32 = 0x23;

/** Strictly inside the alternate stack (__on_sig_stack). */
function insideAltStack(sp: bigint, a: AltStack): boolean {
  return sp > a.sp && sp - a.sp <= a.size;
}

/** on_sig_stack: never with SS_AUTODISARM. */
export function onAltStack(sp: bigint, a: AltStack): boolean {
  return (a.flags & SS_AUTODISARM) === 0 && insideAltStack(sp, a);
}

/** sas_ss_flags(sp): SS_DISABLE without a stack, SS_ONSTACK when running on it, else 0. */
export function altStackFlags(sp: bigint, a: AltStack): number {
  if (a.size === 0n) return SS_DISABLE;
  return onAltStack(sp, a) ? SS_ONSTACK : 0;
}

/** One piece of the frame: `bytes` at `addr`. */
export interface FrameWrite {
  addr: bigint;
  bytes: Uint8Array;
}

/** What delivering one signal to a handler needs. */
export interface FrameRequest {
  /** The interrupted context (already adjusted for system call restart). */
  ctx: UserContext;
  /** The disposition (a handler). */
  action: SigAction;
  /** The signal. */
  info: SigInfo;
  /** The mask to restore at sigreturn (uc_sigmask, sigcontext.oldmask). */
  oldMask: bigint;
  /** The thread's alternate stack. */
  alt: AltStack;
  /** The thread's last fault (trapno, err, cr2). */
  fault: FaultRecord;
}

/** The frame's pieces and the handler's context; undefined when it would overflow the alternate stack. */
export interface BuiltFrame {
  /** Address of the frame (the handler's RSP). */
  frame: bigint;
  /** The bytes to write, in order. */
  writes: FrameWrite[];
  /** The context the handler starts in. */
  handler: UserContext;
}

/** Lays out and encodes the rt_sigframe for a handler, as get_sigframe and x64_setup_rt_frame do. */
export function buildRtSigframe(r: FrameRequest): BuiltFrame | undefined {
  const ctx = r.ctx, rsp = ctx.gpr[Gpr.RSP]!;
  const nested = onAltStack(rsp, r.alt);
  let entering = false;
  let sp = rsp - REDZONE;
  if ((r.action.flags & SA.ONSTACK) !== 0n && altStackFlags(sp, r.alt) === 0) {
    sp = r.alt.sp + r.alt.size;
    entering = true;
  }
  const fpstate = (sp - BigInt(FXSAVE_SIZE)) & ~63n;
  const frame = ((fpstate - BigInt(FRAME.SIZE)) & ~15n) - 8n;
  if ((nested || entering) && !insideAltStack(frame, r.alt)) return undefined;

  const sw = new StructWriter(48).u32(0, FP_XSTATE_MAGIC1).u32(4, FXSAVE_SIZE + 4).u64(8, 0n).u32(16, FXSAVE_SIZE);
  const head = new StructWriter(36)
    .u64(0, r.action.restorer).u64(8, UC_FLAGS).u64(16, 0n).u64(24, r.alt.sp).i32(32, r.alt.flags);
  const sc = new StructWriter(SC.FPSTATE + 8);
  SC_GPRS.forEach((g, i) => sc.u64(8 * i, ctx.gpr[g]!));
  sc.u64(SC.RIP, ctx.rip).u64(SC.EFLAGS, ctx.rflags).u16(SC.CS, ctx.cs).u16(SC.CS + 2, 0).u16(SC.CS + 4, 0).u16(SC.SS, ctx.ss)
    .u64(SC.ERR, r.fault.errorCode).u64(SC.TRAPNO, BigInt(r.fault.trapNr)).u64(SC.OLDMASK, r.oldMask)
    .u64(SC.CR2, r.fault.cr2).u64(SC.FPSTATE, fpstate);
  const writes: FrameWrite[] = [
    { addr: fpstate, bytes: ctx.fx.subarray(0, FX_WRITTEN) },
    { addr: fpstate + BigInt(SW_BYTES), bytes: sw.bytes },
    { addr: frame, bytes: head.bytes },
    { addr: frame + 40n, bytes: new StructWriter(8).u64(0, r.alt.size).bytes },
    { addr: frame + BigInt(FRAME.MCONTEXT), bytes: sc.bytes },
    { addr: frame + BigInt(FRAME.SIGMASK), bytes: new StructWriter(8).u64(0, r.oldMask).bytes },
  ];
  if ((r.action.flags & SA.SIGINFO) !== 0n) writes.push({ addr: frame + BigInt(FRAME.INFO), bytes: encodeSigInfo(r.info) });

  const handler = copyContext(ctx);
  handler.gpr[Gpr.RDI] = BigInt(r.info.signo);
  handler.gpr[Gpr.RAX] = 0n; // in case the handler was declared without a prototype
  handler.gpr[Gpr.RSI] = frame + BigInt(FRAME.INFO);
  handler.gpr[Gpr.RDX] = frame + BigInt(FRAME.UC);
  handler.gpr[Gpr.RSP] = frame;
  handler.rip = r.action.handler;
  handler.cs = USER_CS;
  if (handler.ss !== USER_DS) handler.ss = USER_DS;
  handler.rflags = ctx.rflags & ~HANDLER_CLEARS;
  handler.fx = initialFx();
  return { frame, writes, handler };
}

/** What rt_sigreturn finds in the frame at RSP - 8. */
export interface ParsedFrame {
  /** The context to return to. */
  ctx: UserContext;
  /** uc_sigmask. */
  mask: bigint;
  /** uc_stack, applied with sigaltstack's rules. */
  stack: AltStack;
}

/**
 * Reads the frame rt_sigreturn returns through (restore_sigcontext): registers, the FIX_EFLAGS bits of RFLAGS,
 * CS and SS forced to ring 3, and the FPU state from sigcontext.fpstate (the initial state when it is 0).
 * `read` is the user memory; undefined means a bad frame (the thread gets SIGSEGV).
 */
export function parseRtSigframe(current: UserContext, read: (addr: bigint, len: number) => Uint8Array | undefined): ParsedFrame | undefined {
  const frame = current.gpr[Gpr.RSP]! - 8n;
  const b = read(frame, FRAME.SIZE - SIGINFO_SIZE);
  if (b === undefined) return undefined;
  const m = FRAME.MCONTEXT;
  const ctx = copyContext(current);
  SC_GPRS.forEach((g, i) => { ctx.gpr[g] = le64(b, m + 8 * i); });
  ctx.rip = le64(b, m + SC.RIP);
  ctx.rflags = (current.rflags & ~FIX_EFLAGS) | (le64(b, m + SC.EFLAGS) & FIX_EFLAGS);
  ctx.cs = (le32(b, m + SC.CS) & 0xffff) | 3;
  ctx.ss = (le32(b, m + SC.SS) & 0xffff) | 3;
  // a selector the return to user mode would fault on in the kernel: the frame is bad (Linux's IRET fixup also
  // ends in SIGSEGV)
  if ((ctx.cs !== USER_CS && ctx.cs !== USER_CS32) || ctx.ss !== USER_DS) return undefined;
  const fp = le64(b, m + SC.FPSTATE);
  if (fp === 0n) ctx.fx = initialFx();
  else {
    if ((fp & 15n) !== 0n) return undefined;
    const fx = read(fp, FXSAVE_SIZE);
    if (fx === undefined || (le32(fx, 24) & ~0xffff) !== 0) return undefined;
    ctx.fx = fx.slice();
  }
  return {
    ctx,
    mask: le64(b, FRAME.SIGMASK),
    stack: { sp: le64(b, 24), flags: le32(b, 32) | 0, size: le64(b, 40) },
  };
}
