// x87 register stack and status word access shared by the x87 family: physical registers and tags, push/pop,
// stack faults, exception flags with ES/B, the pending #MF check of waiting instructions, FIP/FDP/FOP.
import type { Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { Exc, FpStatus } from '../f80/round.js';
import { F80, INDEFINITE, Kind, kindOf } from '../f80/value.js';
import { eaOf, memOf } from '../operands.js';
import { Off } from '../state.js';

/** Indices into the 32-bit state view. */
export const FCW = Off.FCW >> 2, FSW = Off.FSW >> 2, FTOP = Off.FTOP >> 2, FTAG = Off.FTAG >> 2;
export const FOP = Off.FOP >> 2, FIP = Off.FIP >> 2, FDP = Off.FDP >> 2;
const ST = Off.ST >> 2;
const CR0 = Off.CR0 >> 2;

/** Status word bits (TOP excluded: it lives in FTOP). */
export const enum Sw {
  IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80,
  C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, B = 0x8000,
}

/** Scratch status shared by all x87 handlers (x87 instructions do not nest). */
export const fst = new FpStatus();

/** Start an operation under the current control word. */
export function env(c: Cpu): FpStatus {
  return fst.reset(c.r[FCW]!);
}

/** Device-not-available check of every x87 instruction (CR0.EM or CR0.TS). */
export function checkNm(c: Cpu): void {
  if (c.r[CR0]! & 0xc) throw new Fault(Vector.NM);
}

/** Entry of a waiting x87 instruction: #NM, then a pending unmasked exception raises #MF. */
export function begin(c: Cpu): void {
  if (c.r[CR0]! & 0xc) throw new Fault(Vector.NM);
  if (c.r[FSW]! & Sw.ES) throw new Fault(Vector.MF);
}

/** Physical register number of ST(i). */
export function physOf(c: Cpu, i: number): number {
  return (c.r[FTOP]! + i) & 7;
}

/** Tag (0 valid, 1 zero, 2 special, 3 empty) of physical register p. */
export function tagOf(c: Cpu, p: number): number {
  return (c.r[FTAG]! >>> (p * 2)) & 3;
}

function setTag(c: Cpu, p: number, t: number): void {
  c.r[FTAG] = ((c.r[FTAG]! & ~(3 << (p * 2))) | (t << (p * 2))) & 0xffff;
}

/** The tag a value gets when written to a register. */
export function tagFor(x: F80): number {
  const k = kindOf(x);
  return k === Kind.NORMAL ? 0 : k === Kind.ZERO ? 1 : 2;
}

/** True if ST(i) is empty. */
export function isEmpty(c: Cpu, i: number): boolean {
  return tagOf(c, physOf(c, i)) === 3;
}

/** Contents of physical register p (whatever its tag). */
export function readPhys(c: Cpu, p: number): F80 {
  const o = ST + p * 4, r = c.r;
  return { se: r[o + 2]! & 0xffff, m: (BigInt(r[o + 1]!) << 32n) | BigInt(r[o]!) };
}

/** Write physical register p without touching its tag. */
export function writePhysRaw(c: Cpu, p: number, x: F80): void {
  const o = ST + p * 4, r = c.r;
  r[o] = Number(x.m & 0xffffffffn); r[o + 1] = Number((x.m >> 32n) & 0xffffffffn);
  r[o + 2] = x.se & 0xffff; r[o + 3] = 0;
}

/** Write physical register p and set its tag from the value. */
export function writePhys(c: Cpu, p: number, x: F80): void {
  writePhysRaw(c, p, x);
  setTag(c, p, tagFor(x));
}

/** ST(i). */
export function readSt(c: Cpu, i: number): F80 {
  return readPhys(c, physOf(c, i));
}

/** ST(i) <- x (tag from the value). */
export function writeSt(c: Cpu, i: number, x: F80): void {
  writePhys(c, physOf(c, i), x);
}

/** Mark physical register p empty. */
export function freePhys(c: Cpu, p: number): void {
  setTag(c, p, 3);
}

/** Pop: ST(0) becomes empty, TOP increments. */
export function pop(c: Cpu): void {
  const t = c.r[FTOP]!;
  setTag(c, t, 3);
  c.r[FTOP] = (t + 1) & 7;
}

/** True if a push would not overflow (the register below TOP is empty). */
export function canPush(c: Cpu): boolean {
  return tagOf(c, (c.r[FTOP]! - 1) & 7) === 3;
}

/** Push x (the caller has checked canPush, or is pushing the indefinite after a masked overflow). */
export function push(c: Cpu, x: F80): void {
  const p = (c.r[FTOP]! - 1) & 7;
  c.r[FTOP] = p;
  writePhys(c, p, x);
}

/** Set or clear status-word bits. */
export function setSw(c: Cpu, mask: number, bits: number): void {
  c.r[FSW] = ((c.r[FSW]! & ~mask) | (bits & mask)) & 0xffff;
}

/** Set C1. */
export function setC1(c: Cpu, on: boolean): void {
  setSw(c, Sw.C1, on ? Sw.C1 : 0);
}

/** Recompute ES and B from the exception flags and masks. */
export function syncEs(c: Cpu): void {
  const sw = c.r[FSW]!;
  c.r[FSW] = (sw & ~(Sw.ES | Sw.B)) | ((sw & ~c.r[FCW]! & 0x3f) ? Sw.ES | Sw.B : 0);
}

/** Raise exception flags (sticky); unmasked ones set ES and B, and the next waiting instruction takes #MF. */
export function raise(c: Cpu, exc: number): void {
  let sw = c.r[FSW]! | exc;
  if (sw & ~c.r[FCW]! & 0x3f) sw |= Sw.ES | Sw.B;
  c.r[FSW] = sw & 0xffff;
}

/** True if the invalid-operation exception is masked. */
export function imMasked(c: Cpu): boolean {
  return (c.r[FCW]! & 1) !== 0;
}

/** Stack underflow (an empty register was read): IE SF, C1 = 0. Returns true when masked. */
export function underflow(c: Cpu): boolean {
  setC1(c, false);
  raise(c, Sw.IE | Sw.SF);
  return imMasked(c);
}

/** Stack overflow (push onto a full register): IE SF, C1 = 1; when masked the indefinite is pushed. */
export function overflow(c: Cpu): void {
  setC1(c, true);
  raise(c, Sw.IE | Sw.SF);
  if (imMasked(c)) push(c, INDEFINITE);
}

/**
 * Stack check of the two-result instructions FXTRACT, FSINCOS, FPTAN, which replace ST(0) and push. An empty
 * ST(0) is an underflow (C1 = 0) even when ST(7) is full too; otherwise a full ST(7) is an overflow (C1 = 1).
 * Either way, when IE is masked, ST(0) becomes the indefinite and the indefinite is pushed (measured on
 * hardware: the old ST(0) is not kept on overflow, and the push after an underflow ignores ST(7)).
 * Returns true if there was a stack fault (the instruction is then complete).
 */
export function pairStackFault(c: Cpu): boolean {
  if (isEmpty(c, 0)) setC1(c, false);
  else if (!canPush(c)) setC1(c, true);
  else return false;
  raise(c, Sw.IE | Sw.SF);
  if (imMasked(c)) { writeSt(c, 0, INDEFINITE); push(c, INDEFINITE); }
  return true;
}

/**
 * The denormal-operand exception has a lower priority than every invalid-operation exception and than
 * division by zero (SDM vol. 1 4.9.2): when either occurs, DE is not reported. Measured on hardware for
 * FDIV, FSQRT, FPREM, FYL2X, FCOM with a denormal and a NaN, unsupported, zero or negative operand.
 */
export function dePriority(st: FpStatus): void {
  if (st.exc & (Sw.IE | Sw.ZE)) st.exc &= ~Sw.DE;
}

/**
 * Store an operation's result into ST(i): returns false (nothing written) when an unmasked IE, DE or ZE
 * suppresses it; otherwise writes, sets C1 from the rounding and raises the flags.
 */
export function commit(c: Cpu, i: number, x: F80): boolean {
  dePriority(fst);
  const um = fst.unmasked();
  if (um & (Exc.IE | Exc.DE | Exc.ZE)) { raise(c, fst.exc); return false; }
  writeSt(c, i, x);
  setC1(c, fst.up);
  raise(c, fst.exc);
  return true;
}

/** Per-instruction data for the FIP/FOP/FDP registers. */
export interface Site {
  ipLo: number;
  ipHi: number;
  /** The 11-bit x87 opcode: low 3 bits of the D8..DF byte, then the ModRM byte. */
  fop: number;
}

/** Describe the instruction for FIP/FOP. */
export function siteOf(d: Decoded): Site {
  const b = d.bytes;
  let i = 0;
  while (i < b.length - 1 && (b[i]! & 0xf8) !== 0xd8) i++;
  const fop = ((b[i]! & 7) << 8) | (b[i + 1] ?? 0);
  return { ipLo: d.ipLo, ipHi: d.ipHi, fop };
}

/** Record the last non-control instruction (FIP, FOP). */
export function note(c: Cpu, s: Site): void {
  c.r[FIP] = s.ipLo; c.r[FIP + 1] = s.ipHi; c.r[FOP] = s.fop;
}

/**
 * The frame of every x87 instruction with a memory operand: start it, compute the address, run `body`, then
 * record FIP, FOP and FDP (on every path that did not fault).
 */
export function memX87(d: Decoded, body: (c: Cpu, lo: number, hi: number) => void): Exec {
  const ea = eaOf(memOf(d)), site = siteOf(d);
  return (c) => {
    begin(c);
    const lo = ea(c), hi = c.hi;
    body(c, lo, hi);
    noteMem(c, site, lo, hi);
  };
}

/** Record the last non-control instruction with a memory operand (FIP, FOP, FDP). */
export function noteMem(c: Cpu, s: Site, lo: number, hi: number): void {
  c.r[FIP] = s.ipLo; c.r[FIP + 1] = s.ipHi; c.r[FOP] = s.fop;
  c.r[FDP] = lo; c.r[FDP + 1] = hi;
}
