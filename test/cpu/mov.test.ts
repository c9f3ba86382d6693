import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';
import {
  addFlags, AF, CF, codeName, DATA, exec, le, machine, OF, OSZAPC, peek, PF, poke, R, RAX, RBX, RCX, RDX, RO, RSI, SF,
  subFlags, ZF,
} from './flow-harness.js';

const A = 0x1122334455667788n, B = 0x99aabbccddeeff00n;
const sx = (v: bigint, from: number): bigint => BigInt.asUintN(64, BigInt.asIntN(from, v));
const lo = (v: bigint, bits: number): bigint => BigInt.asUintN(bits, v);
/** Merge a `bits`-wide value into the low bits of `old`. */
const merge = (old: bigint, v: bigint, bits: number, shift = 0): bigint =>
  (lo(old, 64) & ~(((1n << BigInt(bits)) - 1n) << BigInt(shift))) | (lo(v, bits) << BigInt(shift));

describe('MOV', () => {
  it('moves immediates with the register-size rules', () => {
    const cases: [number[], string, bigint][] = [
      [[0x48, 0xb8, ...le(0x0123456789abcdefn, 8)], 'Mov_r64_imm64', 0x0123456789abcdefn],
      [[0xb8, ...le(0x87654321, 4)], 'Mov_r32_imm32', 0x87654321n], // 32-bit write zero-extends
      [[0x66, 0xb8, 0x34, 0x12], 'Mov_r16_imm16', merge(A, 0x1234n, 16)],
      [[0xb0, 0x99], 'Mov_r8_imm8', merge(A, 0x99n, 8)],
      [[0xb4, 0x99], 'Mov_r8_imm8', merge(A, 0x99n, 8, 8)], // mov ah, 0x99
      [[0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff], 'Mov_rm64_imm32', sx(0xfffffffen, 32)],
    ];
    for (const [code, name, want] of cases) {
      expect(codeName(code)).toBe(name);
      const m = machine();
      m.setReg(RAX, A);
      exec(m, code);
      expect(m.reg(RAX)).toBe(want);
      expect(m.rip()).toBe(BigInt(0x1000 + code.length));
    }
  });

  it('moves between registers and memory of every size', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, A); m.setReg(RCX, B);
    poke(m, DATA, 8, 0n);
    exec(m, [0x48, 0x89, 0x03]); // mov [rbx], rax
    expect(peek(m, DATA, 8)).toBe(A);
    exec(m, [0x48, 0x8b, 0x0b]); // mov rcx, [rbx]
    expect(m.reg(RCX)).toBe(A);
    m.setReg(RCX, B);
    exec(m, [0x8b, 0x0b]); // mov ecx, [rbx]
    expect(m.reg(RCX)).toBe(lo(A, 32));
    m.setReg(RCX, B);
    exec(m, [0x66, 0x8b, 0x0b]); // mov cx, [rbx]
    expect(m.reg(RCX)).toBe(merge(B, A, 16));
    exec(m, [0x88, 0x23]); // mov [rbx], ah
    expect(peek(m, DATA, 8)).toBe(merge(A, (A >> 8n) & 0xffn, 8));
    exec(m, [0x48, 0xc7, 0x03, 0x00, 0x00, 0x00, 0x80]); // mov qword [rbx], -2^31
    expect(peek(m, DATA, 8)).toBe(0xffffffff80000000n);
    exec(m, [0xc7, 0x03, 0x01, 0x00, 0x00, 0x00]); // mov dword [rbx], 1
    expect(peek(m, DATA, 8)).toBe(0xffffffff00000001n);
    exec(m, [0x66, 0xc7, 0x03, 0x22, 0x22]); // mov word [rbx], 0x2222
    exec(m, [0xc6, 0x43, 0x07, 0x33]); // mov byte [rbx+7], 0x33
    expect(peek(m, DATA, 8)).toBe(0x33ffffff00002222n);
    m.setReg(RDX, 0n);
    exec(m, [0x8a, 0x73, 0x07]); // mov dh, [rbx+7]
    expect(m.reg(RDX)).toBe(0x3300n);
  });

  it('handles moffs, RIP-relative and FS-relative addresses', () => {
    const m = machine();
    poke(m, DATA, 8, A);
    exec(m, [0x48, 0xa1, ...le(DATA, 8)]);
    expect(m.reg(RAX)).toBe(A);
    m.setReg(RAX, B);
    expect(codeName([0x66, 0xa3, ...le(DATA + 8, 8)])).toBe('Mov_moffs16_AX');
    exec(m, [0x66, 0xa3, ...le(DATA + 8, 8)]);
    expect(peek(m, DATA + 8, 8)).toBe(0xff00n);
    exec(m, [0xa0, ...le(DATA + 1, 8)]); // mov al, [DATA+1]
    expect(m.reg(RAX)).toBe(merge(B, (A >> 8n) & 0xffn, 8));
    // mov rax, [rip + disp]: the address is relative to the next instruction
    const disp = DATA - (0x1000 + 7);
    exec(m, [0x48, 0x8b, 0x05, ...le(disp, 4)]);
    expect(m.reg(RAX)).toBe(A);
    // mov rax, fs:[0x10] with FS base DATA - 0x10
    m.cpu.r[R(Off.FS_BASE)] = DATA - 0x10;
    m.setReg(RAX, 0n);
    exec(m, [0x64, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0]);
    expect(m.reg(RAX)).toBe(A);
  });

  it('MOVNTI stores like MOV', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, B);
    expect(codeName([0x48, 0x0f, 0xc3, 0x03])).toBe('Movnti_m64_r64');
    exec(m, [0x48, 0x0f, 0xc3, 0x03]);
    expect(peek(m, DATA, 8)).toBe(B);
    exec(m, [0x0f, 0xc3, 0x03]);
    expect(peek(m, DATA, 8)).toBe(merge(B, B, 32));
  });

  it('a faulting store changes nothing', () => {
    const m = machine();
    m.setReg(RBX, BigInt(RO)); m.setReg(RAX, A);
    expect(exec(m, [0x48, 0x89, 0x03])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.cpu.lastFault?.errorCode).toBe(0x7); // P W U
    expect(m.rip()).toBe(0x1000n);
    expect(peek(m, RO, 8)).toBe(0n);
  });
});

describe('MOVZX / MOVSX / MOVSXD', () => {
  const V = 0xfedcba9876548685n; // bl = 0x85, bx = 0x8685, ebx = 0x76548685
  const cases: [number[], string, (old: bigint) => bigint][] = [
    [[0x0f, 0xb6, 0xc3], 'Movzx_r32_rm8', () => 0x85n],
    [[0x48, 0x0f, 0xb6, 0xc3], 'Movzx_r64_rm8', () => 0x85n],
    [[0x66, 0x0f, 0xb6, 0xc3], 'Movzx_r16_rm8', (o) => merge(o, 0x85n, 16)],
    [[0x0f, 0xb7, 0xc3], 'Movzx_r32_rm16', () => 0x8685n],
    [[0x48, 0x0f, 0xb7, 0xc3], 'Movzx_r64_rm16', () => 0x8685n],
    [[0x0f, 0xbe, 0xc3], 'Movsx_r32_rm8', () => lo(sx(0x85n, 8), 32)],
    [[0x48, 0x0f, 0xbe, 0xc3], 'Movsx_r64_rm8', () => sx(0x85n, 8)],
    [[0x66, 0x0f, 0xbe, 0xc3], 'Movsx_r16_rm8', (o) => merge(o, sx(0x85n, 8), 16)],
    [[0x0f, 0xbf, 0xc3], 'Movsx_r32_rm16', () => lo(sx(0x8685n, 16), 32)],
    [[0x48, 0x0f, 0xbf, 0xc3], 'Movsx_r64_rm16', () => sx(0x8685n, 16)],
    [[0x48, 0x63, 0xc3], 'Movsxd_r64_rm32', () => sx(0x76548685n, 32)],
    [[0x63, 0xc3], 'Movsxd_r32_rm32', () => 0x76548685n],
    [[0x0f, 0xb6, 0xc7], 'Movzx_r32_rm8', () => 0x86n], // movzx eax, bh
  ];
  for (const [code, name, want] of cases) {
    it(`${name} ${code.map((b) => b.toString(16)).join(' ')}`, () => {
      expect(codeName(code)).toBe(name);
      const m = machine();
      m.setReg(RAX, A); m.setReg(RBX, V);
      exec(m, code);
      expect(m.reg(RAX)).toBe(want(A));
    });
  }

  it('sign-extends a dword from memory', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA));
    poke(m, DATA, 4, 0x80000001n);
    exec(m, [0x48, 0x63, 0x03]); // movsxd rax, [rbx]
    expect(m.reg(RAX)).toBe(0xffffffff80000001n);
  });
});

describe('XCHG / XADD', () => {
  it('exchanges registers, including the 90+r forms and the zero-extending xchg eax, eax', () => {
    const m = machine();
    m.setReg(RAX, A); m.setReg(RBX, B);
    exec(m, [0x48, 0x87, 0xd8]); // xchg rax, rbx
    expect([m.reg(RAX), m.reg(RBX)]).toEqual([B, A]);
    exec(m, [0x87, 0xc0]); // xchg eax, eax
    expect(m.reg(RAX)).toBe(lo(B, 32));
    m.setReg(RAX, A);
    expect(codeName([0x90])).toBe('Nopd');
    exec(m, [0x90]);
    expect(m.reg(RAX)).toBe(A);
    m.setReg(8, B);
    expect(codeName([0x49, 0x90])).toBe('Xchg_r64_RAX');
    exec(m, [0x49, 0x90]); // xchg r8, rax
    expect([m.reg(RAX), m.reg(8)]).toEqual([B, A]);
    exec(m, [0x86, 0xe0]); // xchg al, ah
    expect(m.reg(RAX)).toBe((B & ~0xffffn) | ((B & 0xffn) << 8n) | ((B >> 8n) & 0xffn));
    m.setReg(RAX, A); m.setReg(RBX, B);
    exec(m, [0x93]); // xchg ebx, eax
    expect([m.reg(RAX), m.reg(RBX)]).toEqual([lo(B, 32), lo(A, 32)]);
  });

  it('exchanges with memory', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, A);
    poke(m, DATA, 8, B);
    exec(m, [0x48, 0x87, 0x03]);
    expect(m.reg(RAX)).toBe(B);
    expect(peek(m, DATA, 8)).toBe(A);
    exec(m, [0x87, 0x03]); // 32-bit: RAX upper half cleared
    expect(m.reg(RAX)).toBe(lo(A, 32));
    expect(peek(m, DATA, 8)).toBe(merge(A, B, 32));
  });

  for (const bits of [8, 16, 32, 64]) {
    it(`XADD ${bits}-bit register and memory forms`, () => {
      const pre = bits === 16 ? [0x66] : bits === 64 ? [0x48] : [];
      const op = bits === 8 ? 0xc0 : 0xc1;
      const pairs: [bigint, bigint][] = [[A, B], [0x7fn, 1n], [-1n, 1n], [0x8000000000000000n, 0x8000000000000000n], [0n, 0n]];
      for (const [a, b] of pairs) {
        const m = machine();
        m.setReg(RAX, a); m.setReg(RBX, b);
        exec(m, [...pre, 0x0f, op, 0xd8]); // xadd rax, rbx (or the narrower registers)
        const sum = lo(a + b, bits);
        expect(m.reg(RAX)).toBe(bits === 32 ? sum : merge(a, sum, bits));
        expect(m.reg(RBX)).toBe(bits === 32 ? lo(a, 32) : merge(b, a, bits));
        expect(m.flags() & OSZAPC).toBe(addFlags(a, b, bits));
        // memory destination
        const m2 = machine();
        m2.setReg(RSI, BigInt(DATA)); m2.setReg(RAX, b);
        poke(m2, DATA, 8, a);
        exec(m2, [...pre, 0x0f, op, 0x06]); // xadd [rsi], rax/eax/ax/al
        expect(peek(m2, DATA, 8)).toBe(merge(a, sum, bits));
        expect(m2.reg(RAX)).toBe(bits === 32 ? lo(a, 32) : merge(b, a, bits));
        expect(m2.flags() & OSZAPC).toBe(addFlags(a, b, bits));
      }
    });
  }

  it('xadd with both operands the same register leaves the sum', () => {
    const m = machine();
    m.setReg(RAX, 5n);
    exec(m, [0x48, 0x0f, 0xc1, 0xc0]); // xadd rax, rax
    expect(m.reg(RAX)).toBe(10n);
  });
});

describe('CMPXCHG', () => {
  for (const bits of [8, 16, 32, 64]) {
    it(`${bits}-bit, register destination`, () => {
      const pre = bits === 16 ? [0x66] : bits === 64 ? [0x48] : [];
      const op = bits === 8 ? 0xb0 : 0xb1;
      const code = [...pre, 0x0f, op, 0xd9]; // cmpxchg rcx/ecx/cx/cl, rbx/...
      for (const equal of [true, false]) {
        const m = machine();
        const dst = 0xcccc0000_00001234n;
        const acc = bits === 64 ? (equal ? dst : dst - 1n) : equal ? 0xaaaa0000_00001234n : 0xaaaa0000_00001233n;
        m.setReg(RAX, acc); m.setReg(RCX, dst); m.setReg(RBX, B);
        exec(m, code);
        const eq = lo(acc, bits) === lo(dst, bits);
        expect(eq).toBe(equal);
        if (eq) {
          expect(m.reg(RCX)).toBe(bits === 32 ? lo(B, 32) : merge(dst, B, bits));
          expect(m.reg(RAX)).toBe(acc); // accumulator not written
        } else {
          expect(m.reg(RAX)).toBe(bits === 32 ? lo(dst, 32) : merge(acc, dst, bits));
          expect(m.reg(RCX)).toBe(dst); // destination register not written (upper half kept)
        }
        expect(m.flags() & OSZAPC).toBe(subFlags(acc, dst, bits));
      }
    });
  }

  it('memory destination: success stores, failure loads the accumulator and writes the old value back', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, A); m.setReg(RCX, B);
    poke(m, DATA, 8, A);
    exec(m, [0xf0, 0x48, 0x0f, 0xb1, 0x0b]); // lock cmpxchg [rbx], rcx
    expect(peek(m, DATA, 8)).toBe(B);
    expect(m.flags() & ZF).toBe(ZF);
    exec(m, [0xf0, 0x48, 0x0f, 0xb1, 0x0b]); // now fails: rax := [rbx]
    expect(m.reg(RAX)).toBe(B);
    expect(m.flags() & OSZAPC).toBe(subFlags(A, B, 64));
    // the write-back on failure faults on a read-only page, with nothing changed
    const m2 = machine();
    m2.setReg(RBX, BigInt(RO)); m2.setReg(RAX, 1n);
    expect(exec(m2, [0x0f, 0xb1, 0x0b])).toBe(RunStatus.EXIT);
    expect(m2.cpu.lastFault?.vector).toBe(14);
    expect(m2.reg(RAX)).toBe(1n);
    expect(m2.rip()).toBe(0x1000n);
  });

  it('CMPXCHG8B', () => {
    const m = machine();
    m.setReg(RSI, BigInt(DATA));
    poke(m, DATA, 8, 0x1111111122222222n);
    m.setReg(RAX, 0xffffffff22222222n); m.setReg(RDX, 0xffffffff11111111n);
    m.setReg(RBX, 0xeeeeeeee44444444n); m.setReg(RCX, 0xeeeeeeee33333333n);
    expect(codeName([0x0f, 0xc7, 0x0e])).toBe('Cmpxchg8b_m64');
    m.setFlags(0x202 | CF | SF);
    exec(m, [0x0f, 0xc7, 0x0e]);
    expect(peek(m, DATA, 8)).toBe(0x3333333344444444n);
    expect(m.flags() & OSZAPC).toBe(CF | SF | ZF); // only ZF changes
    expect(m.reg(RAX)).toBe(0xffffffff22222222n); // not written on success
    exec(m, [0x0f, 0xc7, 0x0e]); // fails now: EDX:EAX := m64, zero-extended
    expect(m.reg(RAX)).toBe(0x44444444n);
    expect(m.reg(RDX)).toBe(0x33333333n);
    expect(m.flags() & OSZAPC).toBe(CF | SF);
  });

  it('CMPXCHG16B, and #GP(0) when misaligned', () => {
    const m = machine();
    m.setReg(RSI, BigInt(DATA));
    poke(m, DATA, 8, A); poke(m, DATA + 8, 8, B);
    m.setReg(RAX, A); m.setReg(RDX, B); m.setReg(RBX, 1n); m.setReg(RCX, 2n);
    exec(m, [0x48, 0x0f, 0xc7, 0x0e]);
    expect([peek(m, DATA, 8), peek(m, DATA + 8, 8)]).toEqual([1n, 2n]);
    expect(m.flags() & ZF).toBe(ZF);
    exec(m, [0x48, 0x0f, 0xc7, 0x0e]);
    expect([m.reg(RAX), m.reg(RDX)]).toEqual([1n, 2n]);
    expect(m.flags() & ZF).toBe(0);
    m.setReg(RSI, BigInt(DATA + 8));
    expect(exec(m, [0x48, 0x0f, 0xc7, 0x0e])).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(m.cpu.lastFault?.errorCode).toBe(0);
  });
});

describe('read-modify-write faults', () => {
  it('a #PF on the read of XCHG/XADD/CMPXCHG reports a write (W=1)', () => {
    for (const code of [[0x48, 0x87, 0x03], [0x0f, 0xc1, 0x03], [0x0f, 0xb1, 0x0b], [0x0f, 0xc7, 0x0b], [0x48, 0x0f, 0xc7, 0x0b]]) {
      const m = machine();
      m.setReg(RBX, 0x10000000n); // not mapped
      expect(exec(m, code)).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector).toBe(14);
      expect(m.cpu.lastFault?.errorCode).toBe(0x6); // W U, not present
    }
  });
});

describe('XLAT', () => {
  it('loads AL from [RBX + AL]', () => {
    const m = machine();
    poke(m, DATA + 0xf0, 1, 0x5cn);
    m.setReg(RBX, BigInt(DATA)); m.setReg(RAX, 0x1234_5678_9abc_def0n);
    expect(codeName([0xd7])).toBe('Xlat_m8');
    exec(m, [0xd7]);
    expect(m.reg(RAX)).toBe(0x1234_5678_9abc_de5cn);
    m.setReg(RBX, 0xffff_ffff_0000_0000n + BigInt(DATA)); m.setReg(RAX, 0xf0n);
    exec(m, [0x67, 0xd7]); // EBX
    expect(m.reg(RAX)).toBe(0x5cn);
  });
});

describe('LEA', () => {
  it('computes addresses at every size, ignoring segment bases', () => {
    const base = 0xfffffffffffffff0n, idx = 0x40000000n; // base + idx*4 + 0x10 wraps
    const ea = lo(base + idx * 4n + 0x10n, 64);
    const cases: [number[], bigint][] = [
      [[0x48, 0x8d, 0x44, 0x8b, 0x10], ea],
      [[0x8d, 0x44, 0x8b, 0x10], lo(ea, 32)],
      [[0x66, 0x8d, 0x44, 0x8b, 0x10], merge(A, ea, 16)],
      [[0x67, 0x48, 0x8d, 0x44, 0x8b, 0x10], lo(lo(base, 32) + lo(idx, 32) * 4n + 0x10n, 32)], // 32-bit address size
      [[0x64, 0x48, 0x8d, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12], 0x12345678n], // fs: ignored
      [[0x48, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00], 0x1000n + 7n + 0x100n], // rip-relative
    ];
    for (const [code, want] of cases) {
      const m = machine();
      m.cpu.r[R(Off.FS_BASE)] = 0x5000;
      m.setReg(RAX, A); m.setReg(RBX, base); m.setReg(RCX, idx);
      exec(m, code);
      expect(m.reg(RAX)).toBe(want);
    }
  });
});

describe('CBW..CQO, LAHF, SAHF', () => {
  it('sign-extends the accumulator', () => {
    const cases: [number[], string, bigint, (a: bigint, d: bigint) => [bigint, bigint]][] = [
      [[0x66, 0x98], 'Cbw', 0x1234_5678_9abc_de80n, (a, d) => [merge(a, sx(0x80n, 8), 16), d]],
      [[0x98], 'Cwde', 0x1234_5678_9abc_8000n, (_a, d) => [lo(sx(0x8000n, 16), 32), d]],
      [[0x48, 0x98], 'Cdqe', 0x1234_5678_9abc_8000n, (_a, d) => [sx(0x9abc8000n, 32), d]],
      [[0x66, 0x99], 'Cwd', 0x1234_5678_9abc_8000n, (a, d) => [a, merge(d, 0xffffn, 16)]],
      [[0x99], 'Cdq', 0x1234_5678_1abc_8000n, (a) => [a, 0n]],
      [[0x48, 0x99], 'Cqo', 0x9234_5678_1abc_8000n, (a) => [a, 0xffffffffffffffffn]],
    ];
    for (const [code, name, a, f] of cases) {
      expect(codeName(code)).toBe(name);
      const m = machine();
      const d0 = 0x5555_5555_5555_5555n;
      m.setReg(RAX, a); m.setReg(RDX, d0);
      exec(m, code);
      expect([m.reg(RAX), m.reg(RDX)]).toEqual(f(a, d0));
    }
  });

  it('LAHF loads SF ZF AF PF CF and bit 1 into AH; SAHF stores them back, keeping OF', () => {
    const m = machine();
    m.setFlags(0x202 | SF | ZF | AF | PF | CF | OF);
    m.setReg(RAX, 0n);
    exec(m, [0x9f]);
    expect(m.reg(RAX)).toBe(BigInt((SF | ZF | AF | PF | CF | 2) << 8));
    m.setReg(RAX, BigInt((0xff & ~(SF | CF)) << 8));
    exec(m, [0x9e]);
    expect(m.flags() & OSZAPC).toBe(ZF | AF | PF | OF);
  });
});
