// SSE2 integer instructions on XMM registers: bitwise logic (also ANDPS/ORPS/XORPS/ANDNPS and the PD forms),
// add/subtract (wrapping and saturating), compares, min/max, averages, multiplies, PSADBW, shifts.
// The source (xmm or aligned m128) is first copied to SRC; the destination lanes are updated in place.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import type { CpuState } from '../state.js';
import type { OpMap } from '../table.js';
import { src128, SRC, xmmOf, xmmOff } from './sse-common.js';

/** A lane-wise operation on the destination at byte offset o with the source in SRC. */
type IntOp = (s: CpuState, o: number) => void;

/** Builder for `xmm, xmm/m128` integer instructions. */
function int(op: IntOp): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0));
    const load = src128(d, 1, true);
    return (c: Cpu) => { load(c); op(c.s, o); };
  };
}

const sb = (x: number): number => (x << 24) >> 24;
const sw = (x: number): number => (x << 16) >> 16;
const satSB = (x: number): number => (x > 127 ? 127 : x < -128 ? -128 : x);
const satSW = (x: number): number => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);

/** Byte lanes: u8[o+i] = f(dst byte, src byte). */
function bytes(f: (a: number, b: number) => number): IntOp {
  const t = SRC.u8;
  return (s, o) => { const u = s.u8; for (let i = 0; i < 16; i++) u[o + i] = f(u[o + i]!, t[i]!); };
}

/** Word lanes. */
function words(f: (a: number, b: number) => number): IntOp {
  const t = SRC.u16;
  return (s, o) => { const u = s.u16, k = o >> 1; for (let i = 0; i < 8; i++) u[k + i] = f(u[k + i]!, t[i]!); };
}

/** Doubleword lanes. */
function dwords(f: (a: number, b: number) => number): IntOp {
  const t = SRC.u32;
  return (s, o) => { const u = s.u32, k = o >> 2; for (let i = 0; i < 4; i++) u[k + i] = f(u[k + i]!, t[i]!); };
}

/** Quadword add (sub = false) or subtract with carry between the halves. */
function qwordAddSub(sub: boolean): IntOp {
  const t = SRC.u32;
  return (s, o) => {
    const u = s.u32, k = o >> 2;
    for (let i = 0; i < 4; i += 2) {
      const al = u[k + i]!, ah = u[k + i + 1]!, bl = t[i]!, bh = t[i + 1]!;
      if (sub) { u[k + i] = al - bl; u[k + i + 1] = ah - bh - (al < bl ? 1 : 0); }
      else { const l = al + bl; u[k + i] = l; u[k + i + 1] = ah + bh + (l > 0xffffffff ? 1 : 0); }
    }
  };
}

/** Unsigned 32x32 -> 64 multiply: returns the lo half, leaves the hi half in mulHi. */
let mulHi = 0;
/** The hi half of the last mul32 product. */
export const mul32Hi = (): number => mulHi;
export function mul32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const mid = al * bh + ah * bl; // < 2^33
  const lo = al * bl + (mid % 65536) * 65536; // < 2^49
  mulHi = (ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) >>> 0;
  return lo >>> 0;
}

const pmuludq: IntOp = (s, o) => {
  const u = s.u32, k = o >> 2, t = SRC.u32;
  for (let i = 0; i < 4; i += 2) { u[k + i] = mul32(u[k + i]!, t[i]!); u[k + i + 1] = mulHi; }
};

const pmaddwd: IntOp = (s, o) => {
  const u = s.u16, k = o >> 1, t = SRC.u16, w = s.u32, kw = o >> 2;
  for (let i = 0; i < 4; i++) {
    const v = sw(u[k + 2 * i]!) * sw(t[2 * i]!) + sw(u[k + 2 * i + 1]!) * sw(t[2 * i + 1]!);
    w[kw + i] = v; // only 0x8000*0x8000*2 overflows, wrapping to 0x80000000 as on hardware
  }
};

const psadbw: IntOp = (s, o) => {
  const u = s.u8, t = SRC.u8, w = s.u32, k = o >> 2;
  let lo = 0, hi = 0;
  for (let i = 0; i < 8; i++) { lo += Math.abs(u[o + i]! - t[i]!); hi += Math.abs(u[o + 8 + i]! - t[8 + i]!); }
  w[k] = lo; w[k + 1] = 0; w[k + 2] = hi; w[k + 3] = 0;
};

/** Bitwise logic on four dwords. */
const pand = dwords((a, b) => a & b);
const pandn = dwords((a, b) => ~a & b);
const por = dwords((a, b) => a | b);
const pxor = dwords((a, b) => a ^ b);

// ---- shifts ---------------------------------------------------------------------------------------

const enum Sh { LL = 0, RL = 1, RA = 2 }

/** Shift every lane of `bits` (16, 32, 64) of the register at byte offset o by `n` (any non-negative count). */
function shiftLanes(s: CpuState, o: number, bits: number, kind: Sh, n: number): void {
  if (bits === 16) {
    const u = s.u16, k = o >> 1;
    for (let i = 0; i < 8; i++) {
      const x = u[k + i]!;
      u[k + i] = kind === Sh.RA ? sw(x) >> (n > 15 ? 15 : n) : n > 15 ? 0 : kind === Sh.LL ? x << n : x >>> n;
    }
  } else if (bits === 32) {
    const u = s.u32, k = o >> 2;
    for (let i = 0; i < 4; i++) {
      const x = u[k + i]!;
      u[k + i] = kind === Sh.RA ? x >> (n > 31 ? 31 : n) : n > 31 ? 0 : kind === Sh.LL ? x << n : x >>> n;
    }
  } else {
    const u = s.u32, k = o >> 2;
    for (let i = 0; i < 4; i += 2) {
      const lo = u[k + i]!, hi = u[k + i + 1]!;
      if (n > 63) { u[k + i] = 0; u[k + i + 1] = 0; } else if (n === 0) { /* unchanged */ } else if (kind === Sh.LL) {
        if (n >= 32) { u[k + i + 1] = lo << (n - 32); u[k + i] = 0; } else { u[k + i + 1] = (hi << n) | (lo >>> (32 - n)); u[k + i] = lo << n; }
      } else if (n >= 32) { u[k + i] = hi >>> (n - 32); u[k + i + 1] = 0; } else {
        u[k + i] = (lo >>> n) | (hi << (32 - n)); u[k + i + 1] = hi >>> n;
      }
    }
  }
}

/** PSxx xmm, xmm/m128: the count is the low quadword of the source (unsigned, saturating). */
function shiftByXmm(bits: number, kind: Sh): Builder {
  return int((s, o) => {
    const t = SRC.u32;
    const n = t[1] !== 0 || t[0]! > 64 ? 64 : t[0]!;
    shiftLanes(s, o, bits, kind, n);
  });
}

/** PSxx xmm, imm8. */
function shiftByImm(bits: number, kind: Sh): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)), n = d.immLo & 0xff;
    return (c) => shiftLanes(c.s, o, bits, kind, n);
  };
}

/** PSLLDQ (left = true) / PSRLDQ xmm, imm8: byte shift of the whole register. */
function byteShift(left: boolean): Builder {
  return (d: Decoded): Exec => {
    const o = xmmOff(xmmOf(d, 0)), n = d.immLo & 0xff;
    return (c) => {
      const u = c.s.u8;
      if (n > 15) { for (let i = 0; i < 16; i++) u[o + i] = 0; return; }
      if (left) { for (let i = 15; i >= 0; i--) u[o + i] = i >= n ? u[o + i - n]! : 0; }
      else { for (let i = 0; i < 16; i++) u[o + i] = i + n < 16 ? u[o + i + n]! : 0; }
    };
  };
}

/** SSE2 integer arithmetic, logic and shifts (plus the bitwise PS/PD forms). */
export const sseIntOps: OpMap = {
  [Code.Pand_xmm_xmmm128]: int(pand),
  [Code.Andps_xmm_xmmm128]: int(pand),
  [Code.Andpd_xmm_xmmm128]: int(pand),
  [Code.Pandn_xmm_xmmm128]: int(pandn),
  [Code.Andnps_xmm_xmmm128]: int(pandn),
  [Code.Andnpd_xmm_xmmm128]: int(pandn),
  [Code.Por_xmm_xmmm128]: int(por),
  [Code.Orps_xmm_xmmm128]: int(por),
  [Code.Orpd_xmm_xmmm128]: int(por),
  [Code.Pxor_xmm_xmmm128]: int(pxor),
  [Code.Xorps_xmm_xmmm128]: int(pxor),
  [Code.Xorpd_xmm_xmmm128]: int(pxor),

  [Code.Paddb_xmm_xmmm128]: int(bytes((a, b) => a + b)),
  [Code.Paddw_xmm_xmmm128]: int(words((a, b) => a + b)),
  [Code.Paddd_xmm_xmmm128]: int(dwords((a, b) => a + b)),
  [Code.Paddq_xmm_xmmm128]: int(qwordAddSub(false)),
  [Code.Psubb_xmm_xmmm128]: int(bytes((a, b) => a - b)),
  [Code.Psubw_xmm_xmmm128]: int(words((a, b) => a - b)),
  [Code.Psubd_xmm_xmmm128]: int(dwords((a, b) => a - b)),
  [Code.Psubq_xmm_xmmm128]: int(qwordAddSub(true)),
  [Code.Paddusb_xmm_xmmm128]: int(bytes((a, b) => Math.min(a + b, 0xff))),
  [Code.Paddusw_xmm_xmmm128]: int(words((a, b) => Math.min(a + b, 0xffff))),
  [Code.Psubusb_xmm_xmmm128]: int(bytes((a, b) => Math.max(a - b, 0))),
  [Code.Psubusw_xmm_xmmm128]: int(words((a, b) => Math.max(a - b, 0))),
  [Code.Paddsb_xmm_xmmm128]: int(bytes((a, b) => satSB(sb(a) + sb(b)))),
  [Code.Paddsw_xmm_xmmm128]: int(words((a, b) => satSW(sw(a) + sw(b)))),
  [Code.Psubsb_xmm_xmmm128]: int(bytes((a, b) => satSB(sb(a) - sb(b)))),
  [Code.Psubsw_xmm_xmmm128]: int(words((a, b) => satSW(sw(a) - sw(b)))),

  [Code.Pcmpeqb_xmm_xmmm128]: int(bytes((a, b) => (a === b ? 0xff : 0))),
  [Code.Pcmpeqw_xmm_xmmm128]: int(words((a, b) => (a === b ? 0xffff : 0))),
  [Code.Pcmpeqd_xmm_xmmm128]: int(dwords((a, b) => (a === b ? 0xffffffff : 0))),
  [Code.Pcmpgtb_xmm_xmmm128]: int(bytes((a, b) => (sb(a) > sb(b) ? 0xff : 0))),
  [Code.Pcmpgtw_xmm_xmmm128]: int(words((a, b) => (sw(a) > sw(b) ? 0xffff : 0))),
  [Code.Pcmpgtd_xmm_xmmm128]: int(dwords((a, b) => ((a | 0) > (b | 0) ? 0xffffffff : 0))),

  [Code.Pminub_xmm_xmmm128]: int(bytes((a, b) => (a < b ? a : b))),
  [Code.Pmaxub_xmm_xmmm128]: int(bytes((a, b) => (a > b ? a : b))),
  [Code.Pminsw_xmm_xmmm128]: int(words((a, b) => (sw(a) < sw(b) ? a : b))),
  [Code.Pmaxsw_xmm_xmmm128]: int(words((a, b) => (sw(a) > sw(b) ? a : b))),
  [Code.Pavgb_xmm_xmmm128]: int(bytes((a, b) => (a + b + 1) >> 1)),
  [Code.Pavgw_xmm_xmmm128]: int(words((a, b) => (a + b + 1) >> 1)),

  [Code.Pmullw_xmm_xmmm128]: int(words((a, b) => Math.imul(a, b))),
  [Code.Pmulhw_xmm_xmmm128]: int(words((a, b) => (sw(a) * sw(b)) >> 16)),
  [Code.Pmulhuw_xmm_xmmm128]: int(words((a, b) => (a * b) >>> 16)),
  [Code.Pmuludq_xmm_xmmm128]: int(pmuludq),
  [Code.Pmaddwd_xmm_xmmm128]: int(pmaddwd),
  [Code.Psadbw_xmm_xmmm128]: int(psadbw),

  [Code.Psllw_xmm_xmmm128]: shiftByXmm(16, Sh.LL),
  [Code.Pslld_xmm_xmmm128]: shiftByXmm(32, Sh.LL),
  [Code.Psllq_xmm_xmmm128]: shiftByXmm(64, Sh.LL),
  [Code.Psrlw_xmm_xmmm128]: shiftByXmm(16, Sh.RL),
  [Code.Psrld_xmm_xmmm128]: shiftByXmm(32, Sh.RL),
  [Code.Psrlq_xmm_xmmm128]: shiftByXmm(64, Sh.RL),
  [Code.Psraw_xmm_xmmm128]: shiftByXmm(16, Sh.RA),
  [Code.Psrad_xmm_xmmm128]: shiftByXmm(32, Sh.RA),
  [Code.Psllw_xmm_imm8]: shiftByImm(16, Sh.LL),
  [Code.Pslld_xmm_imm8]: shiftByImm(32, Sh.LL),
  [Code.Psllq_xmm_imm8]: shiftByImm(64, Sh.LL),
  [Code.Psrlw_xmm_imm8]: shiftByImm(16, Sh.RL),
  [Code.Psrld_xmm_imm8]: shiftByImm(32, Sh.RL),
  [Code.Psrlq_xmm_imm8]: shiftByImm(64, Sh.RL),
  [Code.Psraw_xmm_imm8]: shiftByImm(16, Sh.RA),
  [Code.Psrad_xmm_imm8]: shiftByImm(32, Sh.RA),
  [Code.Pslldq_xmm_imm8]: byteShift(true),
  [Code.Psrldq_xmm_imm8]: byteShift(false),
};
