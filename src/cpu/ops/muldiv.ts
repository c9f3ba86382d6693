// Multiplication and division: MUL, IMUL (one, two and three operands), DIV, IDIV for 8/16/32/64 bits.
// MUL/IMUL set CF = OF = "the result does not fit the destination"; SF ZF AF PF are undefined and left 0.
// DIV/IDIV leave the flags unchanged (all undefined) and raise #DE on a zero divisor or quotient overflow,
// before changing anything. 64-bit products use 16/32-bit limbs; 128/64 division takes a double fast path,
// a 16-bit-limb path for divisors below 2^32, and BigInt otherwise.
import type { Cpu, Exec } from '../cpu.js';
import { Decoded } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { Fl } from '../state.js';
import { gprWriter, reader, reader64, regOf } from '../operands.js';
import type { OpMap } from '../table.js';
import { codesMatching, firstWidth, mulHi, mulS64, mulU32, mulU64, prod, putStatus } from './alu-shared.js';

const RAX = 0, RDX = 4; // uint32 indices of the lo halves
const AX16 = 0, DX16 = 8; // uint16 indices of AX and DX

/** Set CF and OF to `overflow`, the other status flags to 0. */
function mulFlags(c: Cpu, overflow: boolean): void {
  putStatus(c.r, overflow ? Fl.CF | Fl.OF : 0);
}

function divideError(): never {
  throw new Fault(Vector.DE);
}

/** Sign-extend an 8/16/32-bit value to a JS number. */
const sx = (v: number, bits: number): number => (bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits));

// ---- one-operand MUL / IMUL -----------------------------------------------------------------------

function buildMul1(signed: boolean, bits: number, d: Decoded): Exec {
  if (bits === 64) {
    const src = reader64(d, 0);
    return (c) => {
      const bl = src(c), bh = c.hi, r = c.r;
      if (signed) mulS64(r[RAX]!, r[RAX + 1]!, bl, bh); else mulU64(r[RAX]!, r[RAX + 1]!, bl, bh);
      const p1 = prod[1]!, p2 = prod[2]!, p3 = prod[3]!;
      r[RAX] = prod[0]!; r[RAX + 1] = p1; r[RDX] = p2; r[RDX + 1] = p3;
      const ext = signed ? ((p1 >> 31) >>> 0) : 0;
      mulFlags(c, p2 !== ext || p3 !== ext);
    };
  }
  const src = reader(d, 0, bits >>> 3);
  if (bits === 32) {
    return (c) => {
      const b = src(c), r = c.r, a = r[RAX]!;
      const lo = mulU32(a, b);
      let hi = mulHi.v;
      if (signed) hi = (hi - (a & 0x80000000 ? b : 0) - (b & 0x80000000 ? a : 0)) >>> 0;
      r[RAX] = lo; r[RAX + 1] = 0; r[RDX] = hi; r[RDX + 1] = 0;
      mulFlags(c, hi !== (signed ? (lo >> 31) >>> 0 : 0));
    };
  }
  if (bits === 16) {
    return (c) => {
      const b = src(c), u16 = c.s.u16, a = u16[AX16]!;
      const p = signed ? sx(a, 16) * sx(b, 16) : a * b;
      u16[AX16] = p & 0xffff; u16[DX16] = (p >> 16) & 0xffff;
      mulFlags(c, signed ? p !== sx(p & 0xffff, 16) : p > 0xffff);
    };
  }
  return (c) => {
    const b = src(c), u16 = c.s.u16, a = c.s.u8[0]!;
    const p = signed ? sx(a, 8) * sx(b, 8) : a * b;
    u16[AX16] = p & 0xffff;
    mulFlags(c, signed ? p !== sx(p & 0xff, 8) : p > 0xff);
  };
}

// ---- two- and three-operand IMUL --------------------------------------------------------------------

/** IMUL r, r/m (three = false) or IMUL r, r/m, imm (three = true): the truncated signed product. */
function buildImulN(bits: number, three: boolean, d: Decoded): Exec {
  const dref = regOf(d, 0);
  if (bits === 64) {
    const di = dref.n << 1, src = reader64(d, 1);
    const il = d.immLo >>> 0, ih = d.immHi >>> 0;
    return (c) => {
      const al = src(c), ah = c.hi, r = c.r;
      if (three) mulS64(al, ah, il, ih); else mulS64(al, ah, r[di]!, r[di + 1]!);
      const lo = prod[0]!, hi = prod[1]!, ext = (hi >> 31) >>> 0;
      r[di] = lo; r[di + 1] = hi;
      mulFlags(c, prod[2] !== ext || prod[3] !== ext);
    };
  }
  const src = reader(d, 1, bits >>> 3), set = gprWriter(dref), imm = sx(d.immLo, bits);
  if (bits === 32) {
    const di = dref.n << 1;
    return (c) => {
      const a = src(c) | 0, b = three ? imm : c.r[di]! | 0;
      const lo = Math.imul(a, b);
      set(c, lo >>> 0);
      mulFlags(c, a * b !== lo); // the double product is exact whenever it fits in 32 bits
    };
  }
  const dw = dref.n << 2; // 16 bits: the only other width of these forms
  return (c) => {
    const a = sx(src(c), 16), b = three ? imm : sx(c.s.u16[dw]!, 16);
    const p = a * b, res = p & 0xffff;
    set(c, res);
    mulFlags(c, p !== sx(res, 16));
  };
}

// ---- DIV / IDIV -------------------------------------------------------------------------------------

/** Unsigned 64/32 division of hi:lo by d (hi < d): returns the quotient, leaves the remainder in `rem.v`. */
const rem = { v: 0 };
function divU64by32(hi: number, lo: number, d: number): number {
  if (hi === 0) { const q = Math.floor(lo / d); rem.v = lo - q * d; return q; }
  const t1 = hi * 65536 + (lo >>> 16); // < 2^48
  const q1 = Math.floor(t1 / d), r1 = t1 - q1 * d;
  const t0 = r1 * 65536 + (lo & 0xffff);
  const q0 = Math.floor(t0 / d);
  rem.v = t0 - q0 * d;
  return q1 * 65536 + q0;
}

/** 32-bit DIV/IDIV of EDX:EAX by `dv`. */
function div32(c: Cpu, signed: boolean, dv: number): void {
  if (dv === 0) divideError();
  const r = c.r;
  let lo = r[RAX]!, hi = r[RDX]!;
  if (!signed) {
    if (hi >= dv) divideError();
    const q = divU64by32(hi, lo, dv);
    r[RAX] = q; r[RAX + 1] = 0; r[RDX] = rem.v; r[RDX + 1] = 0;
    return;
  }
  const nNeg = (hi & 0x80000000) !== 0, dNeg = (dv & 0x80000000) !== 0;
  if (nNeg) { lo = -lo >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  const ad = dNeg ? -(dv | 0) : dv; // |divisor| as a number up to 2^31
  if (hi >= ad) divideError();
  const q = divU64by32(hi, lo, ad), rm = rem.v;
  const qNeg = nNeg !== dNeg;
  if (q > (qNeg ? 0x80000000 : 0x7fffffff)) divideError();
  r[RAX] = (qNeg ? -q : q) >>> 0; r[RAX + 1] = 0;
  r[RDX] = (nNeg ? -rm : rm) >>> 0; r[RDX + 1] = 0;
}

/** 128/64 unsigned division of the limbs n3:n2:n1:n0 (16-bit steps) by d < 2^32; n3:n2 < d. */
function divU128by32(c: Cpu, n2: number, n1: number, n0: number, dv: number): void {
  // n3:n2 < d guarantees a 64-bit quotient; n2 is the remainder after the upper half
  let rr = n2, qh = 0, ql = 0;
  for (let k = 0; k < 4; k++) {
    const w = k < 2 ? n1 : n0, chunk = (w >>> (k % 2 === 0 ? 16 : 0)) & 0xffff;
    const t = rr * 65536 + chunk, q = Math.floor(t / dv);
    rr = t - q * dv;
    if (k < 2) qh = qh * 65536 + q; else ql = ql * 65536 + q;
  }
  const r = c.r;
  r[RAX] = ql >>> 0; r[RAX + 1] = qh >>> 0; r[RDX] = rr; r[RDX + 1] = 0;
}

/** 64-bit DIV/IDIV of RDX:RAX by dh:dl. */
function div64(c: Cpu, signed: boolean, dl: number, dh: number): void {
  if ((dl | dh) === 0) divideError();
  const r = c.r, al = r[RAX]!, ah = r[RAX + 1]!, xl = r[RDX]!, xh = r[RDX + 1]!;
  if (!signed) {
    if ((xl | xh) === 0 && ah < 0x100000 && dh < 0x100000) { // both below 2^52: doubles are exact
      const n = ah * 4294967296 + al, dv = dh * 4294967296 + dl, q = Math.floor(n / dv), rm = n - q * dv;
      r[RAX] = q >>> 0; r[RAX + 1] = Math.floor(q / 4294967296); r[RDX] = rm >>> 0; r[RDX + 1] = Math.floor(rm / 4294967296);
      return;
    }
    if (dh === 0 && xh === 0 && xl < dl) { divU128by32(c, xl, ah, al, dl); return; }
  } else {
    const ext = (ah >> 31) >>> 0;
    if (xl === ext && xh === ext) { // dividend is the sign extension of RAX
      const n = (ah | 0) * 4294967296 + al, dv = (dh | 0) * 4294967296 + dl;
      if (Math.abs(n) < 2 ** 52 && Math.abs(dv) < 2 ** 52) {
        const qa = Math.floor(Math.abs(n) / Math.abs(dv)), q = (n < 0) !== (dv < 0) ? -qa : qa, rm = n - q * dv;
        r[RAX] = q >>> 0; r[RAX + 1] = Math.floor(q / 4294967296) >>> 0;
        r[RDX] = rm >>> 0; r[RDX + 1] = Math.floor(rm / 4294967296) >>> 0;
        return;
      }
    }
  }
  divSlow(c, signed, al, ah, xl, xh, dl, dh);
}

/** 128/64 division with BigInt (rare: large operands). */
function divSlow(c: Cpu, signed: boolean, al: number, ah: number, xl: number, xh: number, dl: number, dh: number): void {
  const big = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
  let n = (big(xl, xh) << 64n) | big(al, ah), dv = big(dl, dh);
  if (signed) { n = BigInt.asIntN(128, n); dv = BigInt.asIntN(64, dv); }
  const q = n / dv, rm = n % dv;
  if (signed ? q < -(1n << 63n) || q >= 1n << 63n : q >= 1n << 64n) divideError();
  const qu = BigInt.asUintN(64, q), ru = BigInt.asUintN(64, rm);
  const r = c.r;
  r[RAX] = Number(qu & 0xffffffffn); r[RAX + 1] = Number(qu >> 32n);
  r[RDX] = Number(ru & 0xffffffffn); r[RDX + 1] = Number(ru >> 32n);
}

function buildDiv(signed: boolean, bits: number, d: Decoded): Exec {
  if (bits === 64) {
    const src = reader64(d, 0);
    return (c) => { const dl = src(c); div64(c, signed, dl, c.hi); };
  }
  const src = reader(d, 0, bits >>> 3);
  if (bits === 32) return (c) => div32(c, signed, src(c));
  const half = bits === 16 ? 65536 : 256;
  return (c) => {
    const b = src(c), u16 = c.s.u16;
    if (b === 0) divideError();
    // dividend: AX (8-bit form) or DX:AX (16-bit form)
    const nu = bits === 16 ? u16[DX16]! * 65536 + u16[AX16]! : u16[AX16]!;
    const n = signed ? sx(nu, bits * 2) : nu, dv = signed ? sx(b, bits) : b;
    const q = Math.trunc(n / dv), rm = n - q * dv;
    if (signed ? q < -half / 2 || q >= half / 2 : q >= half) divideError();
    if (bits === 16) { u16[AX16] = q & 0xffff; u16[DX16] = rm & 0xffff; } else u16[AX16] = (q & 0xff) | ((rm & 0xff) << 8);
  };
}

// ---- the table --------------------------------------------------------------------------------------

function makeTable(): OpMap {
  const map: Record<number, (d: Decoded) => Exec> = {};
  for (const [name, code] of codesMatching(/^(Mul|Imul|Div|Idiv)_rm(8|16|32|64)$/)) {
    const op = name.split('_')[0]!, bits = firstWidth(name);
    if (op === 'Mul' || op === 'Imul') map[code] = (d) => buildMul1(op === 'Imul', bits, d);
    else map[code] = (d) => buildDiv(op === 'Idiv', bits, d);
  }
  for (const [name, code] of codesMatching(/^Imul_r(16|32|64)_rm(16|32|64)(_imm(8|16|32))?$/)) {
    const bits = firstWidth(name);
    map[code] = (d) => buildImulN(bits, name.includes('_imm'), d);
  }
  return map;
}

/** muldiv family handlers keyed by iced Code. */
export const muldivOps: OpMap = makeTable();
