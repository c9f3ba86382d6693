import { Code } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { specOf } from '../../src/cpu/table.js';
import {
  addFlags, AF, CF, codeName, DATA, exec, logicFlags, machine, OSZAPC, peek, poke, RAX, RBX, RCX, RDX, s, subFlags, u,
  undefinedFlags, values, ZF,
} from './alu-harness.js';

type Op = 'add' | 'or' | 'adc' | 'sbb' | 'and' | 'sub' | 'xor' | 'cmp' | 'test';
const OPS: Op[] = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test'];
const INDEX: Record<Op, number> = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7, test: -1 };

/** Reference: result and OSZAPC of `op` per the SDM. */
function ref(op: Op, d: bigint, sv: bigint, cin: bigint, bits: number): { res: bigint; flags: number; store: boolean } {
  switch (op) {
    case 'add': return { res: u(d + sv, bits), flags: addFlags(d, sv, 0n, bits), store: true };
    case 'adc': return { res: u(d + sv + cin, bits), flags: addFlags(d, sv, cin, bits), store: true };
    case 'sub': return { res: u(d - sv, bits), flags: subFlags(d, sv, 0n, bits), store: true };
    case 'sbb': return { res: u(d - sv - cin, bits), flags: subFlags(d, sv, cin, bits), store: true };
    case 'cmp': return { res: u(d, bits), flags: subFlags(d, sv, 0n, bits), store: false };
    case 'and': return { res: u(d & sv, bits), flags: logicFlags(d & sv, bits), store: true };
    case 'test': return { res: u(d, bits), flags: logicFlags(d & sv, bits), store: false };
    case 'or': return { res: u(d | sv, bits), flags: logicFlags(d | sv, bits), store: true };
    case 'xor': return { res: u(d ^ sv, bits), flags: logicFlags(d ^ sv, bits), store: true };
  }
}

/** Operand-size prefixes for a width (8-bit uses the byte opcodes). */
const pfx = (bits: number): number[] => (bits === 16 ? [0x66] : bits === 64 ? [0x48] : []);
const immBytes = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, i) => Number((u(v, 64) >> BigInt(8 * i)) & 0xffn));

type Form = 'rm,r' | 'r,rm' | 'mem,r' | 'r,mem' | 'rm,imm' | 'mem,imm' | 'rm,imm8' | 'mem,imm8' | 'acc,imm';

/** Encode `op` in form `form`: destination RBX/[RBX] or RCX (r,rm forms) or RAX (acc), source RCX/[RBX]/imm. */
function encode(op: Op, form: Form, bits: number, imm: bigint): number[] | undefined {
  const p = pfx(bits), w = bits === 8 ? 0 : 1, k = INDEX[op];
  const immN = bits === 8 ? 1 : bits === 16 ? 2 : 4;
  const rr = 0xc0 | (RCX << 3) | RBX, rmem = (RCX << 3) | RBX; // modrm: reg=rcx, rm=rbx / [rbx]
  if (op === 'test') {
    switch (form) {
      case 'rm,r': return [...p, 0x84 + w, rr];
      case 'mem,r': return [...p, 0x84 + w, rmem];
      case 'rm,imm': return [...p, 0xf6 + w, 0xc0 | RBX, ...immBytes(imm, immN)];
      case 'mem,imm': return [...p, 0xf6 + w, RBX, ...immBytes(imm, immN)];
      case 'acc,imm': return [...p, 0xa8 + w, ...immBytes(imm, immN)];
      default: return undefined;
    }
  }
  switch (form) {
    case 'rm,r': return [...p, k * 8 + w, rr];
    case 'r,rm': return [...p, k * 8 + 2 + w, rr];
    case 'mem,r': return [...p, k * 8 + w, rmem];
    case 'r,mem': return [...p, k * 8 + 2 + w, rmem];
    case 'rm,imm': return [...p, 0x80 + w, 0xc0 | (k << 3) | RBX, ...immBytes(imm, immN)];
    case 'mem,imm': return [...p, 0x80 + w, (k << 3) | RBX, ...immBytes(imm, immN)];
    case 'rm,imm8': return bits === 8 ? undefined : [...p, 0x83, 0xc0 | (k << 3) | RBX, ...immBytes(imm, 1)];
    case 'mem,imm8': return bits === 8 ? undefined : [...p, 0x83, (k << 3) | RBX, ...immBytes(imm, 1)];
    case 'acc,imm': return [...p, k * 8 + 4 + w, ...immBytes(imm, immN)];
  }
}

/** Value of a register after a write of `bits` (8/16 merge, 32 zero-extends, 64 replaces). */
function merged(old: bigint, v: bigint, bits: number): bigint {
  if (bits === 32 || bits === 64) return u(v, bits);
  return (old & ~((1n << BigInt(bits)) - 1n)) | u(v, bits);
}

const FORMS: Form[] = ['rm,r', 'r,rm', 'mem,r', 'r,mem', 'rm,imm', 'mem,imm', 'rm,imm8', 'mem,imm8', 'acc,imm'];

describe('alu binary operations', () => {
  for (const op of OPS) {
    for (const bits of [8, 16, 32, 64]) {
      it(`${op} ${bits}-bit, every form, against the SDM reference`, () => {
        const m = machine();
        const vals = [...values(12, bits + INDEX[op] + 3)];
        let checked = 0;
        for (const form of FORMS) {
          for (let i = 0; i < vals.length; i++) {
            const a = vals[i]!, b0 = vals[(i * 7 + 3) % vals.length]!;
            // the source as the instruction sees it
            const immN = form.endsWith('imm8') ? 8 : bits === 64 ? 32 : bits;
            const isImm = form.includes('imm');
            const b = isImm ? u(s(b0, immN), bits) : u(b0, bits);
            const code = encode(op, form, bits, b0);
            if (!code) continue;
            for (const cin of [0n, 1n]) {
              const junk = 0x1122334455667788n;
              const dstIsRcx = form === 'r,rm' || form === 'r,mem';
              const dstIsMem = form.startsWith('mem');
              const dstReg = form === 'acc,imm' ? RAX : dstIsRcx ? RCX : RBX;
              m.setReg(RAX, junk); m.setReg(RCX, junk); m.setReg(RBX, junk);
              if (form === 'rm,r' || form === 'r,rm') {
                m.setReg(dstReg, merged(junk, a, bits));
                m.setReg(dstReg === RCX ? RBX : RCX, merged(junk, b, bits));
              } else if (form === 'mem,r') {
                m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, a); m.setReg(RCX, merged(junk, b, bits));
              } else if (form === 'r,mem') {
                m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, b); m.setReg(RCX, merged(junk, a, bits));
              } else if (dstIsMem) {
                m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, a);
              } else {
                m.setReg(dstReg, merged(junk, a, bits));
              }
              poke(m, DATA + bits / 8, 1, 0x5an); // guard byte after the operand
              const before = m.reg(dstReg);
              m.setFlags(0x202 | (cin ? CF : 0));
              expect(exec(m, code)).toBe(RunStatus.BUDGET);
              const e = ref(op, a, b, cin, bits);
              const undef = undefinedFlags(code) | (op === 'and' || op === 'or' || op === 'xor' || op === 'test' ? AF : 0);
              const label = `${op}${bits} ${form} a=${a.toString(16)} b=${b.toString(16)} cf=${cin}`;
              if (dstIsMem) {
                expect(peek(m, DATA, bits / 8), label).toBe(e.res);
                expect(peek(m, DATA + bits / 8, 1), label).toBe(0x5an);
              } else {
                expect(m.reg(dstReg), label).toBe(e.store ? merged(before, e.res, bits) : before);
              }
              expect((m.flags() & OSZAPC & ~undef).toString(16), label).toBe((e.flags & ~undef).toString(16));
              checked++;
            }
          }
        }
        expect(checked).toBeGreaterThan(100);
      });
    }
  }
});

describe('alu register encodings', () => {
  it('uses AH..BH without REX and SPL..R15B with REX for 8-bit operands', () => {
    const m = machine();
    m.setReg(RAX, 0x1234n); m.setReg(RBX, 0xff00n);
    expect(exec(m, [0x00, 0xfc])).toBe(RunStatus.BUDGET); // add ah, bh
    expect(m.reg(RAX)).toBe(0x1134n);
    m.setReg(6, 0x10n); m.setReg(9, 0x0102n);
    expect(exec(m, [0x44, 0x00, 0xce])).toBe(RunStatus.BUDGET); // add sil, r9b
    expect(m.reg(6)).toBe(0x12n);
  });

  it('xor eax, eax zeroes all 64 bits and sets ZF PF', () => {
    const m = machine();
    m.setReg(RAX, -1n);
    expect(exec(m, [0x31, 0xc0])).toBe(RunStatus.BUDGET);
    expect(m.reg(RAX)).toBe(0n);
    expect(m.flags() & (OSZAPC & ~AF)).toBe(ZF | 0x4);
  });

  it('cmp with a 32-bit register destination does not zero the upper half', () => {
    const m = machine();
    m.setReg(RAX, 0xdeadbeef00000005n); m.setReg(RCX, 5n);
    expect(exec(m, [0x39, 0xc8])).toBe(RunStatus.BUDGET); // cmp eax, ecx
    expect(m.reg(RAX)).toBe(0xdeadbeef00000005n);
    expect(m.flags() & ZF).toBe(ZF);
  });

  it('accepts LOCK on memory destinations', () => {
    const m = machine();
    m.setReg(RBX, BigInt(DATA)); poke(m, DATA, 8, 41n); m.setReg(RCX, 1n);
    expect(exec(m, [0xf0, 0x48, 0x01, 0x0b])).toBe(RunStatus.BUDGET); // lock add [rbx], rcx
    expect(peek(m, DATA, 8)).toBe(42n);
  });

  it('sign-extends imm8 and imm32 to 64 bits', () => {
    const m = machine();
    m.setReg(RAX, 5n);
    expect(exec(m, [0x48, 0x83, 0xc0, 0xfe])).toBe(RunStatus.BUDGET); // add rax, -2
    expect(m.reg(RAX)).toBe(3n);
    expect(exec(m, [0x48, 0x05, 0x00, 0x00, 0x00, 0x80])).toBe(RunStatus.BUDGET); // add rax, -0x80000000
    expect(m.reg(RAX)).toBe(u(3n - 0x80000000n, 64));
  });

  it('ADC/SBB chains propagate the carry across 64-bit limbs', () => {
    const m = machine();
    m.setReg(RAX, -1n); m.setReg(RBX, 1n); m.setReg(RCX, 0n); m.setReg(RDX, 0n);
    // add rax, rbx ; adc rcx, rdx
    expect(exec(m, [0x48, 0x01, 0xd8, 0x48, 0x11, 0xd1], 2)).toBe(RunStatus.BUDGET);
    expect(m.reg(RAX)).toBe(0n);
    expect(m.reg(RCX)).toBe(1n);
    // sub rax, rbx ; sbb rcx, rdx  (0:1 - 1 = ffff..:0)
    expect(exec(m, [0x48, 0x29, 0xd8, 0x48, 0x19, 0xd1], 2)).toBe(RunStatus.BUDGET);
    expect(m.reg(RAX)).toBe(u(-1n, 64));
    expect(m.reg(RCX)).toBe(0n);
  });
});

describe('alu unary operations', () => {
  const UN = { not: 2, neg: 3 } as const;
  for (const bits of [8, 16, 32, 64]) {
    it(`NEG NOT INC DEC ${bits}-bit on a register and on memory`, () => {
      const m = machine();
      const p = pfx(bits), w = bits === 8 ? 0 : 1;
      for (const a of values(10, bits)) {
        for (const [name, enc] of [['not', [0xf6 + w, UN.not << 3]], ['neg', [0xf6 + w, UN.neg << 3]], ['inc', [0xfe + w, 0 << 3]], ['dec', [0xfe + w, 1 << 3]]] as const) {
          for (const mem of [false, true]) {
            for (const cin of [0n, 1n]) {
              const code = [...p, enc[0], enc[1] | (mem ? RBX : 0xc0 | RBX)];
              const junk = 0x8877665544332211n;
              if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, a); } else m.setReg(RBX, merged(junk, a, bits));
              const before = m.reg(RBX);
              m.setFlags(0x202 | (cin ? CF : 0) | 0x8d4);
              expect(exec(m, code)).toBe(RunStatus.BUDGET);
              let res: bigint, flags: number;
              switch (name) {
                case 'not': res = u(~a, bits); flags = 0x8d4 | Number(cin); break;
                case 'neg': res = u(-a, bits); flags = subFlags(0n, a, 0n, bits); break;
                case 'inc': res = u(a + 1n, bits); flags = (addFlags(a, 1n, 0n, bits) & ~CF) | Number(cin); break;
                default: res = u(a - 1n, bits); flags = (subFlags(a, 1n, 0n, bits) & ~CF) | Number(cin); break;
              }
              const label = `${name}${bits} mem=${mem} a=${a.toString(16)} cf=${cin}`;
              if (mem) expect(peek(m, DATA, bits / 8), label).toBe(res);
              else expect(m.reg(RBX), label).toBe(merged(before, res, bits));
              expect((m.flags() & OSZAPC).toString(16), label).toBe(flags.toString(16));
            }
          }
        }
      }
    });
  }

  it('INC preserves a CF that is still lazy from a previous ADD', () => {
    const m = machine();
    m.setReg(RAX, -1n); m.setReg(RBX, 1n); m.setReg(RCX, 7n);
    expect(exec(m, [0x48, 0x01, 0xd8, 0xff, 0xc1], 2)).toBe(RunStatus.BUDGET); // add rax, rbx ; inc ecx
    expect(m.reg(RCX)).toBe(8n);
    expect(m.flags() & (CF | ZF)).toBe(CF);
    expect(exec(m, [0x48, 0x01, 0xd8, 0xff, 0xc9, 0xff, 0xc9], 3)).toBe(RunStatus.BUDGET); // add (no carry); dec; dec
    expect(m.flags() & CF).toBe(0);
  });
});

describe('alu precise faults', () => {
  it('a faulting write leaves memory and flags (including CF for ADC) untouched', () => {
    const m = new BareMachine({ memory: 8 * 1024 * 1024 });
    // make the 2-MiB page at 4 MiB read-only
    const pd = 8 * 1024 * 1024 - 0x4000 + 0x2000;
    m.mem.dv.setUint32(pd + 2 * 8, ((2 << 21) | 0xe5) >>> 0, true);
    m.cpu.flushTlb();
    const addr = 0x400010;
    poke(m, addr, 4, 0xfffffffen);
    m.setReg(RBX, BigInt(addr)); m.setReg(RCX, 1n); m.setReg(RAX, 0xffffffffn);
    // add eax, 1 (lazy ADD with CF=1) ; adc [rbx], ecx (faults on the write)
    m.load(0x1000, new Uint8Array([0x83, 0xc0, 0x01, 0x11, 0x0b]));
    m.setRip(0x1000);
    expect(m.cpu.run(2)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.rip()).toBe(0x1003n);
    expect(peek(m, addr, 4)).toBe(0xfffffffen);
    expect(m.flags() & OSZAPC).toBe(addFlags(0xffffffffn, 1n, 0n, 32));
  });
});

describe('alu table coverage', () => {
  it('implements every 64-bit-mode form of the family', () => {
    const names = Object.keys(Code).filter((k) => /^(Add|Adc|Sub|Sbb|And|Or|Xor|Cmp|Test|Neg|Not|Inc|Dec)_(rm|r|AL|AX|EAX|RAX)/.test(k))
      .filter((k) => !/_82$/.test(k) && !/^(Inc|Dec)_r(16|32)$/.test(k));
    const missing = names.filter((k) => specOf((Code as unknown as Record<string, number>)[k]!) === undefined);
    expect(missing).toEqual([]);
    expect(names.length).toBeGreaterThan(150);
    expect(codeName([0xf6, 0xc8, 0x01])).toBe(Code.Test_rm8_imm8_F6r1);
  });
});
