import { describe, expect, it } from 'vitest';
import type { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { cpuid } from '../../src/cpu/cpuid.js';
import { Off } from '../../src/cpu/state.js';
import {
  AF, CF, codeName, DATA, DF, exec, machine, OF, OSZAPC, peek, PF, R, RAX, RBX, RCX, RDX, RSP, SF, STACK, ZF,
} from './flow-harness.js';

describe('NOPs and hints', () => {
  const nops: [number[], string][] = [
    [[0x90], 'Nopd'],
    [[0x66, 0x90], 'Nopw'],
    [[0x0f, 0x1f, 0x44, 0x00, 0x00], 'Nop_rm32'],
    [[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00], 'Nop_rm16'],
    [[0x48, 0x0f, 0x1f, 0x00], 'Nop_rm64'],
    [[0xf3, 0x90], 'Pause'],
    [[0x0f, 0xae, 0xe8], 'Lfence'],
    [[0x0f, 0xae, 0xf0], 'Mfence'],
    [[0x0f, 0xae, 0xf8], 'Sfence'],
    [[0x0f, 0x18, 0x00], 'Prefetchnta_m8'],
    [[0x0f, 0x18, 0x08], 'Prefetcht0_m8'],
    [[0x0f, 0x18, 0x10], 'Prefetcht1_m8'],
    [[0x0f, 0x18, 0x18], 'Prefetcht2_m8'],
    [[0x0f, 0x0d, 0x08], 'Prefetchw_m8'],
    [[0x0f, 0x0d, 0xc7], 'Reservednop_rm32_r32_0F0D'], // register form: a NOP in the CPU model (VENDOR_TABLE)
    [[0xf3, 0x0f, 0x1e, 0xfa], 'Endbr64'],
    [[0xf3, 0x48, 0x0f, 0x1e, 0xc8], 'Rdsspq_r64'],
  ];
  for (const [code, name] of nops) {
    it(`${name} changes nothing but RIP (and never faults)`, () => {
      expect(codeName(code)).toBe(name);
      const m = machine();
      m.setReg(RAX, 0x10000000n); // unmapped: a prefetch of it must not fault
      m.setFlags(0x202 | CF | ZF);
      const before = m.cpu.s.snapshot();
      expect(exec(m, code)).toBe(RunStatus.BUDGET);
      expect(m.rip()).toBe(BigInt(0x1000 + code.length));
      const after = m.cpu.s.snapshot();
      after.set(before.subarray(Off.RIP, Off.RIP + 8), Off.RIP);
      expect(after).toEqual(before);
    });
  }
});

describe('flag instructions', () => {
  it('CLC STC CMC CLD STD change one flag each', () => {
    const cases: [number, number, number][] = [
      [0xf8, CF | ZF | OF, ZF | OF], [0xf9, ZF, CF | ZF], [0xf5, CF | SF, SF], [0xf5, PF, CF | PF],
    ];
    for (const [op, before, after] of cases) {
      const m = machine();
      m.setFlags(0x202 | before);
      exec(m, [op]);
      expect(m.flags() & OSZAPC).toBe(after);
    }
    const m = machine();
    exec(m, [0xfd]);
    expect(m.flags() & DF).toBe(DF);
    exec(m, [0xfc]);
    expect(m.flags() & DF).toBe(0);
    // CMC after a lazy flag producer: CF comes from the materialised flags
    m.setReg(RAX, 0xffffffffn);
    exec(m, [0xff, 0xc0, 0xf5], 2); // inc eax (CF kept = 0); cmc
    expect(m.flags() & (CF | ZF | AF)).toBe(CF | ZF | AF);
  });
});

describe('exceptions and software interrupts', () => {
  it('UD2, UD1, UD0, XGETBV and INCSSP raise #UD at the instruction', () => {
    for (const code of [[0x0f, 0x0b], [0x0f, 0x01, 0xd0], [0x0f, 0xb9, 0xc0], [0x0f, 0xff, 0xc0], [0xf3, 0x48, 0x0f, 0xae, 0xe8]]) {
      const m = machine();
      expect(exec(m, code)).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector).toBe(6);
      expect(m.rip()).toBe(0x1000n);
    }
  });

  it('INT3 exits when the exception bitmap selects #BP, with RIP at the INT3', () => {
    const m = machine();
    expect(exec(m, [0xcc])).toBe(RunStatus.EXIT);
    expect(m.cpu.exit.reason).toBe(0);
    expect(m.cpu.lastFault?.vector).toBe(3);
    expect(m.cpu.exit.instructionLength).toBe(1);
    expect(m.rip()).toBe(0x1000n);
  });

  /** An IDT at DATA with 64-bit interrupt gates to 0x9000 + vector, CPL 0 code, RSP0 from a TSS. */
  function withIdt(m: BareMachine, vector: number, dpl: number): void {
    const gate = DATA + vector * 16, target = 0x9000 + vector;
    m.mem.dv.setUint32(gate, ((0x08 << 16) | (target & 0xffff)) >>> 0, true);
    m.mem.dv.setUint32(gate + 4, ((target & 0xffff0000) | 0x8000 | (dpl << 13) | (0xe << 8)) >>> 0, true);
    const r = m.cpu.r;
    r[R(Off.IDTR_BASE)] = DATA; r[R(Off.IDTR_LIMIT)] = 0xfff;
    r[R(Off.TR_BASE)] = DATA + 0x2000;
    m.mem.dv.setUint32(DATA + 0x2000 + 4, 0x380000, true); // TSS.RSP0
    m.cpu.controls.exceptionBitmap = 1 << 13; // #GP exits; everything else is delivered
  }

  it('INT3 is delivered as a trap: the saved RIP is the next instruction', () => {
    const m = machine();
    withIdt(m, 3, 3);
    m.setFlags(0x202 | CF);
    exec(m, [0xcc]);
    expect(m.rip()).toBe(0x9003n);
    expect(m.cpu.cpl).toBe(0);
    expect(m.reg(RSP)).toBe(0x380000n - 40n);
    expect(peek(m, 0x380000 - 40, 8)).toBe(0x1001n); // RIP
    expect(peek(m, 0x380000 - 32, 8)).toBe(0x33n); // CS
    expect(peek(m, 0x380000 - 24, 8) & BigInt(OSZAPC | 0x200)).toBe(BigInt(CF | 0x200)); // RFLAGS
    expect(peek(m, 0x380000 - 16, 8)).toBe(BigInt(STACK)); // RSP
    expect(m.flags() & 0x200).toBe(0); // interrupt gate clears IF
  });

  it('INT n goes through the IDT; a gate with DPL < CPL raises #GP(vector*8+2)', () => {
    const m = machine();
    withIdt(m, 0x80, 3);
    exec(m, [0xcd, 0x80]);
    expect(m.rip()).toBe(0x9080n);
    expect(peek(m, 0x380000 - 40, 8)).toBe(0x1002n);
    const m2 = machine();
    withIdt(m2, 0x81, 0);
    expect(exec(m2, [0xcd, 0x81])).toBe(RunStatus.EXIT);
    expect(m2.cpu.lastFault?.vector).toBe(13);
    expect(m2.cpu.lastFault?.errorCode).toBe(0x81 * 8 + 2);
    expect(m2.rip()).toBe(0x1000n);
  });
});

describe('CPUID', () => {
  function run(leaf: number, sub = 0): [number, number, number, number] {
    const m = machine();
    m.setReg(RAX, 0xdead_0000_0000_0000n + BigInt(leaf)); m.setReg(RCX, 0xdead_0000_0000_0000n + BigInt(sub));
    m.setReg(RBX, -1n); m.setReg(RDX, -1n);
    exec(m, [0x0f, 0xa2]);
    for (const r of [RAX, RBX, RCX, RDX]) expect(m.reg(r) >> 32n).toBe(0n);
    return [Number(m.reg(RAX)), Number(m.reg(RBX)), Number(m.reg(RCX)), Number(m.reg(RDX))];
  }
  const text = (...words: number[]): string =>
    words.map((w) => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24)).join('');

  it('leaf 0: GenuineIntel and a maximum basic leaf no higher than 0xd', () => {
    const [a, b, c, d] = run(0);
    expect(text(b, d, c)).toBe('GenuineIntel');
    expect(a).toBeLessThanOrEqual(0xd);
    expect(a).toBeGreaterThanOrEqual(1);
  });

  it('leaf 1 advertises the baseline and what is implemented, nothing more', () => {
    const [, b, c, d] = run(1);
    const bit = (v: number, n: number): number => (v >>> n) & 1;
    for (const n of [0, 4, 5, 6, 8, 15, 19, 24, 25, 26]) expect(bit(d, n), `EDX bit ${n}`).toBe(1); // FPU TSC MSR PAE CX8 CMOV CLFSH FXSR SSE SSE2
    expect(bit(d, 9)).toBe(0); // no APIC
    expect(bit(c, 13)).toBe(1); // CX16
    expect(bit(c, 23)).toBe(1); // POPCNT
    expect(bit(c, 30)).toBe(1); // RDRAND
    for (const n of [0, 9, 12, 19, 20, 22, 25, 26, 27, 28, 29]) expect(bit(c, n), `ECX bit ${n}`).toBe(0); // SSE3 SSSE3 FMA SSE4 MOVBE AES XSAVE OSXSAVE AVX F16C
    expect((b >>> 8) & 0xff).toBe(8); // CLFLUSH line 64 bytes
  });

  it('leaf 7 has no extended features; extended leaves describe long mode', () => {
    expect(run(7)).toEqual([0, 0, 0, 0]);
    const [max] = run(0x80000000);
    expect(max).toBeGreaterThanOrEqual(0x80000008);
    const [, , c1, d1] = run(0x80000001);
    expect(c1 & 1).toBe(1); // LAHF/SAHF
    expect((c1 >>> 5) & 1).toBe(0); // no LZCNT
    for (const n of [11, 20, 27, 29]) expect((d1 >>> n) & 1).toBe(1); // SYSCALL NX RDTSCP LM
    expect(run(0x80000008)[0] & 0xffff).toBe((48 << 8) | 40);
    const brand = [0x80000002, 0x80000003, 0x80000004].map((l) => text(...run(l))).join('').replace(/\0+$/, '');
    expect(brand).toBe('itrace virtual x86-64');
  });

  it('leaves above the maximum return the highest basic leaf', () => {
    const max = cpuid(0, 0)[0];
    expect(run(0x40000000)).toEqual(cpuid(max, 0));
    expect(run(0x8000ffff)).toEqual(cpuid(max, 0));
  });

  it('leaf 4 describes caches glibc can size its thresholds from', () => {
    const l1 = run(4, 0), l3 = run(4, 3);
    const size = (l: number[]): number => (((l[1]! >>> 22) + 1) * (((l[1]! >>> 12) & 0x3ff) + 1) * ((l[1]! & 0xfff) + 1) * (l[2]! + 1));
    expect(l1[0]! & 0x1f).toBe(1);
    expect(size(l1)).toBe(32 * 1024);
    expect(size(l3)).toBe(8 * 1024 * 1024);
    expect(run(4, 4)[0]! & 0x1f).toBe(0);
  });

  it('exits when CPUID exiting is on, with RIP at the instruction', () => {
    const m = machine();
    m.cpu.controls.cpuidExiting = true;
    m.setReg(RAX, 0n);
    expect(exec(m, [0x0f, 0xa2])).toBe(RunStatus.EXIT);
    expect(m.cpu.exit.reason).toBe(10);
    expect(m.cpu.exit.instructionLength).toBe(2);
    expect(m.rip()).toBe(0x1000n);
    expect(m.reg(RAX)).toBe(0n);
  });
});

describe('RDTSC / RDTSCP / RDRAND', () => {
  it('RDTSC returns the TSC plus the steps retired so far', () => {
    const m = machine();
    const r = m.cpu.r;
    r[R(Off.TSC)] = 0xfffffff0; r[R(Off.TSC) + 1] = 7;
    // nop x3; jmp +0 (ends the block); rdtsc
    exec(m, [0x90, 0x90, 0x90, 0xeb, 0x00, 0x0f, 0x31], 5);
    const tsc = (7n << 32n) + 0xfffffff0n + 4n;
    expect(m.reg(RAX)).toBe(tsc & 0xffffffffn);
    expect(m.reg(RDX)).toBe(tsc >> 32n);
  });

  it('RDTSCP also loads ECX from IA32_TSC_AUX', () => {
    const m = machine();
    m.cpu.r[R(Off.TSC_AUX)] = 0x1234;
    m.setReg(RCX, -1n);
    exec(m, [0x0f, 0x01, 0xf9]);
    expect(m.reg(RCX)).toBe(0x1234n);
  });

  it('CR4.TSD makes RDTSC #GP at CPL 3 but not at CPL 0', () => {
    const m = machine(3);
    m.cpu.r[R(Off.CR4)] = m.cpu.r[R(Off.CR4)]! | 4;
    expect(exec(m, [0x0f, 0x31])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    const m0 = machine(0);
    m0.cpu.r[R(Off.CR4)] = m0.cpu.r[R(Off.CR4)]! | 4;
    expect(exec(m0, [0x0f, 0x31])).toBe(RunStatus.BUDGET);
  });

  it('RDTSC exiting: reason 16 for RDTSC, 51 for RDTSCP', () => {
    for (const [code, reason] of [[[0x0f, 0x31], 16], [[0x0f, 0x01, 0xf9], 51]] as const) {
      const m = machine();
      m.cpu.controls.rdtscExiting = true;
      expect(exec(m, [...code])).toBe(RunStatus.EXIT);
      expect(m.cpu.exit.reason).toBe(reason);
      expect(m.rip()).toBe(0x1000n);
    }
  });

  it('RDRAND sets CF and clears the other status flags; values vary', () => {
    const m = machine();
    const seen = new Set<bigint>();
    for (const [code, bits] of [[[0x48, 0x0f, 0xc7, 0xf0], 64], [[0x0f, 0xc7, 0xf0], 32], [[0x66, 0x0f, 0xc7, 0xf0], 16]] as const) {
      for (let i = 0; i < 4; i++) {
        m.setReg(RAX, 0xaaaa_aaaa_aaaa_aaaan);
        m.setFlags(0x202 | ZF | SF | OF | AF | PF);
        exec(m, [...code]);
        expect(m.flags() & OSZAPC).toBe(CF);
        const v = m.reg(RAX);
        if (bits === 32) expect(v >> 32n).toBe(0n);
        if (bits === 16) expect(v >> 16n).toBe(0xaaaa_aaaa_aaaan);
        seen.add(v);
      }
    }
    expect(seen.size).toBe(12);
  });
});
