import { Code } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../src/cpu/cpu.js';
import { specOf } from '../../src/cpu/table.js';
import { AF, CF, DATA, exec, machine, OF, OSZAPC, peek, poke, RBX, RCX, RDX, szp, u, values } from './alu-harness.js';

type Kind = 'rol' | 'ror' | 'rcl' | 'rcr' | 'shl' | 'shr' | 'sal' | 'sar';
const KINDS: Kind[] = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

/** The SDM pseudo-code, literally (bit by bit). Returns result, flags and which flags are undefined. */
function ref(kind: Kind, v0: bigint, count: number, cf0: number, flags0: number, bits: number) {
  const B = BigInt(bits), msb = (x: bigint): number => Number((x >> (B - 1n)) & 1n);
  const masked = count & (bits === 64 ? 0x3f : 0x1f);
  let dest = u(v0, bits), cf = cf0;
  let undef = 0;
  if (masked === 0) return { res: dest, flags: flags0 & OSZAPC, undef: 0 };
  switch (kind) {
    case 'rol': case 'ror': {
      let t = masked % bits;
      while (t--) {
        if (kind === 'rol') { const top = msb(dest); dest = u(dest * 2n + BigInt(top), bits); } else {
          const low = Number(dest & 1n); dest = (dest >> 1n) | (BigInt(low) << (B - 1n));
        }
      }
      cf = kind === 'rol' ? Number(dest & 1n) : msb(dest);
      const of = kind === 'rol' ? msb(dest) ^ cf : msb(dest) ^ Number((dest >> (B - 2n)) & 1n);
      if (masked !== 1) undef |= OF;
      return { res: dest, flags: (flags0 & OSZAPC & ~(CF | OF)) | cf | (of ? OF : 0), undef };
    }
    case 'rcl': case 'rcr': {
      let t = bits === 8 ? masked % 9 : bits === 16 ? masked % 17 : masked;
      const ofPre = msb(dest) ^ cf; // RCR: OF computed before rotating
      while (t--) {
        if (kind === 'rcl') { const top = msb(dest); dest = u(dest * 2n + BigInt(cf), bits); cf = top; } else {
          const low = Number(dest & 1n); dest = (dest >> 1n) | (BigInt(cf) << (B - 1n)); cf = low;
        }
      }
      const of = kind === 'rcl' ? msb(dest) ^ cf : ofPre;
      if (masked !== 1) undef |= OF;
      return { res: dest, flags: (flags0 & OSZAPC & ~(CF | OF)) | cf | (of ? OF : 0), undef };
    }
    default: {
      let t = masked;
      const orig = dest;
      while (t--) {
        if (kind === 'shl' || kind === 'sal') { cf = msb(dest); dest = u(dest * 2n, bits); } else if (kind === 'shr') {
          cf = Number(dest & 1n); dest >>= 1n;
        } else { cf = Number(dest & 1n); dest = u(BigInt.asIntN(bits, dest) >> 1n, bits); }
      }
      const of = kind === 'shl' || kind === 'sal' ? msb(dest) ^ cf : kind === 'shr' ? msb(orig) : 0;
      undef |= AF;
      if (masked !== 1) undef |= OF;
      if ((kind === 'shl' || kind === 'sal' || kind === 'shr') && masked >= bits) undef |= CF;
      return { res: dest, flags: szp(dest, bits) | cf | (of ? OF : 0), undef };
    }
  }
}

const pfx = (bits: number): number[] => (bits === 16 ? [0x66] : bits === 64 ? [0x48] : []);
const COUNTS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255];

function merged(old: bigint, v: bigint, bits: number): bigint {
  if (bits >= 32) return u(v, bits);
  return (old & ~((1n << BigInt(bits)) - 1n)) | u(v, bits);
}

describe('shifts and rotates', () => {
  for (const kind of KINDS) {
    for (const bits of [8, 16, 32, 64]) {
      it(`${kind} ${bits}-bit by 1, CL and imm8, register and memory`, () => {
        const m = machine();
        const k = KINDS.indexOf(kind), w = bits === 8 ? 0 : 1;
        for (const v of values(6, bits * 11 + k)) {
          for (const count of COUNTS) {
            for (const form of ['1', 'cl', 'imm'] as const) {
              if (form === '1' && count !== 1) continue;
              for (const mem of [false, true]) {
                for (const cf0 of [0, 1]) {
                  const modrm = (k << 3) | (mem ? RBX : 0xc0 | RBX);
                  const code = form === '1' ? [...pfx(bits), 0xd0 + w, modrm]
                    : form === 'cl' ? [...pfx(bits), 0xd2 + w, modrm] : [...pfx(bits), 0xc0 + w, modrm, count];
                  const junk = 0x0123456789abcdefn;
                  if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, v); } else m.setReg(RBX, merged(junk, v, bits));
                  m.setReg(RCX, 0xff00n | BigInt(count));
                  const before = m.reg(RBX);
                  const flags0 = 0x202 | cf0 | 0x0c4; // ZF PF SF set, OF clear
                  m.setFlags(flags0);
                  expect(exec(m, code)).toBe(RunStatus.BUDGET);
                  const e = ref(kind, v, count, cf0, flags0, bits);
                  const label = `${kind}${bits} ${form} v=${v.toString(16)} n=${count} cf=${cf0} mem=${mem}`;
                  if (mem) expect(peek(m, DATA, bits / 8), label).toBe(e.res);
                  else expect(m.reg(RBX), label).toBe(merged(before, e.res, bits));
                  expect((m.flags() & OSZAPC & ~e.undef).toString(16), label).toBe((e.flags & ~e.undef).toString(16));
                }
              }
            }
          }
        }
      });
    }
  }
});

/** SHLD/SHRD per the SDM: result and flags; undefined parts reported in `undef` (res undefined -> null). */
function refDouble(left: boolean, d0: bigint, s0: bigint, count: number, flags0: number, bits: number) {
  const B = BigInt(bits), n = count & (bits === 64 ? 0x3f : 0x1f);
  const d = u(d0, bits), sv = u(s0, bits);
  if (n === 0) return { res: d, flags: flags0 & OSZAPC, undef: 0 };
  if (n > bits) return { res: null, flags: 0, undef: OSZAPC };
  const N = BigInt(n);
  const res = left ? u((d << N) | (sv >> (B - N)), bits) : u((d >> N) | (sv << (B - N)), bits);
  const cf = Number(left ? (d >> (B - N)) & 1n : (d >> (N - 1n)) & 1n);
  const of = Number(((res ^ d) >> (B - 1n)) & 1n);
  return { res, flags: szp(res, bits) | cf | (of ? OF : 0), undef: AF | (n !== 1 ? OF : 0) };
}

describe('SHLD / SHRD', () => {
  for (const left of [true, false]) {
    for (const bits of [16, 32, 64]) {
      it(`${left ? 'shld' : 'shrd'} ${bits}-bit, imm8 and CL, register and memory`, () => {
        const m = machine();
        const vals = [...values(5, bits + (left ? 1 : 2))];
        for (let i = 0; i < vals.length; i++) {
          const dv = vals[i]!, sv = vals[(i * 5 + 1) % vals.length]!;
          for (const count of COUNTS) {
            for (const cl of [false, true]) {
              for (const mem of [false, true]) {
                const op = (left ? 0xa4 : 0xac) + (cl ? 1 : 0);
                const modrm = (RDX << 3) | (mem ? RBX : 0xc0 | RBX);
                const code = [...pfx(bits), 0x0f, op, modrm, ...(cl ? [] : [count])];
                const junk = 0xfedcba9876543210n;
                if (mem) { m.setReg(RBX, BigInt(DATA)); poke(m, DATA, bits / 8, dv); } else m.setReg(RBX, merged(junk, dv, bits));
                m.setReg(RDX, merged(junk, sv, bits));
                m.setReg(RCX, BigInt(count));
                const before = m.reg(RBX);
                const flags0 = 0x202 | 0x8d5;
                m.setFlags(flags0);
                expect(exec(m, code)).toBe(RunStatus.BUDGET);
                const e = refDouble(left, dv, sv, count, flags0, bits);
                const label = `${left ? 'shld' : 'shrd'}${bits} v=${dv.toString(16)} s=${sv.toString(16)} n=${count} cl=${cl} mem=${mem}`;
                if (e.res !== null) {
                  if (mem) expect(peek(m, DATA, bits / 8), label).toBe(e.res);
                  else expect(m.reg(RBX), label).toBe(merged(before, e.res, bits));
                }
                expect((m.flags() & OSZAPC & ~e.undef).toString(16), label).toBe((e.flags & ~e.undef).toString(16));
              }
            }
          }
        }
      });
    }
  }
});

describe('shift table coverage', () => {
  it('implements every shift and rotate form', () => {
    const names = Object.keys(Code).filter((k) => /^(Shl|Sal|Shr|Sar|Rol|Ror|Rcl|Rcr|Shld|Shrd)_rm/.test(k));
    const missing = names.filter((k) => specOf((Code as unknown as Record<string, number>)[k]!) === undefined);
    expect(missing).toEqual([]);
    expect(names.length).toBe(108);
  });
});
