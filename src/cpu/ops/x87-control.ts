// x87 control: FLDCW FNSTCW FNSTSW FNCLEX FNINIT WAIT FNOP (and the waiting forms), the environment and state
// images FNSTENV FLDENV FNSAVE FRSTOR (28/108-byte and 14/94-byte formats) and FXSAVE/FXRSTOR (+64).
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Fault, Vector } from '../fault.js';
import { eaOf, memOf } from '../operands.js';
import { Off } from '../state.js';
import { Implicit } from '../op-spec.js';
import type { OpMap } from '../table.js';
import {
  begin, checkNm, FCW, FDP, FIP, FOP, FSW, FTAG, FTOP, note, readPhys, siteOf, syncEs, tagFor, writePhysRaw,
} from './x87-stack.js';
import { probeRead, readBytes, writeBytes } from './x87-mem.js';

const CR0 = Off.CR0 >> 2;
const MXCSR = Off.MXCSR >> 2;
/** MXCSR bits FXRSTOR accepts (DAZ included, as the SSE family implements it). */
export const MXCSR_MASK = 0xffff;

/** Status word with TOP composed into bits 11..13. */
export function statusWord(c: Cpu): number {
  return ((c.r[FSW]! & ~0x3800) | (c.r[FTOP]! << 11)) & 0xffff;
}

/** Full tag word computed from the registers (empty stays empty). */
export function tagWord(c: Cpu): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) {
    const t = ((c.r[FTAG]! >>> (p * 2)) & 3) === 3 ? 3 : tagFor(readPhys(c, p));
    tw |= t << (p * 2);
  }
  return tw;
}

/** Load a tag word: empty registers per `tw`, the others tagged from their contents. */
function loadTags(c: Cpu, emptyBits: number): void {
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= ((emptyBits >>> p) & 1 ? 3 : tagFor(readPhys(c, p))) << (p * 2);
  c.r[FTAG] = tw;
}

/** Load FSW (with TOP in bits 11..13). */
function loadStatus(c: Cpu, sw: number): void {
  c.r[FTOP] = (sw >>> 11) & 7;
  c.r[FSW] = sw & ~0x3800 & 0xffff;
  syncEs(c);
}

/** FNINIT state. */
export function finit(c: Cpu): void {
  const r = c.r;
  r[FCW] = 0x37f; r[FSW] = 0; r[FTOP] = 0; r[FTAG] = 0xffff;
  r[FOP] = 0; r[FIP] = 0; r[FIP + 1] = 0; r[FDP] = 0; r[FDP + 1] = 0;
}

/** A control instruction: `wait` selects the waiting form (pending #MF checked first). */
function control(wait: boolean, fn: (c: Cpu) => void): (d: Decoded) => Exec {
  return () => (c) => { if (wait) begin(c); else checkNm(c); fn(c); };
}

/** A control instruction with a memory operand. */
function controlMem(wait: boolean, fn: (c: Cpu, lo: number, hi: number) => void): (d: Decoded) => Exec {
  return (d) => {
    const ea = eaOf(memOf(d));
    return (c) => { if (wait) begin(c); else checkNm(c); const lo = ea(c); fn(c, lo, c.hi); };
  };
}

function fldcw(c: Cpu, lo: number, hi: number): void {
  const v = c.rd16(lo, hi);
  c.r[FCW] = v & 0x1f3f | 0x40; // bit 6 reads as 1, bits 13..15 as 0
  syncEs(c);
}

// ---- environment images ------------------------------------------------------------------------

/** The environment as bytes (28-byte or 14-byte protected-mode format). */
function envBytes(c: Cpu, wide: boolean): number[] {
  const out: number[] = [];
  const put = (v: number, n: number): void => { for (let k = 0; k < n; k++) out.push((v >>> (8 * k)) & 0xff); };
  if (wide) {
    put(c.r[FCW]! | 0xffff0000, 4); put(statusWord(c) | 0xffff0000, 4); put(tagWord(c) | 0xffff0000, 4);
    put(c.r[FIP]!, 4); put((c.r[FOP]! & 0x7ff) << 16, 4); put(c.r[FDP]!, 4); put(0xffff0000, 4);
  } else {
    put(c.r[FCW]!, 2); put(statusWord(c), 2); put(tagWord(c), 2);
    put(c.r[FIP]!, 2); put(0, 2); put(c.r[FDP]!, 2); put(0, 2);
  }
  return out;
}

/** Apply an environment image. */
function loadEnv(c: Cpu, b: number[], wide: boolean): void {
  const get = (o: number, n: number): number => { let v = 0; for (let k = n - 1; k >= 0; k--) v = v * 256 + b[o + k]!; return v; };
  const s = wide ? 4 : 2;
  c.r[FCW] = get(0, 2) & 0x1f3f | 0x40;
  const tw = get(2 * s, 2);
  let empty = 0;
  for (let p = 0; p < 8; p++) if (((tw >>> (p * 2)) & 3) === 3) empty |= 1 << p;
  loadStatus(c, get(s, 2));
  loadTags(c, empty);
  if (wide) {
    c.r[FIP] = get(12, 4); c.r[FIP + 1] = 0; c.r[FOP] = (get(16, 4) >>> 16) & 0x7ff;
    c.r[FDP] = get(20, 4); c.r[FDP + 1] = 0;
  } else {
    c.r[FIP] = get(6, 2); c.r[FIP + 1] = 0; c.r[FDP] = get(10, 2); c.r[FDP + 1] = 0;
  }
}

function fnstenv(wide: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    writeBytes(c, lo, hi, envBytes(c, wide));
    c.r[FCW] = c.r[FCW]! | 0x3f; // all exceptions masked afterwards, so nothing is pending: ES and B clear
    syncEs(c);
  };
}

function fldenv(wide: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => loadEnv(c, readBytes(c, lo, hi, wide ? 28 : 14), wide);
}

/** Register bytes ST(0)..ST(7), 10 each. */
function regBytes(c: Cpu, stride: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const x = readPhys(c, (c.r[FTOP]! + i) & 7);
    for (let k = 0; k < 8; k++) out.push(Number((x.m >> BigInt(8 * k)) & 0xffn));
    out.push(x.se & 0xff, (x.se >>> 8) & 0xff);
    for (let k = 10; k < stride; k++) out.push(0);
  }
  return out;
}

/** Load registers ST(0)..ST(7) (relative to the already loaded TOP) from bytes at `o` with `stride`. */
function loadRegs(c: Cpu, b: number[], o: number, stride: number): void {
  for (let i = 0; i < 8; i++) {
    const base = o + i * stride;
    let m = 0n;
    for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(b[base + k]!);
    writePhysRaw(c, (c.r[FTOP]! + i) & 7, { se: b[base + 8]! | (b[base + 9]! << 8), m });
  }
}

function fnsave(wide: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    writeBytes(c, lo, hi, [...envBytes(c, wide), ...regBytes(c, 10)]);
    finit(c);
  };
}

function frstor(wide: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    const n = wide ? 28 : 14;
    const b = readBytes(c, lo, hi, n + 80);
    const tw = b[2 * (wide ? 4 : 2)]! | (b[2 * (wide ? 4 : 2) + 1]! << 8);
    loadEnv(c, b, wide); // sets TOP and the tags from the (old) contents
    loadRegs(c, b, n, 10);
    let empty = 0;
    for (let p = 0; p < 8; p++) if (((tw >>> (p * 2)) & 3) === 3) empty |= 1 << p;
    loadTags(c, empty);
  };
}

// ---- FXSAVE / FXRSTOR --------------------------------------------------------------------------

function checkAlign16(lo: number): void {
  if (lo & 15) throw new Fault(Vector.GP, 0);
}

/** The 512-byte FXSAVE image of the processor's x87/SSE state (the host uses it to start a forked task's). */
export function fxsaveImage(c: Cpu, rex64: boolean): number[] {
  const out: number[] = [];
  const put = (v: number, n: number): void => { for (let k = 0; k < n; k++) out.push((v >>> (8 * k)) & 0xff); };
  let abridged = 0;
  for (let p = 0; p < 8; p++) if (((c.r[FTAG]! >>> (p * 2)) & 3) !== 3) abridged |= 1 << p;
  put(c.r[FCW]!, 2); put(statusWord(c), 2); put(abridged, 1); put(0, 1); put(c.r[FOP]! & 0x7ff, 2);
  if (rex64) { put(c.r[FIP]!, 4); put(c.r[FIP + 1]!, 4); put(c.r[FDP]!, 4); put(c.r[FDP + 1]!, 4); } else {
    put(c.r[FIP]!, 4); put(0, 4); put(c.r[FDP]!, 4); put(0, 4);
  }
  put(c.r[MXCSR]!, 4); put(MXCSR_MASK, 4);
  out.push(...regBytes(c, 16));
  const x = c.s.u8;
  for (let k = 0; k < 256; k++) out.push(x[Off.XMM + k]!);
  return out;
}

function fxsave(rex64: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    checkAlign16(lo);
    writeBytes(c, lo, hi, fxsaveImage(c, rex64));
  };
}

function fxrstor(rex64: boolean): (c: Cpu, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    checkAlign16(lo);
    probeRead(c, lo, hi, 512);
    const b = readBytes(c, lo, hi, 416);
    const get = (o: number, n: number): number => { let v = 0; for (let k = n - 1; k >= 0; k--) v = v * 256 + b[o + k]!; return v; };
    const mxcsr = get(24, 4);
    if (mxcsr & ~MXCSR_MASK) throw new Fault(Vector.GP, 0);
    c.r[FCW] = get(0, 2) & 0x1f3f | 0x40;
    loadStatus(c, get(2, 2));
    c.r[FOP] = get(6, 2) & 0x7ff;
    c.r[FIP] = get(8, 4); c.r[FIP + 1] = rex64 ? get(12, 4) : 0;
    c.r[FDP] = get(16, 4); c.r[FDP + 1] = rex64 ? get(20, 4) : 0;
    c.r[MXCSR] = mxcsr;
    loadRegs(c, b, 32, 16);
    loadTags(c, ~b[4]! & 0xff);
    c.s.u8.set(b.slice(160, 416), Off.XMM);
  };
}

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; #MF when an unmasked exception is pending. */
function wait(): Exec {
  return (c) => {
    if ((c.r[CR0]! & 0xa) === 0xa) throw new Fault(Vector.NM);
    if (c.r[FSW]! & 0x80) throw new Fault(Vector.MF);
  };
}

/** FNOP: a non-control instruction doing nothing (updates FIP/FOP). */
function fnop(d: Decoded): Exec {
  const site = siteOf(d);
  return (c) => { begin(c); note(c, site); };
}

const nothing = (): void => {};
const fnclex = (c: Cpu): void => { c.r[FSW] = c.r[FSW]! & 0x7f00; };
const fnstsw = (c: Cpu, lo: number, hi: number): void => c.wr16(lo, hi, statusWord(c));
const fnstswAx = (c: Cpu): void => { c.s.u16[0] = statusWord(c); };
const fnstcw = (c: Cpu, lo: number, hi: number): void => c.wr16(lo, hi, c.r[FCW]!);


/** Control handlers keyed by iced Code. */
export const x87ControlOps: OpMap = {
  [Code.Wait]: wait,
  [Code.Fnop]: fnop,
  [Code.Fneni]: control(false, nothing), [Code.Fndisi]: control(false, nothing), [Code.Fnsetpm]: control(false, nothing),
  [Code.Feni]: control(true, nothing), [Code.Fdisi]: control(true, nothing), [Code.Fsetpm]: control(true, nothing),
  [Code.Fldcw_m2byte]: controlMem(true, fldcw),
  [Code.Fnstcw_m2byte]: controlMem(false, fnstcw), [Code.Fstcw_m2byte]: controlMem(true, fnstcw),
  [Code.Fnstsw_m2byte]: controlMem(false, fnstsw), [Code.Fstsw_m2byte]: controlMem(true, fnstsw),
  [Code.Fnstsw_AX]: control(false, fnstswAx), [Code.Fstsw_AX]: control(true, fnstswAx),
  [Code.Fnclex]: control(false, fnclex), [Code.Fclex]: control(true, fnclex),
  [Code.Fninit]: control(false, finit), [Code.Finit]: control(true, finit),
  [Code.Fnstenv_m14byte]: controlMem(false, fnstenv(false)), [Code.Fstenv_m14byte]: controlMem(true, fnstenv(false)),
  [Code.Fnstenv_m28byte]: controlMem(false, fnstenv(true)), [Code.Fstenv_m28byte]: controlMem(true, fnstenv(true)),
  [Code.Fldenv_m14byte]: controlMem(true, fldenv(false)), [Code.Fldenv_m28byte]: controlMem(true, fldenv(true)),
  [Code.Fnsave_m94byte]: controlMem(false, fnsave(false)), [Code.Fsave_m94byte]: controlMem(true, fnsave(false)),
  [Code.Fnsave_m108byte]: controlMem(false, fnsave(true)), [Code.Fsave_m108byte]: controlMem(true, fnsave(true)),
  [Code.Frstor_m94byte]: controlMem(true, frstor(false)), [Code.Frstor_m108byte]: controlMem(true, frstor(true)),
  [Code.Fxsave_m512byte]: controlMem(false, fxsave(false)), [Code.Fxsave64_m512byte]: controlMem(false, fxsave(true)),
  // FXRSTOR also loads MXCSR and every XMM register
  [Code.Fxrstor_m512byte]: { build: controlMem(false, fxrstor(false)), writes: Implicit.MXCSR | Implicit.XMM },
  [Code.Fxrstor64_m512byte]: { build: controlMem(false, fxrstor(true)), writes: Implicit.MXCSR | Implicit.XMM },
};
