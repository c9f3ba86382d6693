// SSE/SSE2 floating point: results from IEEE-754 semantics (JS binary64 arithmetic, Math.fround for binary32,
// which rounds correctly for +,-,*,/,sqrt of binary32 operands), flags from exact BigInt rational arithmetic.
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';
import { CODE, DATA, exec as run, sseEnc as enc } from '../helpers/bare-code.js';

const XMM = Off.XMM, MXCSR = Off.MXCSR >> 2;
const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20;
const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

let shared: BareMachine | undefined;
function machine(mxcsr = 0x1f80): BareMachine {
  shared ??= new BareMachine({ memory: 8 * 1024 * 1024 });
  const m = shared;
  for (let i = 0; i < 16; i++) m.setReg(i, 0n);
  m.cpu.s.u8.fill(0, XMM, XMM + 256);
  m.cpu.r[MXCSR] = mxcsr;
  m.setFlags(0x202);
  m.setReg(3, BigInt(DATA)); // rbx -> DATA
  return m;
}



const dv = new DataView(new ArrayBuffer(8));
const bitsD = (x: number): bigint => { dv.setFloat64(0, x, true); return dv.getBigUint64(0, true); };
const fromBitsD = (b: bigint): number => { dv.setBigUint64(0, b, true); return dv.getFloat64(0, true); };
const bitsS = (x: number): number => { dv.setFloat32(0, x, true); return dv.getUint32(0, true); };
const fromBitsS = (b: number): number => { dv.setUint32(0, b, true); return dv.getFloat32(0, true); };

function setXD(m: BareMachine, n: number, lanes: bigint[]): void {
  lanes.forEach((v, i) => m.cpu.s.dv.setBigUint64(XMM + n * 16 + i * 8, v, true));
}
function setXS(m: BareMachine, n: number, lanes: number[]): void {
  lanes.forEach((v, i) => m.cpu.s.dv.setUint32(XMM + n * 16 + i * 4, v >>> 0, true));
}
const xd = (m: BareMachine, n: number, i: number): bigint => m.cpu.s.dv.getBigUint64(XMM + n * 16 + i * 8, true);
const xs = (m: BareMachine, n: number, i: number): number => m.cpu.s.dv.getUint32(XMM + n * 16 + i * 4, true);
const flags = (m: BareMachine): number => m.cpu.r[MXCSR]! & 0x3f;

// ---- exact rational reference ----------------------------------------------------------------

/** Exact value of a finite double as m * 2^e (BigInt m). */
function exactD(x: number): [bigint, number] {
  const b = bitsD(x), e = Number((b >> 52n) & 0x7ffn), f = b & ((1n << 52n) - 1n);
  const m = e === 0 ? f : f | (1n << 52n);
  return [b >> 63n ? -m : m, (e === 0 ? 1 : e) - 1075];
}
/** Compare m1*2^e1 with m2*2^e2 exactly. */
function eqExact([m1, e1]: [bigint, number], [m2, e2]: [bigint, number]): boolean {
  const e = Math.min(e1, e2);
  return m1 << BigInt(e1 - e) === m2 << BigInt(e2 - e);
}
const mulX = ([m1, e1]: [bigint, number], [m2, e2]: [bigint, number]): [bigint, number] => [m1 * m2, e1 + e2];
const addX = ([m1, e1]: [bigint, number], [m2, e2]: [bigint, number]): [bigint, number] => {
  const e = Math.min(e1, e2);
  return [(m1 << BigInt(e1 - e)) + (m2 << BigInt(e2 - e)), e];
};

type Op = 'add' | 'sub' | 'mul' | 'div' | 'sqrt';
const MIN_D = 2 ** -1022, MIN_S = 2 ** -126;
const isDen = (x: number, min: number): boolean => x !== 0 && Math.abs(x) < min;

/** Reference result and flags for finite operands (round to nearest, all masked). */
function reference(op: Op, a: number, b: number, single: boolean): { r: number; fl: number } {
  const rnd = single ? Math.fround : (x: number) => x;
  const min = single ? MIN_S : MIN_D;
  let r: number, fl = 0;
  switch (op) {
    case 'add': r = rnd(a + b); break;
    case 'sub': r = rnd(a - b); break;
    case 'mul': r = rnd(a * b); break;
    case 'div': r = rnd(a / b); break;
    default: r = rnd(Math.sqrt(b));
  }
  if (op === 'sqrt') {
    if (b < 0) return { r: NaN, fl: IE };
    if (isDen(b, min)) fl |= DE;
  } else if (op === 'div' && b === 0) {
    return { r, fl: a === 0 ? IE : ZE };
  } else if (isDen(a, min) || isDen(b, min)) fl |= DE;
  if (!Number.isFinite(r)) return { r, fl: fl | OE | PE };
  const X = exactD(r);
  let exact: boolean;
  switch (op) {
    case 'add': exact = eqExact(addX(exactD(a), exactD(b)), X); break;
    case 'sub': exact = eqExact(addX(exactD(a), exactD(-b)), X); break;
    case 'mul': exact = eqExact(mulX(exactD(a), exactD(b)), X); break;
    case 'div': exact = eqExact(mulX(X, exactD(b)), exactD(a)); break;
    default: exact = eqExact(mulX(X, X), exactD(b));
  }
  if (!exact) fl |= PE;
  if (!exact && (isDen(r, min) || (r === 0))) fl |= UE;
  return { r, fl };
}

const OPC: Record<Op, number> = { add: 0x58, mul: 0x59, sub: 0x5c, div: 0x5e, sqrt: 0x51 };

function special(): number[] {
  return [0, -0, 1, -1, 1.5, 3, 0.1, -0.3, 1e308, -1.7976931348623157e308, 2 ** -1022, 2 ** -1074, -(2 ** -1050),
    4.9e-324 * 3, 2 ** 1000, 2 ** -600, 1 + 2 ** -52, 1 - 2 ** -53, 123456789.123, 2 ** 53 + 2, 7, 1 / 3,
    3.4028234663852886e38, 1.1754943508222875e-38, 1e-40, 1e-45, -65504.5, 2 ** -149, 16777217];
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

/** Random doubles covering all exponent ranges, including denormals. */
function randomD(r: () => number): number {
  const k = r();
  if (k < 0.3) { const s = special(); return s[Math.floor(r() * s.length)]!; }
  const hi = Math.floor(r() * 4294967296), lo = Math.floor(r() * 4294967296);
  let b = (BigInt(hi) << 32n) | BigInt(lo);
  if (k < 0.5) b = (b & ~(0x7ffn << 52n)) | (BigInt(1023 + Math.floor(r() * 40) - 20) << 52n); // near 1
  const x = fromBitsD(b);
  return Number.isFinite(x) ? x : 1;
}
function randomS(r: () => number): number {
  const k = r();
  if (k < 0.3) { const s = special(), v = Math.fround(s[Math.floor(r() * s.length)]!); return Number.isFinite(v) ? v : 1; }
  let b = Math.floor(r() * 4294967296);
  if (k < 0.5) b = ((b & ~(0xff << 23)) | ((127 + Math.floor(r() * 20) - 10) << 23)) >>> 0;
  const x = fromBitsS(b);
  return Number.isFinite(x) ? x : 1;
}

describe('scalar double arithmetic against IEEE semantics', () => {
  for (const op of ['add', 'sub', 'mul', 'div', 'sqrt'] as Op[]) {
    it(`${op}sd: random and special operands, results and flags`, () => {
      const r = rng(op.length * 77 + 1);
      const m = machine();
      for (let t = 0; t < 600; t++) {
        const a = randomD(r), b = randomD(r);
        m.cpu.r[MXCSR] = 0x1f80;
        setXD(m, 1, [bitsD(a), 0x1111222233334444n]);
        setXD(m, 2, [bitsD(b), 0x5555666677778888n]);
        expect(run(m, enc([0xf2], [OPC[op]], 1, 2))).toBe(RunStatus.BUDGET);
        const ref = reference(op, a, b, false);
        const got = xd(m, 1, 0);
        if (Number.isNaN(ref.r)) expect(got).toBe(0xfff8000000000000n);
        else expect(got, `${op} ${a} ${b}`).toBe(bitsD(ref.r));
        expect(flags(m), `${op} ${a} ${b}`).toBe(ref.fl);
        expect(xd(m, 1, 1)).toBe(0x1111222233334444n); // upper lane preserved
      }
    });
  }
});

describe('scalar single arithmetic against IEEE semantics', () => {
  for (const op of ['add', 'sub', 'mul', 'div', 'sqrt'] as Op[]) {
    it(`${op}ss: random and special operands, results and flags`, () => {
      const r = rng(op.length * 91 + 5);
      const m = machine();
      for (let t = 0; t < 600; t++) {
        const a = randomS(r), b = randomS(r);
        m.cpu.r[MXCSR] = 0x1f80;
        setXS(m, 3, [bitsS(a), 0x11111111, 0x22222222, 0x33333333]);
        setXS(m, 4, [bitsS(b), 0x44444444, 0x55555555, 0x66666666]);
        expect(run(m, enc([0xf3], [OPC[op]], 3, 4))).toBe(RunStatus.BUDGET);
        const ref = reference(op, a, b, true);
        const got = xs(m, 3, 0);
        if (Number.isNaN(ref.r)) expect(got).toBe(0xffc00000);
        else expect(got, `${op} ${a} ${b}`).toBe(bitsS(ref.r));
        expect(flags(m), `${op}ss ${a} ${b}`).toBe(ref.fl);
        expect([xs(m, 3, 1), xs(m, 3, 2), xs(m, 3, 3)]).toEqual([0x11111111, 0x22222222, 0x33333333]);
      }
    });
  }
});

describe('packed arithmetic', () => {
  it('addpd / mulps operate on every lane, memory operand aligned', () => {
    const m = machine();
    const a = [1.5, -2.25], b = [0.1, 1e308];
    setXD(m, 0, a.map(bitsD));
    b.forEach((x, i) => m.mem.dv.setFloat64(DATA + 8 * i, x, true));
    expect(run(m, enc([0x66], [0x58], 0, 'mem'))).toBe(RunStatus.BUDGET);
    expect([xd(m, 0, 0), xd(m, 0, 1)]).toEqual([bitsD(1.5 + 0.1), bitsD(-2.25 + 1e308)]);
    expect(flags(m)).toBe(PE);
    const fa = [1, 2.5, -3, 1e30].map(Math.fround), fb = [3, 0.1, -0, 1e30].map(Math.fround);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 5, fa.map(bitsS)); setXS(m, 6, fb.map(bitsS));
    expect(run(m, enc([], [0x59], 5, 6))).toBe(RunStatus.BUDGET);
    expect([0, 1, 2, 3].map((i) => xs(m, 5, i))).toEqual(fa.map((x, i) => bitsS(Math.fround(x * fb[i]!))));
    expect(flags(m)).toBe(OE | PE); // 1e30*1e30 overflows binary32; 2.5*0.1f is inexact
  });

  it('a misaligned m128 operand of a packed op raises #GP(0) and changes nothing', () => {
    const m = machine();
    m.setReg(3, BigInt(DATA + 8));
    setXD(m, 0, [1n, 2n]);
    expect(run(m, enc([0x66], [0x58], 0, 'mem'))).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect([xd(m, 0, 0), xd(m, 0, 1)]).toEqual([1n, 2n]);
  });

  it('sqrtpd / divps lanes with specials', () => {
    const m = machine();
    setXD(m, 2, [bitsD(-4), bitsD(2)]);
    expect(run(m, enc([0x66], [0x51], 1, 2))).toBe(RunStatus.BUDGET);
    expect([xd(m, 1, 0), xd(m, 1, 1)]).toEqual([0xfff8000000000000n, bitsD(Math.SQRT2)]);
    expect(flags(m)).toBe(IE | PE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 1, [bitsS(1), bitsS(0), bitsS(-6), bitsS(Infinity)]);
    setXS(m, 2, [bitsS(0), bitsS(0), bitsS(3), bitsS(Infinity)]);
    expect(run(m, enc([], [0x5e], 1, 2))).toBe(RunStatus.BUDGET);
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([0x7f800000, 0xffc00000, bitsS(-2), 0xffc00000]);
    expect(flags(m)).toBe(ZE | IE);
  });
});

describe('NaN rules (SDM "Rules for handling NaNs")', () => {
  const SNAN_A = 0x7ff0000000000123n, QNAN_B = 0xfff8000000000456n, SNAN_B = 0xfff0000000000789n;
  const quiet = (x: bigint): bigint => x | (1n << 51n);
  const cases: [string, bigint, bigint, bigint, number][] = [
    ['SNaN + number -> quieted SNaN, IE', SNAN_A, bitsD(1), quiet(SNAN_A), IE],
    ['number + SNaN -> quieted SNaN, IE', bitsD(1), SNAN_B, quiet(SNAN_B), IE],
    ['number + QNaN -> the QNaN, no flag', bitsD(2), QNAN_B, QNAN_B, 0],
    ['QNaN + SNaN -> first operand, IE', QNAN_B, SNAN_A, QNAN_B, IE],
    ['SNaN + SNaN -> first operand quieted', SNAN_A, SNAN_B, quiet(SNAN_A), IE],
    ['QNaN + denormal -> QNaN, no DE', QNAN_B, 1n, QNAN_B, 0],
    ['inf - inf -> default NaN', bitsD(Infinity), bitsD(-Infinity), 0xfff8000000000000n, IE],
  ];
  for (const [name, a, b, want, fl] of cases) {
    it(name, () => {
      const m = machine();
      setXD(m, 1, [a, 0n]); setXD(m, 2, [b, 0n]);
      expect(run(m, enc([0xf2], [0x58], 1, 2))).toBe(RunStatus.BUDGET);
      expect(xd(m, 1, 0)).toBe(want);
      expect(flags(m)).toBe(fl);
    });
  }
  it('single precision: SNaN quieted with its payload; 0 * inf is the default NaN', () => {
    const m = machine();
    setXS(m, 1, [0x7f800001, 0, 0, 0]); setXS(m, 2, [bitsS(3), 0, 0, 0]);
    run(m, enc([0xf3], [0x59], 1, 2));
    expect(xs(m, 1, 0)).toBe(0x7fc00001);
    expect(flags(m)).toBe(IE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 1, [bitsS(-0), 0, 0, 0]); setXS(m, 2, [bitsS(Infinity), 0, 0, 0]);
    run(m, enc([0xf3], [0x59], 1, 2));
    expect(xs(m, 1, 0)).toBe(0xffc00000);
    expect(flags(m)).toBe(IE);
  });
});

describe('signed zeros, underflow, overflow and MXCSR modes', () => {
  function sd(m: BareMachine, op: Op, a: number, b: number): bigint {
    setXD(m, 1, [bitsD(a), 0n]); setXD(m, 2, [bitsD(b), 0n]);
    expect(run(m, enc([0xf2], [OPC[op]], 1, 2))).toBe(RunStatus.BUDGET);
    return xd(m, 1, 0);
  }
  it('signed zero results', () => {
    const m = machine();
    expect(sd(m, 'add', -0, -0)).toBe(bitsD(-0));
    expect(sd(m, 'add', -0, 0)).toBe(bitsD(0));
    expect(sd(m, 'sub', 5, 5)).toBe(bitsD(0));
    expect(sd(m, 'mul', -0, 5)).toBe(bitsD(-0));
    expect(sd(m, 'sqrt', 0, -0)).toBe(bitsD(-0));
    expect(flags(m)).toBe(0);
    m.cpu.r[MXCSR] = 0x1f80 | 0x2000; // round down: x - x = -0
    expect(sd(m, 'sub', 5, 5)).toBe(bitsD(-0));
  });
  it('exact results near the overflow threshold are not inexact', () => {
    const m = machine();
    const max = fromBitsD(0x7fefffffffffffffn);
    expect(sd(m, 'div', -max, -(2 ** 31))).toBe(bitsD(max / 2 ** 31));
    expect(sd(m, 'mul', max / 2 ** 31, 2 ** 31)).toBe(bitsD(max));
    expect(sd(m, 'sqrt', 0, 2 ** 1022)).toBe(bitsD(2 ** 511));
    expect(flags(m)).toBe(0);
  });
  it('tininess is detected after rounding', () => {
    const m = machine();
    // 2^-1022 * (1 - 2^-53) is tiny with unbounded exponent and rounds to 2^-1022: UE and PE
    expect(sd(m, 'mul', MIN_D, 1 - 2 ** -53)).toBe(bitsD(MIN_D));
    expect(flags(m)).toBe(UE | PE);
    // (2^-1022 - 2^-1074) * (1 + 2^-52) = 2^-1022 (1 - 2^-104) rounds to 2^-1022 before the exponent bound: not tiny
    m.cpu.r[MXCSR] = 0x1f80;
    expect(sd(m, 'mul', MIN_D - 2 ** -1074, 1 + 2 ** -52)).toBe(bitsD(MIN_D));
    expect(flags(m)).toBe(DE | PE);
    // an exact denormal result is not an underflow when UE is masked
    m.cpu.r[MXCSR] = 0x1f80;
    expect(sd(m, 'mul', MIN_D, 0.5)).toBe(bitsD(MIN_D / 2));
    expect(flags(m)).toBe(0);
  });
  it('flush-to-zero and denormals-are-zero', () => {
    const m = machine(0x1f80 | 0x8000);
    expect(sd(m, 'mul', MIN_D, 0.5)).toBe(bitsD(0));
    expect(flags(m)).toBe(UE | PE);
    m.cpu.r[MXCSR] = 0x1f80 | 0x8000; // x + 0 with a denormal x is a tiny result too
    expect(sd(m, 'sub', 0, -(2 ** -1074))).toBe(bitsD(0));
    expect(flags(m)).toBe(DE | UE | PE);
    m.cpu.r[MXCSR] = 0x1f80 | 0x40; // DAZ: a denormal operand is zero and DE is not raised
    expect(sd(m, 'add', 2 ** -1070, 2 ** -1070)).toBe(bitsD(0));
    expect(flags(m)).toBe(0);
    m.cpu.r[MXCSR] = 0x1f80; // without DAZ
    expect(sd(m, 'add', 2 ** -1070, 2 ** -1070)).toBe(bitsD(2 ** -1069));
    expect(flags(m)).toBe(DE);
  });
  it('directed rounding modes', () => {
    const m = machine();
    const up = 1 + 2 ** -52;
    const want: [number, number, number][] = [[0x0000, 1, -1], [0x2000, 1, -up], [0x4000, up, -1], [0x6000, 1, -1]];
    for (const [rc, pos, neg] of want) {
      m.cpu.r[MXCSR] = 0x1f80 | rc;
      expect(sd(m, 'add', 1, 2 ** -60)).toBe(bitsD(pos));
      m.cpu.r[MXCSR] = 0x1f80 | rc;
      expect(sd(m, 'add', -1, -(2 ** -60))).toBe(bitsD(neg));
      expect(flags(m)).toBe(PE);
    }
    // overflow: toward zero gives the largest finite value, nearest gives infinity
    m.cpu.r[MXCSR] = 0x1f80 | 0x6000;
    expect(sd(m, 'mul', 1e308, 10)).toBe(bitsD(Number.MAX_VALUE));
    expect(flags(m)).toBe(OE | PE);
    m.cpu.r[MXCSR] = 0x1f80;
    expect(sd(m, 'mul', 1e308, 10)).toBe(bitsD(Infinity));
    expect(flags(m)).toBe(OE | PE);
    // round up on a single-precision divide: 1/3 rounded up
    m.cpu.r[MXCSR] = 0x1f80 | 0x4000;
    setXS(m, 1, [bitsS(1), 0, 0, 0]); setXS(m, 2, [bitsS(3), 0, 0, 0]);
    run(m, enc([0xf3], [0x5e], 1, 2));
    const rn = Math.fround(1 / 3), upv = rn < 1 / 3 ? fromBitsS(bitsS(rn) + 1) : rn;
    expect(xs(m, 1, 0)).toBe(bitsS(upv));
  });
  it('unmasked exceptions raise #XM and leave the destination unchanged', () => {
    const m = machine(0x1f80 & ~0x200); // ZM clear
    setXD(m, 1, [bitsD(1), 7n]); setXD(m, 2, [bitsD(0), 0n]);
    expect(run(m, enc([0xf2], [0x5e], 1, 2))).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(19);
    expect(xd(m, 1, 0)).toBe(bitsD(1));
    expect(flags(m)).toBe(ZE);
    expect(m.rip()).toBe(BigInt(CODE));
    // unmasked precision: no result stored, PE set
    m.cpu.r[MXCSR] = 0x1f80 & ~0x1000;
    setXD(m, 1, [bitsD(1), 0n]); setXD(m, 2, [bitsD(3), 0n]);
    expect(run(m, enc([0xf2], [0x5e], 1, 2))).toBe(RunStatus.EXIT);
    expect(xd(m, 1, 0)).toBe(bitsD(1));
    expect(flags(m)).toBe(PE);
    // unmasked overflow of an exact product (2^1000 * 2^100): OE alone, nothing stored
    m.cpu.r[MXCSR] = 0x1f80 & ~0x400;
    setXD(m, 1, [bitsD(2 ** 1000), 0n]); setXD(m, 2, [bitsD(2 ** 100), 0n]);
    expect(run(m, enc([0xf2], [0x59], 1, 2))).toBe(RunStatus.EXIT);
    expect(xd(m, 1, 0)).toBe(bitsD(2 ** 1000));
    expect(flags(m)).toBe(OE);
    // unmasked underflow: UE even for an exact tiny result
    m.cpu.r[MXCSR] = 0x1f80 & ~0x800;
    setXD(m, 1, [bitsD(MIN_D), 0n]); setXD(m, 2, [bitsD(0.5), 0n]);
    expect(run(m, enc([0xf2], [0x59], 1, 2))).toBe(RunStatus.EXIT);
    expect(flags(m)).toBe(UE);
    // a precision exception while only ZE is unmasked: no fault
    m.cpu.r[MXCSR] = 0x1f80 & ~0x200;
    expect(sd(m, 'div', 1, 3)).toBe(bitsD(1 / 3));
    expect(flags(m)).toBe(PE);
  });
});

describe('compares, min/max', () => {
  const QN = 0x7ff8000000000000n, SN = 0x7ff4000000000000n;
  it('CMPSD with all 8 predicates, QNaN signalling only for LT LE NLT NLE', () => {
    const m = machine();
    const pairs: [bigint, bigint][] = [[bitsD(1), bitsD(2)], [bitsD(2), bitsD(2)], [bitsD(3), bitsD(2)], [QN, bitsD(2)], [bitsD(-0), bitsD(0)]];
    for (const [a, b] of pairs) {
      for (let p = 0; p < 8; p++) {
        m.cpu.r[MXCSR] = 0x1f80;
        setXD(m, 1, [a, 9n]); setXD(m, 2, [b, 0n]);
        expect(run(m, enc([0xf2], [0xc2], 1, 2, p))).toBe(RunStatus.BUDGET);
        const x = fromBitsD(a), y = fromBitsD(b), un = Number.isNaN(x) || Number.isNaN(y);
        const t = [x === y, x < y, x <= y, un, !(x === y), !(x < y), !(x <= y), !un][p]!;
        expect(xd(m, 1, 0)).toBe(t ? 0xffffffffffffffffn : 0n);
        expect(xd(m, 1, 1)).toBe(9n);
        expect(flags(m)).toBe(un && [1, 2, 5, 6].includes(p) ? IE : 0);
      }
    }
    m.cpu.r[MXCSR] = 0x1f80;
    setXD(m, 1, [SN, 0n]); setXD(m, 2, [bitsD(1), 0n]);
    run(m, enc([0xf2], [0xc2], 1, 2, 0)); // EQ is quiet but an SNaN still signals
    expect(flags(m)).toBe(IE);
  });
  it('CMPPS lanes', () => {
    const m = machine();
    setXS(m, 1, [bitsS(1), bitsS(5), 0x7fc00000, bitsS(-1)]);
    setXS(m, 2, [bitsS(2), bitsS(5), bitsS(0), bitsS(-2)]);
    run(m, enc([], [0xc2], 1, 2, 2)); // LE
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([0xffffffff, 0xffffffff, 0, 0]);
    expect(flags(m)).toBe(IE);
  });
  it('COMISD / UCOMISD set ZF PF CF and clear OF SF AF', () => {
    const m = machine();
    const cases: [bigint, bigint, number][] = [[bitsD(1), bitsD(2), CF], [bitsD(2), bitsD(1), 0], [bitsD(0), bitsD(-0), ZF], [QN, bitsD(1), ZF | PF | CF]];
    for (const [a, b, f] of cases) {
      for (const [op, sig] of [[0x2f, true], [0x2e, false]] as const) {
        m.cpu.r[MXCSR] = 0x1f80;
        m.setFlags(0x202 | OF | SF | AF | CF | ZF | PF);
        setXD(m, 1, [a, 0n]); setXD(m, 2, [b, 0n]);
        run(m, enc([0x66], [op], 1, 2));
        expect(m.flags() & (OF | SF | AF | ZF | PF | CF)).toBe(f);
        expect(flags(m)).toBe(a === QN && sig ? IE : 0);
      }
    }
  });
  it('UCOMISS with a denormal operand sets DE', () => {
    const m = machine();
    setXS(m, 1, [1, 0, 0, 0]); setXS(m, 2, [bitsS(1), 0, 0, 0]);
    run(m, enc([], [0x2e], 1, 2));
    expect(m.flags() & (ZF | PF | CF)).toBe(CF);
    expect(flags(m)).toBe(DE);
  });
  it('MINSD / MAXSD return the second operand for NaNs and equal zeros', () => {
    const m = machine();
    const cases: [bigint, bigint, 'min' | 'max', bigint, number][] = [
      [bitsD(1), bitsD(2), 'min', bitsD(1), 0], [bitsD(1), bitsD(2), 'max', bitsD(2), 0],
      [bitsD(0), bitsD(-0), 'min', bitsD(-0), 0], [bitsD(-0), bitsD(0), 'max', bitsD(0), 0],
      [QN, bitsD(3), 'min', bitsD(3), IE], [bitsD(3), SN, 'max', SN, IE],
    ];
    for (const [a, b, k, want, fl] of cases) {
      m.cpu.r[MXCSR] = 0x1f80;
      setXD(m, 1, [a, 0n]); setXD(m, 2, [b, 0n]);
      run(m, enc([0xf2], [k === 'min' ? 0x5d : 0x5f], 1, 2));
      expect(xd(m, 1, 0)).toBe(want);
      expect(flags(m)).toBe(fl);
    }
  });
});

describe('conversions', () => {
  const INDEF64 = 0x8000000000000000n;
  it('CVTSD2SI / CVTTSD2SI: rounding, truncation, integer indefinite', () => {
    const m = machine();
    const cases: [number, bigint, bigint, number][] = [ // value, cvt (nearest even), cvtt, flags
      [2.5, 2n, 2n, PE], [-2.5, -2n, -2n, PE], [3.5, 4n, 3n, PE], [-0.7, -1n, 0n, PE], [42, 42n, 42n, 0],
      [1e20, INDEF64, INDEF64, IE], [NaN, INDEF64, INDEF64, IE], [-(2 ** 63), -(2n ** 63n), -(2n ** 63n), 0],
      [2 ** 63, INDEF64, INDEF64, IE], [-Infinity, INDEF64, INDEF64, IE],
    ];
    for (const [v, rn, tz, fl] of cases) {
      for (const [op, want] of [[0x2d, rn], [0x2c, tz]] as const) {
        m.cpu.r[MXCSR] = 0x1f80;
        setXD(m, 1, [bitsD(v), 0n]);
        m.setReg(0, 0x1234n);
        run(m, enc([0xf2], [op], 0, 1, undefined, true));
        expect(m.reg(0), `${op} ${v}`).toBe(BigInt.asUintN(64, want));
        expect(flags(m)).toBe(fl);
      }
    }
    // 32-bit destination: out of range -> 0x80000000, upper half cleared
    m.cpu.r[MXCSR] = 0x1f80;
    setXD(m, 1, [bitsD(3e9), 0n]); m.setReg(0, 0xffffffffffffffffn);
    run(m, enc([0xf2], [0x2c], 0, 1));
    expect(m.reg(0)).toBe(0x80000000n);
    expect(flags(m)).toBe(IE);
    m.cpu.r[MXCSR] = 0x1f80 | 0x2000; // round down
    setXD(m, 1, [bitsD(-1.25), 0n]);
    run(m, enc([0xf2], [0x2d], 0, 1));
    expect(m.reg(0)).toBe(0xfffffffen);
  });
  it('CVTSI2SD / CVTSI2SS from 64-bit integers round once (no double rounding)', () => {
    const m = machine();
    /** Reference: round the integer to p bits, ties to even, with BigInt. */
    const roundTo = (v: bigint, p: number): bigint => {
      const neg = v < 0n, a = neg ? -v : v, n = a.toString(2).length;
      if (n <= p) return v;
      const sh = BigInt(n - p), q = a >> sh, r = a & ((1n << sh) - 1n), half = 1n << (sh - 1n);
      const up = r > half || (r === half && (q & 1n) === 1n);
      const res = (up ? q + 1n : q) << sh;
      return neg ? -res : res;
    };
    const vals = [2n ** 63n + 2n ** 39n + 1n, 2n ** 53n + 1n, -(2n ** 62n) - 3n, 0x7fffffffffffffffn, -(2n ** 63n), 12345n, -1n, 0n];
    for (const v of vals) {
      const vv = BigInt.asIntN(64, v);
      m.cpu.r[MXCSR] = 0x1f80;
      m.setReg(0, vv);
      run(m, enc([0xf2], [0x2a], 1, 0, undefined, true));
      expect(xd(m, 1, 0)).toBe(bitsD(Number(roundTo(vv, 53))));
      expect(flags(m)).toBe(roundTo(vv, 53) === vv ? 0 : PE);
      m.cpu.r[MXCSR] = 0x1f80;
      run(m, enc([0xf3], [0x2a], 1, 0, undefined, true));
      expect(xs(m, 1, 0), `${vv}`).toBe(bitsS(Number(roundTo(vv, 24))));
      expect(flags(m)).toBe(roundTo(vv, 24) === vv ? 0 : PE);
    }
  });
  it('CVTSD2SS / CVTSS2SD: overflow, underflow, NaN payloads', () => {
    const m = machine();
    const d2s = (x: bigint): number => { setXD(m, 2, [x, 0n]); run(m, enc([0xf2], [0x5a], 1, 2)); return xs(m, 1, 0); };
    m.cpu.r[MXCSR] = 0x1f80;
    expect(d2s(bitsD(0.1))).toBe(bitsS(Math.fround(0.1)));
    expect(flags(m)).toBe(PE);
    m.cpu.r[MXCSR] = 0x1f80;
    expect(d2s(bitsD(1e300))).toBe(0x7f800000);
    expect(flags(m)).toBe(OE | PE);
    m.cpu.r[MXCSR] = 0x1f80;
    expect(d2s(bitsD(1e-40))).toBe(bitsS(Math.fround(1e-40)));
    expect(flags(m)).toBe(UE | PE);
    m.cpu.r[MXCSR] = 0x1f80;
    expect(d2s(0x7ff0000020000000n)).toBe(0x7fc00001); // SNaN: quieted, payload truncated
    expect(flags(m)).toBe(IE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 2, [0xff800003, 0, 0, 0]);
    run(m, enc([0xf3], [0x5a], 1, 2));
    expect(xd(m, 1, 0)).toBe(0xfff8000060000000n);
    expect(flags(m)).toBe(IE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 2, [1, 0, 0, 0]); // smallest binary32 denormal
    run(m, enc([0xf3], [0x5a], 1, 2));
    expect(xd(m, 1, 0)).toBe(bitsD(2 ** -149));
    expect(flags(m)).toBe(DE);
  });
  it('packed conversions', () => {
    const m = machine();
    setXS(m, 2, [5, -7, 0x7fffffff, 0x80000000]);
    run(m, enc([], [0x5b], 1, 2)); // CVTDQ2PS
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([5, -7, 2 ** 31, -(2 ** 31)].map(bitsS));
    expect(flags(m)).toBe(PE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 2, [bitsS(1.5), bitsS(-2.5), bitsS(3e9), 0x7fc00000]);
    run(m, enc([0x66], [0x5b], 1, 2)); // CVTPS2DQ
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([2, 0xfffffffe, 0x80000000, 0x80000000]);
    expect(flags(m)).toBe(IE | PE);
    m.cpu.r[MXCSR] = 0x1f80;
    setXS(m, 2, [bitsS(1.5), bitsS(-2.5), bitsS(7), 0]);
    run(m, enc([0xf3], [0x5b], 1, 2)); // CVTTPS2DQ
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([1, 0xfffffffe, 7, 0]);
    setXD(m, 2, [bitsD(-1.5), bitsD(2 ** 40)]);
    setXD(m, 1, [7n, 7n]);
    m.cpu.r[MXCSR] = 0x1f80;
    run(m, enc([0xf2], [0xe6], 1, 2)); // CVTPD2DQ
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([0xfffffffe, 0x80000000, 0, 0]);
    setXS(m, 2, [0xfffffffd, 6, 9, 9]);
    run(m, enc([0xf3], [0xe6], 1, 2)); // CVTDQ2PD
    expect([xd(m, 1, 0), xd(m, 1, 1)]).toEqual([bitsD(-3), bitsD(6)]);
    setXS(m, 2, [bitsS(1.25), bitsS(-0), 9, 9]);
    run(m, enc([], [0x5a], 1, 2)); // CVTPS2PD
    expect([xd(m, 1, 0), xd(m, 1, 1)]).toEqual([bitsD(1.25), bitsD(-0)]);
    setXD(m, 2, [bitsD(0.1), bitsD(-2)]);
    run(m, enc([0x66], [0x5a], 1, 2)); // CVTPD2PS
    expect([0, 1, 2, 3].map((i) => xs(m, 1, i))).toEqual([bitsS(Math.fround(0.1)), bitsS(-2), 0, 0]);
  });
});
