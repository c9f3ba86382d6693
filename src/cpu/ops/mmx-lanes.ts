// The 64-bit lane operations of the MMX instructions (SDM vol. 2; MMX, the SSE/SSE2 integer instructions on MMX
// registers): each computes RES.u8[0..7] from DST (the destination's old value) and SRC (the source).
import { DST, RES, SRC } from './sse-common.js';
import { mul32, mul32Hi } from './sse-int.js';

/** An MMX operation: RES from DST, SRC and imm8. */
export type MmOp = (imm: number) => void;

const sb = (x: number): number => (x << 24) >> 24;
const sw = (x: number): number => (x << 16) >> 16;
const satSB = (x: number): number => (x > 127 ? 127 : x < -128 ? -128 : x);
const satUB = (x: number): number => (x > 255 ? 255 : x < 0 ? 0 : x);
const satSW = (x: number): number => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);

/** Byte lanes. */
export function bytes(f: (a: number, b: number) => number): MmOp {
  return () => { const a = DST.u8, b = SRC.u8, r = RES.u8; for (let i = 0; i < 8; i++) r[i] = f(a[i]!, b[i]!); };
}
/** Word lanes. */
export function words(f: (a: number, b: number) => number): MmOp {
  return () => { const a = DST.u16, b = SRC.u16, r = RES.u16; for (let i = 0; i < 4; i++) r[i] = f(a[i]!, b[i]!); };
}
/** Doubleword lanes. */
export function dwords(f: (a: number, b: number) => number): MmOp {
  return () => { const a = DST.u32, b = SRC.u32, r = RES.u32; for (let i = 0; i < 2; i++) r[i] = f(a[i]!, b[i]!); };
}

/** PADDQ (sub = false) / PSUBQ on the one quadword. */
function qAddSub(sub: boolean): MmOp {
  return () => {
    const al = DST.u32[0]!, ah = DST.u32[1]!, bl = SRC.u32[0]!, bh = SRC.u32[1]!, r = RES.u32;
    if (sub) { r[0] = al - bl; r[1] = ah - bh - (al < bl ? 1 : 0); } else { const l = al + bl; r[0] = l; r[1] = ah + bh + (l > 0xffffffff ? 1 : 0); }
  };
}

/** Shift every lane of `bits` (16, 32, 64) of DST by n into RES; kind 0 left, 1 logical right, 2 arithmetic right. */
function shiftLanes(bits: number, kind: number, n: number): void {
  if (bits === 16) {
    for (let i = 0; i < 4; i++) {
      const x = DST.u16[i]!;
      RES.u16[i] = kind === 2 ? sw(x) >> (n > 15 ? 15 : n) : n > 15 ? 0 : kind === 0 ? x << n : x >>> n;
    }
  } else if (bits === 32) {
    for (let i = 0; i < 2; i++) {
      const x = DST.u32[i]!;
      RES.u32[i] = kind === 2 ? x >> (n > 31 ? 31 : n) : n > 31 ? 0 : kind === 0 ? x << n : x >>> n;
    }
  } else {
    const lo = DST.u32[0]!, hi = DST.u32[1]!, r = RES.u32;
    if (n > 63) { r[0] = 0; r[1] = 0; } else if (n === 0) { r[0] = lo; r[1] = hi; } else if (kind === 0) {
      if (n >= 32) { r[1] = lo << (n - 32); r[0] = 0; } else { r[1] = (hi << n) | (lo >>> (32 - n)); r[0] = lo << n; }
    } else if (n >= 32) { r[0] = hi >>> (n - 32); r[1] = 0; } else { r[0] = (lo >>> n) | (hi << (32 - n)); r[1] = hi >>> n; }
  }
}

/** PSxx mm, mm/m64: the count is the whole 64-bit source (unsigned, saturating). */
export function shiftBySrc(bits: number, kind: number): MmOp {
  return () => shiftLanes(bits, kind, SRC.u32[1] !== 0 || SRC.u32[0]! > 64 ? 64 : SRC.u32[0]!);
}
/** PSxx mm, imm8. */
export function shiftByImm(bits: number, kind: number): MmOp {
  return (imm) => shiftLanes(bits, kind, imm);
}

/** PUNPCKL (high = false) / PUNPCKH with element size `size`: interleave the low (high) halves. */
export function unpack(size: number, high: boolean): MmOp {
  const n = 4 / size, base = high ? 4 : 0;
  return () => {
    const a = DST.u8, b = SRC.u8, r = RES.u8;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < size; j++) { r[2 * i * size + j] = a[base + i * size + j]!; r[(2 * i + 1) * size + j] = b[base + i * size + j]!; }
    }
  };
}

/** PACKSSWB / PACKUSWB: four signed words of each operand to saturated bytes. */
export function packWB(unsigned: boolean): MmOp {
  return () => {
    for (let i = 0; i < 4; i++) {
      const x = sw(DST.u16[i]!), y = sw(SRC.u16[i]!);
      RES.u8[i] = unsigned ? satUB(x) : satSB(x); RES.u8[4 + i] = unsigned ? satUB(y) : satSB(y);
    }
  };
}

/** PACKSSDW: two signed dwords of each operand to saturated words. */
export const packssdw: MmOp = () => {
  for (let i = 0; i < 2; i++) { RES.u16[i] = satSW(DST.i32[i]!); RES.u16[2 + i] = satSW(SRC.i32[i]!); }
};

/** PMADDWD. */
export const pmaddwd: MmOp = () => {
  for (let i = 0; i < 2; i++) {
    RES.u32[i] = sw(DST.u16[2 * i]!) * sw(SRC.u16[2 * i]!) + sw(DST.u16[2 * i + 1]!) * sw(SRC.u16[2 * i + 1]!);
  }
};

/** PMULUDQ: the unsigned product of the low dwords. */
export const pmuludq: MmOp = () => { RES.u32[0] = mul32(DST.u32[0]!, SRC.u32[0]!); RES.u32[1] = mul32Hi(); };

/** PSADBW: the sum of the eight absolute byte differences in word 0, the rest zero. */
export const psadbw: MmOp = () => {
  let s = 0;
  for (let i = 0; i < 8; i++) s += Math.abs(DST.u8[i]! - SRC.u8[i]!);
  RES.u32[0] = s; RES.u32[1] = 0;
};

/** PSHUFW: word i = source word imm8[2i+1:2i]. */
export const pshufw: MmOp = (imm) => { for (let i = 0; i < 4; i++) RES.u16[i] = SRC.u16[(imm >> (2 * i)) & 3]!; };

/** The lane-wise operations by mnemonic (lower case). */
export const MM_LANES = {
  paddb: bytes((a, b) => a + b), paddw: words((a, b) => a + b), paddd: dwords((a, b) => a + b), paddq: qAddSub(false),
  psubb: bytes((a, b) => a - b), psubw: words((a, b) => a - b), psubd: dwords((a, b) => a - b), psubq: qAddSub(true),
  paddusb: bytes((a, b) => Math.min(a + b, 0xff)), paddusw: words((a, b) => Math.min(a + b, 0xffff)),
  psubusb: bytes((a, b) => Math.max(a - b, 0)), psubusw: words((a, b) => Math.max(a - b, 0)),
  paddsb: bytes((a, b) => satSB(sb(a) + sb(b))), paddsw: words((a, b) => satSW(sw(a) + sw(b))),
  psubsb: bytes((a, b) => satSB(sb(a) - sb(b))), psubsw: words((a, b) => satSW(sw(a) - sw(b))),
  pcmpeqb: bytes((a, b) => (a === b ? 0xff : 0)), pcmpeqw: words((a, b) => (a === b ? 0xffff : 0)),
  pcmpeqd: dwords((a, b) => (a === b ? 0xffffffff : 0)),
  pcmpgtb: bytes((a, b) => (sb(a) > sb(b) ? 0xff : 0)), pcmpgtw: words((a, b) => (sw(a) > sw(b) ? 0xffff : 0)),
  pcmpgtd: dwords((a, b) => ((a | 0) > (b | 0) ? 0xffffffff : 0)),
  pand: dwords((a, b) => a & b), pandn: dwords((a, b) => ~a & b), por: dwords((a, b) => a | b), pxor: dwords((a, b) => a ^ b),
  pmullw: words((a, b) => Math.imul(a, b)), pmulhw: words((a, b) => (sw(a) * sw(b)) >> 16), pmulhuw: words((a, b) => (a * b) >>> 16),
  pavgb: bytes((a, b) => (a + b + 1) >> 1), pavgw: words((a, b) => (a + b + 1) >> 1),
  pminub: bytes((a, b) => (a < b ? a : b)), pmaxub: bytes((a, b) => (a > b ? a : b)),
  pminsw: words((a, b) => (sw(a) < sw(b) ? a : b)), pmaxsw: words((a, b) => (sw(a) > sw(b) ? a : b)),
  pmaddwd, pmuludq, psadbw, pshufw, packsswb: packWB(false), packuswb: packWB(true), packssdw,
  punpcklbw: unpack(1, false), punpcklwd: unpack(2, false), punpckldq: unpack(4, false),
  punpckhbw: unpack(1, true), punpckhwd: unpack(2, true), punpckhdq: unpack(4, true),
  psllw: shiftBySrc(16, 0), pslld: shiftBySrc(32, 0), psllq: shiftBySrc(64, 0),
  psrlw: shiftBySrc(16, 1), psrld: shiftBySrc(32, 1), psrlq: shiftBySrc(64, 1),
  psraw: shiftBySrc(16, 2), psrad: shiftBySrc(32, 2),
} as const;

/** The shift-by-immediate forms by mnemonic. */
export const MM_SHIFT_IMM = {
  psllw: shiftByImm(16, 0), pslld: shiftByImm(32, 0), psllq: shiftByImm(64, 0),
  psrlw: shiftByImm(16, 1), psrld: shiftByImm(32, 1), psrlq: shiftByImm(64, 1),
  psraw: shiftByImm(16, 2), psrad: shiftByImm(32, 2),
} as const;
