// The CPU models of --cpu (src/cpu/cpu-level.ts): what CPUID advertises at each level, the #UD of an instruction
// above the model (with its diagnostic), TZCNT as BSF below x86-64-v3, and the XSAVE feature set (Intel SDM vol. 1
// ch. 13, vol. 2 XGETBV/XSETBV/XSAVE/XRSTOR). Expected values come from the SDM, not from the handlers.
import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import type { CpuLevel } from '../../src/cpu/cpu-level.js';
import { Off } from '../../src/cpu/state.js';
import { CF, codeName, DATA, exec, machine, peek, RAX, RBX, RCX, RDX, ZF } from './flow-harness.js';

/** A machine at CPL `cpl` under a CPU model; x86-64-v3 machines have CR4.OSXSAVE set and XCR0 = 7 as Linux. */
function at(level: CpuLevel, cpl = 3) {
  const m = machine(cpl);
  m.cpu.setLevel(level);
  if (level === 3) { m.cpu.r[Off.CR4 >> 2] = m.cpu.r[Off.CR4 >> 2]! | (1 << 18); m.cpu.r[Off.XCR0 >> 2] = 7; }
  return m;
}

function cpuidAt(level: CpuLevel, leaf: number, sub = 0): [number, number, number, number] {
  const m = at(level);
  m.setReg(RAX, BigInt(leaf)); m.setReg(RCX, BigInt(sub));
  exec(m, [0x0f, 0xa2]);
  const [a, b, c, d] = [RAX, RBX, RCX, RDX].map((r) => Number(m.reg(r)));
  return [a!, b!, c!, d!];
}

const bit = (v: number, n: number): number => (v >>> n) & 1;

describe('CPUID per CPU model', () => {
  it('x86-64 advertises the baseline only: no SSE3, SSSE3, SSE4, POPCNT, CX16, LAHF-SAHF', () => {
    const [, , c, d] = cpuidAt(1, 1);
    for (const n of [0, 9, 13, 19, 20, 23]) expect(bit(c, n), `ECX bit ${n}`).toBe(0);
    for (const n of [0, 15, 23, 24, 25, 26]) expect(bit(d, n), `EDX bit ${n}`).toBe(1); // FPU CMOV MMX FXSR SSE SSE2
    expect(bit(cpuidAt(1, 0x80000001)[2], 0)).toBe(0);
  });

  it('x86-64-v3 adds AVX, MOVBE, XSAVE, OSXSAVE (from CR4), BMI1, AVX2, BMI2, LZCNT (not FMA, F16C: not implemented)', () => {
    const [, , c] = cpuidAt(3, 1);
    for (const n of [0, 9, 13, 19, 20, 22, 23, 26, 27, 28]) expect(bit(c, n), `ECX bit ${n}`).toBe(1);
    for (const n of [12, 29]) expect(bit(c, n), `ECX bit ${n}`).toBe(0);
    const [, b7] = cpuidAt(3, 7, 0);
    for (const n of [3, 5, 8]) expect(bit(b7, n), `leaf 7 EBX bit ${n}`).toBe(1);
    expect(bit(cpuidAt(3, 0x80000001)[2], 5)).toBe(1); // LZCNT
    // without CR4.OSXSAVE the OSXSAVE bit is clear
    const m = machine(); m.cpu.setLevel(3);
    m.setReg(RAX, 1n); exec(m, [0x0f, 0xa2]);
    expect(bit(Number(m.reg(RCX)), 27)).toBe(0);
    expect(bit(Number(m.reg(RCX)), 26)).toBe(1);
  });

  it('leaf 0xd under x86-64-v3: XCR0 may hold x87|SSE|AVX, the area is 832 bytes, AVX state at 576 (256 bytes)', () => {
    expect(cpuidAt(3, 0xd, 0)).toEqual([7, 832, 832, 0]);
    expect(cpuidAt(3, 0xd, 2).slice(0, 2)).toEqual([256, 576]);
    expect(cpuidAt(3, 0xd, 1)).toEqual([0, 0, 0, 0]); // no XSAVEOPT/XSAVEC/XSAVES
    expect(cpuidAt(2, 0xd, 0)).toEqual([0, 0, 0, 0]);
    expect(cpuidAt(2, 7, 0)).toEqual([0, 0, 0, 0]);
  });
});

describe('instructions outside the CPU model', () => {
  it('POPCNT under x86-64 raises #UD naming the instruction and the model it needs', () => {
    const code = [0xf3, 0x48, 0x0f, 0xb8, 0xc1];
    expect(codeName(code)).toBe('Popcnt_r64_rm64');
    const m = at(1);
    m.cpu.controls.exceptionBitmap = 0xffffffff;
    expect(exec(m, code)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(6);
    expect(m.cpu.lastFault?.detail).toBe('instruction Popcnt_r64_rm64 (f3 48 0f b8 c1) needs --cpu x86-64-v2; the CPU model is x86-64');
    const v2 = at(2); v2.setReg(RCX, 0xf0f0n);
    exec(v2, code);
    expect(v2.reg(RAX)).toBe(8n);
  });

  it('ANDN (BMI1) under x86-64-v2 raises #UD; under x86-64-v3 it computes ~src1 & src2', () => {
    const code = [0xc4, 0xe2, 0x60, 0xf2, 0xc1]; // andn eax, ebx, ecx
    expect(codeName(code)).toBe('VEX_Andn_r32_r32_rm32');
    const m = at(2);
    exec(m, code);
    expect(m.cpu.lastFault?.detail).toContain('needs --cpu x86-64-v3; the CPU model is x86-64-v2');
    const v3 = at(3); v3.setReg(RBX, 0xff00ff00n); v3.setReg(RCX, 0x12345678n); v3.setReg(RAX, -1n);
    exec(v3, code);
    expect(v3.reg(RAX)).toBe(0x00340078n);
  });

  it('TZCNT is BSF below x86-64-v3 (a zero source leaves the destination, ZF=1) and TZCNT at it (width, CF=1)', () => {
    const code = [0xf3, 0x0f, 0xbc, 0xc1]; // tzcnt eax, ecx
    for (const [level, rax, flags] of [[2, 0x1234n, ZF], [3, 32n, CF]] as const) {
      const m = at(level); m.setReg(RAX, 0x1234n); m.setReg(RCX, 0n);
      exec(m, code);
      expect(m.reg(RAX), `level ${level}`).toBe(rax);
      expect(m.flags() & (CF | ZF)).toBe(flags);
    }
    const m = at(3); m.setReg(RCX, 0x80n);
    exec(m, code);
    expect(m.reg(RAX)).toBe(7n);
    expect(m.flags() & (CF | ZF)).toBe(0);
  });

  it('changing the model drops decoded code built for the previous one', () => {
    const m = at(2); m.setReg(RCX, 3n);
    const code = [0xf3, 0x48, 0x0f, 0xb8, 0xc1];
    exec(m, code);
    expect(m.reg(RAX)).toBe(2n);
    m.cpu.setLevel(1);
    exec(m, code);
    expect(m.cpu.lastFault?.vector).toBe(6);
  });
});

describe('XSAVE feature set (x86-64-v3)', () => {
  const YMMH = Off.YMMH;
  it('XGETBV reads XCR0; #UD without CR4.OSXSAVE; XSETBV is #GP at CPL 3 and checks the value at CPL 0', () => {
    const m = at(3);
    m.setReg(RCX, 0n);
    exec(m, [0x0f, 0x01, 0xd0]);
    expect(m.reg(RAX)).toBe(7n); expect(m.reg(RDX)).toBe(0n);
    m.setReg(RAX, 3n); m.setReg(RDX, 0n);
    exec(m, [0x0f, 0x01, 0xd1]);
    expect(m.cpu.lastFault?.vector).toBe(13);
    const k = at(3, 0);
    for (const [v, ok] of [[3n, true], [5n, false], [2n, false], [15n, false], [7n, true]] as const) {
      k.setReg(RAX, v); k.setReg(RDX, 0n); k.setReg(RCX, 0n);
      exec(k, [0x0f, 0x01, 0xd1]);
      expect(k.cpu.lastFault?.vector ?? -1, `XCR0 ${v}`).toBe(ok ? -1 : 13);
      if (ok) expect(BigInt(k.cpu.r[Off.XCR0 >> 2]!)).toBe(v);
    }
    const off = machine(); off.cpu.setLevel(3); // CR4.OSXSAVE clear
    exec(off, [0x0f, 0x01, 0xd0]);
    expect(off.cpu.lastFault?.vector).toBe(6);
  });

  it('XSAVE stores the YMM upper halves at 576 and XSTATE_BV; XRSTOR loads them or initialises them', () => {
    const m = at(3);
    m.cpu.s.u8.fill(0xab, YMMH + 16 * 3, YMMH + 16 * 4); // ymm3[255:128]
    m.cpu.s.u8.fill(0x11, Off.XMM + 16 * 3, Off.XMM + 16 * 4);
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, 7n); m.setReg(RDX, 0n);
    exec(m, [0x0f, 0xae, 0x23]); // xsave [rbx]
    expect(m.cpu.lastFault).toBeNull();
    expect(peek(m, DATA + 576 + 48, 8)).toBe(0xababababababababn);
    expect(peek(m, DATA + 160 + 48, 8)).toBe(0x1111111111111111n);
    expect(peek(m, DATA + 512, 8) & 6n).toBe(6n); // SSE and AVX state in use
    expect(peek(m, DATA + 24, 4)).toBe(0x1f80n); // MXCSR
    m.cpu.s.u8.fill(0, YMMH, YMMH + 256); m.cpu.s.u8.fill(0, Off.XMM, Off.XMM + 256);
    exec(m, [0x0f, 0xae, 0x2b]); // xrstor [rbx]
    expect(m.cpu.lastFault).toBeNull();
    expect(m.cpu.s.u8[YMMH + 16 * 3 + 5]).toBe(0xab);
    expect(m.cpu.s.u8[Off.XMM + 16 * 3 + 5]).toBe(0x11);
    // XSTATE_BV bit 2 clear: the AVX component is initialised (zero) although the area holds other bytes
    m.mem.bytes[DATA + 512] = 3;
    exec(m, [0x0f, 0xae, 0x2b]);
    expect(m.cpu.s.u8[YMMH + 16 * 3 + 5]).toBe(0);
    // EDX:EAX selecting x87 only: the SSE and AVX components are neither saved nor loaded
    m.cpu.s.u8.fill(0x22, YMMH, YMMH + 256);
    m.setReg(RAX, 1n);
    exec(m, [0x0f, 0xae, 0x2b]);
    expect(m.cpu.s.u8[YMMH]).toBe(0x22);
    // a misaligned area is #GP
    m.setReg(RBX, BigInt(DATA + 8));
    exec(m, [0x0f, 0xae, 0x23]);
    expect(m.cpu.lastFault?.vector).toBe(13);
  });
});

describe('YMM state', () => {
  it('a VEX.128 instruction zeroes bits 255:128 of its destination; a legacy SSE one keeps them; VZEROUPPER clears all', () => {
    const m = at(3);
    m.cpu.s.u8.fill(0x5a, Off.YMMH, Off.YMMH + 256);
    exec(m, [0x66, 0x0f, 0xef, 0xca]); // pxor xmm1, xmm2
    expect(m.cpu.s.u8[Off.YMMH + 16]).toBe(0x5a);
    expect(codeName([0xc5, 0xe9, 0xef, 0xcb])).toBe('VEX_Vpxor_xmm_xmm_xmmm128');
    exec(m, [0xc5, 0xe9, 0xef, 0xcb]); // vpxor xmm1, xmm2, xmm3
    expect(Array.from(m.cpu.s.u8.subarray(Off.YMMH + 16, Off.YMMH + 32))).toEqual(new Array(16).fill(0));
    expect(m.cpu.s.u8[Off.YMMH + 32]).toBe(0x5a);
    exec(m, [0xc5, 0xf8, 0x77]); // vzeroupper
    expect(m.cpu.s.u8.subarray(Off.YMMH, Off.YMMH + 256).every((b) => b === 0)).toBe(true);
  });

  it('VPCMPEQB ymm and VPMOVMSKB give a 32-bit mask over both halves', () => {
    const m = at(3);
    const s = m.cpu.s.u8;
    for (let i = 0; i < 32; i++) { // ymm2 = bytes i, ymm3 = bytes i except at 5 and 20
      const lo = i < 16 ? Off.XMM : Off.YMMH, k = i % 16;
      s[lo + 32 + k] = i; s[lo + 48 + k] = i === 5 || i === 20 ? 0xff : i;
    }
    expect(codeName([0xc5, 0xed, 0x74, 0xcb])).toBe('VEX_Vpcmpeqb_ymm_ymm_ymmm256');
    exec(m, [0xc5, 0xed, 0x74, 0xcb]); // vpcmpeqb ymm1, ymm2, ymm3
    expect(codeName([0xc5, 0xfd, 0xd7, 0xc1])).toBe('VEX_Vpmovmskb_r32_ymm');
    exec(m, [0xc5, 0xfd, 0xd7, 0xc1]); // vpmovmskb eax, ymm1
    expect(m.reg(RAX)).toBe(BigInt((0xffffffff & ~(1 << 5) & ~(1 << 20)) >>> 0));
  });
});
