import { Code } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import { specOf } from '../../src/cpu/table.js';
import { CF, CODE, DATA, exec, machine, OF, peek, poke, RAX, RBX, RCX, RDX, s, u, values } from './alu-harness.js';

const pfx = (bits: number): number[] => (bits === 16 ? [0x66] : bits === 64 ? [0x48] : []);
const B = (bits: number): bigint => BigInt(bits);
const imm = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, i) => Number((u(v, 64) >> BigInt(8 * i)) & 0xffn));

function merged(old: bigint, v: bigint, bits: number): bigint {
  if (bits >= 32) return u(v, bits);
  return (old & ~((1n << B(bits)) - 1n)) | u(v, bits);
}

describe('one-operand MUL / IMUL', () => {
  for (const signed of [false, true]) {
    for (const bits of [8, 16, 32, 64]) {
      it(`${signed ? 'imul' : 'mul'} r/m${bits}`, () => {
        const m = machine();
        const vals = [...values(14, bits + (signed ? 100 : 0))];
        for (let i = 0; i < vals.length; i++) {
          const a = u(vals[i]!, bits), b = u(vals[(i * 3 + 5) % vals.length]!, bits);
          for (const mem of [false, true]) {
            const junk = 0x5555aaaa5555aaaan;
            m.setReg(RAX, merged(junk, a, bits)); m.setReg(RDX, junk);
            if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, b); } else m.setReg(RBX, merged(junk, b, bits));
            const code = [...pfx(bits), bits === 8 ? 0xf6 : 0xf7, ((signed ? 5 : 4) << 3) | (mem ? RBX : 0xc0 | RBX)];
            expect(exec(m, code)).toBe(RunStatus.BUDGET);
            const p = signed ? s(a, bits) * s(b, bits) : a * b;
            const lo = u(p, bits), hi = u(p >> B(bits), bits);
            const fits = signed ? s(lo, bits) === p : hi === 0n;
            const label = `${signed ? 'imul' : 'mul'}${bits} ${a.toString(16)}*${b.toString(16)}`;
            if (bits === 8) {
              expect(m.reg(RAX), label).toBe(merged(junk, u(p, 16), 16));
              expect(m.reg(RDX)).toBe(junk);
            } else {
              expect(m.reg(RAX), label).toBe(merged(junk, lo, bits));
              expect(m.reg(RDX), label).toBe(merged(junk, hi, bits));
            }
            expect(m.flags() & (CF | OF), label).toBe(fits ? 0 : CF | OF);
          }
        }
      });
    }
  }
});

describe('two- and three-operand IMUL', () => {
  for (const bits of [16, 32, 64]) {
    for (const form of ['r,rm', 'r,rm,imm8', 'r,rm,imm']) {
      it(`imul ${form} ${bits}-bit`, () => {
        const m = machine();
        const vals = [...values(14, bits + form.length)];
        for (let i = 0; i < vals.length; i++) {
          const a = u(vals[i]!, bits), raw = vals[(i * 5 + 2) % vals.length]!;
          for (const mem of [false, true]) {
            const immN = form === 'r,rm,imm8' ? 1 : bits === 16 ? 2 : 4;
            const b = form === 'r,rm' ? u(raw, bits) : u(s(raw, immN * 8), bits);
            const modrm = (RCX << 3) | (mem ? RBX : 0xc0 | RBX);
            const code = form === 'r,rm' ? [...pfx(bits), 0x0f, 0xaf, modrm]
              : [...pfx(bits), form === 'r,rm,imm8' ? 0x6b : 0x69, modrm, ...imm(raw, immN)];
            const junk = 0x1234567890abcdefn;
            // r,rm: rcx = rcx * rbx ; three-operand: rcx = rbx * imm
            const other = form === 'r,rm' ? a : 0x77n;
            m.setReg(RCX, merged(junk, form === 'r,rm' ? b : other, bits));
            if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, a); } else m.setReg(RBX, merged(junk, a, bits));
            const before = m.reg(RCX);
            expect(exec(m, code)).toBe(RunStatus.BUDGET);
            const p = s(a, bits) * s(b, bits);
            const label = `imul ${form} ${bits} ${a.toString(16)}*${b.toString(16)} mem=${mem}`;
            expect(m.reg(RCX), label).toBe(merged(before, u(p, bits), bits));
            expect(m.flags() & (CF | OF), label).toBe(s(u(p, bits), bits) === p ? 0 : CF | OF);
          }
        }
      });
    }
  }
});

describe('DIV / IDIV', () => {
  for (const signed of [false, true]) {
    for (const bits of [8, 16, 32, 64]) {
      it(`${signed ? 'idiv' : 'div'} r/m${bits}, including #DE`, () => {
        const m = machine();
        const W = B(bits);
        const cases: [bigint, bigint][] = []; // [dividend (2*bits), divisor]
        const vals = [...values(20, bits * 3 + (signed ? 1 : 0))];
        for (let i = 0; i < vals.length; i++) {
          const dv = u(vals[i]!, bits), q = u(vals[(i * 7 + 1) % vals.length]!, bits);
          // a dividend with an in-range quotient, a random one (usually overflowing), and small ones
          if (dv !== 0n) {
            const sd = signed ? s(dv, bits) : dv, sq = signed ? s(q, bits) : q;
            const rmag = (sd < 0n ? -sd : sd) - 1n;
            let n = sq * sd + (rmag > 0n ? (vals[(i + 3) % vals.length]! % rmag) : 0n) * (sq * sd < 0n ? -1n : 1n);
            if (!signed && n < 0n) n = -n;
            cases.push([u(n, 2 * bits), dv]);
          }
          cases.push([u(vals[(i * 11 + 4) % vals.length]! * (1n << W) + vals[i]!, 2 * bits), dv]);
          cases.push([u(vals[(i + 1) % vals.length]! >> W, 2 * bits), dv]);
          cases.push([u(s(vals[(i + 2) % vals.length]!, bits), 2 * bits), dv]);
        }
        cases.push([5n, 0n], [u(-(1n << (2n * W - 1n)), 2 * bits), u(-1n, bits)], [u(-(1n << (W - 1n)), 2 * bits), u(-1n, bits)]);
        let faults = 0, ok = 0;
        for (const [n, dv] of cases) {
          for (const mem of [false, true]) {
            const junk = 0x0badf00d0badf00dn;
            const nlo = u(n, bits), nhi = u(n >> W, bits);
            if (bits === 8) { m.setReg(RAX, merged(junk, n, 16)); m.setReg(RDX, junk); } else {
              m.setReg(RAX, merged(junk, nlo, bits)); m.setReg(RDX, merged(junk, nhi, bits));
            }
            if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, dv); } else m.setReg(RBX, merged(junk, dv, bits));
            const rax0 = m.reg(RAX), rdx0 = m.reg(RDX);
            const code = [...pfx(bits), bits === 8 ? 0xf6 : 0xf7, ((signed ? 7 : 6) << 3) | (mem ? RBX : 0xc0 | RBX)];
            const st = exec(m, code);
            const N = signed ? s(n, 2 * bits) : n, D = signed ? s(dv, bits) : dv;
            const label = `${signed ? 'idiv' : 'div'}${bits} ${n.toString(16)}/${dv.toString(16)} mem=${mem}`;
            const q = D === 0n ? 0n : N / D, r = D === 0n ? 0n : N % D;
            const overflow = D === 0n || (signed ? q < -(1n << (W - 1n)) || q >= 1n << (W - 1n) : q >= 1n << W);
            if (overflow) {
              expect(st, label).toBe(RunStatus.EXIT);
              expect(m.cpu.lastFault?.vector, label).toBe(0);
              expect(m.rip()).toBe(BigInt(CODE));
              expect(m.reg(RAX), label).toBe(rax0);
              expect(m.reg(RDX), label).toBe(rdx0);
              faults++;
              continue;
            }
            expect(st, label).toBe(RunStatus.BUDGET);
            if (bits === 8) {
              expect(m.reg(RAX), label).toBe(merged(junk, u(q, 8) | (u(r, 8) << 8n), 16));
              expect(m.reg(RDX), label).toBe(junk);
            } else {
              expect(m.reg(RAX), label).toBe(merged(junk, u(q, bits), bits));
              expect(m.reg(RDX), label).toBe(merged(junk, u(r, bits), bits));
            }
            ok++;
          }
        }
        expect(faults).toBeGreaterThan(4);
        expect(ok).toBeGreaterThan(20);
      });
    }
  }

  it('64-bit DIV takes every path: small, 32-bit divisor with RDX != 0, and BigInt', () => {
    const m = machine();
    const check = (rdx: bigint, rax: bigint, dv: bigint): void => {
      m.setReg(RDX, rdx); m.setReg(RAX, rax); m.setReg(RBX, dv);
      expect(exec(m, [0x48, 0xf7, 0xf3])).toBe(RunStatus.BUDGET); // div rbx
      const n = (rdx << 64n) | rax;
      expect(m.reg(RAX)).toBe(n / dv);
      expect(m.reg(RDX)).toBe(n % dv);
    };
    check(0n, 1000000007n * 12345n + 17n, 1000000007n);
    check(0n, 0xffffffffffffffffn, 10n);
    check(9n, 0x123456789abcdefn, 10n);
    check(0xfffffffen, 0xffffffffffffffffn, 0xffffffffn);
    check(0x123456789n, 0xabcdef0123456789n, 0x123456789abn);
    check(0n, 0x8000000000000000n, 0x8000000000000001n);
  });

  it('IDIV 64 fast path handles negative dividends and divisors', () => {
    const m = machine();
    for (const [n, dv] of [[-7n, 2n], [7n, -2n], [-7n, -2n], [-(1n << 51n) + 3n, 12345n], [0n, -5n]] as [bigint, bigint][]) {
      m.setReg(RAX, n); m.setReg(RDX, n < 0n ? -1n : 0n); m.setReg(RCX, dv);
      expect(exec(m, [0x48, 0xf7, 0xf9])).toBe(RunStatus.BUDGET); // idiv rcx
      expect(m.reg(RAX)).toBe(u(n / dv, 64));
      expect(m.reg(RDX)).toBe(u(n % dv, 64));
    }
  });

  it('a divide error leaves memory-sourced operands and RIP unchanged', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); poke(m, DATA, 4, 0n);
    expect(exec(m, [0xf7, 0x33])).toBe(RunStatus.EXIT); // div dword [rbx]
    expect(m.cpu.lastFault?.vector).toBe(0);
    expect(peek(m, DATA, 4)).toBe(0n);
  });
});

describe('muldiv table coverage', () => {
  it('implements every MUL IMUL DIV IDIV form', () => {
    const names = Object.keys(Code).filter((k) => /^(Mul|Imul|Div|Idiv)_(rm|r)(8|16|32|64)/.test(k));
    const missing = names.filter((k) => specOf((Code as unknown as Record<string, number>)[k]!) === undefined);
    expect(missing).toEqual([]);
    expect(names.length).toBe(25);
  });
});
