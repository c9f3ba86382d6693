// SSE/SSE2 moves, integer, shuffle and MXCSR instructions. Expected values come from per-lane BigInt
// reference formulas written from the SDM's operation sections.
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';
import { DATA, exec as run, sseEnc as enc } from '../helpers/bare-code.js';

const XMM = Off.XMM, MXCSR = Off.MXCSR >> 2;

let shared: BareMachine | undefined;
function machine(): BareMachine {
  shared ??= new BareMachine({ memory: 8 * 1024 * 1024 });
  const m = shared;
  for (let i = 0; i < 16; i++) m.setReg(i, 0n);
  m.cpu.s.u8.fill(0, XMM, XMM + 256);
  m.cpu.r[MXCSR] = 0x1f80;
  m.setReg(3, BigInt(DATA)); // rbx -> DATA
  return m;
}



const M128 = (1n << 128n) - 1n;
function setX(m: BareMachine, n: number, v: bigint): void {
  for (let i = 0; i < 16; i++) m.cpu.s.u8[XMM + n * 16 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}
function getX(m: BareMachine, n: number): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(m.cpu.s.u8[XMM + n * 16 + i]!);
  return v;
}
function poke(m: BareMachine, addr: number, size: number, v: bigint): void {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  m.load(addr, b);
}
function peek(m: BareMachine, addr: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(m.mem.bytes[addr + i]!);
  return v;
}

/** Lanes of `bits` of a 128-bit value (unsigned). */
const lanes = (v: bigint, bits: number): bigint[] =>
  Array.from({ length: 128 / bits }, (_, i) => (v >> BigInt(i * bits)) & ((1n << BigInt(bits)) - 1n));
const join = (ls: bigint[], bits: number): bigint =>
  ls.reduce((acc, x, i) => acc | (BigInt.asUintN(bits, x) << BigInt(i * bits)), 0n);
const sgn = (x: bigint, bits: number): bigint => BigInt.asIntN(bits, x);
const clamp = (x: bigint, lo: bigint, hi: bigint): bigint => (x < lo ? lo : x > hi ? hi : x);

function rng(seed: number): () => bigint {
  let s = seed >>> 0;
  const next = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  const edges = [0n, 0x80n, 0x7fn, 0xffn, 0x8000n, 0x7fffn, 0xffffn, 0x80000000n, 0xffffffffn, 1n];
  return () => {
    let v = 0n;
    for (let i = 0; i < 16; i++) {
      const k = next() % 8;
      const b = k === 0 ? 0n : k === 1 ? 0xffn : k === 2 ? 0x80n : k === 3 ? 0x7fn : BigInt(next() & 0xff);
      v |= b << BigInt(8 * i);
    }
    if (next() % 5 === 0) v = edges[next() % edges.length]! * 0x01010101010101010101010101010101n & M128;
    return v;
  };
}

type Lanewise = [string, number, number, (a: bigint, b: bigint, bits: number) => bigint];
const ones = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const LANEWISE: Lanewise[] = [
  ['paddb', 0xfc, 8, (a, b) => a + b], ['paddw', 0xfd, 16, (a, b) => a + b], ['paddd', 0xfe, 32, (a, b) => a + b],
  ['paddq', 0xd4, 64, (a, b) => a + b], ['psubb', 0xf8, 8, (a, b) => a - b], ['psubw', 0xf9, 16, (a, b) => a - b],
  ['psubd', 0xfa, 32, (a, b) => a - b], ['psubq', 0xfb, 64, (a, b) => a - b],
  ['paddusb', 0xdc, 8, (a, b) => clamp(a + b, 0n, 255n)], ['paddusw', 0xdd, 16, (a, b) => clamp(a + b, 0n, 65535n)],
  ['psubusb', 0xd8, 8, (a, b) => clamp(a - b, 0n, 255n)], ['psubusw', 0xd9, 16, (a, b) => clamp(a - b, 0n, 65535n)],
  ['paddsb', 0xec, 8, (a, b) => clamp(sgn(a, 8) + sgn(b, 8), -128n, 127n)],
  ['paddsw', 0xed, 16, (a, b) => clamp(sgn(a, 16) + sgn(b, 16), -32768n, 32767n)],
  ['psubsb', 0xe8, 8, (a, b) => clamp(sgn(a, 8) - sgn(b, 8), -128n, 127n)],
  ['psubsw', 0xe9, 16, (a, b) => clamp(sgn(a, 16) - sgn(b, 16), -32768n, 32767n)],
  ['pcmpeqb', 0x74, 8, (a, b, n) => (a === b ? ones(n) : 0n)], ['pcmpeqw', 0x75, 16, (a, b, n) => (a === b ? ones(n) : 0n)],
  ['pcmpeqd', 0x76, 32, (a, b, n) => (a === b ? ones(n) : 0n)],
  ['pcmpgtb', 0x64, 8, (a, b, n) => (sgn(a, n) > sgn(b, n) ? ones(n) : 0n)],
  ['pcmpgtw', 0x65, 16, (a, b, n) => (sgn(a, n) > sgn(b, n) ? ones(n) : 0n)],
  ['pcmpgtd', 0x66, 32, (a, b, n) => (sgn(a, n) > sgn(b, n) ? ones(n) : 0n)],
  ['pminub', 0xda, 8, (a, b) => (a < b ? a : b)], ['pmaxub', 0xde, 8, (a, b) => (a > b ? a : b)],
  ['pminsw', 0xea, 16, (a, b) => (sgn(a, 16) < sgn(b, 16) ? a : b)], ['pmaxsw', 0xee, 16, (a, b) => (sgn(a, 16) > sgn(b, 16) ? a : b)],
  ['pavgb', 0xe0, 8, (a, b) => (a + b + 1n) >> 1n], ['pavgw', 0xe3, 16, (a, b) => (a + b + 1n) >> 1n],
  ['pmullw', 0xd5, 16, (a, b) => sgn(a, 16) * sgn(b, 16)],
  ['pmulhw', 0xe5, 16, (a, b) => (sgn(a, 16) * sgn(b, 16)) >> 16n], ['pmulhuw', 0xe4, 16, (a, b) => (a * b) >> 16n],
  ['pmuludq', 0xf4, 64, (a, b) => (a & 0xffffffffn) * (b & 0xffffffffn)],
  ['pmaddwd', 0xf5, 32, (a, b) => sgn(a & 0xffffn, 16) * sgn(b & 0xffffn, 16) + sgn(a >> 16n, 16) * sgn(b >> 16n, 16)],
  ['psadbw', 0xf6, 64, (a, b) => lanes(a, 8).slice(0, 8).reduce((s, x, i) => {
    const y = lanes(b, 8)[i]!; return s + (x > y ? x - y : y - x);
  }, 0n)],
  ['pand', 0xdb, 64, (a, b) => a & b], ['pandn', 0xdf, 64, (a, b) => ~a & b], ['por', 0xeb, 64, (a, b) => a | b],
  ['pxor', 0xef, 64, (a, b) => a ^ b],
];

describe('SSE2 integer lane-wise instructions', () => {
  for (const [name, op, bits, f] of LANEWISE) {
    it(`${name}: register and aligned memory source`, () => {
      const m = machine();
      const r = rng(op * 31 + bits);
      for (let t = 0; t < 60; t++) {
        const a = r(), b = r();
        const want = join(lanes(a, bits).map((x, i) => f(x, lanes(b, bits)[i]!, bits)), bits);
        setX(m, 9, a); setX(m, 2, b);
        expect(run(m, enc([0x66], [op], 9, 2))).toBe(RunStatus.BUDGET);
        expect(getX(m, 9), name).toBe(want);
        setX(m, 1, a); poke(m, DATA, 16, b);
        expect(run(m, enc([0x66], [op], 1, 'mem'))).toBe(RunStatus.BUDGET);
        expect(getX(m, 1), name).toBe(want);
      }
      // a source equal to the destination
      const a = r();
      setX(m, 4, a);
      run(m, enc([0x66], [op], 4, 4));
      expect(getX(m, 4)).toBe(join(lanes(a, bits).map((x) => f(x, x, bits)), bits));
    });
  }
  it('the PS/PD bitwise forms match PAND/PANDN/POR/PXOR', () => {
    const m = machine(), r = rng(5);
    for (const [pfx, op, f] of [[[], 0x54, (a: bigint, b: bigint) => a & b], [[0x66], 0x55, (a: bigint, b: bigint) => ~a & b & M128],
      [[], 0x56, (a: bigint, b: bigint) => a | b], [[0x66], 0x57, (a: bigint, b: bigint) => a ^ b]] as const) {
      const a = r(), b = r();
      setX(m, 0, a); setX(m, 15, b);
      run(m, enc([...pfx], [op], 0, 15));
      expect(getX(m, 0)).toBe(f(a, b));
    }
  });
  it('a misaligned m128 source raises #GP(0)', () => {
    const m = machine();
    m.setReg(3, BigInt(DATA + 4));
    setX(m, 1, 5n);
    expect(run(m, enc([0x66], [0xfe], 1, 'mem'))).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(getX(m, 1)).toBe(5n);
  });
});

describe('shifts', () => {
  const kinds: [string, number, number, number, number, (x: bigint, n: bigint, bits: number) => bigint][] = [
    // name, xmm-count opcode, imm opcode, /digit, lane bits, reference
    ['psllw', 0xf1, 0x71, 6, 16, (x, n, b) => (n >= BigInt(b) ? 0n : x << n)],
    ['pslld', 0xf2, 0x72, 6, 32, (x, n, b) => (n >= BigInt(b) ? 0n : x << n)],
    ['psllq', 0xf3, 0x73, 6, 64, (x, n, b) => (n >= BigInt(b) ? 0n : x << n)],
    ['psrlw', 0xd1, 0x71, 2, 16, (x, n, b) => (n >= BigInt(b) ? 0n : x >> n)],
    ['psrld', 0xd2, 0x72, 2, 32, (x, n, b) => (n >= BigInt(b) ? 0n : x >> n)],
    ['psrlq', 0xd3, 0x73, 2, 64, (x, n, b) => (n >= BigInt(b) ? 0n : x >> n)],
    ['psraw', 0xe1, 0x71, 4, 16, (x, n, b) => sgn(x, b) >> (n >= BigInt(b) ? BigInt(b - 1) : n)],
    ['psrad', 0xe2, 0x72, 4, 32, (x, n, b) => sgn(x, b) >> (n >= BigInt(b) ? BigInt(b - 1) : n)],
  ];
  const counts = [0n, 1n, 3n, 7n, 8n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 200n, 1n << 32n, (1n << 64n) - 1n];
  for (const [name, opx, opi, digit, bits, f] of kinds) {
    it(`${name} by xmm count and by imm8`, () => {
      const m = machine(), r = rng(opx);
      for (const n of counts) {
        const a = r();
        const want = join(lanes(a, bits).map((x) => f(x, n, bits)), bits);
        setX(m, 3, a); setX(m, 4, n | (0xdeadn << 64n)); // the upper quadword of the count is ignored
        run(m, enc([0x66], [opx], 3, 4));
        expect(getX(m, 3), `${name} ${n}`).toBe(want);
        if (n < 256n) {
          setX(m, 3, a);
          run(m, enc([0x66], [opi], digit, 3, Number(n)));
          expect(getX(m, 3), `${name} imm ${n}`).toBe(want);
        }
      }
    });
  }
  it('pslldq / psrldq shift bytes', () => {
    const m = machine(), r = rng(77);
    for (const n of [0, 1, 5, 8, 15, 16, 200]) {
      const a = r();
      setX(m, 12, a);
      run(m, enc([0x66], [0x73], 7, 12, n));
      expect(getX(m, 12)).toBe(n >= 16 ? 0n : (a << BigInt(8 * n)) & M128);
      setX(m, 12, a);
      run(m, enc([0x66], [0x73], 3, 12, n));
      expect(getX(m, 12)).toBe(n >= 16 ? 0n : a >> BigInt(8 * n));
    }
  });
});

describe('shuffles, unpacks, packs', () => {
  const r = rng(1234);
  it('punpckl*/punpckh* interleave halves (and unpcklps/pd)', () => {
    const m = machine();
    const table: [number[], number, number, boolean][] = [
      [[0x66], 0x60, 8, false], [[0x66], 0x61, 16, false], [[0x66], 0x62, 32, false], [[0x66], 0x6c, 64, false],
      [[0x66], 0x68, 8, true], [[0x66], 0x69, 16, true], [[0x66], 0x6a, 32, true], [[0x66], 0x6d, 64, true],
      [[], 0x14, 32, false], [[], 0x15, 32, true], [[0x66], 0x14, 64, false], [[0x66], 0x15, 64, true],
    ];
    for (const [pfx, op, bits, high] of table) {
      const a = r(), b = r();
      const la = lanes(a, bits), lb = lanes(b, bits), h = 64 / bits, off = high ? h : 0;
      const want = join(Array.from({ length: 2 * h }, (_, i) => (i & 1 ? lb : la)[off + (i >> 1)]!), bits);
      setX(m, 5, a); setX(m, 6, b);
      run(m, enc(pfx, [op], 5, 6));
      expect(getX(m, 5), `op ${op.toString(16)}`).toBe(want);
      setX(m, 5, a); run(m, enc(pfx, [op], 5, 5));
      expect(getX(m, 5)).toBe(join(Array.from({ length: 2 * h }, (_, i) => la[off + (i >> 1)]!), bits));
    }
  });
  it('packsswb / packuswb / packssdw saturate', () => {
    const m = machine();
    for (let t = 0; t < 20; t++) {
      const a = r(), b = r();
      setX(m, 1, a); setX(m, 2, b);
      run(m, enc([0x66], [0x63], 1, 2));
      const ws = [...lanes(a, 16), ...lanes(b, 16)].map((x) => sgn(x, 16));
      expect(getX(m, 1)).toBe(join(ws.map((x) => clamp(x, -128n, 127n)), 8));
      setX(m, 1, a); run(m, enc([0x66], [0x67], 1, 2));
      expect(getX(m, 1)).toBe(join(ws.map((x) => clamp(x, 0n, 255n)), 8));
      setX(m, 1, a); run(m, enc([0x66], [0x6b], 1, 2));
      const ds = [...lanes(a, 32), ...lanes(b, 32)].map((x) => sgn(x, 32));
      expect(getX(m, 1)).toBe(join(ds.map((x) => clamp(x, -32768n, 32767n)), 16));
    }
  });
  it('pshufd / pshuflw / pshufhw / shufps / shufpd', () => {
    const m = machine();
    for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x93]) {
      const a = r(), b = r();
      const d = lanes(b, 32), w = lanes(b, 16);
      setX(m, 7, a); setX(m, 8, b);
      run(m, enc([0x66], [0x70], 7, 8, imm));
      expect(getX(m, 7)).toBe(join([0, 1, 2, 3].map((i) => d[(imm >> (2 * i)) & 3]!), 32));
      run(m, enc([0xf2], [0x70], 7, 8, imm));
      expect(getX(m, 7)).toBe(join([...[0, 1, 2, 3].map((i) => w[(imm >> (2 * i)) & 3]!), ...w.slice(4)], 16));
      run(m, enc([0xf3], [0x70], 7, 8, imm));
      expect(getX(m, 7)).toBe(join([...w.slice(0, 4), ...[0, 1, 2, 3].map((i) => w[4 + ((imm >> (2 * i)) & 3)]!)], 16));
      setX(m, 7, a);
      run(m, enc([], [0xc6], 7, 8, imm));
      const da = lanes(a, 32);
      expect(getX(m, 7)).toBe(join([da[imm & 3]!, da[(imm >> 2) & 3]!, d[(imm >> 4) & 3]!, d[(imm >> 6) & 3]!], 32));
      setX(m, 7, a);
      run(m, enc([0x66], [0xc6], 7, 8, imm));
      expect(getX(m, 7)).toBe(join([lanes(a, 64)[imm & 1]!, lanes(b, 64)[(imm >> 1) & 1]!], 64));
    }
  });
  it('pextrw / pinsrw / pmovmskb / movmskps / movmskpd', () => {
    const m = machine();
    const a = 0x8001_7fff_ffff_0000_1234_8765_4321_fedcn;
    setX(m, 10, a);
    for (let i = 0; i < 8; i++) {
      m.setReg(0, 0xffffffffffffffffn);
      run(m, enc([0x66], [0xc5], 0, 10, i + 8)); // imm8 uses bits 2:0 only
      expect(m.reg(0)).toBe(lanes(a, 16)[i]!);
    }
    m.setReg(2, 0xaaaabbbbccccddddn);
    run(m, enc([0x66], [0xc4], 10, 2, 3));
    expect(getX(m, 10)).toBe((a & ~(0xffffn << 48n)) | (0xddddn << 48n));
    poke(m, DATA, 2, 0x5a5an);
    run(m, enc([0x66], [0xc4], 10, 'mem', 7));
    expect(getX(m, 10) >> 112n).toBe(0x5a5an);
    const v = r();
    setX(m, 11, v);
    run(m, enc([0x66], [0xd7], 0, 11));
    expect(m.reg(0)).toBe(lanes(v, 8).reduce((s, x, i) => s | ((x >> 7n) << BigInt(i)), 0n));
    run(m, enc([], [0x50], 0, 11));
    expect(m.reg(0)).toBe(lanes(v, 32).reduce((s, x, i) => s | ((x >> 31n) << BigInt(i)), 0n));
    run(m, enc([0x66], [0x50], 0, 11, undefined, true));
    expect(m.reg(0)).toBe(lanes(v, 64).reduce((s, x, i) => s | ((x >> 63n) << BigInt(i)), 0n));
  });
});

describe('moves', () => {
  const A = 0x0123456789abcdef_fedcba9876543210n, B = 0x1111222233334444_5555666677778888n;
  it('movd / movq between GPRs, memory and xmm zero-extend', () => {
    const m = machine();
    setX(m, 1, M128);
    m.setReg(0, 0xaaaaaaaabbbbbbbbn);
    run(m, enc([0x66], [0x6e], 1, 0));
    expect(getX(m, 1)).toBe(0xbbbbbbbbn);
    setX(m, 1, M128);
    run(m, enc([0x66], [0x6e], 1, 0, undefined, true));
    expect(getX(m, 1)).toBe(0xaaaaaaaabbbbbbbbn);
    setX(m, 2, A);
    m.setReg(0, 0xffffffffffffffffn);
    run(m, enc([0x66], [0x7e], 2, 0));
    expect(m.reg(0)).toBe(0x76543210n);
    run(m, enc([0x66], [0x7e], 2, 0, undefined, true));
    expect(m.reg(0)).toBe(0xfedcba9876543210n);
    run(m, enc([0x66], [0x7e], 2, 'mem', undefined, true));
    expect(peek(m, DATA, 8)).toBe(0xfedcba9876543210n);
    setX(m, 3, M128);
    run(m, enc([0xf3], [0x7e], 3, 2)); // movq xmm, xmm zeroes the upper quadword
    expect(getX(m, 3)).toBe(0xfedcba9876543210n);
    setX(m, 3, M128); poke(m, DATA, 8, 0x42n);
    run(m, enc([0xf3], [0x7e], 3, 'mem'));
    expect(getX(m, 3)).toBe(0x42n);
    setX(m, 4, M128);
    run(m, enc([0x66], [0xd6], 2, 4)); // movq xmm/m64, xmm (register form zeroes the upper quadword)
    expect(getX(m, 4)).toBe(0xfedcba9876543210n);
  });
  it('movdqa/movaps fault on misalignment; movdqu/movups do not', () => {
    const m = machine();
    poke(m, DATA + 8, 16, A);
    m.setReg(3, BigInt(DATA + 8));
    for (const [pfx, op] of [[[0x66], 0x6f], [[], 0x28], [[0x66], 0x28]] as const) {
      expect(run(m, enc([...pfx], [op], 1, 'mem'))).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector).toBe(13);
    }
    for (const [pfx, op] of [[[0xf3], 0x6f], [[], 0x10], [[0x66], 0x10]] as const) {
      setX(m, 1, 0n);
      expect(run(m, enc([...pfx], [op], 1, 'mem'))).toBe(RunStatus.BUDGET);
      expect(getX(m, 1)).toBe(A);
    }
    setX(m, 2, B);
    expect(run(m, enc([0x66], [0x7f], 2, 'mem'))).toBe(RunStatus.EXIT); // movdqa store
    expect(run(m, enc([0x66], [0xe7], 2, 'mem'))).toBe(RunStatus.EXIT); // movntdq
    expect(peek(m, DATA + 8, 16)).toBe(A);
    expect(run(m, enc([0xf3], [0x7f], 2, 'mem'))).toBe(RunStatus.BUDGET); // movdqu store
    expect(peek(m, DATA + 8, 16)).toBe(B);
    m.setReg(3, BigInt(DATA));
    expect(run(m, enc([], [0x29], 2, 'mem'))).toBe(RunStatus.BUDGET); // movaps store, aligned
    expect(peek(m, DATA, 16)).toBe(B);
    setX(m, 9, A);
    run(m, enc([], [0x28], 1, 9)); // movaps reg, reg
    expect(getX(m, 1)).toBe(A);
  });
  it('a split 16-byte store faulting on the second page writes nothing', () => {
    const m = machine();
    const page = 0x5ff000; // the 2-MiB page at 0x600000 is made not present
    const t = 8 * 1024 * 1024 - 0x4000 + 0x2000;
    const saved = m.mem.dv.getUint32(t + 3 * 8, true);
    m.mem.dv.setUint32(t + 3 * 8, 0, true);
    m.cpu.flushTlb();
    try {
      poke(m, page + 0xff8, 8, 0x1122334455667788n);
      m.setReg(3, BigInt(page + 0xff8));
      setX(m, 2, B);
      expect(run(m, enc([0xf3], [0x7f], 2, 'mem'))).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector).toBe(14);
      expect(peek(m, page + 0xff8, 8)).toBe(0x1122334455667788n);
    } finally {
      m.mem.dv.setUint32(t + 3 * 8, saved, true);
      m.cpu.flushTlb();
    }
  });
  it('movss / movsd: register form merges, load zeroes, store writes the low element', () => {
    const m = machine();
    setX(m, 1, A); setX(m, 2, B);
    run(m, enc([0xf3], [0x10], 1, 2));
    expect(getX(m, 1)).toBe((A & ~0xffffffffn) | (B & 0xffffffffn));
    setX(m, 1, A);
    run(m, enc([0xf2], [0x10], 1, 2));
    expect(getX(m, 1)).toBe((A & ~0xffffffffffffffffn) | (B & 0xffffffffffffffffn));
    poke(m, DATA, 8, 0x0102030405060708n);
    setX(m, 1, A); run(m, enc([0xf3], [0x10], 1, 'mem'));
    expect(getX(m, 1)).toBe(0x05060708n);
    setX(m, 1, A); run(m, enc([0xf2], [0x10], 1, 'mem'));
    expect(getX(m, 1)).toBe(0x0102030405060708n);
    poke(m, DATA, 16, 0n);
    run(m, enc([0xf3], [0x11], 2, 'mem'));
    expect(peek(m, DATA, 16)).toBe(0x77778888n);
    run(m, enc([0xf2], [0x11], 2, 'mem'));
    expect(peek(m, DATA, 16)).toBe(0x5555666677778888n);
  });
  it('movhps / movlps / movhpd / movlpd / movhlps / movlhps', () => {
    const m = machine();
    const lo = (x: bigint): bigint => x & 0xffffffffffffffffn, hi = (x: bigint): bigint => x >> 64n;
    poke(m, DATA, 8, 0xabcdn);
    for (const [pfx, op, isHigh] of [[[], 0x16, true], [[0x66], 0x16, true], [[], 0x12, false], [[0x66], 0x12, false]] as const) {
      setX(m, 1, A);
      run(m, enc([...pfx], [op], 1, 'mem'));
      expect(getX(m, 1)).toBe(isHigh ? (0xabcdn << 64n) | lo(A) : (hi(A) << 64n) | 0xabcdn);
    }
    setX(m, 2, B);
    run(m, enc([], [0x17], 2, 'mem')); // movhps m64, xmm
    expect(peek(m, DATA, 8)).toBe(hi(B));
    run(m, enc([0x66], [0x13], 2, 'mem')); // movlpd m64, xmm
    expect(peek(m, DATA, 8)).toBe(lo(B));
    setX(m, 1, A);
    run(m, enc([], [0x12], 1, 2)); // movhlps
    expect(getX(m, 1)).toBe((hi(A) << 64n) | hi(B));
    setX(m, 1, A);
    run(m, enc([], [0x16], 1, 2)); // movlhps
    expect(getX(m, 1)).toBe((lo(B) << 64n) | lo(A));
  });
  it('maskmovdqu stores the selected bytes at [rdi]', () => {
    const m = machine();
    poke(m, DATA + 0x100, 16, 0n);
    m.setReg(7, BigInt(DATA + 0x100));
    setX(m, 1, A); setX(m, 2, 0x80_00_ff_00_00_00_00_00_00_00_00_00_00_00_00_80n);
    run(m, enc([0x66], [0xf7], 1, 2));
    expect(peek(m, DATA + 0x100, 16)).toBe(A & 0xff_00_ff_00_00_00_00_00_00_00_00_00_00_00_00_ffn);
  });
});

describe('MXCSR', () => {
  it('ldmxcsr / stmxcsr, reserved bits raise #GP(0)', () => {
    const m = machine();
    poke(m, DATA, 4, 0x7f80n | 0x3fn);
    run(m, enc([], [0xae], 2, 'mem'));
    expect(m.cpu.r[MXCSR]).toBe(0x7fbf);
    poke(m, DATA + 4, 4, 0n);
    m.setReg(3, BigInt(DATA + 4));
    run(m, enc([], [0xae], 3, 'mem'));
    expect(peek(m, DATA + 4, 4)).toBe(0x7fbfn);
    poke(m, DATA, 4, 0x10000n | 0x1f80n);
    m.setReg(3, BigInt(DATA));
    expect(run(m, enc([], [0xae], 2, 'mem'))).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(13);
    expect(m.cpu.r[MXCSR]).toBe(0x7fbf);
  });
});
