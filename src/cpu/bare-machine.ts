// A processor with identity-mapped memory and no operating system: long mode on, paging with 2-MiB pages,
// every exception reported as an exit. Used by instruction tests, the differential harness and benchmarks.
import { Cpu } from './cpu.js';
import { getFlags, setFlags } from './flags.js';
import { PhysMemory } from './phys-memory.js';
import { Off, Seg } from './state.js';

/** Options for a bare machine. */
export interface BareOptions {
  /** Physical memory size in bytes (identity-mapped, default 64 MiB). */
  memory?: number;
  /** Privilege level to run at (default 3). */
  cpl?: number;
  /** Where the page tables live (physical, default: the last 16 KiB of memory). */
  tablesAt?: number;
}

const R = (off: number): number => off >> 2;

/** Physical address of the 4 KiB used for page tables in a bare machine of `size` bytes. */
function tablesBase(size: number): number {
  return size - 0x4000;
}

/** An identity-mapped machine for running code snippets. */
export class BareMachine {
  /** Guest physical memory. */
  readonly mem: PhysMemory;
  /** The processor. */
  readonly cpu: Cpu;

  constructor(opts: BareOptions = {}) {
    const size = opts.memory ?? 64 * 1024 * 1024;
    this.mem = new PhysMemory(size);
    this.cpu = new Cpu(this.mem);
    const t = opts.tablesAt ?? tablesBase(size);
    const dv = this.mem.dv;
    // PML4 -> PDPT -> PD with 2-MiB pages; U/S=1 R/W=1 A=1 D=1 on all but the table area
    const pml4 = t, pdpt = t + 0x1000, pd = t + 0x2000;
    dv.setUint32(pml4, (pdpt | 0x27) >>> 0, true);
    dv.setUint32(pdpt, (pd | 0x27) >>> 0, true);
    const pages = Math.min(512, size >>> 21);
    for (let i = 0; i < pages; i++) dv.setUint32(pd + i * 8, ((i << 21) | 0xe7) >>> 0, true);
    const r = this.cpu.r;
    r[R(Off.CR0)] = 0x80010033; // PG WP NE ET MP PE
    r[R(Off.CR3)] = pml4;
    r[R(Off.CR4)] = 0x6a0; // PAE PGE OSFXSR OSXMMEXCPT
    r[R(Off.EFER)] = 0xd01; // SCE LME LMA NXE
    r[R(Off.MXCSR)] = 0x1f80;
    r[R(Off.FCW)] = 0x37f;
    r[R(Off.FTAG)] = 0xffff;
    const cpl = opts.cpl ?? 3;
    r[R(Off.SEL) + Seg.CS] = cpl === 3 ? 0x33 : 0x08;
    r[R(Off.SEL) + Seg.SS] = cpl === 3 ? 0x2b : 0x10;
    setFlags(r, 0x202);
    this.cpu.setCpl(cpl);
    this.cpu.controls.exceptionBitmap = 0xffffffff;
  }

  /** Copy bytes into memory at a physical (= linear) address. */
  load(addr: number, bytes: Uint8Array): void {
    this.mem.bytes.set(bytes, addr);
    this.cpu.notifyPhysWrite(addr, bytes.length);
  }

  /** Set a 64-bit GPR (0..15, encoding order). */
  setReg(n: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.cpu.r[n << 1] = Number(u & 0xffffffffn);
    this.cpu.r[(n << 1) | 1] = Number(u >> 32n);
  }

  /** A 64-bit GPR as an unsigned bigint. */
  reg(n: number): bigint {
    return (BigInt(this.cpu.r[(n << 1) | 1]!) << 32n) | BigInt(this.cpu.r[n << 1]!);
  }

  /** Set RIP. */
  setRip(v: bigint | number): void {
    const u = BigInt.asUintN(64, BigInt(v));
    this.cpu.r[R(Off.RIP)] = Number(u & 0xffffffffn);
    this.cpu.r[R(Off.RIP) + 1] = Number(u >> 32n);
  }

  /** RIP as a bigint. */
  rip(): bigint {
    return (BigInt(this.cpu.r[R(Off.RIP) + 1]!) << 32n) | BigInt(this.cpu.r[R(Off.RIP)]!);
  }

  /** Current RFLAGS (materialising lazy flags). */
  flags(): number {
    return getFlags(this.cpu.r);
  }

  /** Replace RFLAGS. */
  setFlags(v: number): void {
    setFlags(this.cpu.r, v);
  }
}
