import { describe, expect, it } from 'vitest';
import { flagsOf } from '../../src/cpu/flags.js';
import { Off } from '../../src/cpu/state.js';
import {
  C0, C1, C2, C3, DE, exec, extOf, IE, machine, mem, OE, PE, peek, peekU64, poke, pokeF64, pokeF80, pokeU64,
  ratOf, refRound, run, UE, SF, st, sw, tags, top, ZE,
} from './x87-helpers.js';

const FLD1 = [0xd9, 0xe8], FLDZ = [0xd9, 0xee], FLDPI = [0xd9, 0xeb];
const FLD_M64 = (d: number): number[] => [0xdd, ...mem(0, d)];
const FLD_M32 = (d: number): number[] => [0xd9, ...mem(0, d)];
const FLD_M80 = (d: number): number[] => [0xdb, ...mem(5, d)];
const FSTP_M80 = (d: number): number[] => [0xdb, ...mem(7, d)];
const FILD_M32 = (d: number): number[] => [0xdb, ...mem(0, d)];
const FILD_M64 = (d: number): number[] => [0xdf, ...mem(5, d)];
const FLDCW = (d: number): number[] => [0xd9, ...mem(5, d)];
const FNSTSW_AX = [0xdf, 0xe0];

describe('x87 loads, stores and conversions', () => {
  it('FLD m64 0.1 then FSTP m80 stores the exact extended value', () => {
    const m = machine();
    pokeF64(m, 0, 0.1);
    run(m, [FLD_M64(0), FSTP_M80(0x10)]);
    const want = extOf(0.1); // exact: 0.1 as double widened
    expect(want.se).toBe(0x3ffb);
    expect(want.m).toBe(0xccccccccccccd000n);
    expect(peekU64(m, 0x10)).toBe(want.m);
    expect(peek(m, 0x18, 2)).toEqual([want.se & 0xff, want.se >> 8]);
    expect(top(m)).toBe(0);
    expect(tags(m)).toBe(0xffff);
  });

  it('FILD m64 INT64_MIN is -2^63 exactly', () => {
    const m = machine();
    pokeU64(m, 0, 0x8000000000000000n);
    run(m, [FILD_M64(0)]);
    expect(st(m, 0)).toEqual({ se: 0x8000 | (16383 + 63), m: 1n << 63n });
    expect(sw(m) & 0x3f).toBe(0);
  });

  it('FLD m32 denormal sets DE and normalises', () => {
    const m = machine();
    poke(m, 0, [1, 0, 0, 0]); // 2^-149
    run(m, [FLD_M32(0)]);
    expect(st(m, 0)).toEqual({ se: 16383 - 149, m: 1n << 63n });
    expect(sw(m) & DE).toBe(DE);
  });

  it('FLD m64 SNaN raises IE and loads the quieted NaN', () => {
    const m = machine();
    pokeU64(m, 0, 0x7ff0000000000001n);
    run(m, [FLD_M64(0)]);
    expect(st(m, 0)).toEqual({ se: 0x7fff, m: 0xc000000000000800n });
    expect(sw(m) & IE).toBe(IE);
  });

  it('FST m32 rounds by RC and overflows to infinity or the largest float', () => {
    for (const [rc, want] of [[0, 0x7f800000], [1, 0x7f7fffff], [2, 0x7f800000], [3, 0x7f7fffff]] as const) {
      const m = machine();
      pokeF64(m, 0, 1e300);
      poke(m, 0x20, [0x7f, 0x03 | (rc << 2)]);
      run(m, [FLDCW(0x20), FLD_M64(0), [0xd9, ...mem(3, 8)]]);
      expect(peek(m, 8, 4).reduceRight((a, b) => a * 256 + b, 0)).toBe(want);
      expect(sw(m) & (OE | PE)).toBe(OE | PE);
      expect(!!(sw(m) & C1)).toBe(want === 0x7f800000);
    }
  });

  it('FST m64 of pi rounds to nearest', () => {
    const m = machine();
    run(m, [FLDPI, [0xdd, ...mem(2, 0)]]);
    const dv = new DataView(new Uint8Array(peek(m, 0, 8)).buffer);
    expect(dv.getFloat64(0, true)).toBe(Math.PI);
    expect(sw(m) & PE).toBe(PE);
  });

  it('FISTP m32 under each rounding mode', () => {
    const values = [2.5, -2.5, 1.5, -0.5, 3.7, -3.7, 0.2];
    for (let rc = 0; rc < 4; rc++) {
      for (const v of values) {
        const m = machine();
        pokeF64(m, 0, v);
        poke(m, 0x20, [0x7f, 0x03 | (rc << 2)]);
        run(m, [FLDCW(0x20), FLD_M64(0), [0xdb, ...mem(3, 8)]]);
        // reference: SDM rounding of the exact value
        const fl = Math.floor(v), frac = v - fl;
        let want: number;
        if (rc === 0) want = frac > 0.5 ? fl + 1 : frac < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
        else if (rc === 1) want = fl;
        else if (rc === 2) want = Math.ceil(v);
        else want = Math.trunc(v);
        want += 0; // -0 stores as integer 0
        const got = peek(m, 8, 4).reduceRight((a, b) => a * 256 + b, 0) | 0;
        expect(got, `rc=${rc} v=${v}`).toBe(want);
        expect(sw(m) & PE).toBe(PE);
        expect(!!(sw(m) & C1), `C1 rc=${rc} v=${v}`).toBe(Math.abs(want) > Math.abs(v));
        expect(top(m)).toBe(0);
      }
    }
  });

  it('FISTP out of range or NaN stores the integer indefinite with IE', () => {
    const m = machine();
    pokeF64(m, 0, 3e9);
    pokeU64(m, 0x30, 0x7ff8000000000000n);
    run(m, [FLD_M64(0), [0xdb, ...mem(3, 8)], FLD_M64(0x30), [0xdf, ...mem(7, 0x10)], FLD_M64(0), [0xdf, ...mem(3, 0x18)]]);
    expect(peek(m, 8, 4)).toEqual([0, 0, 0, 0x80]);
    expect(peekU64(m, 0x10)).toBe(0x8000000000000000n);
    expect(peek(m, 0x18, 2)).toEqual([0, 0x80]);
    expect(sw(m) & IE).toBe(IE);
  });

  it('FISTTP truncates regardless of RC', () => {
    const m = machine();
    pokeF64(m, 0, -2.7);
    run(m, [FLD_M64(0), [0xdd, ...mem(1, 8)]]);
    expect(peekU64(m, 8)).toBe(BigInt.asUintN(64, -2n));
  });

  it('FBSTP and FBLD round-trip packed BCD', () => {
    const m = machine();
    pokeF64(m, 0, -1234567.5);
    run(m, [FLD_M64(0), [0xdf, ...mem(6, 0x10)], [0xdf, ...mem(4, 0x10)]]);
    // round to nearest even: -1234568
    expect(peek(m, 0x10, 10)).toEqual([0x68, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0, 0x80]);
    const want = refRound(1234568n, 1n, 64, 0, true);
    expect(st(m, 0)).toEqual({ se: want.se, m: want.m });
  });
});

describe('x87 arithmetic', () => {
  it('1/3 is correctly rounded at PC = 64, 53 and 24 bits', () => {
    for (const [pc, p] of [[3, 64], [2, 53], [0, 24]] as const) {
      const m = machine();
      poke(m, 0x20, [0x7f, pc]);
      poke(m, 0, [3, 0, 0, 0]);
      run(m, [FLDCW(0x20), FLD1, [0xda, ...mem(6, 0)]]); // FIDIV m32int
      const want = refRound(1n, 3n, p);
      expect(st(m, 0), `p=${p}`).toEqual({ se: want.se, m: want.m });
      expect(sw(m) & PE).toBe(PE);
      expect(!!(sw(m) & C1)).toBe(want.up);
    }
  });

  it('register forms follow Intel operand order (FSUB/FSUBR/FDIV/FDIVR, popping)', () => {
    const m = machine();
    pokeF64(m, 0, 8); pokeF64(m, 8, 2);
    // ST0 = 2, ST1 = 8
    run(m, [FLD_M64(0), FLD_M64(8), [0xdc, 0xe9]]); // FSUB ST(1), ST(0): ST1 = 8 - 2
    expect(st(m, 1)).toEqual(extOf(6));
    run(m, [[0xdc, 0xe1]]); // FSUBR ST(1), ST(0): ST1 = 2 - 6
    expect(st(m, 1)).toEqual(extOf(-4));
    run(m, [[0xd8, 0xf1]]); // FDIV ST(0), ST(1): ST0 = 2 / -4
    expect(st(m, 0)).toEqual(extOf(-0.5));
    run(m, [[0xd8, 0xf9]]); // FDIVR ST(0), ST(1): ST0 = -4 / -0.5
    expect(st(m, 0)).toEqual(extOf(8));
    run(m, [[0xde, 0xf9]]); // FDIVP ST(1), ST(0): ST1 = -4 / 8, pop
    expect(top(m)).toBe(7);
    expect(st(m, 0)).toEqual(extOf(-0.5));
  });

  it('FADD m64 rounds the exact sum to 64 bits', () => {
    const m = machine();
    pokeF64(m, 0, 1); pokeF64(m, 8, 2 ** -64);
    run(m, [FLD_M64(0), [0xdc, ...mem(0, 8)]]);
    // 1 + 2^-64 is a tie at 64 bits: rounds to even (1)
    expect(st(m, 0)).toEqual(extOf(1));
    expect(sw(m) & PE).toBe(PE);
    pokeF64(m, 8, 3 * 2 ** -65);
    run(m, [[0xdc, ...mem(0, 8)]]);
    const want = refRound((1n << 65n) + 3n, 1n << 65n, 64);
    expect(st(m, 0)).toEqual({ se: want.se, m: want.m });
  });

  it('x - x is +0, and -0 under round-down', () => {
    const m = machine();
    run(m, [FLDPI, FLDPI, [0xde, 0xe9]]);
    expect(st(m, 0)).toEqual({ se: 0, m: 0n });
    poke(m, 0x20, [0x7f, 0x07]);
    run(m, [FLDCW(0x20), FLDPI, FLDPI, [0xde, 0xe9]]);
    expect(st(m, 0)).toEqual({ se: 0x8000, m: 0n });
  });

  it('division by zero gives infinity with ZE; 0/0 the real indefinite with IE', () => {
    const m = machine();
    run(m, [FLDZ, FLD1, [0xd8, 0xf1]]); // 1 / 0
    expect(st(m, 0)).toEqual({ se: 0x7fff, m: 1n << 63n });
    expect(sw(m) & ZE).toBe(ZE);
    run(m, [FLDZ, FLDZ, [0xde, 0xf9]]);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000000n });
    expect(sw(m) & IE).toBe(IE);
  });

  it('FSQRT(2) is correctly rounded', () => {
    const m = machine();
    poke(m, 0, [2, 0, 0, 0]);
    run(m, [FILD_M32(0), [0xd9, 0xfa]]);
    // reference: floor(sqrt(2) * 2^63) by bisection, then round to nearest
    const target = 2n << 126n;
    let lo = 0n, hi = 1n << 65n;
    while (hi - lo > 1n) { const mid = (lo + hi) >> 1n; if (mid * mid <= target) lo = mid; else hi = mid; }
    // lo = floor(sqrt(2) * 2^63), 64 bits; the next bit decides (no exact tie for an irrational)
    const frac2 = target * 4n - (2n * lo + 1n) ** 2n; // > 0 iff sqrt > lo + 1/2
    const mant = frac2 > 0n ? lo + 1n : lo;
    expect(st(m, 0)).toEqual({ se: 16383, m: mant });
    expect(sw(m) & PE).toBe(PE);
  });

  it('FSCALE scales by trunc(ST1), overflows to infinity', () => {
    const m = machine();
    pokeF64(m, 0, 1.5); pokeF64(m, 8, 3.9); pokeF64(m, 0x10, -1.7); pokeF64(m, 0x18, 20000);
    run(m, [FLD_M64(8), FLD_M64(0), [0xd9, 0xfd]]);
    expect(st(m, 0)).toEqual(extOf(12));
    run(m, [FLD_M64(0x10), FLD1, [0xd9, 0xfd]]);
    expect(st(m, 0)).toEqual(extOf(0.5));
    run(m, [FLD_M64(0x18), FLD1, [0xd9, 0xfd]]);
    expect(st(m, 0)).toEqual({ se: 0x7fff, m: 1n << 63n });
    expect(sw(m) & (OE | PE)).toBe(OE | PE);
  });

  it('FRNDINT under every rounding mode', () => {
    const cases: [number, number[]][] = [
      [2.5, [2, 2, 3, 2]], [-2.5, [-2, -3, -2, -2]], [0.3, [0, 0, 1, 0]], [-0.3, [-0, -1, -0, -0]],
      [1.5, [2, 1, 2, 1]], [7, [7, 7, 7, 7]],
    ];
    for (const [v, wants] of cases) {
      for (let rc = 0; rc < 4; rc++) {
        const m = machine();
        pokeF64(m, 0, v);
        poke(m, 0x20, [0x7f, 0x03 | (rc << 2)]);
        run(m, [FLDCW(0x20), FLD_M64(0), [0xd9, 0xfc]]);
        const want = wants[rc]!;
        const got = st(m, 0);
        if (want === 0) expect(got, `v=${v} rc=${rc}`).toEqual({ se: Object.is(want, -0) ? 0x8000 : 0, m: 0n });
        else expect(got, `v=${v} rc=${rc}`).toEqual(extOf(want));
        expect(!!(sw(m) & PE)).toBe(v !== want);
        expect(!!(sw(m) & C1), `C1 v=${v} rc=${rc}`).toBe(Math.abs(want) > Math.abs(v));
      }
    }
  });

  it('FXTRACT splits exponent and significand', () => {
    const m = machine();
    pokeF64(m, 0, -40);
    run(m, [FLD_M64(0), [0xd9, 0xf4]]);
    expect(st(m, 0)).toEqual(extOf(-1.25));
    expect(st(m, 1)).toEqual(extOf(5));
  });

  it('FPREM and FPREM1 set the quotient bits', () => {
    const m = machine();
    poke(m, 0, [3, 0, 0, 0, 10, 0, 0, 0, 11, 0, 0, 0]);
    run(m, [FILD_M32(0), FILD_M32(4), [0xd9, 0xf8]]); // 10 rem 3 = 1, Q = 3
    expect(st(m, 0)).toEqual(extOf(1));
    expect(sw(m) & (C0 | C1 | C2 | C3)).toBe(C3 | C1);
    run(m, [[0xdd, 0xd8], FILD_M32(8), [0xd9, 0xf5]]); // FSTP ST0; 11 rem1 3 = -1, Q = 4
    expect(st(m, 0)).toEqual(extOf(-1));
    expect(sw(m) & (C0 | C1 | C2 | C3)).toBe(C0);
    // a huge ratio: incomplete reduction (C2) with an exact partial remainder
    pokeF64(m, 0x10, 2 ** 200);
    run(m, [[0xdd, 0xd8], FLD_M64(0x10), [0xd9, 0xf8]]);
    expect(sw(m) & C2).toBe(C2);
  });

  it('FCHS and FABS', () => {
    const m = machine();
    run(m, [FLD1, [0xd9, 0xe0]]);
    expect(st(m, 0)).toEqual(extOf(-1));
    run(m, [[0xd9, 0xe1]]);
    expect(st(m, 0)).toEqual(extOf(1));
  });
});

describe('x87 arithmetic against a rational reference (random operands, every RC and PC)', () => {
  // deterministic xorshift
  let seed = 0x12345678;
  const rnd = (): number => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 2 ** 32; };
  const randDouble = (): number => (rnd() < 0.5 ? -1 : 1) * (1 + rnd()) * 2 ** Math.floor(rnd() * 80 - 40);
  type Rat = { num: bigint; den: bigint };
  const rat = (x: number): Rat => { const r = ratOf(x); return { num: r.neg ? -r.num : r.num, den: r.den }; };
  const ops: [string, number, (a: Rat, b: Rat) => Rat][] = [
    ['FADD', 0, (a, b) => ({ num: a.num * b.den + b.num * a.den, den: a.den * b.den })],
    ['FMUL', 1, (a, b) => ({ num: a.num * b.num, den: a.den * b.den })],
    ['FSUB', 4, (a, b) => ({ num: a.num * b.den - b.num * a.den, den: a.den * b.den })],
    ['FSUBR', 5, (a, b) => ({ num: b.num * a.den - a.num * b.den, den: a.den * b.den })],
    ['FDIV', 6, (a, b) => ({ num: a.num * b.den, den: a.den * b.num })],
    ['FDIVR', 7, (a, b) => ({ num: b.num * a.den, den: b.den * a.num })],
  ];
  for (const [name, reg, f] of ops) {
    it(`${name} m64`, () => {
      const m = machine();
      for (let n = 0; n < 40; n++) {
        const x = randDouble(), y = n % 5 === 0 ? x * (1 + 2 ** -30) : randDouble();
        const pc = [0, 2, 3][n % 3]!, rc = (n >> 2) & 3;
        const p = pc === 0 ? 24 : pc === 2 ? 53 : 64;
        pokeF64(m, 0, x); pokeF64(m, 8, y);
        poke(m, 0x20, [0x7f, pc | (rc << 2)]);
        run(m, [[0xdb, 0xe3], FLDCW(0x20), FLD_M64(0), [0xdc, ...mem(reg, 8)]]);
        const r = f(rat(x), rat(y));
        let num = r.num, den = r.den;
        if (den < 0n) { num = -num; den = -den; }
        const label = `${name} ${x} ${y} pc=${pc} rc=${rc}`;
        if (num === 0n) { expect(st(m, 0).m, label).toBe(0n); continue; }
        const neg = num < 0n;
        const want = refRound(neg ? -num : num, den, p, rc, neg);
        expect(st(m, 0), label).toEqual({ se: want.se, m: want.m });
        expect(!!(sw(m) & PE), label).toBe(!want.exact);
        expect(!!(sw(m) & C1), label).toBe(want.up);
      }
    });
  }
});

describe('x87 denormal results', () => {
  it('an exact denormal result raises no UE; an inexact one raises UE PE and rounds at the denormal lsb', () => {
    const m = machine();
    poke(m, 0, [0xf0, 0xbf, 0xff, 0xff]); // -16400
    run(m, [FILD_M32(0), FLD1, [0xd9, 0xfd]]);
    expect(st(m, 0)).toEqual({ se: 0, m: 1n << 45n }); // 2^-16400 = 2^45 * 2^-16445
    expect(sw(m) & (UE | PE)).toBe(0);
    poke(m, 4, [0xc3, 0xbf, 0xff, 0xff]); // -16445
    pokeF64(m, 8, 1.5);
    run(m, [[0xdb, 0xe3], FILD_M32(4), FLD_M64(8), [0xd9, 0xfd]]);
    expect(st(m, 0)).toEqual({ se: 0, m: 2n }); // 1.5 ulp: tie to even
    expect(sw(m) & (UE | PE)).toBe(UE | PE);
  });
});

describe('x87 constants', () => {
  // decimal digits of the constants (independent of the series the handler uses)
  const digits: [number[], string][] = [
    [FLDPI, '3.14159265358979323846264338327950288419716939937510'],
    [[0xd9, 0xea], '1.44269504088896340735992468100189213742664595415299'], // log2(e)
    [[0xd9, 0xe9], '3.32192809488736234787031942948939017586483139302458'], // log2(10)
    [[0xd9, 0xec], '0.30102999566398119521373889472449302676818988146211'], // log10(2)
    [[0xd9, 0xed], '0.69314718055994530941723212145817656807550013436026'], // ln(2)
  ];
  for (const [op, dec] of digits) {
    it(`${dec.slice(0, 8)} under every rounding mode`, () => {
      const [ip, fp] = dec.split('.') as [string, string];
      const num = BigInt(ip + fp), den = 10n ** BigInt(fp.length);
      for (let rc = 0; rc < 4; rc++) {
        const m = machine();
        poke(m, 0x20, [0x7f, 0x03 | (rc << 2)]);
        run(m, [FLDCW(0x20), op]);
        const want = refRound(num, den, 64, rc);
        expect(st(m, 0), `rc=${rc}`).toEqual({ se: want.se, m: want.m });
        expect(sw(m) & PE).toBe(0);
      }
    });
  }
});

describe('x87 comparisons and classification', () => {
  it('FXAM classes and sign', () => {
    const m = machine();
    const classes: [number, bigint, number][] = [
      [0x0000, 0n, C3], // +0
      [0x8000, 0n, C3 | C1], // -0
      [0x3fff, 1n << 63n, C2], // normal
      [0xffff, 1n << 63n, C2 | C0 | C1], // -inf
      [0x7fff, 0xc000000000000000n, C0], // QNaN
      [0x7fff, 0x8000000000000001n, C0], // SNaN
      [0x0000, 1n, C3 | C2], // denormal
      [0x4000, 0x4000000000000000n, 0], // unnormal: unsupported
    ];
    for (const [se, mant, want] of classes) {
      pokeF80(m, 0, se, mant);
      run(m, [FLD_M80(0), [0xd9, 0xe5], [0xdd, 0xd8]]);
      // FXAM ran before FSTP: recompute by running only two
      run(m, [FLD_M80(0), [0xd9, 0xe5]]);
      expect(sw(m) & (C0 | C1 | C2 | C3), `${se.toString(16)}:${mant.toString(16)}`).toBe(want);
      run(m, [[0xdd, 0xd8]]);
    }
    run(m, [[0xd9, 0xe5]]); // empty
    expect(sw(m) & (C0 | C2 | C3)).toBe(C3 | C0);
  });

  it('FCOM sets C3 C2 C0; FCOM with a QNaN is invalid, FUCOM is not', () => {
    const m = machine();
    pokeF64(m, 0, 2);
    run(m, [FLD1, [0xdc, ...mem(2, 0)]]); // 1 vs 2
    expect(sw(m) & (C0 | C2 | C3)).toBe(C0);
    run(m, [[0xdc, ...mem(3, 0)], FLD_M64(0), FLD1, [0xde, 0xd9]]); // FCOMP; 1 vs 2 FCOMPP
    expect(sw(m) & (C0 | C2 | C3)).toBe(C0);
    expect(top(m)).toBe(0);
    pokeU64(m, 8, 0x7ff8000000000000n);
    run(m, [FLD_M64(8), FLD1, [0xdd, 0xe1]]); // FUCOM ST1
    expect(sw(m) & (C0 | C2 | C3 | IE)).toBe(C0 | C2 | C3);
    run(m, [[0xd8, 0xd1]]); // FCOM ST1
    expect(sw(m) & (C0 | C2 | C3 | IE)).toBe(C0 | C2 | C3 | IE);
  });

  it('FUCOMIP with a NaN sets ZF PF CF and pops; FCOMIP also raises IE', () => {
    const m = machine();
    pokeU64(m, 0, 0x7ff8000000000000n);
    m.setFlags(0x202 | 0x800 | 0x80 | 0x10);
    run(m, [FLD_M64(0), FLD1, [0xdf, 0xe9]]);
    expect(m.flags() & 0x8d5).toBe(0x45);
    expect(sw(m) & IE).toBe(0);
    expect(top(m)).toBe(7);
    run(m, [FLD1, [0xdf, 0xf1]]);
    expect(flagsOf(m.cpu.s) & 0x8d5).toBe(0x45);
    expect(sw(m) & IE).toBe(IE);
  });

  it('FCOMI orders values; FTST compares with zero', () => {
    const m = machine();
    pokeF64(m, 0, -3);
    run(m, [FLD1, FLD_M64(0), [0xdb, 0xf1]]); // -3 vs 1: below
    expect(m.flags() & 0x45).toBe(0x1);
    run(m, [[0xd9, 0xc9], [0xdb, 0xf1]]); // FXCH; 1 vs -3: above
    expect(m.flags() & 0x45).toBe(0);
    run(m, [FLD1, [0xdb, 0xf1]]);
    expect(m.flags() & 0x45).toBe(0x40);
    run(m, [FLDZ, [0xd9, 0xe4]]);
    expect(sw(m) & (C0 | C2 | C3)).toBe(C3);
  });

  it('FCMOVcc moves on RFLAGS conditions', () => {
    const m = machine();
    m.setFlags(0x202 | 0x1); // CF
    run(m, [FLDPI, FLD1, [0xda, 0xc1]]); // FCMOVB ST0, ST1
    expect(st(m, 0)).toEqual(st(m, 1));
    run(m, [FLDZ, [0xdb, 0xc2]]); // FCMOVNB ST0, ST2: not taken
    expect(st(m, 0)).toEqual({ se: 0, m: 0n });
  });
});

describe('x87 stack faults and exceptions', () => {
  it('a ninth push overflows: IE SF C1, ST0 = real indefinite', () => {
    const m = machine();
    run(m, Array(9).fill(FLD1));
    expect(sw(m) & (IE | SF | C1)).toBe(IE | SF | C1);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000000n });
    expect(tags(m)).toBe(0x8000); // R0..R6 valid, R7 (the new top) special
  });

  it('reading an empty register underflows: IE SF, C1 = 0, indefinite result', () => {
    const m = machine();
    run(m, [FLD1, [0xd8, 0xc1], FNSTSW_AX]); // FADD ST0, ST1 with ST1 empty
    expect(sw(m) & (IE | SF | C1)).toBe(IE | SF);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000000n });
    expect(Number(m.reg(0) & 0xffffn)).toBe(sw(m));
  });

  it('an unmasked exception is raised as #MF by the next waiting instruction', () => {
    const m = machine();
    poke(m, 0x20, [0x7b, 0x03]); // ZM clear
    run(m, [FLDCW(0x20), FLDZ, FLD1, [0xde, 0xf1]]); // FDIVRP ST1, ST0: 1/0, unmasked: no write, no pop
    expect(sw(m) & (ZE | 0x80 | 0x8000)).toBe(ZE | 0x80 | 0x8000);
    expect(top(m)).toBe(6);
    expect(exec(m, [FLD1])).toBe(16);
    // FNSTSW is a non-waiting instruction and FNCLEX clears the pending state
    run(m, [FNSTSW_AX, [0xdb, 0xe2], FLD1]);
  });
});

describe('x87 state images', () => {
  it('FXSAVE64 / FXRSTOR64 round-trip and layout', () => {
    const m = machine();
    pokeF64(m, 0, 0.1);
    run(m, [FLD_M64(0), FLDPI, [0x48, 0x0f, 0xae, 0x43, 0x40]]); // FXSAVE64 [rbx+0x40]
    const img = peek(m, 0x40, 512);
    expect(img[0]! | (img[1]! << 8)).toBe(0x37f);
    expect(img[2]! | (img[3]! << 8)).toBe(6 << 11);
    expect(img[4]).toBe(0xc0); // physical registers 6 and 7 in use
    const pi = st(m, 0);
    expect(peekU64(m, 0x40 + 32)).toBe(pi.m);
    expect(img[32 + 8]! | (img[32 + 9]! << 8)).toBe(pi.se);
    expect(peekU64(m, 0x40 + 48)).toBe(extOf(0.1).m);
    run(m, [[0xdb, 0xe3], [0x48, 0x0f, 0xae, 0x4b, 0x40]]); // FNINIT; FXRSTOR64
    expect(top(m)).toBe(6);
    expect(st(m, 0)).toEqual(pi);
    expect(st(m, 1)).toEqual(extOf(0.1));
    expect(tags(m)).toBe(0x0fff);
  });

  it('FXSAVE to a misaligned address is #GP', () => {
    const m = machine();
    expect(exec(m, [[0x0f, 0xae, 0x43, 0x41]])).toBe(13);
  });

  it('FNSAVE / FRSTOR round-trip; FNSAVE reinitialises', () => {
    const m = machine();
    run(m, [FLD1, FLDPI, [0xdd, ...mem(6, 0x40)]]);
    expect(top(m)).toBe(0);
    expect(tags(m)).toBe(0xffff);
    const img = peek(m, 0x40, 108);
    expect(img[8]! | (img[9]! << 8)).toBe(0x0fff); // tags: R6 R7 valid
    run(m, [[0xdd, ...mem(4, 0x40)]]);
    expect(top(m)).toBe(6);
    expect(st(m, 1)).toEqual(extOf(1));
  });

  it('FNSTENV stores the environment and masks all exceptions', () => {
    const m = machine();
    poke(m, 0x20, [0x40, 0x03]);
    run(m, [FLDCW(0x20), FLD1, [0xd9, ...mem(6, 0x40)], [0xd9, ...mem(7, 0x30)]]);
    expect(peek(m, 0x40, 2)).toEqual([0x40, 0x03]);
    expect(peek(m, 0x30, 2)).toEqual([0x7f, 0x03]);
  });
});

describe('x87 details', () => {
  it('implements every x87 encoding a 64-bit program can use', async () => {
    const { Code } = await import('iced-x86');
    const { implementedCodes } = await import('../../src/cpu/table.js');
    const have = new Set(implementedCodes().filter((e) => e.family === 'x87').map((e) => e.name));
    const skip = new Set(['Fstdw_AX', 'Fstsg_AX', 'Fnstdw_AX', 'Fnstsg_AX', 'Frstpm', 'Ftstp', 'Frint2', 'Frichop', 'Frinear', 'Femms']);
    const x87 = Object.keys(Code).filter((k) => Number.isNaN(Number(k)) && /^(F[a-z0-9]|Wait$)/.test(k) && !/^Fxsave|^Fxrstor/.test(k) === true);
    const missing = x87.filter((k) => !have.has(k) && !skip.has(k));
    expect(missing).toEqual([]);
    for (const k of ['Fxsave_m512byte', 'Fxsave64_m512byte', 'Fxrstor_m512byte', 'Fxrstor64_m512byte']) expect(have.has(k)).toBe(true);
  });

  it('two QNaNs: the larger significand wins; SNaN + number: quieted SNaN with IE', () => {
    const m = machine();
    pokeF80(m, 0, 0x7fff, 0xc000000000000005n);
    pokeF80(m, 0x10, 0xffff, 0xc000000000000009n);
    run(m, [FLD_M80(0), FLD_M80(0x10), [0xde, 0xc1]]);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000009n });
    expect(sw(m) & IE).toBe(0);
    pokeF80(m, 0x20, 0x7fff, 0x8000000000000001n);
    run(m, [FLD1, FLD_M80(0x20), [0xde, 0xc9]]);
    expect(st(m, 0)).toEqual({ se: 0x7fff, m: 0xc000000000000001n });
    expect(sw(m) & IE).toBe(IE);
  });

  it('inf - inf is the real indefinite with IE', () => {
    const m = machine();
    pokeU64(m, 0, 0x7ff0000000000000n);
    run(m, [FLD_M64(0), FLD_M64(0), [0xde, 0xe9]]);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000000n });
    expect(sw(m) & IE).toBe(IE);
  });

  it('FLDCW unmasking an already raised flag makes the next waiting instruction take #MF', () => {
    const m = machine();
    poke(m, 0x20, [0x7e, 0x03]); // IM clear
    run(m, [FLD1, FLDZ, FLDZ, [0xde, 0xf9]]); // 0/0 masked: IE
    expect(sw(m) & (IE | 0x80)).toBe(IE);
    run(m, [FLDCW(0x20)]);
    expect(sw(m) & 0x8080).toBe(0x8080);
    expect(exec(m, [[0xd9, 0xd0]])).toBe(16); // FNOP waits
  });

  it('an unmasked invalid compare leaves the condition codes; the stack is not popped', () => {
    const m = machine();
    pokeU64(m, 0, 0x7ff8000000000000n);
    poke(m, 0x20, [0x7e, 0x03]);
    run(m, [FLD_M64(0), FLD1, FLDCW(0x20), [0xd8, 0xd9]]); // FCOMP ST1
    expect(sw(m) & (C0 | C2 | C3 | IE)).toBe(IE);
    expect(top(m)).toBe(6);
  });

  it('FXCH with an empty register under a masked underflow swaps in the indefinite', () => {
    const m = machine();
    run(m, [FLD1, [0xd9, 0xc9]]);
    expect(st(m, 0)).toEqual({ se: 0xffff, m: 0xc000000000000000n });
    expect(st(m, 1)).toEqual(extOf(1));
    expect(sw(m) & (IE | SF)).toBe(IE | SF);
  });

  it('FIST m16 rounds and range-checks', () => {
    const m = machine();
    pokeF64(m, 0, -32768.4); pokeF64(m, 8, 32767.6);
    run(m, [FLD_M64(0), [0xdf, ...mem(2, 0x10)], FLD_M64(8), [0xdf, ...mem(2, 0x12)]]);
    expect(peek(m, 0x10, 2)).toEqual([0x00, 0x80]);
    expect(peek(m, 0x12, 2)).toEqual([0x00, 0x80]); // 32768 out of range: indefinite
    expect(sw(m) & IE).toBe(IE);
  });

  it('FNSTENV writes the 28-byte environment', () => {
    const m = machine();
    run(m, [FLD1, FLDZ, [0xd9, ...mem(6, 0x40)]]);
    const env = peek(m, 0x40, 28);
    const dw = (o: number): number => (env[o]! | (env[o + 1]! << 8) | (env[o + 2]! << 16) | (env[o + 3]! << 24)) >>> 0;
    expect(dw(0)).toBe(0xffff037f);
    expect(dw(4)).toBe((0xffff0000 | (6 << 11)) >>> 0);
    expect(dw(8)).toBe(0xffff1fff); // R6 zero (01), R7 valid (00), others empty
    expect(dw(12)).toBe(0x1000 + 2); // FIP: the FLDZ
    expect((dw(16) >>> 16) & 0x7ff).toBe(0x1ee); // FOP of FLDZ (D9 EE)
  });

  it('FST m32 of a tiny value underflows to a denormal or zero with UE PE', () => {
    const m = machine();
    pokeF64(m, 0, 2 ** -140 * 1.3);
    run(m, [FLD_M64(0), [0xd9, ...mem(2, 8)]]);
    const want = Math.round(1.3 * 2 ** 9); // lsb of binary32 denormals is 2^-149
    expect(peek(m, 8, 4).reduceRight((a, b) => a * 256 + b, 0)).toBe(want);
    expect(sw(m) & (UE | PE)).toBe(UE | PE);
  });
});

// Expected values measured on this project's host CPU (fxrstor, the instruction, fxsave), not derived from the SDM
// alone where the SDM is silent or differs.
describe('x87 behaviour measured on hardware', () => {
  const INDEF = { se: 0xffff, m: 0xc000000000000000n };
  const ONE = { se: 0x3fff, m: 1n << 63n };
  const FST_M32 = (d: number): number[] => [0xd9, ...mem(2, d)];

  it('FCMOVcc with an empty source underflows and writes the indefinite even when the condition is false', () => {
    const m = machine();
    m.setFlags(0x202 | 0x1); // CF: FCMOVNB not taken
    run(m, [FLD1, [0xdb, 0xc1]]); // FCMOVNB ST0, ST1 (empty)
    expect(sw(m) & (IE | SF | C1)).toBe(IE | SF);
    expect(st(m, 0)).toEqual(INDEF);
  });

  it('FCMOVcc and FCOMI leave C1 alone', () => {
    const m = machine();
    m.setFlags(0x202 | 0x1);
    run(m, [FLD1, FLDPI, FST_M32(0)]); // binary32 pi is rounded up: C1 = 1
    expect(sw(m) & C1).toBe(C1);
    run(m, [[0xda, 0xc1]]); // FCMOVB ST0, ST1 (taken)
    expect(st(m, 0)).toEqual(ONE);
    expect(sw(m) & C1).toBe(C1);
    run(m, [FLDPI, FST_M32(0), [0xdb, 0xf1]]); // FCOMI ST0, ST1
    expect(sw(m) & C1).toBe(C1);
  });

  it('FSINCOS on a full stack: overflow, ST0 and the pushed ST0 are both the indefinite', () => {
    const m = machine();
    run(m, [...Array(8).fill(FLD1), [0xd9, 0xfb]]);
    expect(sw(m) & (IE | SF | C1 | C2)).toBe(IE | SF | C1);
    expect(top(m)).toBe(7);
    expect(st(m, 0)).toEqual(INDEF);
    expect(st(m, 1)).toEqual(INDEF);
    expect(st(m, 2)).toEqual(ONE);
  });

  it('FPTAN of a QNaN pushes the NaN instead of 1.0', () => {
    const m = machine();
    pokeF80(m, 0, 0x7fff, 0xc000000000000001n);
    run(m, [FLD_M80(0), [0xd9, 0xf2]]);
    expect(st(m, 0)).toEqual({ se: 0x7fff, m: 0xc000000000000001n });
    expect(st(m, 1)).toEqual({ se: 0x7fff, m: 0xc000000000000001n });
    expect(sw(m) & 0x3f).toBe(0);
  });

  it('FLD ST(i) of an empty register onto a full ST7 is an underflow (C1 = 0)', () => {
    const m = machine();
    run(m, [FLD1, ...Array(6).fill([0xd9, 0xf6]), FLD1]); // FDECSTP x6: R7 and R0 full, TOP 0
    run(m, [[0xd9, 0xc6]]); // FLD ST(6) (R6, empty) onto ST7 (R7, full)
    expect(sw(m) & (IE | SF | C1)).toBe(IE | SF);
    expect(st(m, 0)).toEqual(INDEF);
  });

  it('FSTPNCE with an empty ST0 raises nothing, writes nothing, and pops', () => {
    const m = machine();
    run(m, [FLD1, FLD1, FLDPI, [0xdd, 0xc0], [0xd9, 0xd9]]); // FFREE ST0, FSTPNCE ST1
    expect(sw(m) & 0x7f).toBe(0);
    expect(top(m)).toBe(6);
    expect(st(m, 0)).toEqual(ONE);
    expect(st(m, 1)).toEqual(ONE);
  });

  it('invalid operation and division by zero take priority over the denormal operand', () => {
    const den = 0x1234n;
    let m = machine();
    pokeF80(m, 0, 0, den);
    run(m, [FLDZ, FLD_M80(0), [0xd8, 0xf1]]); // FDIV ST0, ST1: denormal / 0
    expect(sw(m) & (IE | DE | ZE)).toBe(ZE);
    m = machine();
    pokeF80(m, 0, 0x8000, den);
    run(m, [FLD_M80(0), [0xd9, 0xfa]]); // FSQRT of a negative denormal
    expect(sw(m) & (IE | DE)).toBe(IE);
    expect(st(m, 0)).toEqual(INDEF);
    m = machine();
    pokeF80(m, 0, 0x7fff, 0xc000000000000001n);
    poke(m, 0x10, [1, 0, 0, 0]); // binary32 denormal
    run(m, [FLD_M80(0), [0xd8, ...mem(2, 0x10)]]); // FCOM m32 with a QNaN ST0
    expect(sw(m) & (IE | DE | C3 | C2 | C0)).toBe(IE | C3 | C2 | C0);
  });

  it('FPREM of an invalid operand keeps C0 C3 and clears C1 C2', () => {
    const m = machine();
    pokeF80(m, 0, 0x7fff, 1n << 63n);
    run(m, [FLD1, FLD_M80(0)]);
    const r = m.cpu.r, fsw = Off.FSW >> 2;
    r[fsw] = r[fsw]! | C0 | C1 | C2 | C3;
    run(m, [[0xd9, 0xf8]]); // FPREM: inf % 1
    expect(sw(m) & (IE | C0 | C1 | C2 | C3)).toBe(IE | C0 | C3);
    expect(st(m, 0)).toEqual(INDEF);
  });

  it('precision control rounds a denormal result at its fixed bit position', () => {
    const m = machine();
    pokeF80(m, 0, 0, 0x218bf3dc90624a01n);
    poke(m, 0x20, [0x7f, 0x02]); // PC = 53 bits
    run(m, [FLDCW(0x20), [0xd9, 0xee], [0xd9, 0xe0], FLD_M80(0), [0xde, 0xc1]]); // -0 + denormal
    expect(st(m, 0)).toEqual({ se: 0, m: 0x218bf3dc90624800n });
    expect(sw(m) & (DE | UE | PE | C1)).toBe(DE | UE | PE);
  });
});
