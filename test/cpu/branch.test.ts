import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import { CF, codeName, DATA, exec, le, machine, OF, peek, PF, poke, RAX, RBX, RCX, RSP, SF, STACK, ZF } from './flow-harness.js';

const S = BigInt(STACK);
const NONCANON = 0x0000800000000000n;

/** The SDM's condition table (Jcc), from RFLAGS bits. */
function condition(cc: number, f: number): boolean {
  const cf = (f & CF) !== 0, zf = (f & ZF) !== 0, sf = (f & SF) !== 0, of = (f & OF) !== 0, pf = (f & PF) !== 0;
  const base = [of, cf, zf, cf || zf, sf, pf, sf !== of, zf || sf !== of][cc >> 1]!;
  return cc & 1 ? !base : base;
}

describe('JMP / Jcc', () => {
  it('JMP rel8 and rel32, forwards and backwards', () => {
    const m = machine();
    exec(m, [0xeb, 0x10]);
    expect(m.rip()).toBe(0x1002n + 0x10n);
    exec(m, [0xeb, 0xf0]);
    expect(m.rip()).toBe(0x1002n - 0x10n);
    exec(m, [0xe9, ...le(0x12345, 4)]);
    expect(m.rip()).toBe(0x1005n + 0x12345n);
    exec(m, [0xe9, ...le(-0x800, 4)]);
    expect(m.rip()).toBe(0x1005n - 0x800n);
  });

  it('Jcc: all 16 conditions, rel8 and rel32, against every flag combination that matters', () => {
    const flagSets = [0, CF, ZF, SF, OF, PF, CF | ZF, SF | OF, ZF | SF, ZF | OF, CF | ZF | SF | OF | PF];
    for (let cc = 0; cc < 16; cc++) {
      for (const f of flagSets) {
        for (const rel32 of [false, true]) {
          const m = machine();
          m.setFlags(0x202 | f);
          const code = rel32 ? [0x0f, 0x80 + cc, ...le(0x100, 4)] : [0x70 + cc, 0x40];
          exec(m, code);
          const next = 0x1000n + BigInt(code.length);
          expect(m.rip(), `cc ${cc} flags ${f.toString(16)}`).toBe(condition(cc, f) ? next + (rel32 ? 0x100n : 0x40n) : next);
        }
      }
    }
  });

  it('JMP r/m64 and its #GP(0) on a non-canonical target', () => {
    const m = machine();
    m.setReg(RAX, 0x3000n);
    exec(m, [0xff, 0xe0]);
    expect(m.rip()).toBe(0x3000n);
    m.setReg(RBX, BigInt(DATA));
    poke(m, DATA, 8, 0x4000n);
    exec(m, [0xff, 0x23]);
    expect(m.rip()).toBe(0x4000n);
    m.setReg(RAX, NONCANON);
    expect(exec(m, [0xff, 0xe0])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(m.rip()).toBe(0x1000n);
  });
});

describe('CALL / RET', () => {
  it('CALL rel32 pushes the return address; RET pops it', () => {
    const m = machine();
    // call +0x10; hlt ... at 0x1015: ret
    const code = [0xe8, ...le(0x10, 4)];
    m.load(0x1015, new Uint8Array([0xc3]));
    exec(m, code);
    expect(m.rip()).toBe(0x1015n);
    expect(m.reg(RSP)).toBe(S - 8n);
    expect(peek(m, STACK - 8, 8)).toBe(0x1005n);
    m.cpu.run(1);
    expect(m.rip()).toBe(0x1005n);
    expect(m.reg(RSP)).toBe(S);
  });

  it('CALL r/m64 reads its target with the RSP before the push', () => {
    const m = machine();
    m.setReg(RAX, 0x5000n);
    exec(m, [0xff, 0xd0]);
    expect(m.rip()).toBe(0x5000n);
    expect(peek(m, STACK - 8, 8)).toBe(0x1002n);
    m.setReg(RSP, S);
    poke(m, STACK, 8, 0x6000n);
    exec(m, [0xff, 0x14, 0x24]); // call [rsp]
    expect(m.rip()).toBe(0x6000n);
    expect(peek(m, STACK - 8, 8)).toBe(0x1003n);
    expect(codeName([0x66, 0xff, 0xd0])).toBe('Call_rm64'); // 66 is ignored on Intel
  });

  it('RET imm16 releases extra bytes', () => {
    const m = machine();
    poke(m, STACK, 8, 0x7000n);
    exec(m, [0xc2, 0x18, 0x00]);
    expect(m.rip()).toBe(0x7000n);
    expect(m.reg(RSP)).toBe(S + 8n + 0x18n);
  });

  it('non-canonical CALL/RET targets fault with nothing changed', () => {
    const m = machine();
    m.setReg(RAX, NONCANON);
    expect(exec(m, [0xff, 0xd0])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(m.reg(RSP)).toBe(S);
    expect(m.rip()).toBe(0x1000n);
    poke(m, STACK, 8, NONCANON);
    expect(exec(m, [0xc3])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(m.reg(RSP)).toBe(S);
  });

  it('a CALL whose push faults leaves RIP at the call', () => {
    const m = machine();
    m.setReg(RSP, 0x600100n); // read-only page
    expect(exec(m, [0xe8, 0, 0, 0, 0])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.rip()).toBe(0x1000n);
    expect(m.reg(RSP)).toBe(0x600100n);
  });
});

describe('LOOP / JRCXZ', () => {
  it('LOOP decrements RCX and branches while it is not zero', () => {
    const m = machine();
    m.setReg(RCX, 2n);
    exec(m, [0xe2, 0x10]);
    expect(m.reg(RCX)).toBe(1n);
    expect(m.rip()).toBe(0x1012n);
    exec(m, [0xe2, 0x10]);
    expect(m.reg(RCX)).toBe(0n);
    expect(m.rip()).toBe(0x1002n);
    m.setReg(RCX, 0n); // wraps to 2^64 - 1 and branches
    exec(m, [0xe2, 0x10]);
    expect(m.reg(RCX)).toBe(0xffffffffffffffffn);
    expect(m.rip()).toBe(0x1012n);
    m.setReg(RCX, 0x100000000n); // 64-bit count: the upper half matters
    exec(m, [0xe2, 0x10]);
    expect(m.reg(RCX)).toBe(0xffffffffn);
    expect(m.rip()).toBe(0x1012n);
  });

  it('LOOP with a 32-bit address size counts in ECX', () => {
    const m = machine();
    m.setReg(RCX, 0x500000001n);
    exec(m, [0x67, 0xe2, 0x10]);
    expect(m.reg(RCX)).toBe(0n);
    expect(m.rip()).toBe(0x1003n);
  });

  it('LOOPE / LOOPNE also test ZF', () => {
    for (const [op, zf, count, taken] of [
      [0xe1, ZF, 5n, true], [0xe1, 0, 5n, false], [0xe1, ZF, 1n, false],
      [0xe0, 0, 5n, true], [0xe0, ZF, 5n, false], [0xe0, 0, 1n, false],
    ] as const) {
      const m = machine();
      m.setFlags(0x202 | zf);
      m.setReg(RCX, count);
      exec(m, [op, 0x20]);
      expect(m.reg(RCX)).toBe(count - 1n);
      expect(m.rip()).toBe(taken ? 0x1022n : 0x1002n);
    }
  });

  it('JRCXZ / JECXZ', () => {
    const m = machine();
    m.setReg(RCX, 0x100000000n);
    exec(m, [0xe3, 0x10]);
    expect(m.rip()).toBe(0x1002n);
    exec(m, [0x67, 0xe3, 0x10]); // ECX is zero
    expect(m.rip()).toBe(0x1013n);
    m.setReg(RCX, 0n);
    exec(m, [0xe3, 0x10]);
    expect(m.rip()).toBe(0x1012n);
  });
});
