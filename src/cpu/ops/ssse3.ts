// SSSE3 (SDM vol. 2): PSHUFB, PHADDW/D/SW, PHSUBW/D/SW, PMADDUBSW, PMULHRSW, PSIGNB/W/D, PABSB/W/D, PALIGNR.
// Each operation is written for a register of n bytes (16 for XMM, 8 for MMX) so the MMX forms (mmx.ts)
// share it: the destination is at byte offset o of the state, its old value in DST, the source in SRC.
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import type { OpMap } from '../table.js';
import { DST, loadDst, SRC, src128, xmmOf, xmmOff } from './sse-common.js';

/** An SSSE3 operation on a register of n bytes at byte offset o (DST: its old value, SRC: the source). */
export type RegOp = (s: Uint8Array, o: number, n: number, imm: number) => void;

const sb = (x: number): number => (x << 24) >> 24;
const sw = (x: number): number => (x << 16) >> 16;
const satSW = (x: number): number => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);

/** Word i of a scratch register. */
const w = (u: Uint8Array, i: number): number => u[2 * i]! | (u[2 * i + 1]! << 8);
/** Store word v at word index i of the register at byte offset o. */
const putW = (s: Uint8Array, o: number, i: number, v: number): void => { s[o + 2 * i] = v & 0xff; s[o + 2 * i + 1] = (v >> 8) & 0xff; };
/** Dword i of a scratch register (unsigned). */
const dw = (u: Uint8Array, i: number): number => (u[4 * i]! | (u[4 * i + 1]! << 8) | (u[4 * i + 2]! << 16) | (u[4 * i + 3]! << 24)) >>> 0;
/** Store dword v at dword index i of the register at byte offset o. */
const putD = (s: Uint8Array, o: number, i: number, v: number): void => {
  s[o + 4 * i] = v & 0xff; s[o + 4 * i + 1] = (v >>> 8) & 0xff; s[o + 4 * i + 2] = (v >>> 16) & 0xff; s[o + 4 * i + 3] = (v >>> 24) & 0xff;
};

/** PSHUFB: byte i = 0 if source byte i has bit 7 set, else destination byte (source byte i mod n). */
export const pshufb: RegOp = (s, o, n) => {
  const a = DST.u8, b = SRC.u8;
  for (let i = 0; i < n; i++) { const x = b[i]!; s[o + i] = x & 0x80 ? 0 : a[x & (n - 1)]!; }
};

/** PHADDW/PHSUBW/PHADDSW/PHSUBSW: pairs of words of the destination, then of the source. */
function hWords(sub: boolean, sat: boolean): RegOp {
  return (s, o, n) => {
    const half = n >> 2; // result words taken from each operand
    for (let i = 0; i < 2 * half; i++) {
      const src = i < half ? DST.u8 : SRC.u8, j = i < half ? i : i - half;
      const x = sw(w(src, 2 * j)), y = sw(w(src, 2 * j + 1));
      const r = sub ? x - y : x + y;
      putW(s, o, i, sat ? satSW(r) : r);
    }
  };
}

/** PHADDD/PHSUBD: pairs of dwords of the destination, then of the source. */
function hDwords(sub: boolean): RegOp {
  return (s, o, n) => {
    const half = n >> 3; // result dwords taken from each operand
    for (let i = 0; i < 2 * half; i++) {
      const src = i < half ? DST.u8 : SRC.u8, j = i < half ? i : i - half;
      const x = dw(src, 2 * j), y = dw(src, 2 * j + 1);
      putD(s, o, i, (sub ? x - y : x + y) >>> 0);
    }
  };
}

/** PMADDUBSW: unsigned destination bytes times signed source bytes, adjacent products added with signed saturation. */
export const pmaddubsw: RegOp = (s, o, n) => {
  const a = DST.u8, b = SRC.u8;
  for (let i = 0; i < n >> 1; i++) putW(s, o, i, satSW(a[2 * i]! * sb(b[2 * i]!) + a[2 * i + 1]! * sb(b[2 * i + 1]!)));
};

/** PMULHRSW: signed word products scaled by 2^-15 with rounding: ((a*b >> 14) + 1) >> 1. */
export const pmulhrsw: RegOp = (s, o, n) => {
  for (let i = 0; i < n >> 1; i++) putW(s, o, i, (((sw(w(DST.u8, i)) * sw(w(SRC.u8, i))) >> 14) + 1) >> 1);
};

/** PSIGNB/W/D with element size `size`: negate, keep or zero each destination element by the source's sign. */
function psign(size: number): RegOp {
  return (s, o, n) => {
    for (let i = 0; i < n / size; i++) {
      const src = size === 1 ? sb(SRC.u8[i]!) : size === 2 ? sw(w(SRC.u8, i)) : dw(SRC.u8, i) | 0;
      const a = size === 1 ? DST.u8[i]! : size === 2 ? w(DST.u8, i) : dw(DST.u8, i);
      const r = src < 0 ? -a : src === 0 ? 0 : a;
      if (size === 1) s[o + i] = r & 0xff; else if (size === 2) putW(s, o, i, r); else putD(s, o, i, r >>> 0);
    }
  };
}

/** PABSB/W/D: absolute value of each source element (unsigned result: 0x80 stays 0x80). */
function pabs(size: number): RegOp {
  return (s, o, n) => {
    for (let i = 0; i < n / size; i++) {
      if (size === 1) s[o + i] = Math.abs(sb(SRC.u8[i]!)) & 0xff;
      else if (size === 2) putW(s, o, i, Math.abs(sw(w(SRC.u8, i))));
      else putD(s, o, i, Math.abs(dw(SRC.u8, i) | 0) >>> 0);
    }
  };
}

/** PALIGNR: the destination:source concatenation (destination high) shifted right by imm8 bytes, low n bytes. */
export const palignr: RegOp = (s, o, n, imm) => {
  for (let i = 0; i < n; i++) {
    const j = imm + i;
    s[o + i] = j < n ? SRC.u8[j]! : j < 2 * n ? DST.u8[j - n]! : 0;
  }
};

/** The SSSE3 operations by mnemonic stem (shared with the MMX forms). */
export const SSSE3_OPS = {
  pshufb, phaddw: hWords(false, false), phaddd: hDwords(false), phaddsw: hWords(false, true),
  phsubw: hWords(true, false), phsubd: hDwords(true), phsubsw: hWords(true, true), pmaddubsw, pmulhrsw,
  psignb: psign(1), psignw: psign(2), psignd: psign(4), pabsb: pabs(1), pabsw: pabs(2), pabsd: pabs(4), palignr,
} as const;

/** Builder of the XMM form `xmm, xmm/m128 [, imm8]`. */
function xmm(op: RegOp): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)), k = o >> 2, load = src128(d, 1, true), imm = d.immLo & 0xff;
    return (c) => { load(c); loadDst(c, k); op(c.s.u8, o, 16, imm); };
  };
}

/** SSSE3 instructions on XMM registers. */
export const ssse3Ops: OpMap = {
  [Code.Pshufb_xmm_xmmm128]: xmm(SSSE3_OPS.pshufb),
  [Code.Phaddw_xmm_xmmm128]: xmm(SSSE3_OPS.phaddw),
  [Code.Phaddd_xmm_xmmm128]: xmm(SSSE3_OPS.phaddd),
  [Code.Phaddsw_xmm_xmmm128]: xmm(SSSE3_OPS.phaddsw),
  [Code.Phsubw_xmm_xmmm128]: xmm(SSSE3_OPS.phsubw),
  [Code.Phsubd_xmm_xmmm128]: xmm(SSSE3_OPS.phsubd),
  [Code.Phsubsw_xmm_xmmm128]: xmm(SSSE3_OPS.phsubsw),
  [Code.Pmaddubsw_xmm_xmmm128]: xmm(SSSE3_OPS.pmaddubsw),
  [Code.Pmulhrsw_xmm_xmmm128]: xmm(SSSE3_OPS.pmulhrsw),
  [Code.Psignb_xmm_xmmm128]: xmm(SSSE3_OPS.psignb),
  [Code.Psignw_xmm_xmmm128]: xmm(SSSE3_OPS.psignw),
  [Code.Psignd_xmm_xmmm128]: xmm(SSSE3_OPS.psignd),
  [Code.Pabsb_xmm_xmmm128]: xmm(SSSE3_OPS.pabsb),
  [Code.Pabsw_xmm_xmmm128]: xmm(SSSE3_OPS.pabsw),
  [Code.Pabsd_xmm_xmmm128]: xmm(SSSE3_OPS.pabsd),
  [Code.Palignr_xmm_xmmm128_imm8]: xmm(SSSE3_OPS.palignr),
};
