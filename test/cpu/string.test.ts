import { describe, expect, it } from 'vitest';
import type { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';
import { VENDOR_TABLE } from '../../src/cpu/vendor-model.js';
import {
  CF, codeName, DATA, DF, exec, machine, OSZAPC, peek, poke, R, RAX, RCX, RDI, RO, RSI, SF, subFlags, ZF,
} from './flow-harness.js';

const SIZES = [1, 2, 4, 8] as const;
const pre = (esz: number): number[] => (esz === 2 ? [0x66] : esz === 8 ? [0x48] : []);
const opc = (esz: number, byteOp: number): number => (esz === 1 ? byteOp : byteOp + 1);
const SRC = DATA, DST = DATA + 0x10000;

/** Deterministic pseudo-random bytes. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
}

function bytesAt(m: BareMachine, addr: number, n: number): Uint8Array {
  return m.mem.bytes.slice(addr, addr + n);
}

describe('single string operations', () => {
  for (const esz of SIZES) {
    it(`MOVS/STOS/LODS/CMPS/SCAS of ${esz} bytes, both directions`, () => {
      for (const down of [false, true]) {
        const d = down ? -esz : esz;
        const m = machine();
        m.load(SRC, pattern(16, esz));
        if (down) m.setFlags(0x202 | DF);
        m.setReg(RSI, BigInt(SRC + 8)); m.setReg(RDI, BigInt(DST + 8));
        exec(m, [...pre(esz), opc(esz, 0xa4)]); // movs
        expect(peek(m, DST + 8, esz)).toBe(peek(m, SRC + 8, esz));
        expect(m.reg(RSI)).toBe(BigInt(SRC + 8 + d));
        expect(m.reg(RDI)).toBe(BigInt(DST + 8 + d));
        // stos
        m.setReg(RAX, 0x8877665544332211n); m.setReg(RDI, BigInt(DST));
        exec(m, [...pre(esz), opc(esz, 0xaa)]);
        expect(peek(m, DST, esz)).toBe(0x8877665544332211n & ((1n << BigInt(8 * esz)) - 1n));
        expect(m.reg(RDI)).toBe(BigInt(DST + d));
        // lods
        m.setReg(RAX, 0xffffffffffffffffn); m.setReg(RSI, BigInt(SRC));
        exec(m, [...pre(esz), opc(esz, 0xac)]);
        const v = peek(m, SRC, esz);
        const wantRax = esz === 4 ? v : esz === 8 ? v : (0xffffffffffffffffn & ~((1n << BigInt(8 * esz)) - 1n)) | v;
        expect(m.reg(RAX)).toBe(wantRax);
        expect(m.reg(RSI)).toBe(BigInt(SRC + d));
        // cmps: flags of [rsi] - [rdi]
        m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(SRC + 1));
        exec(m, [...pre(esz), opc(esz, 0xa6)]);
        expect(m.flags() & OSZAPC).toBe(subFlags(peek(m, SRC, esz), peek(m, SRC + 1, esz), esz * 8));
        expect(m.reg(RSI)).toBe(BigInt(SRC + d));
        expect(m.reg(RDI)).toBe(BigInt(SRC + 1 + d));
        // scas: flags of accumulator - [rdi]
        m.setReg(RAX, 0x0123456789abcdefn); m.setReg(RDI, BigInt(SRC + 3));
        exec(m, [...pre(esz), opc(esz, 0xae)]);
        expect(m.flags() & OSZAPC).toBe(subFlags(0x0123456789abcdefn, peek(m, SRC + 3, esz), esz * 8));
        expect(m.reg(RDI)).toBe(BigInt(SRC + 3 + d));
      }
    });
  }

  it('32-bit address size uses ESI/EDI and zero-extends them', () => {
    const m = machine();
    poke(m, SRC, 1, 0x5an);
    m.setReg(RSI, 0xffff_0000_0000_0000n + BigInt(SRC)); m.setReg(RDI, 0x1_0000_0000n + BigInt(DST));
    expect(codeName([0x67, 0xa4])).toBe('Movsb_m8_m8');
    exec(m, [0x67, 0xa4]);
    expect(peek(m, DST, 1)).toBe(0x5an);
    expect([m.reg(RSI), m.reg(RDI)]).toEqual([BigInt(SRC + 1), BigInt(DST + 1)]);
  });

  it('an FS override applies to the source only', () => {
    const m = machine();
    poke(m, SRC + 0x40, 1, 0x77n);
    m.cpu.r[R(Off.FS_BASE)] = 0x40;
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST));
    exec(m, [0x64, 0xa4]);
    expect(peek(m, DST, 1)).toBe(0x77n);
    expect(m.reg(RSI)).toBe(BigInt(SRC + 1));
  });
});

describe('REP MOVS / STOS / LODS', () => {
  it('zero count: nothing happens and RIP moves on', () => {
    const m = machine();
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 0n);
    exec(m, [0xf3, 0xa4]);
    expect(m.rip()).toBe(0x1002n);
    expect([m.reg(RSI), m.reg(RDI)]).toEqual([BigInt(SRC), BigInt(DST)]);
    expect(m.cpu.icount).toBe(1);
  });

  it('zero ECX under 0x67 writes no register (the CPU model, VENDOR_TABLE.repA32ZeroCount: SDM pseudo-code)', () => {
    expect(VENDOR_TABLE.repA32ZeroCount.model).toBe('no-write');
    const hiBits = 0x5555_5555_0000_0000n;
    for (const code of [[0x67, 0xf3, 0xa4], [0x67, 0xf3, 0xaa], [0x67, 0xf3, 0xac], [0x67, 0xf3, 0xa6], [0x67, 0xf2, 0xae]]) {
      const m = machine();
      m.setReg(RCX, hiBits); m.setReg(RSI, hiBits | 0x10n); m.setReg(RDI, hiBits | 0x20n);
      m.setFlags(0x202 | 0x40);
      exec(m, code);
      expect([m.reg(RCX), m.reg(RSI), m.reg(RDI)]).toEqual([hiBits, hiBits | 0x10n, hiBits | 0x20n]);
      expect(m.flags()).toBe(0x202 | 0x40);
      expect(m.rip()).toBe(0x1003n);
    }
  });

  for (const esz of SIZES) {
    it(`REP MOVS ${esz}: a long unaligned copy across pages, one step per element`, () => {
      const m = machine();
      const n = 3000, src = SRC + 0x123, dst = DST + 0x7ff;
      const data = pattern(n * esz, 7);
      m.load(src, data);
      m.setReg(RSI, BigInt(src)); m.setReg(RDI, BigInt(dst)); m.setReg(RCX, BigInt(n));
      const st = exec(m, [0xf3, ...pre(esz), opc(esz, 0xa4)], n);
      expect(st).toBe(RunStatus.BUDGET);
      expect(m.rip()).toBe(BigInt(0x1002 + pre(esz).length));
      expect(bytesAt(m, dst, n * esz)).toEqual(data);
      expect(peek(m, dst + n * esz, 1)).toBe(0n);
      expect([m.reg(RSI), m.reg(RDI), m.reg(RCX)]).toEqual([BigInt(src + n * esz), BigInt(dst + n * esz), 0n]);
      expect(m.cpu.icount).toBe(n);
    });

    it(`REP MOVS ${esz} backwards (DF=1)`, () => {
      const m = machine();
      const n = 700, data = pattern(n * esz, 3);
      m.load(SRC, data);
      m.setFlags(0x202 | DF);
      const last = (n - 1) * esz;
      m.setReg(RSI, BigInt(SRC + last)); m.setReg(RDI, BigInt(DST + last)); m.setReg(RCX, BigInt(n));
      exec(m, [0xf3, ...pre(esz), opc(esz, 0xa4)], 100000);
      expect(bytesAt(m, DST, n * esz)).toEqual(data);
      expect(m.reg(RSI)).toBe(BigInt(SRC - esz));
    });

    it(`REP MOVS ${esz} with the destination overlapping ahead of the source copies element by element`, () => {
      for (const gap of [1, 3, esz, esz + 1]) {
        const m = machine();
        const n = 600, src = SRC + 0xf00; // crosses a page
        const init = pattern(n * esz + gap, 11);
        m.load(src, init);
        const ref = Array.from(init);
        for (let i = 0; i < n; i++) {
          const el = ref.slice(src - src + i * esz, i * esz + esz); // read the whole element, then write it
          for (let k = 0; k < esz; k++) ref[i * esz + gap + k] = el[k]!;
        }
        m.setReg(RSI, BigInt(src)); m.setReg(RDI, BigInt(src + gap)); m.setReg(RCX, BigInt(n));
        exec(m, [0xf3, ...pre(esz), opc(esz, 0xa4)], 100000);
        expect(Array.from(bytesAt(m, src, n * esz + gap)), `gap ${gap}`).toEqual(ref);
      }
    });

    it(`REP STOS ${esz}: uniform and mixed values across pages`, () => {
      for (const v of [0n, 0x4242424242424242n, 0x0102030405060708n]) {
        const m = machine();
        const n = 1500, dst = DST + 0x801;
        m.setReg(RAX, v); m.setReg(RDI, BigInt(dst)); m.setReg(RCX, BigInt(n));
        m.load(dst, new Uint8Array(n * esz + 8).fill(0xee));
        exec(m, [0xf3, ...pre(esz), opc(esz, 0xaa)], 100000);
        const want = v & ((1n << BigInt(8 * esz)) - 1n);
        for (const i of [0, 1, n / 2, n - 1]) expect(peek(m, dst + i * esz, esz)).toBe(want);
        expect(peek(m, dst + n * esz, 1)).toBe(0xeen);
        expect([m.reg(RDI), m.reg(RCX)]).toEqual([BigInt(dst + n * esz), 0n]);
        expect(m.cpu.icount).toBe(n + 1);
      }
    });
  }

  it('REP LODSB leaves the last byte in AL', () => {
    const m = machine();
    m.load(SRC, new Uint8Array([1, 2, 3, 4, 5]));
    m.setReg(RSI, BigInt(SRC)); m.setReg(RCX, 5n);
    exec(m, [0xf3, 0xac], 100);
    expect(m.reg(RAX)).toBe(5n);
    expect(m.reg(RSI)).toBe(BigInt(SRC + 5));
  });

  it('REP MOVSB overwriting the code that follows takes effect (self-modifying code)', () => {
    const m = machine();
    // rep stosb over the next two bytes (mov al, 1) with NOPs
    m.setReg(RAX, 0x90n); m.setReg(RDI, 0x1002n); m.setReg(RCX, 2n);
    exec(m, [0xf3, 0xaa, 0xb0, 0x01], 4); // two iterations, then nop, nop
    expect(m.reg(RAX)).toBe(0x90n);
    expect(m.rip()).toBe(0x1004n);
  });
});

describe('REPE / REPNE CMPS and SCAS', () => {
  it('REPE CMPSB stops at the first difference with its flags', () => {
    const m = machine();
    const a = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), b = new Uint8Array([1, 2, 3, 9, 5, 6, 7, 8]);
    m.load(SRC, a); m.load(DST, b);
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 8n);
    exec(m, [0xf3, 0xa6], 100);
    expect(m.reg(RCX)).toBe(4n);
    expect([m.reg(RSI), m.reg(RDI)]).toEqual([BigInt(SRC + 4), BigInt(DST + 4)]);
    expect(m.flags() & OSZAPC).toBe(subFlags(4n, 9n, 8));
    expect(m.cpu.icount).toBe(4 + 1);
    // equal buffers: runs out with ZF=1
    m.load(DST, a);
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 8n);
    exec(m, [0xf3, 0xa6], 100);
    expect(m.reg(RCX)).toBe(0n);
    expect(m.flags() & ZF).toBe(ZF);
  });

  it('REPNE SCASB finds a byte (strlen idiom); REPE SCASQ skips equal qwords', () => {
    const m = machine();
    m.load(SRC, new TextEncoder().encode('hello, world\0'));
    m.setReg(RAX, 0n); m.setReg(RDI, BigInt(SRC)); m.setReg(RCX, 0xffffffffffffffffn);
    exec(m, [0xf2, 0xae], 1000);
    expect(m.reg(RCX)).toBe(0xffffffffffffffffn - 13n); // not(rcx) - 1 = 12 = strlen
    expect(m.reg(RDI)).toBe(BigInt(SRC + 13));
    expect(m.flags() & ZF).toBe(ZF);
    for (let i = 0; i < 4; i++) poke(m, DST + 8 * i, 8, i < 3 ? 7n : 8n);
    m.setReg(RAX, 7n); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 10n);
    exec(m, [0xf3, 0x48, 0xaf], 1000);
    expect(m.reg(RCX)).toBe(6n);
    expect(m.flags() & OSZAPC).toBe(subFlags(7n, 8n, 64));
  });
});

describe('long REPE/REPNE scans across pages', () => {
  for (const esz of SIZES) {
    it(`REPE CMPS ${esz} and REPNE SCAS ${esz} find a difference past page boundaries`, () => {
      for (const at of [0, 1, 700, 1499]) {
        const m = machine();
        const n = 1500, a = SRC + 0xffd, b = DST + 0x3; // unaligned; both runs cross pages
        const data = pattern(n * esz, 5);
        const other = data.slice();
        other[at * esz + esz - 1] = other[at * esz + esz - 1]! ^ 0x40; // the last byte of element `at` differs
        m.load(a, data); m.load(b, other);
        m.setReg(RSI, BigInt(a)); m.setReg(RDI, BigInt(b)); m.setReg(RCX, BigInt(n + 5));
        exec(m, [0xf3, ...pre(esz), opc(esz, 0xa6)], 100000);
        expect(m.reg(RCX)).toBe(BigInt(n + 5 - (at + 1)));
        expect([m.reg(RSI), m.reg(RDI)]).toEqual([BigInt(a + (at + 1) * esz), BigInt(b + (at + 1) * esz)]);
        expect(m.flags() & OSZAPC).toBe(subFlags(peek(m, a + at * esz, esz), peek(m, b + at * esz, esz), esz * 8));
        // REPNE SCAS for the value of element `at` of `other`, put only there
        const needle = peek(m, b + at * esz, esz);
        const hay = new Uint8Array(n * esz).fill(0x11);
        hay.set(other.subarray(at * esz, at * esz + esz), at * esz);
        m.load(b, hay);
        m.setReg(RAX, needle | 0x5a5a_0000_0000_0000n * (esz < 8 ? 1n : 0n)); m.setReg(RDI, BigInt(b)); m.setReg(RCX, BigInt(n));
        const before = m.cpu.icount;
        exec(m, [0xf2, ...pre(esz), opc(esz, 0xae)], 100000);
        expect(m.reg(RCX)).toBe(BigInt(n - (at + 1)));
        expect(m.flags() & ZF).toBe(ZF);
        expect(m.cpu.icount - before).toBe(at + 1 + 1); // iterations, then the HLT that faults at CPL 3
      }
    });
  }

  it('REPNE SCASB that runs out: RCX = 0, ZF = 0, flags of the last byte', () => {
    const m = machine();
    m.load(SRC, new Uint8Array(5000).fill(3));
    m.setReg(RAX, 9n); m.setReg(RDI, BigInt(SRC)); m.setReg(RCX, 5000n);
    exec(m, [0xf2, 0xae], 5000);
    expect(m.reg(RCX)).toBe(0n);
    expect(m.rip()).toBe(0x1002n);
    expect(m.flags() & OSZAPC).toBe(subFlags(9n, 3n, 8));
  });
});

describe('REP step accounting, single iteration, faults', () => {
  it('stops when the step budget runs out, with RIP at the instruction, and resumes', () => {
    const m = machine();
    m.load(SRC, pattern(100));
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 100n);
    expect(exec(m, [0xf3, 0xa4], 10)).toBe(RunStatus.BUDGET);
    expect(m.reg(RCX)).toBe(90n);
    expect(m.rip()).toBe(0x1000n);
    expect(m.cpu.icount).toBe(10);
    expect(m.cpu.run(90)).toBe(RunStatus.BUDGET);
    expect(m.reg(RCX)).toBe(0n);
    expect(m.rip()).toBe(0x1002n);
    expect(bytesAt(m, DST, 100)).toEqual(pattern(100));
    expect(m.cpu.icount).toBe(100);
  });

  it('a budget-limited REPNE SCASB resumes where it stopped', () => {
    const m = machine();
    m.load(SRC, new Uint8Array(64).fill(1));
    poke(m, SRC + 40, 1, 0n);
    m.setReg(RAX, 0n); m.setReg(RDI, BigInt(SRC)); m.setReg(RCX, 64n);
    expect(exec(m, [0xf2, 0xae], 25)).toBe(RunStatus.BUDGET);
    expect([m.reg(RCX), m.reg(RDI), m.rip()]).toEqual([39n, BigInt(SRC + 25), 0x1000n]);
    expect(m.cpu.run(16)).toBe(RunStatus.BUDGET);
    expect([m.reg(RCX), m.reg(RDI), m.rip()]).toEqual([23n, BigInt(SRC + 41), 0x1002n]);
    expect(m.flags() & ZF).toBe(ZF);
    expect(m.cpu.icount).toBe(41);
  });

  it('with singleIteration each execution is one iteration', () => {
    const m = machine();
    m.cpu.singleIteration = true;
    m.setReg(RAX, 0xabn); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 3n);
    exec(m, [0xf3, 0x48, 0xab], 1);
    expect([m.reg(RCX), m.rip()]).toEqual([2n, 0x1000n]);
    m.cpu.run(1);
    expect([m.reg(RCX), m.rip()]).toEqual([1n, 0x1000n]);
    m.cpu.run(1);
    expect([m.reg(RCX), m.rip()]).toEqual([0n, 0x1003n]);
    expect(m.reg(RDI)).toBe(BigInt(DST + 24));
    expect(m.cpu.icount).toBe(3);
    // REPE CMPS stops early in single-iteration mode too
    m.load(SRC, new Uint8Array([1, 2])); m.load(DST, new Uint8Array([1, 3]));
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 5n);
    exec(m, [0xf3, 0xa6], 1);
    expect(m.rip()).toBe(0x1000n);
    m.cpu.run(1);
    expect([m.reg(RCX), m.rip()]).toEqual([3n, 0x1002n]);
  });

  it('REPE CMPS interrupted by a fault or the budget keeps RFLAGS from before the instruction', () => {
    const m = machine();
    m.load(0x7ffffc, new Uint8Array([7, 7, 7, 7])); // equal bytes up to the end of mapped memory
    m.load(DST, new Uint8Array([7, 7, 7, 7, 7, 7]));
    m.setFlags(0x202 | CF | SF);
    m.setReg(RSI, 0x7ffffcn); m.setReg(RDI, BigInt(DST)); m.setReg(RCX, 6n); // the 5th source byte is at 8 MiB: #PF
    expect(exec(m, [0xf3, 0xa6], 100)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.reg(RCX)).toBe(2n);
    expect(m.flags() & OSZAPC).toBe(CF | SF);
    const m2 = machine();
    m2.load(SRC, new Uint8Array(8).fill(1)); m2.load(DST, new Uint8Array(8).fill(1));
    m2.setFlags(0x202 | CF);
    m2.setReg(RSI, BigInt(SRC)); m2.setReg(RDI, BigInt(DST)); m2.setReg(RCX, 8n);
    expect(exec(m2, [0xf3, 0xa6], 3)).toBe(RunStatus.BUDGET);
    expect([m2.reg(RCX), m2.flags() & OSZAPC]).toEqual([5n, CF]);
    m2.cpu.run(5);
    expect([m2.reg(RCX), m2.flags() & OSZAPC]).toEqual([0n, subFlags(1n, 1n, 8)]);
  });

  it('a page fault mid-REP leaves the completed iterations in the registers', () => {
    const m = machine();
    const n = 20, dst = RO - 10;
    m.load(SRC, pattern(n));
    m.setReg(RSI, BigInt(SRC)); m.setReg(RDI, BigInt(dst)); m.setReg(RCX, BigInt(n));
    expect(exec(m, [0xf3, 0xa4], 1000)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.cpu.lastFault?.cr2Lo).toBe(RO);
    expect([m.reg(RSI), m.reg(RDI), m.reg(RCX)]).toEqual([BigInt(SRC + 10), BigInt(RO), 10n]);
    expect(m.rip()).toBe(0x1000n);
    expect(bytesAt(m, dst, 10)).toEqual(pattern(n).slice(0, 10));
    expect(m.cpu.icount).toBe(10 + 1); // ten iterations and the faulting attempt
    // the same for STOSQ, faulting on the source side for MOVSQ from unmapped memory
    const m2 = machine();
    m2.setReg(RSI, 0x7ffff8n); m2.setReg(RDI, BigInt(DST)); m2.setReg(RCX, 4n); // 8 MiB: the end of memory
    expect(exec(m2, [0xf3, 0x48, 0xa5], 1000)).toBe(RunStatus.EXIT);
    expect(m2.cpu.lastFault?.vector).toBe(14);
    expect([m2.reg(RSI), m2.reg(RCX)]).toEqual([0x800000n, 3n]);
  });
});
