// System instructions and event delivery with a hand-built mini kernel: GDT (kernel/user code and data,
// 64-bit TSS), TSS with RSP0 and IST1, IDT with interrupt gates, 4-KiB page tables with supervisor and
// user pages. Expected values follow the SDM (vol. 2 instruction pages, vol. 3A 5.8.8, 6.12-6.15, 2.5).
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';

const R = (off: number): number => off >> 2;
const RAX = 0, RCX = 1, RDX = 2, RSP = 4, RSI = 6, RDI = 7, R8 = 8, R11 = 11;
const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

// ---- layout (linear = physical for everything mapped) ----
const GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, KCODE = 0x4000, HANDLERS = 0x5000, DESC = 0x6000;
const KSTACK_TOP = 0x9000, IST1_TOP = 0xb000;
const UCODE = 0x10000, USTACK_TOP = 0x12000;
const DEMAND = 0x20000, DEMAND_FRAME = 0x30000; // not present until the #PF handler maps it
const UNMAPPED_STACK_TOP = 0x41000; // RSP0 for the double-fault test: page 0x40000 is never mapped
const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT = 0x103000;

// GDT selectors (the Linux layout, so STAR works out as it does there)
const KCS = 0x10, KDS = 0x18, UCS32 = 0x23, UDS = 0x2b, UCS = 0x33, TSS_SEL = 0x40;
const STAR_HI = ((UCS32 - 3) << 16 | KCS) >>> 0; // STAR[63:48] = 0x20, STAR[47:32] = 0x10

// handler entry points
const H_PF = HANDLERS, H_GENERIC = HANDLERS + 0x100, H_DF = HANDLERS + 0x200;

const u64 = (dv: DataView, at: number): bigint => dv.getBigUint64(at, true);

/** A mini kernel: tables built by hand, loaded with the system instructions under test. */
class Kernel {
  readonly m = new BareMachine({ memory: 16 * 1024 * 1024, cpl: 0 });
  readonly c = this.m.cpu;
  readonly dv = this.m.mem.dv;

  constructor() {
    const dv = this.dv;
    // GDT
    const gdt: [number, number][] = [[0, 0], [0, 0], [0, 0x00209a00], [0, 0x00009200], [0, 0x00cffa00], [0, 0x0000f200], [0, 0x0020fa00], [0, 0]];
    gdt.forEach(([lo, hi], i) => { dv.setUint32(GDT + i * 8, lo, true); dv.setUint32(GDT + i * 8 + 4, hi, true); });
    // 64-bit TSS descriptor at 0x40: base TSS, limit 0x67, type 9 (available), present
    dv.setUint32(GDT + TSS_SEL, ((TSS & 0xffff) << 16 | 0x67) >>> 0, true);
    dv.setUint32(GDT + TSS_SEL + 4, ((TSS >>> 16) & 0xff | 0x8900 | (TSS & 0xff000000)) >>> 0, true);
    dv.setUint32(GDT + TSS_SEL + 8, 0, true);
    // TSS: RSP0 and IST1; I/O map base beyond the limit (no bitmap)
    dv.setBigUint64(TSS + 4, BigInt(KSTACK_TOP), true);
    dv.setBigUint64(TSS + 0x24, BigInt(IST1_TOP), true);
    dv.setUint16(TSS + 0x66, 0x68, true);
    // IDT: every vector -> generic handler; #PF and #DF handlers of their own
    for (let v = 0; v < 256; v++) this.gate(v, H_GENERIC, 0, 0);
    this.gate(14, H_PF, 0, 0);
    this.gate(8, H_DF, 0, 1);
    // descriptor-table operands for LGDT/LIDT: limit u16 then base u64
    dv.setUint16(DESC, TSS_SEL + 15, true); dv.setBigUint64(DESC + 2, BigInt(GDT), true);
    dv.setUint16(DESC + 0x10, 256 * 16 - 1, true); dv.setBigUint64(DESC + 0x12, BigInt(IDT), true);
    dv.setUint16(DESC + 0x20, TSS_SEL, true);
    // page tables: upper levels permissive, the PT decides; first 2 MiB mapped 4 KiB at a time
    dv.setBigUint64(PML4, BigInt(PDPT | 7), true);
    dv.setBigUint64(PDPT, BigInt(PD | 7), true);
    dv.setBigUint64(PD, BigInt(PT | 7), true);
    for (const p of [GDT, IDT, TSS, KCODE, HANDLERS, DESC, KSTACK_TOP - 0x1000, IST1_TOP - 0x1000, PML4, PDPT, PD, PT]) this.map(p, p, false);
    for (const p of [UCODE, USTACK_TOP - 0x1000]) this.map(p, p, true);
    // the #PF handler: map DEMAND -> DEMAND_FRAME (user, writable), invalidate, drop the error code, IRETQ
    this.code(H_PF, [
      0x48, 0xbb, ...le64(PT + (DEMAND >>> 12) * 8), // mov rbx, &PTE(DEMAND)
      0x48, 0xb8, ...le64(DEMAND_FRAME | 7), // mov rax, frame | U|W|P
      0x48, 0x89, 0x03, // mov [rbx], rax
      0x0f, 0x20, 0xd1, // mov rcx, cr2
      0x0f, 0x01, 0x39, // invlpg [rcx]
      0x48, 0x83, 0xc4, 0x08, // add rsp, 8
      0x48, 0xcf, // iretq
    ]);
    this.code(H_GENERIC, [0xf4]); // hlt: the test inspects the frame
    this.code(H_DF, [0xf4]);
    this.loadTables();
  }

  /** An interrupt gate (type 0xE) for vector v. */
  gate(v: number, target: number, dpl: number, ist: number, present = true): void {
    const at = IDT + v * 16, dv = this.dv;
    dv.setUint32(at, ((KCS << 16) | (target & 0xffff)) >>> 0, true);
    dv.setUint32(at + 4, ((target & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | 0x0e00 | ist) >>> 0, true);
    dv.setUint32(at + 8, 0, true); dv.setUint32(at + 12, 0, true);
  }

  /** Map a 4-KiB page (writable; user or supervisor). */
  map(linear: number, phys: number, user: boolean): void {
    this.dv.setBigUint64(PT + (linear >>> 12) * 8, BigInt(phys | (user ? 7 : 3)), true);
  }

  code(at: number, bytes: number[]): void { this.m.load(at, new Uint8Array(bytes)); }

  reg(n: number): bigint { return this.m.reg(n); }
  sel(s: number): number { return this.c.r[R(Off.SEL) + s]!; }
  msr(off: number): bigint { return (BigInt(this.c.r[R(off) + 1]!) << 32n) | BigInt(this.c.r[R(off)]!); }

  /** Run `bytes` at `at` for `steps` steps. */
  exec(at: number, bytes: number[], steps = 1): RunStatus {
    this.code(at, bytes);
    this.m.setRip(at);
    return this.c.run(steps);
  }

  /** WRMSR executed by the kernel (registers set by the host). */
  wrmsr(msr: number, v: bigint): RunStatus {
    this.m.setReg(RCX, BigInt(msr)); this.m.setReg(RAX, v & 0xffffffffn); this.m.setReg(RDX, v >> 32n);
    return this.exec(KCODE + 0x800, [0x0f, 0x30]);
  }

  /** Load GDTR, IDTR and TR with the instructions under test, then switch to the kernel's page tables. */
  loadTables(): void {
    const c = this.c;
    c.controls.exceptionBitmap = 0xffffffff; // no IDT yet: report any fault as an exit
    const st = this.exec(KCODE, [
      0x0f, 0x01, 0x14, 0x25, ...le32(DESC), // lgdt [DESC]
      0x0f, 0x01, 0x1c, 0x25, ...le32(DESC + 0x10), // lidt [DESC+0x10]
      0x0f, 0x00, 0x1c, 0x25, ...le32(DESC + 0x20), // ltr [DESC+0x20]
    ], 3);
    if (st !== RunStatus.BUDGET) throw new Error(`boot failed: ${String(c.lastFault)}`);
    c.r[R(Off.CR3)] = PML4; c.flushTlb();
    c.r[R(Off.SEL) + CS] = KCS; c.r[R(Off.SEL) + SS] = KDS;
    c.r[R(Off.GPR) + RSP * 2] = KSTACK_TOP;
    c.controls.exceptionBitmap = 0; // the processor delivers through the IDT
  }

  /** Boot: the syscall MSRs, then SYSRETQ to user code at UCODE with RSP = USTACK_TOP. */
  boot(userCode: number[], userFlags = 0x202): void {
    const c = this.c;
    expect(this.wrmsr(0xc0000081, BigInt(STAR_HI) << 32n)).toBe(RunStatus.BUDGET); // STAR
    expect(this.wrmsr(0xc0000082, BigInt(KCODE + 0x100))).toBe(RunStatus.BUDGET); // LSTAR
    expect(this.wrmsr(0xc0000084, 0x47700n)).toBe(RunStatus.BUDGET); // FMASK: TF DF IF IOPL AC... as Linux
    this.code(UCODE, userCode);
    this.m.setReg(RCX, BigInt(UCODE)); this.m.setReg(R11, BigInt(userFlags));
    c.r[R(Off.GPR) + RSP * 2] = USTACK_TOP;
    expect(this.exec(KCODE + 0x80, [0x48, 0x0f, 0x07])).toBe(RunStatus.BUDGET); // sysretq
    expect(c.cpl).toBe(3);
    expect(this.m.rip()).toBe(BigInt(UCODE));
  }

  /** The 64-bit value at stack slot k (0 = top) of the current RSP. */
  slot(k: number): bigint { return u64(this.dv, Number(this.reg(RSP)) + 8 * k); }
}

function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }
function le64(v: number | bigint): number[] {
  const b = BigInt.asUintN(64, BigInt(v));
  return [...le32(Number(b & 0xffffffffn)), ...le32(Number(b >> 32n))];
}

describe('boot with LGDT, LIDT, LTR, WRMSR and SYSRETQ', () => {
  it('loads the descriptor-table registers and TR, marks the TSS busy, SGDT/SIDT/STR read them back', () => {
    const k = new Kernel();
    k.boot([0x90]);
    const r = k.c.r;
    expect(r[R(Off.GDTR_LIMIT)]).toBe(TSS_SEL + 15);
    expect(k.msr(Off.GDTR_BASE)).toBe(BigInt(GDT));
    expect(r[R(Off.IDTR_LIMIT)]).toBe(4095);
    expect(k.msr(Off.IDTR_BASE)).toBe(BigInt(IDT));
    expect(r[R(Off.TR_SEL)]).toBe(TSS_SEL);
    expect(k.msr(Off.TR_BASE)).toBe(BigInt(TSS));
    expect(r[R(Off.TR_LIMIT)]).toBe(0x67);
    expect(k.dv.getUint8(GDT + TSS_SEL + 5)).toBe(0x8b); // type 9 -> 0xB (busy)
    // user mode: sgdt [rsp-16]; sidt [rsp-32]; str eax (allowed at CPL 3: no UMIP)
    k.m.setReg(RAX, 0xffffffffffffffffn);
    const st = k.exec(UCODE, [0x0f, 0x01, 0x44, 0x24, 0xf0, 0x0f, 0x01, 0x4c, 0x24, 0xe0, 0x0f, 0x00, 0xc8], 3);
    expect(st).toBe(RunStatus.BUDGET);
    expect(k.dv.getUint16(USTACK_TOP - 16, true)).toBe(TSS_SEL + 15);
    expect(u64(k.dv, USTACK_TOP - 14)).toBe(BigInt(GDT));
    expect(k.dv.getUint16(USTACK_TOP - 32, true)).toBe(4095);
    expect(u64(k.dv, USTACK_TOP - 30)).toBe(BigInt(IDT));
    expect(k.reg(RAX)).toBe(BigInt(TSS_SEL)); // STR r32 zero-extends
  });

  it('LTR of a busy TSS raises #GP(selector); LTR and LGDT at CPL 3 raise #GP(0)', () => {
    const k = new Kernel();
    k.boot([0x90]);
    k.c.stopOnFault = true;
    k.c.setCpl(0);
    expect(k.exec(KCODE, [0x0f, 0x00, 0x1c, 0x25, ...le32(DESC + 0x20)])).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(13);
    expect(k.c.lastFault?.errorCode).toBe(TSS_SEL);
    for (const insn of [[0x0f, 0x00, 0x1c, 0x25, ...le32(DESC + 0x20)], [0x0f, 0x01, 0x14, 0x25, ...le32(DESC)]]) {
      const k3 = new Kernel();
      k3.boot([0x90]);
      k3.c.stopOnFault = true;
      expect(k3.exec(UCODE, insn)).toBe(RunStatus.FAULT);
      expect([k3.c.lastFault?.vector, k3.c.lastFault?.errorCode]).toEqual([13, 0]);
    }
  });
});

describe('SYSCALL, SWAPGS, SYSRETQ', () => {
  it('enters CPL 0 at LSTAR with RCX, R11, SFMASK applied; SWAPGS swaps; SYSRETQ returns with R11 flags', () => {
    const k = new Kernel();
    const c = k.c;
    // user: syscall ; nop
    k.boot([0x0f, 0x05, 0x90], 0x1 | 0x4 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800 | 0x40000); // CF PF ZF SF IF DF OF AC
    const userFlags = k.m.flags();
    expect(userFlags).toBe(0x40ec7); // SYSRETQ: (R11 & 0x3C7FD7) | 2
    // kernel entry at LSTAR: swapgs ; swapgs ; sysretq
    k.code(KCODE + 0x100, [0x0f, 0x01, 0xf8, 0x0f, 0x01, 0xf8, 0x48, 0x0f, 0x07]);
    c.r[R(Off.GS_BASE)] = 0x1111; c.r[R(Off.KERNEL_GS_BASE)] = 0x2222; c.r[R(Off.KERNEL_GS_BASE) + 1] = 0xffff8000;
    expect(c.run(1)).toBe(RunStatus.BUDGET);
    expect(c.cpl).toBe(0);
    expect(k.m.rip()).toBe(BigInt(KCODE + 0x100));
    expect(k.reg(RCX)).toBe(BigInt(UCODE + 2));
    expect(k.reg(R11)).toBe(BigInt(userFlags)); // RF is clear in it
    expect(k.m.flags()).toBe((userFlags & ~0x47700) | 2);
    expect([k.sel(CS), k.sel(SS)]).toEqual([KCS, KCS + 8]);
    expect(c.run(1)).toBe(RunStatus.BUDGET); // swapgs
    expect(k.msr(Off.GS_BASE)).toBe(0xffff800000002222n);
    expect(k.msr(Off.KERNEL_GS_BASE)).toBe(0x1111n);
    expect(c.run(1)).toBe(RunStatus.BUDGET); // swapgs back
    expect(k.msr(Off.GS_BASE)).toBe(0x1111n);
    k.m.setReg(R11, 0xffffffffffffffffn); // SYSRETQ keeps only 0x3C7FD7 (VM, RF, bits 3/5/15 and above 21 clear)
    expect(c.run(1)).toBe(RunStatus.BUDGET);
    expect(c.cpl).toBe(3);
    expect(k.m.rip()).toBe(BigInt(UCODE + 2));
    expect(k.m.flags()).toBe(0x3c7fd7);
    expect([k.sel(CS), k.sel(SS)]).toEqual([UCS, UDS]);
  });

  it('SYSCALL with EFER.SCE clear is #UD; SYSRETQ at CPL 3 is #GP(0); SYSRETQ to a non-canonical RCX is #GP(0)', () => {
    const k = new Kernel();
    k.boot([0x0f, 0x05, 0x48, 0x0f, 0x07]);
    k.c.stopOnFault = true;
    k.c.r[R(Off.EFER)] = k.c.r[R(Off.EFER)]! & ~1;
    expect(k.c.run(1)).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(6);
    k.c.r[R(Off.EFER)] = k.c.r[R(Off.EFER)]! | 1;
    k.c.setCpl(3);
    expect(k.exec(UCODE + 2, [0x48, 0x0f, 0x07])).toBe(RunStatus.FAULT);
    expect([k.c.lastFault?.vector, k.c.lastFault?.errorCode]).toEqual([13, 0]);
    k.c.setCpl(0);
    k.m.setReg(RCX, 0x0000800000000000n);
    expect(k.exec(KCODE, [0x48, 0x0f, 0x07])).toBe(RunStatus.FAULT);
    expect([k.c.lastFault?.vector, k.c.lastFault?.errorCode]).toEqual([13, 0]);
  });
});

describe('exceptions through the IDT', () => {
  it('#PF at CPL 3: switches to RSP0, pushes SS RSP RFLAGS CS RIP and the error code, sets CR2; the handler maps the page and IRETQ re-executes', () => {
    const k = new Kernel();
    const c = k.c;
    // user: mov [rdi], rsi ; mov r8, [rdi] ; hlt (-> #GP, the end)
    k.boot([0x48, 0x89, 0x37, 0x4c, 0x8b, 0x07, 0xf4]);
    k.m.setReg(RDI, BigInt(DEMAND + 0x18)); k.m.setReg(RSI, 0x123456789abcdef0n);
    c.stopOnFault = true;
    expect(c.run(10)).toBe(RunStatus.FAULT);
    expect(c.lastFault?.vector).toBe(14);
    expect(c.cpl).toBe(0);
    expect(k.m.rip()).toBe(BigInt(H_PF));
    expect(k.reg(RSP)).toBe(BigInt(KSTACK_TOP - 48));
    expect(k.slot(0)).toBe(6n); // error code: not present, write, user
    expect(k.slot(1)).toBe(BigInt(UCODE)); // RIP of the faulting instruction
    expect(k.slot(2)).toBe(BigInt(UCS));
    expect(k.slot(3)).toBe(0x202n); // RFLAGS (bit 1 reads as 1)
    expect(k.slot(4)).toBe(BigInt(USTACK_TOP));
    expect(k.slot(5)).toBe(BigInt(UDS));
    expect(k.msr(Off.CR2)).toBe(BigInt(DEMAND + 0x18));
    expect([k.sel(CS), k.sel(SS)]).toEqual([KCS, 0]);
    expect(k.m.flags() & 0x200).toBe(0); // interrupt gate clears IF
    c.stopOnFault = false;
    c.controls.exceptionBitmap = 1 << 13; // stop at the final HLT's #GP
    expect(c.run(20)).toBe(RunStatus.EXIT);
    expect(c.lastFault?.vector).toBe(13);
    expect(k.m.rip()).toBe(BigInt(UCODE + 6));
    expect(c.cpl).toBe(3);
    expect(k.reg(RSP)).toBe(BigInt(USTACK_TOP));
    expect(k.reg(R8)).toBe(0x123456789abcdef0n);
    expect(k.dv.getBigUint64(DEMAND_FRAME + 0x18, true)).toBe(0x123456789abcdef0n);
    expect(k.m.flags()).toBe(0x202);
  });

  it('an IST gate switches to the IST1 stack (even at CPL 0), aligned to 16 bytes', () => {
    const k = new Kernel();
    const c = k.c;
    k.boot([0x0f, 0x0b]); // ud2
    k.gate(6, H_GENERIC, 0, 1);
    c.stopOnFault = true;
    expect(c.run(1)).toBe(RunStatus.FAULT);
    expect(c.lastFault?.vector).toBe(6);
    expect(k.reg(RSP)).toBe(BigInt(IST1_TOP - 40)); // no error code
    expect(k.slot(0)).toBe(BigInt(UCODE));
    // from CPL 0 with an odd RSP: IST still used
    c.setCpl(0);
    c.r[R(Off.SEL) + SS] = KDS;
    c.r[R(Off.GPR) + RSP * 2] = KSTACK_TOP - 0x101;
    expect(k.exec(KCODE, [0x0f, 0x0b])).toBe(RunStatus.FAULT);
    expect(k.reg(RSP)).toBe(BigInt(IST1_TOP - 40));
    expect(k.slot(3)).toBe(BigInt(KSTACK_TOP - 0x101)); // old RSP
    expect(k.slot(4)).toBe(BigInt(KDS)); // old SS
  });

  it('privileged instructions at CPL 3 raise #GP(0) through the IDT with RIP at the instruction', () => {
    const cases: [string, number[]][] = [
      ['hlt', [0xf4]], ['mov cr3, rax', [0x0f, 0x22, 0xd8]], ['mov rax, cr0', [0x0f, 0x20, 0xc0]], ['wrmsr', [0x0f, 0x30]],
      ['rdmsr', [0x0f, 0x32]], ['swapgs', [0x0f, 0x01, 0xf8]], ['invlpg [rax]', [0x0f, 0x01, 0x38]], ['cli', [0xfa]],
      ['sti', [0xfb]], ['clts', [0x0f, 0x06]], ['wbinvd', [0x0f, 0x09]], ['lidt [rax]', [0x0f, 0x01, 0x18]],
      ['out 0x80, al', [0xe6, 0x80]], ['in al, dx', [0xec]], ['rdpmc', [0x0f, 0x33]], ['lmsw ax', [0x0f, 0x01, 0xf0]],
    ];
    for (const [name, bytes] of cases) {
      const k = new Kernel();
      k.boot(bytes);
      k.c.stopOnFault = true;
      k.m.setReg(RAX, BigInt(DESC));
      expect(k.c.run(1), name).toBe(RunStatus.FAULT);
      expect([k.c.lastFault?.vector, k.slot(0), k.slot(1), k.reg(RSP)], name).toEqual([13, 0n, BigInt(UCODE), BigInt(KSTACK_TOP - 48)]);
    }
  });

  it('#DE from DIV by zero is delivered through the IDT without an error code', () => {
    const k = new Kernel();
    k.boot([0x48, 0xf7, 0xf1]); // div rcx
    k.m.setReg(RCX, 0n);
    k.c.stopOnFault = true;
    expect(k.c.run(1)).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(0);
    expect(k.reg(RSP)).toBe(BigInt(KSTACK_TOP - 40));
    expect(k.slot(0)).toBe(BigInt(UCODE));
    expect(k.slot(1)).toBe(BigInt(UCS));
  });

  it('INT3 from CPL 3: a DPL 3 gate delivers with RIP after INT3; a DPL 0 gate raises #GP(3*8+2)', () => {
    const k = new Kernel();
    k.boot([0xcc]);
    k.gate(3, H_GENERIC, 3, 0);
    expect(k.c.run(1)).toBe(RunStatus.BUDGET); // a software interrupt is not a fault: one step
    expect(k.m.rip()).toBe(BigInt(H_GENERIC));
    expect(k.reg(RSP)).toBe(BigInt(KSTACK_TOP - 40));
    expect(k.slot(0)).toBe(BigInt(UCODE + 1));
    const k0 = new Kernel();
    k0.boot([0xcc]);
    k0.c.stopOnFault = true;
    expect(k0.c.run(1)).toBe(RunStatus.FAULT);
    expect(k0.c.lastFault?.vector).toBe(13);
    expect(k0.slot(0)).toBe(BigInt(3 * 8 + 2));
    expect(k0.slot(1)).toBe(BigInt(UCODE)); // #GP is a fault: RIP of the INT3
  });

  it('a #PF whose handler stack is not mapped becomes #DF (IST1), with CR2 of the stack access', () => {
    const k = new Kernel();
    k.boot([0x48, 0x8b, 0x07]); // mov rax, [rdi]
    k.m.setReg(RDI, BigInt(DEMAND));
    k.dv.setBigUint64(TSS + 4, BigInt(UNMAPPED_STACK_TOP), true);
    k.c.stopOnFault = true;
    expect(k.c.run(1)).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(14); // the exception raised; its delivery escalated to #DF
    expect(k.m.rip()).toBe(BigInt(H_DF));
    expect(k.reg(RSP)).toBe(BigInt(IST1_TOP - 48));
    expect(k.slot(0)).toBe(0n); // #DF error code
    expect(k.slot(1)).toBe(BigInt(UCODE));
    expect(k.slot(2)).toBe(BigInt(UCS));
    expect(k.msr(Off.CR2)).toBe(BigInt(UNMAPPED_STACK_TOP - 8)); // the first push of the #PF delivery
  });

  it('an exception whose gate is not present raises #NP with the IDT and EXT bits (vector*8+3)', () => {
    const k = new Kernel();
    k.boot([0x0f, 0x0b]); // ud2
    k.gate(6, H_GENERIC, 0, 0, false);
    k.c.stopOnFault = true;
    expect(k.c.run(1)).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(6);
    expect(k.m.rip()).toBe(BigInt(H_GENERIC)); // the #NP went through its own gate
    expect(k.slot(0)).toBe(BigInt(6 * 8 + 2 + 1));
    expect(k.slot(1)).toBe(BigInt(UCODE));
  });

  it('a #GP whose gate is not present, then a #DF whose gate is not present: triple fault', () => {
    const k = new Kernel();
    k.boot([0xf4]);
    k.gate(13, H_GENERIC, 0, 0, false);
    k.gate(8, H_DF, 0, 1, false);
    expect(k.c.run(5)).toBe(RunStatus.TRIPLE_FAULT);
  });

  it('IRETQ at CPL 3 cannot set IF or IOPL; IRETQ at CPL 0 to CPL 3 restores everything', () => {
    const k = new Kernel();
    k.boot([0x90]);
    // frame on the user stack: RIP, CS, RFLAGS, RSP, SS
    const sp = USTACK_TOP - 0x100;
    const frame = [BigInt(UCODE + 0x40), BigInt(UCS), 0x3000n | 0x2n | 0x1n, BigInt(USTACK_TOP - 8), BigInt(UDS)];
    frame.forEach((v, i) => k.dv.setBigUint64(sp + 8 * i, v, true));
    k.c.r[R(Off.GPR) + RSP * 2] = sp;
    k.code(UCODE + 0x40, [0x90]);
    expect(k.exec(UCODE + 0x20, [0x48, 0xcf])).toBe(RunStatus.BUDGET);
    expect(k.m.rip()).toBe(BigInt(UCODE + 0x40));
    expect(k.m.flags()).toBe(0x203); // IF kept (it was set), IOPL not changed, CF from the frame
    expect(k.reg(RSP)).toBe(BigInt(USTACK_TOP - 8));
  });
});

describe('MSRs', () => {
  it('reads back what WRMSR wrote for the state MSRs; APIC_BASE and MISC_ENABLE are constants; PAT stores', () => {
    const k = new Kernel();
    const rd = (msr: number): bigint => {
      k.m.setReg(RCX, BigInt(msr) | 0xdead00000000n); // RCX[63:32] ignored
      expect(k.exec(KCODE + 0x900, [0x0f, 0x32])).toBe(RunStatus.BUDGET);
      expect(k.reg(RAX) >> 32n).toBe(0n);
      expect(k.reg(RDX) >> 32n).toBe(0n);
      return (k.reg(RDX) << 32n) | k.reg(RAX);
    };
    const values: [number, bigint, number][] = [
      [0xc0000081, 0x0023001000000000n, Off.STAR], [0xc0000082, 0xffffffff81000000n, Off.LSTAR],
      [0xc0000083, 0xffffffff81000040n, Off.CSTAR], [0xc0000084, 0x47700n, Off.SFMASK],
      [0xc0000100, 0x00007fff12345000n, Off.FS_BASE], [0xc0000101, 0xffff888000001000n, Off.GS_BASE],
      [0xc0000102, 0xffff888000002000n, Off.KERNEL_GS_BASE], [0xc0000103, 7n, Off.TSC_AUX], [0x10, 0x123456789n, Off.TSC],
    ];
    for (const [msr, v, off] of values) {
      expect(k.wrmsr(msr, v)).toBe(RunStatus.BUDGET);
      expect(k.msr(off)).toBe(v);
      expect(rd(msr)).toBe(v);
    }
    expect(rd(0x1b)).toBe(0xfee00900n);
    expect(rd(0x1a0)).toBe(1n);
    expect(rd(0x277)).toBe(0x0007040600070406n);
    expect(k.wrmsr(0x277, 0x0000000000000106n)).toBe(RunStatus.BUDGET);
    expect(rd(0x277)).toBe(0x106n);
  });

  it('EFER: LMA is read-only, LME cannot change with paging on, reserved bits #GP; unknown MSRs and non-canonical bases #GP', () => {
    const k = new Kernel();
    k.c.stopOnFault = true;
    expect(k.wrmsr(0xc0000080, 0x901n)).toBe(RunStatus.BUDGET); // SCE LME NXE, LMA written 0
    expect(k.msr(Off.EFER)).toBe(0xd01n);
    for (const [msr, v] of [[0xc0000080, 0xc01n], [0xc0000080, 0xd03n], [0xc0000080, 0x1_00000d01n], [0x12345, 0n], [0xc0000100, 0x0000800000000000n],
      [0xc0000082, 0x8000000000000000n], [0xc0000084, 0x1_00000000n], [0x277, 0x2n]] as [number, bigint][]) {
      expect(k.wrmsr(msr, v), `wrmsr ${msr.toString(16)} ${v.toString(16)}`).toBe(RunStatus.FAULT);
      expect([k.c.lastFault?.vector, k.c.lastFault?.errorCode]).toEqual([13, 0]);
      k.c.setCpl(0);
    }
    k.m.setReg(RCX, 0x40000000n);
    expect(k.exec(KCODE, [0x0f, 0x32])).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(13);
  });

  it('WRMSR EFER changing NXE flushes the TLB', () => {
    const k = new Kernel();
    k.c.r[R(Off.CR3)] = PML4; k.c.flushTlb();
    k.map(DEMAND, DEMAND_FRAME, false);
    k.dv.setUint16(DEMAND_FRAME, 0x1, true); k.dv.setUint16(DEMAND_FRAME + 0x1000, 0x2, true);
    const load = (): number => { k.m.setReg(RAX, BigInt(DEMAND)); expect(k.exec(KCODE, [0x8e, 0x18])).toBe(RunStatus.BUDGET); return k.sel(DS); };
    expect(load()).toBe(1);
    k.map(DEMAND, DEMAND_FRAME + 0x1000, false);
    expect(load()).toBe(1); // stale
    expect(k.wrmsr(0xc0000080, 0x501n)).toBe(RunStatus.BUDGET); // NXE off
    expect(load()).toBe(2);
  });
});

describe('control registers', () => {
  it('MOV to/from CR0 CR2 CR3 CR4 CR8 with reserved-bit checks', () => {
    const k = new Kernel();
    const c = k.c;
    c.stopOnFault = true;
    const movTo = (cr: number, v: bigint): RunStatus => {
      k.m.setReg(RAX, v);
      const rex = cr >= 8 ? [0x44] : [];
      return k.exec(KCODE, [...rex, 0x0f, 0x22, 0xc0 | ((cr & 7) << 3)]);
    };
    const movFrom = (cr: number): bigint => {
      const rex = cr >= 8 ? [0x44] : [];
      expect(k.exec(KCODE, [...rex, 0x0f, 0x20, 0xc0 | ((cr & 7) << 3)])).toBe(RunStatus.BUDGET);
      return k.reg(RAX);
    };
    expect(movFrom(0)).toBe(0x80010033n);
    expect(movTo(2, 0xffff800012345678n)).toBe(RunStatus.BUDGET);
    expect(movFrom(2)).toBe(0xffff800012345678n);
    expect(movTo(8, 0xan)).toBe(RunStatus.BUDGET);
    expect(movFrom(8)).toBe(0xan);
    expect(movTo(4, 0x6b0n)).toBe(RunStatus.BUDGET); // + PSE
    expect(movFrom(4)).toBe(0x6b0n);
    expect(movTo(0, 0x80000033n)).toBe(RunStatus.BUDGET); // WP off
    expect(movFrom(0)).toBe(0x80000033n);
    const cr3 = movFrom(3);
    expect(movTo(3, cr3 | 0x18n)).toBe(RunStatus.BUDGET); // PWT PCD
    expect(movFrom(3)).toBe(cr3 | 0x18n);
    const bad: [number, bigint][] = [
      [0, 0x1_80000033n], [0, 0x00000033n], [0, 0xa0000033n & ~0x40000000n | 0x20000000n], [0, 0x80000032n],
      [4, 0x6a0n | 0x2000n], [4, 0x6a0n | 0x1n], [4, 0x680n], [4, 0x1_000006a0n], [3, 0x8000000000000000n | cr3], [3, 0x10000000000n | cr3], [8, 0x10n],
    ];
    for (const [cr, v] of bad) {
      k.c.setCpl(0);
      expect(movTo(cr, v), `mov cr${cr}, 0x${v.toString(16)}`).toBe(RunStatus.FAULT);
      expect([c.lastFault?.vector, c.lastFault?.errorCode]).toEqual([13, 0]);
    }
    c.setCpl(0);
    // CLTS clears CR0.TS; SMSW reads CR0
    c.r[R(Off.CR0)] = c.r[R(Off.CR0)]! | 8;
    expect(k.exec(KCODE, [0x0f, 0x06])).toBe(RunStatus.BUDGET);
    expect(c.r[R(Off.CR0)]! & 8).toBe(0);
    expect(k.exec(KCODE, [0x48, 0x0f, 0x01, 0xe0])).toBe(RunStatus.BUDGET); // smsw rax
    expect(k.reg(RAX)).toBe(0x80000033n);
  });
});

describe('segment registers', () => {
  it('MOV Sreg checks descriptors at CPL 3; PUSH/POP FS; null FS keeps the base', () => {
    const k = new Kernel();
    k.boot([0x90]);
    const c = k.c;
    c.stopOnFault = true;
    const movDs = (sel: number, seg = DS): RunStatus => {
      c.setCpl(3); k.m.setReg(RAX, BigInt(sel));
      return k.exec(UCODE + 0x100, [0x8e, 0xc0 | (seg << 3)]);
    };
    expect(movDs(UDS)).toBe(RunStatus.BUDGET);
    expect(k.sel(DS)).toBe(UDS);
    expect(k.dv.getUint8(GDT + UDS - 3 + 5) & 1).toBe(1); // accessed bit set
    expect(movDs(UCS)).toBe(RunStatus.BUDGET); // readable code is loadable into DS
    expect(movDs(UDS, SS)).toBe(RunStatus.BUDGET);
    expect(movDs(0, ES)).toBe(RunStatus.BUDGET); // null into ES is fine
    for (const [sel, seg, err] of [[KDS, DS, KDS], [TSS_SEL, DS, TSS_SEL], [0x80, DS, 0x80], [0x2c, DS, 0x2c], [0, SS, 0], [UCS, SS, UCS - 3], [KDS | 3, SS, KDS]]) {
      expect(movDs(sel!, seg), `sel ${sel} seg ${seg}`).toBe(RunStatus.FAULT);
      expect([c.lastFault?.vector, c.lastFault?.errorCode], `sel ${sel} seg ${seg}`).toEqual([13, err]);
    }
    // push fs ; pop gs at CPL 3 with FS = UDS; FS base kept across a null load
    c.setCpl(3);
    c.r[R(Off.SEL) + FS] = UDS;
    c.r[R(Off.GPR) + RSP * 2] = USTACK_TOP - 0x40;
    expect(k.exec(UCODE + 0x200, [0x0f, 0xa0, 0x0f, 0xa9], 2)).toBe(RunStatus.BUDGET);
    expect(k.sel(GS)).toBe(UDS);
    expect(k.reg(RSP)).toBe(BigInt(USTACK_TOP - 0x40));
    expect(u64(k.dv, USTACK_TOP - 0x48)).toBe(BigInt(UDS));
    c.r[R(Off.FS_BASE)] = 0x5000;
    expect(movDs(0, FS)).toBe(RunStatus.BUDGET);
    expect([k.sel(FS), k.msr(Off.FS_BASE)]).toEqual([0, 0x5000n]);
    // mov eax, ds zero-extends; mov [rsp], ds stores 16 bits
    k.m.setReg(RAX, 0xffffffffffffffffn);
    expect(k.exec(UCODE + 0x300, [0x8c, 0xd8])).toBe(RunStatus.BUDGET);
    expect(k.reg(RAX)).toBe(BigInt(k.sel(DS)));
  });

  it('RDFSBASE and friends raise #UD (CR4.FSGSBASE unsupported); LLDT accepts only a null selector', () => {
    const k = new Kernel();
    k.c.stopOnFault = true;
    expect(k.exec(KCODE, [0xf3, 0x48, 0x0f, 0xae, 0xc0])).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(6);
    k.m.setReg(RAX, 0n);
    expect(k.exec(KCODE, [0x0f, 0x00, 0xd0])).toBe(RunStatus.BUDGET); // lldt ax
    k.m.setReg(RAX, 0xffffffffffffffffn);
    expect(k.exec(KCODE, [0x0f, 0x00, 0xc0])).toBe(RunStatus.BUDGET); // sldt eax
    expect(k.reg(RAX)).toBe(0n);
  });
});

describe('HLT, CLI/STI, VMCALL, port I/O', () => {
  it('HLT at CPL 0 halts with RIP after it; with HLT exiting it exits (reason 12) with RIP at it', () => {
    const k = new Kernel();
    expect(k.exec(KCODE, [0xf4])).toBe(RunStatus.HALT);
    expect(k.m.rip()).toBe(BigInt(KCODE + 1));
    expect(k.c.r[R(Off.HALTED)]).toBe(1);
    const k2 = new Kernel();
    k2.c.controls.hltExiting = true;
    expect(k2.exec(KCODE, [0xf4])).toBe(RunStatus.EXIT);
    expect([k2.c.exit.reason, k2.c.exit.instructionLength]).toEqual([12, 1]);
    expect(k2.m.rip()).toBe(BigInt(KCODE));
  });

  it('CLI/STI follow IOPL; STI sets the interrupt shadow', () => {
    const k = new Kernel();
    k.boot([0xfa, 0xfb], 0x3202); // IOPL 3
    expect(k.c.run(1)).toBe(RunStatus.BUDGET);
    expect(k.m.flags() & 0x200).toBe(0);
    expect(k.c.run(1)).toBe(RunStatus.BUDGET);
    expect(k.m.flags() & 0x200).toBe(0x200);
    expect(k.c.r[R(Off.INT_SHADOW)]).toBe(1);
  });

  it('VMCALL is #UD without a hypervisor and exit 18 with one', () => {
    const k = new Kernel();
    k.c.stopOnFault = true;
    expect(k.exec(KCODE, [0x0f, 0x01, 0xc1])).toBe(RunStatus.FAULT);
    expect(k.c.lastFault?.vector).toBe(6);
    k.c.controls.vmcallExits = true;
    expect(k.exec(KCODE, [0x0f, 0x01, 0xc1])).toBe(RunStatus.EXIT);
    expect([k.c.exit.reason, k.c.exit.instructionLength]).toEqual([18, 3]);
  });

  it('IN/OUT/INS/OUTS exit with the SDM exit qualification; CPL 3 uses IOPL and the TSS I/O bitmap', () => {
    const k = new Kernel();
    k.m.setReg(RDX, 0x3f8n);
    const cases: [number[], number][] = [
      [[0xe6, 0x80], 0 | 64 | (0x80 << 16)], // out 0x80, al
      [[0xe5, 0x71], 3 | 8 | 64 | (0x71 << 16)], // in eax, 0x71
      [[0x66, 0xed], 1 | 8 | (0x3f8 << 16)], // in ax, dx
      [[0xee], 0 | (0x3f8 << 16)], // out dx, al
      [[0xf3, 0x6e], 0 | 16 | 32 | (0x3f8 << 16)], // rep outsb
      [[0x6d], 3 | 8 | 16 | (0x3f8 << 16)], // insd
    ];
    for (const [bytes, q] of cases) {
      expect(k.exec(KCODE, bytes)).toBe(RunStatus.EXIT);
      expect([k.c.exit.reason, k.c.exit.qualification >>> 0, k.c.exit.instructionLength, k.m.rip()]).toEqual([30, q >>> 0, bytes.length, BigInt(KCODE)]);
    }
    // CPL 3, IOPL 0: #GP without a bitmap; with a bitmap allowing ports 0x80 (and denying 0x81)
    const u = new Kernel();
    u.boot([0xe6, 0x80]);
    u.c.stopOnFault = true;
    expect(u.c.run(1)).toBe(RunStatus.FAULT);
    expect([u.c.lastFault?.vector, u.c.lastFault?.errorCode]).toEqual([13, 0]);
    const b = new Kernel();
    b.c.r[R(Off.TR_LIMIT)] = 0x68 + 0x20; // a bitmap for ports 0..0xff (plus the byte the CPU may read after it)
    b.dv.setUint16(TSS + 0x66, 0x68, true);
    for (let i = 0; i <= 0x20; i++) b.dv.setUint8(TSS + 0x68 + i, 0xff);
    b.dv.setUint8(TSS + 0x68 + 0x10, 0xfe); // port 0x80 allowed
    b.boot([0xe6, 0x80, 0xe6, 0x81]);
    b.c.stopOnFault = true;
    expect(b.c.run(1)).toBe(RunStatus.EXIT);
    expect(b.c.exit.reason).toBe(30);
    expect(b.exec(UCODE + 2, [0xe6, 0x81])).toBe(RunStatus.FAULT);
    expect(b.c.lastFault?.vector).toBe(13);
    // IOPL 3 at CPL 3: allowed
    const i3 = new Kernel();
    i3.boot([0xec], 0x3202);
    expect(i3.c.run(1)).toBe(RunStatus.EXIT);
    expect(i3.c.exit.reason).toBe(30);
  });
});
