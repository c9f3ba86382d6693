// String instructions: MOVS STOS LODS CMPS SCAS (byte/word/dword/qword), with REP / REPE / REPNE, both
// directions, 64-bit (RSI/RDI/RCX) or 32-bit (0x67: ESI/EDI/ECX) addresses, and an FS/GS override of the
// source. A REP instruction is one step per iteration:
// - with c.singleIteration (monitor trap flag) one execution does one iteration and, if more remain, leaves
//   RIP at the instruction so it executes again;
// - otherwise one execution does up to c.budget iterations, accounting the extra ones in c.icount/c.budget,
//   and leaves RIP at the instruction if the budget ran out first.
// Registers are updated after every iteration, so a fault mid-way leaves RSI/RDI/RCX describing the
// completed iterations and the instruction restarts correctly once the fault is handled.
// Forward REP MOVS/STOS/CMPS/SCAS with 64-bit addresses work on whole page runs in physical memory.
import { Code } from 'iced-x86';
import { VENDOR_TABLE } from '../vendor-model.js';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Decoded } from '../decoded.js';
import { FlagOp, setLazy32, setLazy64 } from '../flags.js';
import { Access } from '../mmu.js';
import { Fl, Off } from '../state.js';
import type { OpMap } from '../table.js';

const RCX = 2, RSI = 12, RDI = 14; // c.r indexes of the lo halves
const RF = Off.RFLAGS >> 2;
const RIP = Off.RIP >> 2;
/** RFLAGS and the lazy-flag record: c.r[FLAGS_FIRST .. FLAGS_FIRST + FLAGS_WORDS - 1]. */
const FLAGS_FIRST = Off.RFLAGS >> 2, FLAGS_WORDS = ((Off.LAZY_CIN - Off.RFLAGS) >> 2) + 1;

/** The string operations. */
const enum Kind { MOVS, STOS, LODS, CMPS, SCAS }

/** Address size and source segment, from the prefix bytes (Decoded has no memory operand for strings). */
export function prefixesOf(d: Decoded): { a32: boolean; seg: number } {
  let a32 = false, seg = -1;
  for (const b of d.bytes) {
    if (b === 0x67) a32 = true;
    else if (b === 0x64) seg = Off.FS_BASE >> 2;
    else if (b === 0x65) seg = Off.GS_BASE >> 2;
    else if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) seg = -1;
    else if (!(b === 0x66 || b === 0xf0 || b === 0xf2 || b === 0xf3 || (b >= 0x40 && b <= 0x4f))) break;
  }
  return { a32, seg };
}

/** Add a signed delta to an address register (32-bit addresses wrap and zero the hi half). */
function adv(r: Uint32Array, k: number, delta: number, a32: boolean): void {
  const s = r[k]! + delta;
  r[k] = s >>> 0;
  if (a32) r[k + 1] = 0;
  else if (s > 0xffffffff) r[k + 1] = (r[k + 1]! + 1) >>> 0;
  else if (s < 0) r[k + 1] = (r[k + 1]! - 1) >>> 0;
}

/** One iteration: does the memory work and advances RSI/RDI (not RCX). Returns 1 if a compare found equal. */
type Elem = (c: Cpu, delta: number) => number;

function makeElem(kind: Kind, esz: number, a32: boolean, seg: number): Elem {
  const bits = esz * 8, m = esz === 4 ? 0xffffffff : (1 << bits) - 1;
  /** Source linear address (RSI plus any FS/GS base): lo returned, hi in c.hi. */
  const src = (c: Cpu): number => {
    const r = c.r;
    let lo = r[RSI]!, hi = a32 ? 0 : r[RSI + 1]!;
    if (seg >= 0) { const t = lo + r[seg]!; hi = (hi + r[seg + 1]! + (t > 0xffffffff ? 1 : 0)) >>> 0; lo = t >>> 0; }
    c.hi = hi;
    return lo;
  };
  const read = (c: Cpu, lo: number, hi: number): number =>
    esz === 1 ? c.rd8(lo, hi) : esz === 2 ? c.rd16(lo, hi) : esz === 4 ? c.rd32(lo, hi) : c.rd64(lo, hi);
  const dhi = (r: Uint32Array): number => (a32 ? 0 : r[RDI + 1]!);
  switch (kind) {
    case Kind.MOVS: return (c, delta) => {
      const r = c.r, sl = src(c), v = read(c, sl, c.hi), vh = c.hi, dl = r[RDI]!, dh = dhi(r);
      if (esz === 8) c.wr64(dl, dh, v, vh); else if (esz === 4) c.wr32(dl, dh, v); else if (esz === 2) c.wr16(dl, dh, v); else c.wr8(dl, dh, v);
      adv(r, RSI, delta, a32); adv(r, RDI, delta, a32);
      return 0;
    };
    case Kind.STOS: return (c, delta) => {
      const r = c.r, dl = r[RDI]!, dh = dhi(r);
      if (esz === 8) c.wr64(dl, dh, r[0]!, r[1]!); else if (esz === 4) c.wr32(dl, dh, r[0]!);
      else if (esz === 2) c.wr16(dl, dh, c.s.u16[0]!); else c.wr8(dl, dh, c.s.u8[0]!);
      adv(r, RDI, delta, a32);
      return 0;
    };
    case Kind.LODS: return (c, delta) => {
      const r = c.r, sl = src(c), v = read(c, sl, c.hi);
      if (esz === 8) { r[1] = c.hi; r[0] = v; } else if (esz === 4) { r[0] = v; r[1] = 0; }
      else if (esz === 2) c.s.u16[0] = v; else c.s.u8[0] = v;
      adv(r, RSI, delta, a32);
      return 0;
    };
    case Kind.CMPS: return (c, delta) => {
      const r = c.r, sl = src(c), a = read(c, sl, c.hi), ah = c.hi;
      const b = read(c, r[RDI]!, dhi(r)), bh = c.hi;
      adv(r, RSI, delta, a32); adv(r, RDI, delta, a32);
      return compare(r, esz, bits, m, a, ah, b, bh);
    };
    case Kind.SCAS: return (c, delta) => {
      const r = c.r, b = read(c, r[RDI]!, dhi(r)), bh = c.hi;
      const a = esz === 8 || esz === 4 ? r[0]! : esz === 2 ? c.s.u16[0]! : c.s.u8[0]!;
      adv(r, RDI, delta, a32);
      return compare(r, esz, bits, m, a, r[1]!, b, bh);
    };
  }
}

/** Flags of a - b (as CMP); returns 1 if equal. The hi halves matter only for esz 8. */
function compare(r: Uint32Array, esz: number, bits: number, m: number, a: number, ah: number, b: number, bh: number): number {
  if (esz === 8) {
    const s = a - b;
    setLazy64(r, FlagOp.SUB, s >>> 0, (ah - bh - (s < 0 ? 1 : 0)) >>> 0, a, ah, b, bh);
    return a === b && ah === bh ? 1 : 0;
  }
  setLazy32(r, FlagOp.SUB, bits, ((a - b) & m) >>> 0, a, b);
  return a === b ? 1 : 0;
}

// ---- page-run fast paths (forward, 64-bit addresses, no segment override) -------------------------

/** Elements of size `esz` that fit before the end of the page holding `lo`. */
function room(lo: number, esz: number): number {
  return Math.floor((0x1000 - (lo & 0xfff)) / esz);
}

/** RCX as a count capped at `max`. */
function countUpTo(r: Uint32Array, max: number): number {
  return r[RCX + 1] !== 0 || r[RCX]! > max ? max : r[RCX]!;
}

/** Retire n iterations: RSI/RDI += n * esz (as the kind uses them), RCX -= n. */
function retire(r: Uint32Array, n: number, len: number, useSrc: boolean): void {
  if (useSrc) adv(r, RSI, len, false);
  adv(r, RDI, len, false);
  const t = r[RCX]! - n;
  if (t < 0) r[RCX + 1] = (r[RCX + 1]! - 1) >>> 0;
  r[RCX] = t >>> 0;
}

/** REP MOVS over the run of elements that stays within one source and one destination page. Returns iterations done (0: use the slow path). */
function fastMovs(c: Cpu, esz: number, max: number): number {
  const r = c.r, sl = r[RSI]!, dl = r[RDI]!;
  const n = Math.min(countUpTo(r, max), room(sl, esz), room(dl, esz));
  if (n < 2) return 0;
  const ps = c.translate(sl, r[RSI + 1]!, Access.READ); // the source is read first, as the slow path does
  const pd = c.translate(dl, r[RDI + 1]!, Access.WRITE);
  const len = n * esz, b = c.bytes;
  if (pd > ps && pd < ps + len) {
    // destination overlaps ahead of the source: element-by-element forward copy replicates data
    for (let i = 0; i < len; i += esz) b.copyWithin(pd + i, ps + i, ps + i + esz);
  } else {
    b.copyWithin(pd, ps, ps + len); // same result as a forward copy when the destination is not ahead
  }
  c.notifyPhysWrite(pd, len);
  retire(r, n, len, true);
  return n;
}

/** REP STOS over the run of elements within one destination page. */
function fastStos(c: Cpu, esz: number, max: number): number {
  const r = c.r, dl = r[RDI]!;
  const n = Math.min(countUpTo(r, max), room(dl, esz));
  if (n < 2) return 0;
  const pd = c.translate(dl, r[RDI + 1]!, Access.WRITE);
  const len = n * esz, lo = r[0]!, hi = r[1]!;
  const b0 = lo & 0xff;
  const uniform = esz === 1 || (esz === 2 ? ((lo >>> 8) & 0xff) === b0 : lo === b0 * 0x01010101 && (esz === 4 || hi === lo));
  if (uniform) c.bytes.fill(b0, pd, pd + len);
  else {
    const dv = c.dv;
    if (esz === 8) for (let i = 0; i < len; i += 8) { dv.setUint32(pd + i, lo, true); dv.setUint32(pd + i + 4, hi, true); }
    else if (esz === 4) for (let i = 0; i < len; i += 4) dv.setUint32(pd + i, lo, true);
    else for (let i = 0; i < len; i += 2) dv.setUint16(pd + i, lo & 0xffff, true);
  }
  c.notifyPhysWrite(pd, len);
  retire(r, n, len, false);
  return n;
}

/** Outcome of the last element a compare fast path examined: 1 if equal (read by the REP loop). */
let fastEq = 1;

/** Element `j` of a run at physical `p` (lo returned; hi of a qword in hiOut[0]). */
const hiOut = [0];
function elementAt(c: Cpu, p: number, esz: number): number {
  if (esz === 1) return c.bytes[p]!;
  if (esz === 2) return c.dv.getUint16(p, true);
  if (esz === 8) hiOut[0] = c.dv.getUint32(p + 4, true);
  return c.dv.getUint32(p, true);
}

/**
 * REPE/REPNE SCAS over the run within one page: stops after the first element that ends the repetition.
 * `whileEq` is true for REPE. Flags come from the last comparison.
 */
function fastScas(c: Cpu, esz: number, max: number, whileEq: boolean): number {
  const r = c.r, dl = r[RDI]!;
  const n = Math.min(countUpTo(r, max), room(dl, esz));
  if (n < 2) return 0;
  const pd = c.translate(dl, r[RDI + 1]!, Access.READ);
  const m = esz === 4 || esz === 8 ? 0xffffffff : (1 << (esz * 8)) - 1;
  const alo = (r[0]! & m) >>> 0, ahi = r[1]!;
  let k = 0, b = 0, bh = 0, eq = 1;
  while (k < n) {
    b = elementAt(c, pd + k * esz, esz); bh = hiOut[0]!;
    k++;
    eq = b === alo && (esz !== 8 || bh === ahi) ? 1 : 0;
    if ((eq === 1) !== whileEq) break;
  }
  compare(r, esz, esz * 8, m, alo, ahi, b, bh);
  retire(r, k, k * esz, false);
  fastEq = eq;
  return k;
}

/** REPE/REPNE CMPS over the run within one source and one destination page. */
function fastCmps(c: Cpu, esz: number, max: number, whileEq: boolean): number {
  const r = c.r, sl = r[RSI]!, dl = r[RDI]!;
  const n = Math.min(countUpTo(r, max), room(sl, esz), room(dl, esz));
  if (n < 2) return 0;
  const ps = c.translate(sl, r[RSI + 1]!, Access.READ);
  const pd = c.translate(dl, r[RDI + 1]!, Access.READ);
  const m = esz === 4 || esz === 8 ? 0xffffffff : (1 << (esz * 8)) - 1;
  let k = 0, a = 0, ah = 0, b = 0, bh = 0, eq = 1;
  while (k < n) {
    a = elementAt(c, ps + k * esz, esz); ah = hiOut[0]!;
    b = elementAt(c, pd + k * esz, esz); bh = hiOut[0]!;
    k++;
    eq = a === b && (esz !== 8 || ah === bh) ? 1 : 0;
    if ((eq === 1) !== whileEq) break;
  }
  compare(r, esz, esz * 8, m, a, ah, b, bh);
  retire(r, k, k * esz, true);
  fastEq = eq;
  return k;
}

// ---- the builder ----------------------------------------------------------------------------------

function stringOp(kind: Kind, esz: number): Builder {
  return (d: Decoded): Exec => {
    const { a32, seg } = prefixesOf(d);
    const elem = makeElem(kind, esz, a32, seg);
    if (d.rep === 0) {
      return (c) => { elem(c, c.r[RF]! & Fl.DF ? -esz : esz); };
    }
    const isCmp = kind === Kind.CMPS || kind === Kind.SCAS;
    const whileEq = d.rep === 1; // REPE for CMPS/SCAS (REP for the others); REPNE otherwise
    const fast: ((c: Cpu, esz: number, max: number, whileEq: boolean) => number) | undefined =
      a32 || (seg >= 0 && kind !== Kind.STOS && kind !== Kind.SCAS) ? undefined
        : kind === Kind.MOVS ? fastMovs : kind === Kind.STOS ? fastStos
          : kind === Kind.CMPS ? fastCmps : kind === Kind.SCAS ? fastScas : undefined;
    const ipLo = d.ipLo, ipHi = d.ipHi;
    const zero = (r: Uint32Array): boolean => r[RCX] === 0 && (a32 || r[RCX + 1] === 0);
    // with ECX = 0 under 0x67 the model writes nothing (VENDOR_TABLE.repA32ZeroCount); Intel hardware
    // clears the upper halves of RCX, and of RSI/RDI for the fast-string operations MOVS/STOS only
    const zeroCountWrites = a32 && VENDOR_TABLE.repA32ZeroCount.model === 'intel-hardware';
    const usesSrc = kind === Kind.MOVS;
    const usesDst = kind === Kind.MOVS || kind === Kind.STOS;
    const dec = (r: Uint32Array): void => {
      if (a32) { r[RCX] = (r[RCX]! - 1) >>> 0; r[RCX + 1] = 0; return; }
      if (r[RCX] === 0) r[RCX + 1] = (r[RCX + 1]! - 1) >>> 0;
      r[RCX] = (r[RCX]! - 1) >>> 0;
    };
    // REPE/REPNE CMPS/SCAS write the flags only when they terminate: when a fault (measured on hardware),
    // the step budget or single-iteration mode interrupts them, RFLAGS keeps its value from before
    // (the flags after a fault follow the CPU model: VENDOR_TABLE.repCondFaultFlags)
    const restoreOnFault = VENDOR_TABLE.repCondFaultFlags.model === 'restore';
    const saved = new Uint32Array(FLAGS_WORDS);
    const save = (r: Uint32Array): void => { for (let k = 0; k < FLAGS_WORDS; k++) saved[k] = r[FLAGS_FIRST + k]!; };
    const restore = (r: Uint32Array): void => { for (let k = 0; k < FLAGS_WORDS; k++) r[FLAGS_FIRST + k] = saved[k]!; };
    return (c) => {
      const r = c.r;
      if (zero(r)) { // no iterations: the instruction completes
        if (zeroCountWrites) {
          r[RCX + 1] = 0;
          if (usesSrc) r[RSI + 1] = 0;
          if (usesDst) r[RDI + 1] = 0;
        }
        return;
      }
      const delta = r[RF]! & Fl.DF ? -esz : esz;
      if (isCmp) save(r);
      if (c.singleIteration) {
        let eq: number;
        try { eq = elem(c, delta); } catch (e) { if (isCmp && restoreOnFault) restore(r); throw e; }
        dec(r);
        if (!zero(r) && (!isCmp || (eq === 1) === whileEq)) {
          r[RIP] = ipLo; r[RIP + 1] = ipHi;
          if (isCmp) restore(r);
        }
        return;
      }
      const avail = c.budget > 1 ? c.budget : 1;
      let done = 0;
      try {
        for (;;) {
          const n = fast !== undefined && delta > 0 ? fast(c, esz, avail - done, whileEq) : 0;
          let eq = 1;
          if (n > 0) { done += n; eq = fastEq; }
          else { eq = elem(c, delta); dec(r); done++; }
          if (zero(r)) break;
          if (isCmp && (eq === 1) !== whileEq) break;
          if (done >= avail) { r[RIP] = ipLo; r[RIP + 1] = ipHi; if (isCmp) restore(r); break; }
        }
      } catch (e) {
        c.icount += done; c.budget -= done; // completed iterations are steps; the run loop counts the fault
        if (isCmp && restoreOnFault) restore(r);
        throw e;
      }
      c.icount += done - 1; c.budget -= done - 1; // the run loop counts one step for this execution
    };
  };
}

/** string family handlers keyed by iced Code. */
export const stringOps: OpMap = {
  [Code.Movsb_m8_m8]: stringOp(Kind.MOVS, 1), [Code.Movsw_m16_m16]: stringOp(Kind.MOVS, 2),
  [Code.Movsd_m32_m32]: stringOp(Kind.MOVS, 4), [Code.Movsq_m64_m64]: stringOp(Kind.MOVS, 8),
  [Code.Stosb_m8_AL]: stringOp(Kind.STOS, 1), [Code.Stosw_m16_AX]: stringOp(Kind.STOS, 2),
  [Code.Stosd_m32_EAX]: stringOp(Kind.STOS, 4), [Code.Stosq_m64_RAX]: stringOp(Kind.STOS, 8),
  [Code.Lodsb_AL_m8]: stringOp(Kind.LODS, 1), [Code.Lodsw_AX_m16]: stringOp(Kind.LODS, 2),
  [Code.Lodsd_EAX_m32]: stringOp(Kind.LODS, 4), [Code.Lodsq_RAX_m64]: stringOp(Kind.LODS, 8),
  [Code.Cmpsb_m8_m8]: stringOp(Kind.CMPS, 1), [Code.Cmpsw_m16_m16]: stringOp(Kind.CMPS, 2),
  [Code.Cmpsd_m32_m32]: stringOp(Kind.CMPS, 4), [Code.Cmpsq_m64_m64]: stringOp(Kind.CMPS, 8),
  [Code.Scasb_AL_m8]: stringOp(Kind.SCAS, 1), [Code.Scasw_AX_m16]: stringOp(Kind.SCAS, 2),
  [Code.Scasd_EAX_m32]: stringOp(Kind.SCAS, 4), [Code.Scasq_RAX_m64]: stringOp(Kind.SCAS, 8),
};
