import { describe, expect, it } from 'vitest';
import { C2, extOf, machine, mem, PE, poke, pokeF64, ratOf, refRound, run, st, sw, top } from './x87-helpers.js';

const FLD_M64 = (d: number): number[] => [0xdd, ...mem(0, d)];
const FLD1 = [0xd9, 0xe8];

/** Exact rational partial sum of a Taylor series sum_k sign^k x^(ak+b) / (ak+b)!, enough terms for |x| <= 1. */
function taylor(x: number, first: number, terms = 40): { num: bigint; den: bigint } {
  const { num: xn, den: xd, neg } = ratOf(x);
  let num = 0n, den = 1n;
  for (let k = 0; k < terms; k++) {
    const n = first + 2 * k;
    let fact = 1n;
    for (let i = 2n; i <= BigInt(n); i++) fact *= i;
    const tn = (neg && n % 2 ? -1n : 1n) * (k % 2 ? -1n : 1n) * xn ** BigInt(n), td = xd ** BigInt(n) * fact;
    num = num * td + tn * den; den *= td;
  }
  return { num, den };
}

function expectRounded(m: ReturnType<typeof machine>, r: { num: bigint; den: bigint }, i = 0): void {
  const neg = r.num < 0n;
  const want = refRound(neg ? -r.num : r.num, r.den, 64, 0, neg);
  expect(st(m, i)).toEqual({ se: want.se, m: want.m });
}

describe('x87 transcendental functions', () => {
  it('FSIN, FCOS of 0.5 are correctly rounded', () => {
    const m = machine();
    pokeF64(m, 0, 0.5);
    run(m, [FLD_M64(0), [0xd9, 0xfe]]);
    expectRounded(m, taylor(0.5, 1));
    expect(sw(m) & (PE | C2)).toBe(PE);
    run(m, [FLD_M64(0), [0xd9, 0xff]]);
    expectRounded(m, taylor(0.5, 0));
  });

  it('FSINCOS pushes the cosine; FPTAN pushes 1.0', () => {
    const m = machine();
    pokeF64(m, 0, -0.75);
    run(m, [FLD_M64(0), [0xd9, 0xfb]]);
    expectRounded(m, taylor(-0.75, 0), 0);
    expectRounded(m, taylor(-0.75, 1), 1);
    run(m, [[0xdb, 0xe3], FLD_M64(0), [0xd9, 0xf2]]);
    expect(st(m, 0)).toEqual(extOf(1));
    expect(top(m)).toBe(6);
    const s = taylor(-0.75, 1), c = taylor(-0.75, 0);
    expectRounded(m, { num: s.num * c.den, den: s.den * c.num < 0n ? -(s.den * c.num) : s.den * c.num }, 1);
  });

  it('FSIN reduces with the 66-bit pi like the hardware (sin of the double nearest pi)', () => {
    const m = machine();
    pokeF64(m, 0, Math.PI);
    run(m, [FLD_M64(0), [0xd9, 0xfe], [0xdd, ...mem(3, 8)]]);
    const dv = new DataView(new ArrayBuffer(8));
    for (let k = 0; k < 8; k++) dv.setUint8(k, m.mem.bytes[0x3008 + k]!);
    const got = dv.getFloat64(0, true);
    // documented x87 result (the true value is 1.2246467991473532e-16)
    expect(Math.abs(got - 1.2246063538223773e-16)).toBeLessThan(1e-31);
  });

  it('FSIN leaves operands >= 2^63 alone and sets C2', () => {
    const m = machine();
    pokeF64(m, 0, 2 ** 63);
    run(m, [FLD_M64(0), [0xd9, 0xfe]]);
    expect(st(m, 0)).toEqual(extOf(2 ** 63));
    expect(sw(m) & C2).toBe(C2);
  });

  it('FPATAN(1, 1) = pi/4', () => {
    const m = machine();
    run(m, [FLD1, FLD1, [0xd9, 0xf3]]);
    const pi = '314159265358979323846264338327950288419716939937510';
    expectRounded(m, { num: BigInt(pi), den: 4n * 10n ** BigInt(pi.length - 1) });
    expect(top(m)).toBe(7);
  });

  it('F2XM1(0.5) = sqrt(2) - 1; F2XM1(-1) = -0.5 exactly', () => {
    const m = machine();
    pokeF64(m, 0, 0.5); pokeF64(m, 8, -1);
    run(m, [FLD_M64(0), [0xd9, 0xf0]]);
    // sqrt(2) - 1 to 200 bits by bisection
    const target = 2n << 400n;
    let lo = 0n, hi = 1n << 202n;
    while (hi - lo > 1n) { const mid = (lo + hi) >> 1n; if (mid * mid <= target) lo = mid; else hi = mid; }
    expectRounded(m, { num: lo - (1n << 200n), den: 1n << 200n });
    run(m, [FLD_M64(8), [0xd9, 0xf0]]);
    expect(st(m, 0)).toEqual(extOf(-0.5));
    expect(sw(m) & PE).toBe(PE); // from the first one (sticky)
  });

  it('FYL2X: 3 * log2(8) = 9 exactly; log2(10) rounded', () => {
    const m = machine();
    pokeF64(m, 0, 3); pokeF64(m, 8, 8); pokeF64(m, 0x10, 10);
    run(m, [FLD_M64(0), FLD_M64(8), [0xd9, 0xf1]]);
    expect(st(m, 0)).toEqual(extOf(9));
    expect(sw(m) & PE).toBe(0);
    run(m, [FLD1, FLD_M64(0x10), [0xd9, 0xf1]]);
    const l2t = '332192809488736234787031942948939017586483139302458';
    expectRounded(m, { num: BigInt(l2t), den: 10n ** BigInt(l2t.length - 1) });
  });

  it('FYL2XP1 keeps precision for tiny x', () => {
    const m = machine();
    poke(m, 0x20, []);
    pokeF64(m, 0, 2 ** -80);
    run(m, [FLD1, FLD_M64(0), [0xd9, 0xf9]]);
    // log2(1 + 2^-80) = 2^-80 / ln 2 * (1 - 2^-81 + ...): compare with log2(e) * 2^-80 to 60 bits
    const got = st(m, 0);
    expect(got.se).toBe(16383 - 80);
    const l2e = 0xb8aa3b295c17f0bbn;
    expect(got.m >> 8n).toBe(l2e >> 8n);
  });
});
