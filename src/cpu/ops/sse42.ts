// SSE4.2 on XMM registers (SDM vol. 2): PCMPGTQ and the packed string compares PCMPESTRI PCMPESTRM PCMPISTRI
// PCMPISTRM (SDM vol. 2, 4.1 "Instructions that use imm8 as a control byte"). imm8[1:0] element format
// (unsigned/signed bytes/words), imm8[3:2] aggregation (equal any, ranges, equal each, equal ordered),
// imm8[5:4] polarity, imm8[6] least/most significant index (I) or bit/element mask (M). xmm1 is the set,
// range list or needle (length EAX/RAX or up to its first null), xmm2/m128 the string (EDX/RDX or first null);
// the m128 operand needs no alignment.
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { setStatusFlags } from '../flags.js';
import { Fl } from '../state.js';
import type { OpMap } from '../table.js';
import { DST, loadDst, SRC, src128, xmmOf, xmmOff } from './sse-common.js';

/** PCMPGTQ: signed 64-bit greater-than. */
function pcmpgtq(d: Decoded): Exec {
  const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, true), t = SRC.u32;
  return (c) => {
    load(c);
    const u = c.r;
    for (let i = 0; i < 4; i += 2) {
      const ah = u[k + i + 1]! | 0, bh = t[i + 1]! | 0;
      const gt = ah > bh || (ah === bh && u[k + i]! > t[i]!);
      const v = gt ? 0xffffffff : 0;
      u[k + i] = v; u[k + i + 1] = v;
    }
  };
}

/** Length of an explicit-length operand: |value| of EAX/EDX (RAX/RDX with REX.W), saturated to n. */
function explicitLength(lo: number, hi: number, wide: boolean, n: number): number {
  if (!wide) { const v = Math.abs(lo | 0); return v > n ? n : v; }
  if (hi & 0x80000000) { // negate the 64-bit value
    const nlo = (~lo + 1) >>> 0, nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
    lo = nlo; hi = nhi;
  }
  return hi !== 0 || lo > n ? n : lo;
}

/** Element i of a scratch register in format fmt (imm8[1:0]). */
function elem(u8: Uint8Array, fmt: number, i: number): number {
  if (fmt & 1) { const v = u8[2 * i]! | (u8[2 * i + 1]! << 8); return fmt & 2 ? (v << 16) >> 16 : v; }
  const v = u8[i]!;
  return fmt & 2 ? (v << 24) >> 24 : v;
}

/** Length of an implicit-length operand: the index of its first zero element (n if none). */
function implicitLength(u8: Uint8Array, fmt: number, n: number): number {
  for (let i = 0; i < n; i++) if (elem(u8, fmt, i) === 0) return i;
  return n;
}

/** IntRes2 of the compare of a (xmm1, length la) with b (xmm2/m128, length lb) under imm8. */
function compareStrings(imm: number, la: number, lb: number): number {
  const a = DST.u8, b = SRC.u8, fmt = imm & 3, n = fmt & 1 ? 8 : 16, agg = (imm >> 2) & 3;
  let res = 0;
  for (let j = 0; j < n; j++) {
    const bj = elem(b, fmt, j), vb = j < lb;
    let bit = 0;
    if (agg === 0) { // equal any
      if (vb) for (let i = 0; i < la; i++) if (elem(a, fmt, i) === bj) { bit = 1; break; }
    } else if (agg === 1) { // ranges: pairs (lower, upper)
      if (vb) for (let i = 0; i + 1 < la; i += 2) if (bj >= elem(a, fmt, i) && bj <= elem(a, fmt, i + 1)) { bit = 1; break; }
    } else if (agg === 2) { // equal each
      const va = j < la;
      bit = va && vb ? (elem(a, fmt, j) === bj ? 1 : 0) : !va && !vb ? 1 : 0;
    } else { // equal ordered: the needle a matches starting at position j
      bit = 1;
      for (let i = 0; i < n - j; i++) {
        if (i >= la) break; // invalid needle element: true
        if (j + i >= lb || elem(a, fmt, i) !== elem(b, fmt, j + i)) { bit = 0; break; }
      }
    }
    res |= bit << j;
  }
  const all = n === 16 ? 0xffff : 0xff;
  switch ((imm >> 4) & 3) {
    case 1: return ~res & all;
    case 3: return (res ^ ((1 << lb) - 1)) & all; // negate only the valid elements of xmm2/m128
    default: return res;
  }
}

/** PCMPxSTRx: explicit lengths or not, index (ECX) or mask (XMM0) output, REX.W lengths. */
function pcmpstr(explicit: boolean, index: boolean, wide: boolean): Builder {
  return (d: Decoded): Exec => {
    const k = xmmOff(xmmOf(d, 0)) >> 2, load = src128(d, 1, false), imm = d.immLo & 0xff;
    const fmt = imm & 3, n = fmt & 1 ? 8 : 16, size = 16 / n;
    return (c) => {
      load(c); loadDst(c, k);
      const u = c.r;
      const la = explicit ? explicitLength(u[0]!, u[1]!, wide, n) : implicitLength(DST.u8, fmt, n);
      const lb = explicit ? explicitLength(u[4]!, u[5]!, wide, n) : implicitLength(SRC.u8, fmt, n);
      const res = compareStrings(imm, la, lb);
      if (index) {
        let at = n;
        if (res !== 0) at = imm & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
        u[2] = at; u[3] = 0; // ECX (RCX's upper half cleared)
      } else {
        const x = xmmOff(0), s = c.s.u8;
        if (imm & 0x40) { for (let i = 0; i < 16; i++) s[x + i] = (res >> Math.floor(i / size)) & 1 ? 0xff : 0; }
        else { u[x >> 2] = res; u[(x >> 2) + 1] = 0; u[(x >> 2) + 2] = 0; u[(x >> 2) + 3] = 0; }
      }
      setStatusFlags(u, (res !== 0 ? Fl.CF : 0) | (lb < n ? Fl.ZF : 0) | (la < n ? Fl.SF : 0) | (res & 1 ? Fl.OF : 0));
    };
  };
}

/** SSE4.2 instructions on XMM registers. */
export const sse42Ops: OpMap = {
  [Code.Pcmpgtq_xmm_xmmm128]: pcmpgtq,
  [Code.Pcmpestri_xmm_xmmm128_imm8]: pcmpstr(true, true, false),
  [Code.Pcmpestri64_xmm_xmmm128_imm8]: pcmpstr(true, true, true),
  [Code.Pcmpestrm_xmm_xmmm128_imm8]: pcmpstr(true, false, false),
  [Code.Pcmpestrm64_xmm_xmmm128_imm8]: pcmpstr(true, false, true),
  [Code.Pcmpistri_xmm_xmmm128_imm8]: pcmpstr(false, true, false),
  [Code.Pcmpistrm_xmm_xmmm128_imm8]: pcmpstr(false, false, false),
};
