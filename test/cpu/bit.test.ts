import { Code } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import { specOf } from '../../src/cpu/table.js';
import {
  CF, codeName, DATA, exec, machine, OF, OSZAPC, peek, PF, poke, RAX, RBX, RCX, RDX, SF, u, undefinedFlags, values, ZF,
} from './alu-harness.js';

const pfx = (bits: number): number[] => (bits === 16 ? [0x66] : bits === 64 ? [0x48] : []);
function merged(old: bigint, v: bigint, bits: number): bigint {
  if (bits >= 32) return u(v, bits);
  return (old & ~((1n << BigInt(bits)) - 1n)) | u(v, bits);
}
const KINDS = ['bt', 'bts', 'btr', 'btc'] as const;
const REG_OP = { bt: 0xa3, bts: 0xab, btr: 0xb3, btc: 0xbb };
const apply = (kind: (typeof KINDS)[number], v: bigint, b: bigint): bigint =>
  kind === 'bts' ? v | (1n << b) : kind === 'btr' ? v & ~(1n << b) : kind === 'btc' ? v ^ (1n << b) : v;

describe('BT BTS BTR BTC', () => {
  for (const kind of KINDS) {
    for (const bits of [16, 32, 64]) {
      it(`${kind} ${bits}-bit: register/imm offsets on registers and memory`, () => {
        const m = machine();
        const k = KINDS.indexOf(kind);
        for (const v of values(6, bits + k)) {
          for (const off of [0n, 1n, 5n, BigInt(bits - 1), BigInt(bits), BigInt(bits + 3), 200n]) {
            for (const form of ['r,r', 'r,imm', 'mem,imm'] as const) {
              for (const zf of [0, ZF]) {
                const junk = 0x0f0f0f0f0f0f0f0fn;
                const code = form === 'r,r' ? [...pfx(bits), 0x0f, REG_OP[kind], 0xc0 | (RCX << 3) | RBX]
                  : [...pfx(bits), 0x0f, 0xba, ((4 + k) << 3) | (form === 'mem,imm' ? RBX : 0xc0 | RBX), Number(off & 0xffn)];
                if (form === 'mem,imm') { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, v); } else m.setReg(RBX, merged(junk, v, bits));
                m.setReg(RCX, merged(junk, off, bits));
                const before = m.reg(RBX);
                m.setFlags(0x202 | zf | CF);
                expect(exec(m, code)).toBe(RunStatus.BUDGET);
                const b = off % BigInt(bits), vv = u(v, bits);
                const res = apply(kind, vv, b), cf = Number((vv >> b) & 1n);
                const label = `${kind}${bits} ${form} v=${vv.toString(16)} off=${off}`;
                if (form === 'mem,imm') expect(peek(m, DATA, bits / 8), label).toBe(res);
                else expect(m.reg(RBX), label).toBe(kind === 'bt' ? before : merged(before, res, bits));
                const undef = undefinedFlags(code);
                expect(m.flags() & (CF | ZF) & ~undef, label).toBe(cf | zf);
              }
            }
          }
        }
      });

      it(`${kind} ${bits}-bit: memory with a signed register offset beyond the operand`, () => {
        const m = machine();
        const base = DATA + 0x1000;
        for (const off of [0n, 3n, -1n, -17n, -200n, BigInt(bits), 100n, 1000n, -1000n]) {
          if (bits === 16 && (off > 0x7fffn || off < -0x8000n)) continue;
          const pattern = Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff);
          m.load(base - 256, new Uint8Array(pattern));
          m.setReg(RBX, BigInt(base)); m.setReg(RCX, u(off, bits));
          m.setFlags(0x202);
          const code = [...pfx(bits), 0x0f, REG_OP[kind], (RCX << 3) | RBX];
          expect(exec(m, code)).toBe(RunStatus.BUDGET);
          // the bit at absolute bit address base*8 + off
          const abs = BigInt(base) * 8n + off, byteAt = Number(abs >> 3n), bitIn = abs & 7n;
          const old = BigInt(pattern[byteAt - (base - 256)]!);
          const label = `${kind}${bits} off=${off}`;
          expect(peek(m, byteAt, 1), label).toBe(apply(kind, old, bitIn));
          expect(m.flags() & CF, label).toBe(Number((old >> bitIn) & 1n));
          // nothing else changed
          for (let i = 0; i < 512; i++) if (base - 256 + i !== byteAt) expect(m.mem.bytes[base - 256 + i], label).toBe(pattern[i]);
        }
      });
    }
  }
});

describe('BSF BSR and the TZCNT/LZCNT encodings', () => {
  const ref = (reverse: boolean, v: bigint, bits: number): bigint | null => {
    if (v === 0n) return null;
    for (let i = 0; i < bits; i++) {
      const b = reverse ? bits - 1 - i : i;
      if ((v >> BigInt(b)) & 1n) return BigInt(b);
    }
    return null;
  };
  for (const [name, f3, op, reverse] of [['bsf', false, 0xbc, false], ['bsr', false, 0xbd, true], ['tzcnt', true, 0xbc, false], ['lzcnt', true, 0xbd, true]] as const) {
    for (const bits of [16, 32, 64]) {
      it(`${name} ${bits}-bit${f3 ? ' (executes as ' + (reverse ? 'BSR' : 'BSF') + ': no BMI1/LZCNT in CPUID)' : ''}`, () => {
        const m = machine();
        for (const v of [0n, ...values(10, bits)]) {
          for (const mem of [false, true]) {
            const p = bits === 16 ? [0x66] : [];
            const code = [...p, ...(f3 ? [0xf3] : []), ...(bits === 64 ? [0x48] : []), 0x0f, op, (RCX << 3) | (mem ? RBX : 0xc0 | RBX)];
            if (f3) expect(Code[codeName(code)]).toMatch(reverse ? /^Lzcnt/ : /^Tzcnt/);
            const junk = 0xdeadbeefcafebaben;
            m.setReg(RCX, junk);
            if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, v); } else m.setReg(RBX, merged(junk, v, bits));
            const src = u(v, bits);
            m.setFlags(0x202);
            expect(exec(m, code)).toBe(RunStatus.BUDGET);
            const e = ref(reverse, src, bits);
            const label = `${name}${bits} v=${src.toString(16)} mem=${mem}`;
            expect(m.reg(RCX), label).toBe(e === null ? junk : merged(junk, e, bits));
            expect(m.flags() & ZF, label).toBe(e === null ? ZF : 0);
          }
        }
      });
    }
  }
});

describe('POPCNT', () => {
  for (const bits of [16, 32, 64]) {
    it(`popcnt ${bits}-bit`, () => {
      const m = machine();
      for (const v of [0n, ...values(12, bits)]) {
        const code = [...(bits === 16 ? [0x66] : []), 0xf3, ...(bits === 64 ? [0x48] : []), 0x0f, 0xb8, 0xc0 | (RCX << 3) | RBX];
        m.setReg(RBX, v); m.setReg(RCX, -1n);
        m.setFlags(0x202 | OSZAPC);
        expect(exec(m, code)).toBe(RunStatus.BUDGET);
        const n = BigInt([...u(v, bits).toString(2)].filter((ch) => ch === '1').length);
        expect(m.reg(RCX)).toBe(merged(u(-1n, 64), n, bits));
        expect(m.flags() & OSZAPC).toBe(n === 0n ? ZF : 0);
      }
    });
  }
});

describe('BSWAP', () => {
  it('swaps 32 and 64-bit registers; 16-bit clears the low word as hardware does', () => {
    const m = machine();
    m.setReg(RAX, 0x1122334455667788n);
    expect(exec(m, [0x0f, 0xc8])).toBe(RunStatus.BUDGET);
    expect(m.reg(RAX)).toBe(0x88776655n);
    m.setReg(9, 0x1122334455667788n);
    expect(exec(m, [0x49, 0x0f, 0xc9])).toBe(RunStatus.BUDGET);
    expect(m.reg(9)).toBe(0x8877665544332211n);
    m.setReg(RDX, 0x1122334455667788n);
    expect(exec(m, [0x66, 0x0f, 0xca])).toBe(RunStatus.BUDGET);
    expect(m.reg(RDX)).toBe(0x1122334455660000n);
  });
});

/** Condition codes per the SDM, from the flag bits. */
function cond(cc: number, f: number): boolean {
  const has = (b: number): boolean => (f & b) !== 0;
  const base = [has(OF), has(CF), has(ZF), has(CF) || has(ZF), has(SF), has(PF), has(SF) !== has(OF), has(ZF) || has(SF) !== has(OF)][cc >> 1]!;
  return cc & 1 ? !base : base;
}

describe('SETcc and CMOVcc', () => {
  const flagSets = [0, CF, ZF, SF, OF, PF, CF | ZF, SF | OF, ZF | SF, OF | CF | PF, OSZAPC];
  it('SETcc: all 16 conditions, register (incl. AH) and memory', () => {
    const m = machine();
    for (let cc = 0; cc < 16; cc++) {
      for (const f of flagSets) {
        m.setReg(RAX, 0x1111111111111111n);
        m.setFlags(0x202 | f);
        expect(exec(m, [0x0f, 0x90 + cc, 0xc4])).toBe(RunStatus.BUDGET); // setcc ah
        const v = cond(cc, f) ? 1n : 0n;
        expect(m.reg(RAX), `cc=${cc} f=${f.toString(16)}`).toBe(0x1111111111110011n | (v << 8n));
        m.setReg(RBX, BigInt(DATA)); poke(m, DATA, 2, 0x5555n);
        expect(exec(m, [0x0f, 0x90 + cc, 0x03])).toBe(RunStatus.BUDGET); // setcc [rbx]
        expect(peek(m, DATA, 2)).toBe(0x5500n | v);
        expect(m.flags() & OSZAPC).toBe(f);
      }
    }
  });

  it('SETcc reads flags left lazy by a previous CMP', () => {
    const m = machine();
    const cases: [bigint, bigint][] = [[1n, 2n], [2n, 1n], [5n, 5n], [-1n, 1n], [0x80000000n, 1n]];
    for (const [a, b] of cases) {
      for (let cc = 0; cc < 16; cc++) {
        m.setReg(RAX, a); m.setReg(RCX, b);
        expect(exec(m, [0x39, 0xc8, 0x0f, 0x90 + cc, 0xc2], 2)).toBe(RunStatus.BUDGET); // cmp eax, ecx ; setcc dl
        // reference flags of the 32-bit compare
        const x = u(a, 32), y = u(b, 32), r = u(x - y, 32);
        let f = 0;
        if (x < y) f |= CF;
        if (r === 0n) f |= ZF;
        if (r >> 31n) f |= SF;
        if (((x ^ y) & (x ^ r)) >> 31n) f |= OF;
        let par = 0; for (let t = Number(r & 0xffn); t; t >>= 1) par ^= t & 1;
        if (!par) f |= PF;
        expect(m.reg(RDX) & 0xffn, `cmp ${a} ${b} cc=${cc}`).toBe(cond(cc, f) ? 1n : 0n);
      }
    }
  });

  for (const bits of [16, 32, 64]) {
    it(`CMOVcc ${bits}-bit: all conditions, register and memory sources`, () => {
      const m = machine();
      for (let cc = 0; cc < 16; cc++) {
        for (const f of flagSets) {
          for (const mem of [false, true]) {
            const dst = 0xaaaaaaaaaaaaaaaan, src = 0x1234567890abcdefn;
            m.setReg(RCX, dst);
            if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, 8, src); } else m.setReg(RBX, src);
            m.setFlags(0x202 | f);
            expect(exec(m, [...pfx(bits), 0x0f, 0x40 + cc, (RCX << 3) | (mem ? RBX : 0xc0 | RBX)])).toBe(RunStatus.BUDGET);
            const take = cond(cc, f);
            const exp = take ? merged(dst, src, bits) : bits === 32 ? u(dst, 32) : dst;
            expect(m.reg(RCX), `cmov${bits} cc=${cc} f=${f.toString(16)} mem=${mem}`).toBe(exp);
          }
        }
      }
    });
  }

  it('CMOVcc with a false condition still faults on an unmapped memory source', () => {
    const m = machine();
    m.setReg(RBX, 0x7f0000000000n); m.setReg(RCX, 7n);
    m.setFlags(0x202); // ZF clear: cmove is false
    expect(exec(m, [0x48, 0x0f, 0x44, 0x0b])).toBe(RunStatus.EXIT); // cmove rcx, [rbx]
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.reg(RCX)).toBe(7n);
  });
});

describe('bit table coverage', () => {
  it('implements every form of the family', () => {
    const names = Object.keys(Code).filter((k) =>
      /^(Bt|Bts|Btr|Btc|Bsf|Bsr|Tzcnt|Lzcnt|Popcnt|Bswap)_r/.test(k) || /^Set[a-z]+_rm8$/.test(k) || /^Cmov[a-z]+_r(16|32|64)_rm/.test(k));
    const missing = names.filter((k) => specOf((Code as unknown as Record<string, number>)[k]!) === undefined);
    expect(missing).toEqual([]);
    expect(names.length).toBe(24 + 12 + 3 + 3 + 16 + 48);
  });
});

