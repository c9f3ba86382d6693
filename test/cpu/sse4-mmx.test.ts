// SSE4.2 string compares and CRC32, and the MMX/x87 aliasing, against published values: the CRC-32C check value
// of "123456789" (RFC 3720 B.4, iSCSI: E3069283h), the SDM's string-compare definitions on hand-made strings, and
// the SDM vol. 3 12.2 MMX state rules (TOP 0, bits 79:64 all ones, EMMS empties every tag).
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';
import { CF, DATA, exec as run, OF, SF, ZF } from '../helpers/bare-code.js';

const XMM = Off.XMM;
const FTOP = Off.FTOP >> 2, FTAG = Off.FTAG >> 2;

let shared: BareMachine | undefined;
function machine(): BareMachine {
  shared ??= new BareMachine({ memory: 8 * 1024 * 1024 });
  const m = shared;
  for (let i = 0; i < 16; i++) m.setReg(i, 0n);
  m.cpu.s.u8.fill(0, XMM, XMM + 256);
  m.setFlags(0x202);
  m.setReg(3, BigInt(DATA));
  return m;
}
const setX = (m: BareMachine, n: number, text: string): void => {
  const b = new Uint8Array(16);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  m.cpu.s.u8.set(b, XMM + 16 * n);
};

describe('CRC32', () => {
  it('CRC-32C of "123456789" with the usual pre/post inversion is E3069283h (byte, dword and qword forms)', () => {
    const m = machine();
    m.load(DATA, new TextEncoder().encode('123456789'));
    // mov eax, -1; then crc32 eax, byte [rbx+i] for i = 0..8; not eax
    const code: number[] = [0xb8, 0xff, 0xff, 0xff, 0xff];
    for (let i = 0; i < 9; i++) code.push(0xf2, 0x0f, 0x38, 0xf0, 0x43, i);
    code.push(0xf7, 0xd0);
    expect(run(m, code, 11)).toBe(RunStatus.BUDGET);
    expect(m.reg(0)).toBe(0xe3069283n);
    // the same bytes as a qword (12345678) then a byte (9), through a 64-bit destination
    m.setReg(0, 0xffffffff_ffffffffn);
    expect(run(m, [0xf2, 0x48, 0x0f, 0x38, 0xf1, 0x03, 0xf2, 0x48, 0x0f, 0x38, 0xf0, 0x43, 0x08, 0xf7, 0xd0], 3)).toBe(RunStatus.BUDGET);
    expect(m.reg(0) & 0xffffffffn).toBe(0xe3069283n);
  });
});

describe('PCMPISTRI / PCMPESTRI', () => {
  // pcmpistri xmm1, xmm2, imm8: 66 0F 3A 63 /r ib (ModRM 0xca = xmm1, xmm2)
  const istri = (imm: number): number[] => [0x66, 0x0f, 0x3a, 0x63, 0xca, imm];
  it('equal any: the first character of the string that is in the set; CF/ZF/SF/OF as the SDM defines them', () => {
    const m = machine();
    setX(m, 1, ',;!'); setX(m, 2, 'hello, world');
    run(m, istri(0x00));
    expect(m.reg(1)).toBe(5n);
    const f = m.flags();
    expect(f & (CF | ZF | SF | OF)).toBe(CF | ZF | SF); // a match, both strings end inside the register, bit 0 clear
    run(m, istri(0x40)); // most significant match
    expect(m.reg(1)).toBe(5n);
  });
  it('ranges: the first letter; negative polarity: the first non-letter; no match gives 16', () => {
    const m = machine();
    setX(m, 1, 'azAZ'); setX(m, 2, '12 ab');
    run(m, istri(0x04));
    expect(m.reg(1)).toBe(3n);
    run(m, istri(0x34)); // masked negative: the first valid element that is not a letter
    expect(m.reg(1)).toBe(0n);
    setX(m, 2, '123');
    run(m, istri(0x04));
    expect(m.reg(1)).toBe(16n);
    expect(m.flags() & CF).toBe(0);
  });
  it('equal ordered finds a substring, and a prefix of the needle at the end of the register', () => {
    const m = machine();
    setX(m, 1, 'lazy'); setX(m, 2, 'the lazy dog');
    run(m, istri(0x0c));
    expect(m.reg(1)).toBe(4n);
    m.cpu.s.u8.set(new TextEncoder().encode('xxxxxxxxxxxxxxla'), XMM + 32); // 16 bytes, no terminator
    run(m, istri(0x0c));
    expect(m.reg(1)).toBe(14n);
    expect(m.flags() & ZF).toBe(0);
  });
  it('explicit lengths: |EAX| and |EDX| saturated at 16', () => {
    const m = machine();
    setX(m, 1, 'ab'); setX(m, 2, 'xxab');
    m.setReg(0, 2n); m.setReg(2, -3n); // the string is 3 bytes long: "xxa" holds no "ab"
    run(m, [0x66, 0x0f, 0x3a, 0x61, 0xca, 0x0c]);
    expect(m.reg(1)).toBe(16n);
    m.setReg(2, 100n);
    run(m, [0x66, 0x0f, 0x3a, 0x61, 0xca, 0x0c]);
    expect(m.reg(1)).toBe(2n);
    expect(m.flags() & ZF).toBe(0); // |EDX| >= 16
  });
});

describe('MMX and the x87 registers', () => {
  it('an MMX write sets bits 79:64 of the physical register, TOP to 0 and every register non-empty; EMMS empties them', () => {
    const m = machine();
    m.cpu.r[FTOP] = 5; m.cpu.r[FTAG] = 0xffff;
    m.setReg(0, 0x1122334455667788n);
    // movq mm3, rax (48 0F 6E D8)
    expect(run(m, [0x48, 0x0f, 0x6e, 0xd8])).toBe(RunStatus.BUDGET);
    const o = Off.ST + 16 * 3;
    expect(m.cpu.s.dv.getBigUint64(o, true)).toBe(0x1122334455667788n);
    expect(m.cpu.s.dv.getUint16(o + 8, true)).toBe(0xffff);
    expect(m.cpu.r[FTOP]).toBe(0);
    for (let p = 0; p < 8; p++) expect((m.cpu.r[FTAG]! >> (2 * p)) & 3, `tag ${p}`).not.toBe(3);
    expect((m.cpu.r[FTAG]! >> 6) & 3).toBe(2); // exponent all ones: special
    // emms (0F 77)
    m.cpu.r[FTOP] = 0;
    run(m, [0x0f, 0x77]);
    expect(m.cpu.r[FTAG]).toBe(0xffff);
  });
  it('a pending unmasked x87 exception raises #MF before the MMX instruction does anything', () => {
    const m = machine();
    m.cpu.r[Off.FSW >> 2] = 0x81; // IE pending, ES set
    m.cpu.r[FTOP] = 2;
    expect(run(m, [0x0f, 0xef, 0xc0])).toBe(RunStatus.EXIT); // pxor mm0, mm0
    expect(m.cpu.lastFault?.vector).toBe(16);
    expect(m.cpu.r[FTOP]).toBe(2);
    m.cpu.r[Off.FSW >> 2] = 0;
  });
});
