// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR (by 1, CL, imm8) and SHLD SHRD (imm8, CL).
// Counts are masked to 5 bits (6 for 64-bit operands); a masked count of 0 changes neither the operand nor
// the flags. OF is computed with the count-1 formula for every count (the SDM leaves it undefined otherwise),
// AF is undefined and left 0. Each operation is one definition parameterised by width; 64-bit operands are
// lo/hi halves. Flags are applied after the memory write (precise faults).
import type { Cpu, Exec } from '../cpu.js';
import { Decoded } from '../decoded.js';
import { getCF, parityOf } from '../flags.js';
import { gprReader, regOf } from '../operands.js';
import { Fl } from '../state.js';
import { Implicit, withWrites } from '../op-spec.js';
import type { OpMap } from '../table.js';
import { codesMatching, countArg, firstWidth, Fn32, Fn64, maskOf, pending, rmw32, rmw64 } from './alu-shared.js';

// ---- 64-bit shift primitives (n in 0..63); results return lo and leave hi in H -------------------

let H = 0;
function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi; return lo; }
  if (n < 32) { H = ((hi << n) | (lo >>> (32 - n))) >>> 0; return (lo << n) >>> 0; }
  H = (lo << (n - 32)) >>> 0; return 0;
}
function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi; return lo; }
  if (n < 32) { H = hi >>> n; return ((lo >>> n) | (hi << (32 - n))) >>> 0; }
  H = 0; return hi >>> (n - 32);
}
function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi; return lo; }
  if (n < 32) { H = (hi >> n) >>> 0; return ((lo >>> n) | (hi << (32 - n))) >>> 0; }
  H = (hi >> 31) >>> 0; return (hi >> (n - 32)) >>> 0;
}

/** ZF SF PF of an 8/16/32-bit result. */
function szp(res: number, bits: number): number {
  return (res === 0 ? Fl.ZF : 0) | ((res >>> (bits - 1)) & 1 ? Fl.SF : 0) | parityOf(res);
}
/** ZF SF PF of a 64-bit result. */
function szp64(lo: number, hi: number): number {
  return ((lo | hi) === 0 ? Fl.ZF : 0) | (hi & 0x80000000 ? Fl.SF : 0) | parityOf(lo);
}

/** Set all six status flags from CF, OF and the result's ZF SF PF. */
function shiftFlags(cf: number, of: number, zsp: number): void {
  pending.mask = Fl.OSZAPC;
  pending.bits = cf | (of ? Fl.OF : 0) | zsp;
}
/** Set only CF and OF (rotates). */
function rotFlags(cf: number, of: number): void {
  pending.mask = Fl.CF | Fl.OF;
  pending.bits = cf | (of ? Fl.OF : 0);
}

/** One shift/rotate: the 8/16/32-bit definition for a width, and the 64-bit definition. */
interface ShiftOp {
  narrow: (bits: number) => Fn32;
  wide: Fn64;
}

const SHL: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits);
    return (_c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const res = ((v << n) & m) >>> 0, cf = ((v << (n - 1)) >>> (bits - 1)) & 1;
      shiftFlags(cf, (res >>> (bits - 1)) ^ cf, szp(res, bits));
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const n = cnt & 63;
    if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
    shl64(lo, hi, n - 1);
    const cf = H >>> 31, rl = shl64(lo, hi, n), rh = H;
    shiftFlags(cf, (rh >>> 31) ^ cf, szp64(rl, rh));
    c.hi = rh; return rl;
  },
};

const SHR: ShiftOp = {
  narrow: (bits) => (_c, v, cnt) => {
    const n = cnt & 31;
    if (n === 0) { pending.mask = 0; return v; }
    const res = v >>> n, cf = (v >>> (n - 1)) & 1;
    shiftFlags(cf, (v >>> (bits - 1)) & 1, szp(res, bits));
    return res;
  },
  wide: (c, lo, hi, cnt) => {
    const n = cnt & 63;
    if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const cf = shr64(lo, hi, n - 1) & 1, rl = shr64(lo, hi, n), rh = H;
    shiftFlags(cf, hi >>> 31, szp64(rl, rh));
    c.hi = rh; return rl;
  },
};

const SAR: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits), up = 32 - bits;
    return (_c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const sv = (v << up) >> up, res = ((sv >> n) & m) >>> 0, cf = (sv >> (n - 1)) & 1;
      shiftFlags(cf, 0, szp(res, bits));
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const n = cnt & 63;
    if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const cf = sar64(lo, hi, n - 1) & 1, rl = sar64(lo, hi, n), rh = H;
    shiftFlags(cf, 0, szp64(rl, rh));
    c.hi = rh; return rl;
  },
};

const ROL: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits);
    return (_c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const k = n % bits, res = k === 0 ? v : (((v << k) | (v >>> (bits - k))) & m) >>> 0;
      const cf = res & 1;
      rotFlags(cf, (res >>> (bits - 1)) ^ cf);
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const n = cnt & 63;
    if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const al = shl64(lo, hi, n), ah = H, bl = shr64(lo, hi, 64 - n), bh = H;
    const rl = (al | bl) >>> 0, rh = (ah | bh) >>> 0, cf = rl & 1;
    rotFlags(cf, (rh >>> 31) ^ cf);
    c.hi = rh; return rl;
  },
};

const ROR: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits);
    return (_c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const k = n % bits, res = k === 0 ? v : (((v >>> k) | (v << (bits - k))) & m) >>> 0;
      const msb = (res >>> (bits - 1)) & 1;
      rotFlags(msb, msb ^ ((res >>> (bits - 2)) & 1));
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const n = cnt & 63;
    if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const al = shr64(lo, hi, n), ah = H, bl = shl64(lo, hi, 64 - n), bh = H;
    const rl = (al | bl) >>> 0, rh = (ah | bh) >>> 0, msb = rh >>> 31;
    rotFlags(msb, msb ^ ((rh >>> 30) & 1));
    c.hi = rh; return rl;
  },
};

/** Rotate count for RCL/RCR: the masked count modulo (width + 1) for 8/16 bits. */
const rcCount = (n: number, bits: number): number => (bits === 8 ? n % 9 : bits === 16 ? n % 17 : n);

const RCL: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits);
    return (c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const t = rcCount(n, bits), cin = getCF(c.r);
      let res = v, cf = cin;
      if (t !== 0) {
        res = (((v << t) | (cin << (t - 1)) | (t > 1 ? v >>> (bits + 1 - t) : 0)) & m) >>> 0;
        cf = (v >>> (bits - t)) & 1;
      }
      rotFlags(cf, (res >>> (bits - 1)) ^ cf);
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const t = cnt & 63;
    if (t === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const cin = getCF(c.r);
    let rl = shl64(lo, hi, t), rh = H;
    const kl = shl64(cin, 0, t - 1), kh = H;
    rl |= kl; rh |= kh;
    if (t > 1) { rl |= shr64(lo, hi, 65 - t); rh |= H; }
    const cf = shr64(lo, hi, 64 - t) & 1;
    rl >>>= 0; rh >>>= 0;
    rotFlags(cf, (rh >>> 31) ^ cf);
    c.hi = rh; return rl;
  },
};

const RCR: ShiftOp = {
  narrow: (bits) => {
    const m = maskOf(bits);
    return (c, v, cnt) => {
      const n = cnt & 31;
      if (n === 0) { pending.mask = 0; return v; }
      const t = rcCount(n, bits), cin = getCF(c.r);
      let res = v, cf = cin;
      if (t !== 0) {
        res = (((v >>> t) | (cin << (bits - t)) | (t > 1 ? v << (bits + 1 - t) : 0)) & m) >>> 0;
        cf = (v >>> (t - 1)) & 1;
      }
      rotFlags(cf, ((v >>> (bits - 1)) & 1) ^ cin);
      return res;
    };
  },
  wide: (c, lo, hi, cnt) => {
    const t = cnt & 63;
    if (t === 0) { pending.mask = 0; c.hi = hi; return lo; }
    const cin = getCF(c.r);
    let rl = shr64(lo, hi, t), rh = H;
    const kl = shl64(cin, 0, 64 - t), kh = H;
    rl |= kl; rh |= kh;
    if (t > 1) { rl |= shl64(lo, hi, 65 - t); rh |= H; }
    const cf = shr64(lo, hi, t - 1) & 1;
    rl >>>= 0; rh >>>= 0;
    rotFlags(cf, (hi >>> 31) ^ cin);
    c.hi = rh; return rl;
  },
};

const SHIFTS: Readonly<Record<string, ShiftOp>> = {
  Shl: SHL, Sal: SHL, Shr: SHR, Sar: SAR, Rol: ROL, Ror: ROR, Rcl: RCL, Rcr: RCR,
};

// ---- SHLD / SHRD --------------------------------------------------------------------------------

/**
 * Double shifts of an 8/16/32-bit destination `v` with bits from `s`. For 16-bit operands with a count above
 * 16 (undefined in the SDM) bits come from the pattern dest:src:dest, as Intel processors do.
 */
function double32(left: boolean, bits: number, v: number, s: number, cnt: number): number {
  const n = cnt & 31;
  if (n === 0) { pending.mask = 0; return v; }
  let res: number, cf: number;
  if (bits === 16) {
    const p = v * 4294967296 + s * 65536 + v; // 48 bits, exact
    if (left) { res = Math.floor(p / 2 ** (32 - n)) % 65536; cf = Math.floor(p / 2 ** (48 - n)) % 2; } else {
      res = Math.floor(p / 2 ** n) % 65536; cf = Math.floor(p / 2 ** (n - 1)) % 2;
    }
  } else if (left) {
    res = ((v << n) | (s >>> (32 - n))) >>> 0; cf = (v >>> (32 - n)) & 1;
  } else {
    res = ((v >>> n) | (s << (32 - n))) >>> 0; cf = (v >>> (n - 1)) & 1;
  }
  shiftFlags(cf, ((res ^ v) >>> (bits - 1)) & 1, szp(res, bits));
  return res;
}

function double64(left: boolean, c: Cpu, lo: number, hi: number, sl: number, sh: number, cnt: number): number {
  const n = cnt & 63;
  if (n === 0) { pending.mask = 0; c.hi = hi; return lo; }
  let rl: number, rh: number, cf: number;
  if (left) {
    rl = shl64(lo, hi, n); rh = H;
    rl = (rl | shr64(sl, sh, 64 - n)) >>> 0; rh = (rh | H) >>> 0;
    cf = shr64(lo, hi, 64 - n) & 1;
  } else {
    rl = shr64(lo, hi, n); rh = H;
    rl = (rl | shl64(sl, sh, 64 - n)) >>> 0; rh = (rh | H) >>> 0;
    cf = shr64(lo, hi, n - 1) & 1;
  }
  shiftFlags(cf, (rh ^ hi) >>> 31, szp64(rl, rh));
  c.hi = rh; return rl;
}

function buildDouble(left: boolean, bits: number, fromCL: boolean, d: Decoded): Exec {
  const arg = countArg(d, fromCL), sref = regOf(d, 1);
  if (bits === 64) {
    const si = sref.n << 1;
    return rmw64(d, (c, lo, hi, n) => double64(left, c, lo, hi, c.r[si]!, c.r[si + 1]!, n), arg);
  }
  const src = gprReader(sref);
  return rmw32(d, bits >>> 3, (c, v, n) => double32(left, bits, v, src(c), n), arg);
}

// ---- the table ----------------------------------------------------------------------------------

function makeTable(): OpMap {
  const map: Record<number, (d: Decoded) => Exec> = {};
  for (const [name, code] of codesMatching(/^(Shl|Sal|Shr|Sar|Rol|Ror|Rcl|Rcr)_rm(8|16|32|64)_(1|CL|imm8)$/)) {
    const op = SHIFTS[name.split('_')[0]!]!, bits = firstWidth(name), kind = name.split('_')[2]!;
    const narrow = bits === 64 ? undefined : op.narrow(bits);
    map[code] = (d) => {
      // the _1 forms: iced reports the constant 1 as an 8-bit immediate, which countArg reads
      const arg = countArg(d, kind === 'CL');
      return narrow ? rmw32(d, bits >>> 3, narrow, arg) : rmw64(d, op.wide, arg);
    };
  }
  for (const [name, code] of codesMatching(/^(Shld|Shrd)_rm(16|32|64)_r(16|32|64)_(CL|imm8)$/)) {
    const left = name.startsWith('Shld'), bits = firstWidth(name), fromCL = name.endsWith('_CL');
    map[code] = (d) => buildDouble(left, bits, fromCL, d);
  }
  return map;
}

/**
 * shift family handlers keyed by iced Code. iced reports no modified flags for a rotate-through-carry count that
 * is 0 modulo 9 or 17 (RCR r8, 27), but the masked count is not 0, so the processor (like the host's) writes OF,
 * which the SDM leaves undefined: every shift and rotate is declared as writing RFLAGS.
 */
export const shiftOps: OpMap = withWrites(Implicit.FLAGS, makeTable());
