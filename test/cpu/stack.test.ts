import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import {
  AC, CF, codeName, DATA, DF, exec, ID, IF, IOPL, machine, OF, peek, poke, RAX, RBP, RBX, RFL, RO, RSP, R12, STACK, TF, ZF,
} from './flow-harness.js';

const A = 0x1122334455667788n, B = 0x99aabbccddeeff00n;
const S = BigInt(STACK);

describe('PUSH / POP', () => {
  it('pushes and pops 64-bit registers', () => {
    const m = machine();
    m.setReg(RAX, A); m.setReg(R12, B);
    exec(m, [0x50, 0x41, 0x54, 0x5b, 0x59], 4); // push rax; push r12; pop rbx; pop rcx
    expect(m.reg(RBX)).toBe(B);
    expect(m.reg(1)).toBe(A);
    expect(m.reg(RSP)).toBe(S);
    expect(peek(m, STACK - 8, 8)).toBe(A);
    expect(peek(m, STACK - 16, 8)).toBe(B);
  });

  it('PUSH RSP pushes the old value; POP RSP loads the popped value', () => {
    const m = machine();
    exec(m, [0x54]);
    expect(peek(m, STACK - 8, 8)).toBe(S);
    expect(m.reg(RSP)).toBe(S - 8n);
    poke(m, STACK - 8, 8, 0x123450n);
    exec(m, [0x5c]);
    expect(m.reg(RSP)).toBe(0x123450n);
  });

  it('sign-extends pushed immediates; 16-bit pushes move RSP by 2', () => {
    const m = machine();
    expect(codeName([0x6a, 0xff])).toBe('Pushq_imm8');
    exec(m, [0x6a, 0xff]);
    expect(peek(m, STACK - 8, 8)).toBe(0xffffffffffffffffn);
    m.setReg(RSP, S);
    exec(m, [0x68, 0x00, 0x00, 0x00, 0x80]);
    expect(peek(m, STACK - 8, 8)).toBe(0xffffffff80000000n);
    m.setReg(RSP, S);
    poke(m, STACK - 8, 8, 0n);
    expect(codeName([0x66, 0x6a, 0x80])).toBe('Pushw_imm8');
    exec(m, [0x66, 0x6a, 0x80]);
    expect(m.reg(RSP)).toBe(S - 2n);
    expect(peek(m, STACK - 8, 8)).toBe(0xff80n << 48n);
    exec(m, [0x66, 0x68, 0x34, 0x12]);
    expect(peek(m, STACK - 4, 2)).toBe(0x1234n);
    m.setReg(RAX, A);
    exec(m, [0x66, 0x58]); // pop ax
    expect(m.reg(RAX)).toBe((A & ~0xffffn) | 0x1234n);
    expect(m.reg(RSP)).toBe(S - 2n);
    m.setReg(RBX, A);
    exec(m, [0x66, 0x53]); // push bx
    expect(peek(m, STACK - 4, 2)).toBe(0x7788n);
  });

  it('pushes and pops memory operands (POP m computes its address after the increment)', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA));
    poke(m, DATA, 8, A);
    exec(m, [0xff, 0x33]); // push qword [rbx]
    expect(peek(m, STACK - 8, 8)).toBe(A);
    exec(m, [0x8f, 0x43, 0x08]); // pop qword [rbx+8]
    expect(peek(m, DATA + 8, 8)).toBe(A);
    expect(m.reg(RSP)).toBe(S);
    // push [rsp+8] reads with the old RSP
    poke(m, STACK + 8, 8, B);
    exec(m, [0xff, 0x74, 0x24, 0x08]);
    expect(peek(m, STACK - 8, 8)).toBe(B);
    // pop [rsp+8]: RSP is already incremented when the address is computed
    poke(m, STACK - 8, 8, A);
    exec(m, [0x8f, 0x44, 0x24, 0x08]);
    expect(m.reg(RSP)).toBe(S);
    expect(peek(m, STACK + 8, 8)).toBe(A);
    // 16-bit memory forms
    exec(m, [0x66, 0xff, 0x33]); // push word [rbx]
    expect(m.reg(RSP)).toBe(S - 2n);
    exec(m, [0x66, 0x8f, 0x43, 0x10]); // pop word [rbx+16]
    expect(peek(m, DATA + 16, 2)).toBe(A & 0xffffn);
    expect(m.reg(RSP)).toBe(S);
  });

  it('a faulting push leaves RSP unchanged; a faulting POP m restores RSP', () => {
    const m = machine();
    m.setReg(RSP, BigInt(RO + 0x100));
    expect(exec(m, [0x50])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.reg(RSP)).toBe(BigInt(RO + 0x100));
    m.setReg(RSP, S); m.setReg(RBX, BigInt(RO));
    expect(exec(m, [0x8f, 0x03])).toBe(RunStatus.EXIT);
    expect(m.reg(RSP)).toBe(S);
    expect(m.rip()).toBe(0x1000n);
  });
});

describe('non-canonical stack addresses', () => {
  it('raise #SS(0) from PUSH, POP, RET, LEAVE and ENTER', () => {
    const bad = 0x0000_8000_0000_0010n;
    for (const [code, reg] of [[[0x50], RSP], [[0x58], RSP], [[0xc3], RSP], [[0x9d], RSP], [[0xc9], RBP], [[0xc8, 0, 0, 2], RBP]] as const) {
      const m = machine();
      m.setReg(reg, bad);
      expect(exec(m, [...code])).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector, code.join(' ')).toBe(12);
      expect(m.cpu.lastFault?.errorCode).toBe(0);
      expect(m.reg(reg)).toBe(bad);
    }
  });
});

describe('PUSHF / POPF', () => {
  it('PUSHFQ clears RF and VM in the image', () => {
    const m = machine();
    m.setFlags(0x202 | CF | RFL | ZF);
    exec(m, [0x9c]);
    expect(peek(m, STACK - 8, 8)).toBe(BigInt(0x202 | CF | ZF));
    exec(m, [0x66, 0x9c]);
    expect(m.reg(RSP)).toBe(S - 10n);
    expect(peek(m, STACK - 10, 2)).toBe(BigInt(0x202 | CF | ZF));
  });

  it('POPFQ at CPL 3 keeps IF and IOPL and clears RF', () => {
    const m = machine(3);
    m.setFlags(0x202 | RFL);
    poke(m, STACK, 8, BigInt(0xffffffff));
    m.setReg(RSP, S);
    exec(m, [0x9d]);
    const want = 0x2 | IF | CF | 0x4 | 0x10 | ZF | 0x80 | TF | DF | OF | 0x4000 | AC | ID;
    expect(m.flags() | 2).toBe(want);
    expect(m.reg(RSP)).toBe(S + 8n);
    // IF can be cleared when CPL <= IOPL
    m.setFlags(0x202 | IOPL);
    poke(m, STACK + 8, 8, 0n);
    exec(m, [0x9d]);
    expect(m.flags() | 2).toBe(0x2 | IOPL);
  });

  it('POPFQ at CPL 0 changes IF and IOPL but not VM, VIF, VIP', () => {
    const m = machine(0);
    m.setFlags(0x202);
    poke(m, STACK, 8, BigInt(0x3f7fff));
    m.setReg(RSP, S);
    exec(m, [0x9d]);
    expect(m.flags() | 2).toBe(0x3f7fd7 & ~(0x10000 | 0x20000 | 0x80000 | 0x100000));
  });

  it('POPF (16-bit) changes only FLAGS[15:0]', () => {
    const m = machine(0);
    m.setFlags(0x202 | AC | RFL);
    poke(m, STACK, 2, 0n);
    m.setReg(RSP, S);
    exec(m, [0x66, 0x9d]);
    expect(m.flags() | 2).toBe(0x2 | AC | RFL);
    expect(m.reg(RSP)).toBe(S + 2n);
  });
});

describe('ENTER / LEAVE', () => {
  it('ENTER with nesting level 0 and LEAVE', () => {
    const m = machine();
    m.setReg(RBP, 0x7777n);
    exec(m, [0xc8, 0x20, 0x00, 0x00]); // enter 0x20, 0
    expect(peek(m, STACK - 8, 8)).toBe(0x7777n);
    expect(m.reg(RBP)).toBe(S - 8n);
    expect(m.reg(RSP)).toBe(S - 8n - 0x20n);
    exec(m, [0xc9]);
    expect(m.reg(RBP)).toBe(0x7777n);
    expect(m.reg(RSP)).toBe(S);
  });

  it('ENTER with nesting level 3 copies two frame pointers and pushes the new one', () => {
    const m = machine();
    const oldBp = BigInt(DATA + 0x100);
    poke(m, DATA + 0x100 - 8, 8, 0xaaaan);
    poke(m, DATA + 0x100 - 16, 8, 0xbbbbn);
    m.setReg(RBP, oldBp);
    exec(m, [0xc8, 0x10, 0x00, 0x03]); // enter 0x10, 3
    const frame = S - 8n;
    expect(peek(m, STACK - 8, 8)).toBe(oldBp);
    expect(peek(m, STACK - 16, 8)).toBe(0xaaaan);
    expect(peek(m, STACK - 24, 8)).toBe(0xbbbbn);
    expect(peek(m, STACK - 32, 8)).toBe(frame);
    expect(m.reg(RBP)).toBe(frame);
    expect(m.reg(RSP)).toBe(S - 32n - 0x10n);
  });

  it('ENTER with nesting level 1 pushes the frame pointer once', () => {
    const m = machine();
    m.setReg(RBP, 0x1234n);
    exec(m, [0xc8, 0x00, 0x00, 0x01]);
    expect(peek(m, STACK - 16, 8)).toBe(S - 8n);
    expect(m.reg(RSP)).toBe(S - 16n);
    expect(m.reg(RBP)).toBe(S - 8n);
  });

  it('16-bit ENTER/LEAVE', () => {
    const m = machine();
    m.setReg(RBP, 0x5555_0000_0000_1234n);
    exec(m, [0x66, 0xc8, 0x04, 0x00, 0x00]);
    expect(peek(m, STACK - 2, 2)).toBe(0x1234n);
    expect(m.reg(RBP)).toBe(0x5555_0000_0000_0000n | ((S - 2n) & 0xffffn));
    expect(m.reg(RSP)).toBe(S - 6n);
    m.setReg(RBP, S - 2n);
    exec(m, [0x66, 0xc9]);
    expect(m.reg(RSP)).toBe(S);
    expect(m.reg(RBP)).toBe((S - 2n) & ~0xffffn | 0x1234n);
  });

  it('a faulting ENTER changes no register', () => {
    const m = machine();
    m.setReg(RSP, BigInt(RO + 0x100)); m.setReg(RBP, 5n);
    expect(exec(m, [0xc8, 0x00, 0x00, 0x00])).toBe(RunStatus.EXIT);
    expect([m.reg(RSP), m.reg(RBP)]).toEqual([BigInt(RO + 0x100), 5n]);
  });

  it('LEAVE reading an unmapped frame faults without changing RSP', () => {
    const m = machine();
    m.setReg(RBP, 0x10000000n); // beyond the 8 MiB of mapped memory
    expect(exec(m, [0xc9])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.reg(RSP)).toBe(S);
  });
});
