// Where the interrupted user context lives while the guest kernel waits at a VMCALL, and how the host replaces
// it. The kernel routines keep it as Linux's entry code does, partly in registers and partly on the kernel stack:
//   system call:  user RSP in the per-CPU area, RIP in the pushed RCX, RFLAGS in the pushed R11, the rest live;
//   exception:    the processor's IRET frame, the error code, the saved RDI (the routine passes the vector in EDI);
//   page fault:   the same plus the saved RAX (the routine passes CR2 in RAX).
// A new context is written back as real state the kernel code then uses: every general register, the IRET
// frame (logged host writes to the kernel stack) and, for a system call, the per-CPU flag that makes the entry
// return with IRETQ instead of SYSRETQ (SYSRETQ cannot restore RCX and R11).
import type { Cpu } from '../cpu/cpu.js';
import { getFlags } from '../cpu/flags.js';
import { fxImage, loadFxImage } from '../cpu/ops/x87-control.js';
import type { AddressSpace } from './address-space.js';
import { kernelPhys, Percpu, PERCPU_PHYS } from './layout.js';
import { type ContextPort, FXSAVE_SIZE, Gpr, type UserContext, copyContext } from './linux/signal-context.js';

/** The kernel routine the VMCALL is in. */
export type EntryKind = 'syscall' | 'exception' | 'page_fault';

/** Offset from the kernel RSP at the VMCALL to the IRET frame (RIP, CS, RFLAGS, RSP, SS) that returns to user mode. */
const IRET_AT: Record<EntryKind, bigint> = { syscall: -24n, exception: 16n, page_fault: 24n };
/** Offset from the kernel RSP at the VMCALL of the saved user RDI and RAX (-1: live in the register). */
const SAVED_RDI: Record<EntryKind, number> = { syscall: -1, exception: 0, page_fault: 8 };
const SAVED_RAX: Record<EntryKind, number> = { syscall: -1, exception: -1, page_fault: 0 };
/** Bit of Percpu.EXIT_WORK that makes the system call entry return through IRETQ. */
export const EXIT_IRET = 2;

/** The user context of one kernel entry, read lazily and written back by `commit`. */
export class EntryContext implements ContextPort {
  private readonly cpu: Cpu;
  private readonly as: AddressSpace;
  readonly kind: EntryKind;
  /** Kernel RSP at the VMCALL. */
  private readonly ksp: bigint;
  /** The context as read or last written. */
  private ctx: UserContext | undefined;
  /** Whether `write` was called. */
  dirty = false;

  constructor(cpu: Cpu, as: AddressSpace, kind: EntryKind) {
    this.cpu = cpu; this.as = as; this.kind = kind;
    this.ksp = this.gpr(Gpr.RSP);
  }

  private gpr(n: number): bigint {
    return (BigInt(this.cpu.r[2 * n + 1]!) << 32n) | BigInt(this.cpu.r[2 * n]!);
  }

  private setGpr(n: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.cpu.r[2 * n] = Number(u & 0xffffffffn); this.cpu.r[2 * n + 1] = Number(u >> 32n);
  }

  /** Kernel stack address -> physical (the kernel image mapping). */
  private phys(linear: bigint): number {
    return kernelPhys(BigInt.asUintN(64, linear));
  }

  private kread(linear: bigint): bigint {
    const p = this.phys(linear), dv = this.cpu.mem.dv;
    return (BigInt(dv.getUint32(p + 4, true)) << 32n) | BigInt(dv.getUint32(p, true));
  }

  private kwrite(linear: bigint, values: bigint[]): void {
    const b = new Uint8Array(8 * values.length), dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, v), true));
    this.as.hostWrite(BigInt.asUintN(64, linear), this.phys(linear), b);
  }

  read(): UserContext {
    if (this.ctx === undefined) {
      const gpr = Array.from({ length: 16 }, (_, n) => this.gpr(n));
      let rip: bigint, rflags: bigint, cs: number, ss: number;
      if (this.kind === 'syscall') {
        gpr[Gpr.RSP] = (BigInt(this.cpu.mem.dv.getUint32(PERCPU_PHYS + Percpu.USER_RSP + 4, true)) << 32n) |
          BigInt(this.cpu.mem.dv.getUint32(PERCPU_PHYS + Percpu.USER_RSP, true));
        rip = this.kread(this.ksp + 8n); // pushed RCX
        rflags = this.kread(this.ksp); // pushed R11
        cs = 0x33; ss = 0x2b;
      } else {
        const f = this.ksp + IRET_AT[this.kind];
        rip = this.kread(f); cs = Number(this.kread(f + 8n) & 0xffffn); rflags = this.kread(f + 16n);
        gpr[Gpr.RSP] = this.kread(f + 24n); ss = Number(this.kread(f + 32n) & 0xffffn);
        gpr[Gpr.RDI] = this.kread(this.ksp + BigInt(SAVED_RDI[this.kind]));
        if (SAVED_RAX[this.kind] >= 0) gpr[Gpr.RAX] = this.kread(this.ksp + BigInt(SAVED_RAX[this.kind]));
      }
      const fx = new Uint8Array(FXSAVE_SIZE);
      fx.set(fxImage(this.cpu, true));
      this.ctx = { gpr, rip, rflags, cs, ss, fx };
    }
    return copyContext(this.ctx);
  }

  /** Drops the cached context (the registers changed since it was read, e.g. the system call's result). */
  forget(): void {
    if (!this.dirty) this.ctx = undefined;
  }

  /** The exception's error code (on the kernel stack just below the IRET frame). */
  errorCode(): bigint {
    return this.kread(this.ksp + IRET_AT[this.kind] - 8n);
  }

  write(ctx: UserContext): void {
    this.ctx = copyContext(ctx);
    this.dirty = true;
  }

  /** Whether the entry came from user mode (a fault in the kernel itself has no user context). */
  fromUser(): boolean {
    if (this.kind === 'syscall') return true;
    return (this.kread(this.ksp + IRET_AT[this.kind] + 8n) & 3n) === 3n;
  }

  /**
   * Puts a written context in place: the registers, the IRET frame and the saved RDI/RAX slots the routine
   * restores. Returns the EXIT_WORK bits the system call entry needs (EXIT_IRET), 0 for the others.
   */
  commit(): number {
    const c = this.ctx;
    if (!this.dirty || c === undefined) return 0;
    for (let n = 0; n < 16; n++) if (n !== Gpr.RSP) this.setGpr(n, c.gpr[n]!);
    const f = this.ksp + IRET_AT[this.kind];
    this.kwrite(f, [c.rip, BigInt(c.cs), c.rflags, c.gpr[Gpr.RSP]!, BigInt(c.ss)]);
    if (SAVED_RDI[this.kind] >= 0) this.kwrite(this.ksp + BigInt(SAVED_RDI[this.kind]), [c.gpr[Gpr.RDI]!]);
    if (SAVED_RAX[this.kind] >= 0) this.kwrite(this.ksp + BigInt(SAVED_RAX[this.kind]), [c.gpr[Gpr.RAX]!]);
    if (!loadFxImage(this.cpu, c.fx, true)) throw new Error('signal context: invalid MXCSR after validation');
    getFlags(this.cpu.r); // settle lazy flags (the kernel's own flags are not part of the user context)
    return this.kind === 'syscall' ? EXIT_IRET : 0;
  }
}

/** Offset of the per-CPU byte of exit work (bit 0: reload CR3, bit 1: return with IRETQ). */
export const EXIT_WORK_OFFSET = Percpu.FLUSH_TLB;