// The written-register facts (src/cpu/written-state.ts) for the instructions that change state iced's instruction
// info does not describe: each runs once on a bare machine from a prepared state, must change the registers the
// SDM says it loads (so the check is not vacuous), and must change nothing outside its written state (the set
// the recorder compares after it).
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { getFlags } from '../../src/cpu/flags.js';
import { Off } from '../../src/cpu/state.js';
import { CODE, DATA, RAX, RBX } from '../helpers/bare-code.js';
import { changedRegisters, decodeAt, undeclaredWrites } from '../helpers/undeclared-writes.js';

const XMM = Array.from({ length: 16 }, (_, n) => [`xmm${n}_lo`, `xmm${n}_hi`]).flat();

/** A 512-byte FXSAVE image: FCW 0x027f, MXCSR 0x5f80, every XMM register a distinct pattern, x87 registers empty. */
function fxImage(): Uint8Array {
  const a = new Uint8Array(512);
  a[0] = 0x7f; a[1] = 0x02;
  a[24] = 0x80; a[25] = 0x5f;
  for (let i = 0; i < 256; i++) a[160 + i] = (i * 7 + 0x35) & 0xff;
  return a;
}

/** An x87 environment/state image (FLDENV, FRSTOR): FCW 0x027f, FSW with TOP 5, all registers tagged valid. */
function envImage(size: number): Uint8Array {
  const a = new Uint8Array(size);
  a[0] = 0x7f; a[1] = 0x02; // FCW
  a[4] = 0x00; a[5] = 0x28; // FSW: TOP = 5
  a[8] = 0x00; a[9] = 0x00; // tag word: all valid
  for (let i = 28; i < size; i++) a[i] = (i * 13 + 1) & 0xff;
  for (let r = 0; r < 8; r++) { a[28 + 10 * r + 7] = a[28 + 10 * r + 7]! | 0x80; a[28 + 10 * r + 8] = 0xff; a[28 + 10 * r + 9] = 0x3f; } // normal numbers
  return a;
}

interface Case { name: string; code: number[]; data?: Uint8Array; rax?: bigint; loads: string[] }

const CASES: Case[] = [
  { name: 'FXRSTOR64', code: [0x48, 0x0f, 0xae, 0x0b], data: fxImage(), loads: ['mxcsr', 'fcw', ...XMM] },
  { name: 'FXRSTOR', code: [0x0f, 0xae, 0x0b], data: fxImage(), loads: ['mxcsr', 'fcw', ...XMM] },
  { name: 'LDMXCSR', code: [0x0f, 0xae, 0x13], data: Uint8Array.of(0x80, 0x7f, 0, 0), loads: ['mxcsr'] },
  { name: 'FLDENV m28', code: [0xd9, 0x23], data: envImage(28), loads: ['fcw', 'ftop'] },
  { name: 'FRSTOR m108', code: [0xdd, 0x23], data: envImage(108), loads: ['fcw', 'ftop', 'fpr0_mant'] },
  { name: 'FNINIT (after FLD1)', code: [0xd9, 0xe8, 0xdb, 0xe3], loads: ['ftop', 'ftag'] },
  { name: 'FLD1', code: [0xd9, 0xe8], loads: ['ftop', 'ftag'] },
  { name: 'CPUID leaf 0', code: [0x0f, 0xa2], rax: 0n, loads: ['rbx', 'rcx', 'rdx'] },
  { name: 'RDTSC', code: [0x0f, 0x31], loads: ['rax'] },
  { name: 'RDTSCP', code: [0x0f, 0x01, 0xf9], loads: ['rax'] },
  { name: 'RDRAND r64', code: [0x48, 0x0f, 0xc7, 0xf0], loads: ['rax', 'rflags'] },
  { name: 'CVTSI2SD xmm0, rax (inexact)', code: [0xf2, 0x48, 0x0f, 0x2a, 0xc0], rax: 0x7fffffffffffffffn, loads: ['xmm0_lo', 'mxcsr'] },
];

describe('what an instruction writes is what the recorder compares', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const m = new BareMachine();
      const cpu = m.cpu, r = cpu.r;
      r[Off.CR4 >> 2] = r[Off.CR4 >> 2]! | (1 << 9) | (1 << 10); // OSFXSR, OSXMMEXCPT
      r[Off.MXCSR >> 2] = 0x1f80; r[Off.FCW >> 2] = 0x037f; r[Off.FTAG >> 2] = 0xffff;
      if (c.data) m.load(DATA, c.data);
      m.setReg(RBX, BigInt(DATA));
      m.setReg(RAX, c.rax ?? 0x1234n);
      m.load(CODE, new Uint8Array([...c.code, 0xf4]));
      m.setRip(CODE);
      // run every instruction but the last, then the last one alone
      const first = decodeAt(new Uint8Array(c.code), CODE);
      if (first.length < c.code.length) expect(cpu.run(1)).toBe(RunStatus.BUDGET);
      getFlags(r);
      const before = r.slice(), at = Number(m.rip());
      const d = decodeAt(m.mem.bytes.subarray(at, at + 15), at);
      cpu.lastFault = null;
      expect(cpu.run(1)).toBe(RunStatus.BUDGET);
      expect(cpu.lastFault).toBe(null);
      getFlags(r);
      const changed = changedRegisters(before, r);
      for (const name of c.loads) expect(changed, name).toContain(name);
      expect(undeclaredWrites(d, before, r)).toEqual([]);
    });
  }
});
