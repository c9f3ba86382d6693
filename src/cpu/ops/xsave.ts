// The XSAVE feature set of x86-64-v3 (Intel SDM vol. 1 ch. 13, vol. 2 XGETBV/XSETBV/XSAVE/XRSTOR): XCR0 with
// the x87 (bit 0), SSE (bit 1) and AVX (bit 2, the YMM upper halves) state components, the standard (not
// compacted) XSAVE area: the 512-byte legacy region (the FXSAVE image), the 64-byte header at 512 (XSTATE_BV,
// XCOMP_BV) and the AVX component at 576. All #UD while CR4.OSXSAVE is clear. XSAVEOPT/XSAVEC/XSAVES are not
// advertised (CPUID leaf 0xd subleaf 1 is zero), so they are not in the table.
import { Code } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { XCR0_SUPPORTED, XSAVE_AVX_OFFSET } from '../cpuid.js';
import type { Decoded } from '../decoded.js';
import { Fault, gp, ud, Vector } from '../fault.js';
import { Implicit } from '../op-spec.js';
import { eaOf } from '../operands.js';
import { Off } from '../state.js';
import type { OpMap } from '../table.js';
import { finit } from './x87-control.js';
import { fxImage, loadFxX87, MXCSR_MASK } from './x87-control.js';
import { addrAdd, probeRead, probeWrite, readBytes, writeBytes } from './x87-mem.js';

const CR4_OSXSAVE = 1 << 18;
const XCR0 = Off.XCR0 >> 2, MXCSR = Off.MXCSR >> 2, FCW = Off.FCW >> 2, FSW = Off.FSW >> 2, FTAG = Off.FTAG >> 2;
/** Offset of XSTATE_BV in the XSAVE area. */
const HEADER = 512;

/** #UD unless CR4.OSXSAVE is set. */
function checkOsxsave(c: Cpu): void {
  if (!(c.r[Off.CR4 >> 2]! & CR4_OSXSAVE)) ud('XSAVE feature set with CR4.OSXSAVE clear');
}

/** True if any of `n` state bytes at `off` is non-zero. */
function anyByte(c: Cpu, off: number, n: number): boolean {
  const u8 = c.s.u8;
  for (let k = 0; k < n; k++) if (u8[off + k] !== 0) return true;
  return false;
}

/**
 * XINUSE: the components not in their initial configuration (the SDM lets a processor report 1 for a component
 * in its initial state; this model reports 0 exactly when the component is in it).
 */
export function xinuse(c: Cpu): number {
  const r = c.r;
  const x87 = (r[FCW]! & 0xffff) !== 0x37f || (r[FSW]! & 0xffff) !== 0 || r[Off.FTOP >> 2] !== 0 || (r[FTAG]! & 0xffff) !== 0xffff ||
    r[Off.FOP >> 2] !== 0 || anyByte(c, Off.FIP, 16) || anyByte(c, Off.ST, 128);
  const sse = anyByte(c, Off.XMM, 256);
  const avx = anyByte(c, Off.YMMH, 256);
  return (x87 ? 1 : 0) | (sse ? 2 : 0) | (avx ? 4 : 0);
}

/** XGETBV: EDX:EAX := XCR[ECX]; ECX 0 is XCR0 (XCR 1, XINUSE, is not advertised: #GP). */
const xgetbv: Builder = () => (c) => {
  checkOsxsave(c);
  const r = c.r;
  if (r[2] !== 0) gp(0, `XGETBV of XCR${r[2]!}`);
  r[0] = r[XCR0]!; r[1] = 0; r[4] = r[XCR0 + 1]!; r[5] = 0;
};

/** XSETBV: XCR[ECX] := EDX:EAX at CPL 0; XCR0 must keep x87, may add SSE and then AVX, and nothing else. */
const xsetbv: Builder = () => (c) => {
  checkOsxsave(c);
  const r = c.r, lo = r[0]!, hi = r[4]!;
  if (c.cpl !== 0) gp(0, 'XSETBV at CPL > 0');
  if (r[2] !== 0) gp(0, `XSETBV of XCR${r[2]!}`);
  if (hi !== 0 || (lo & ~XCR0_SUPPORTED) !== 0 || !(lo & 1) || ((lo & 4) !== 0 && (lo & 2) === 0)) gp(0, 'XSETBV: invalid XCR0 value');
  r[XCR0] = lo; r[XCR0 + 1] = 0;
};

/** The requested-feature bitmap: XCR0 AND EDX:EAX (only the low bits exist). */
const rfbmOf = (c: Cpu): number => c.r[XCR0]! & c.r[0]!;

/** XSAVE / XSAVE64 m: save the components of RFBM and set their XSTATE_BV bits to XINUSE. */
function xsave(rex64: boolean): Builder {
  return (d: Decoded): Exec => {
    const ea = eaOf(d.mem!);
    return (c) => {
      checkOsxsave(c);
      const lo = ea(c), hi = c.hi;
      if (lo & 63) gp(0, 'XSAVE area not 64-byte aligned');
      const rfbm = rfbmOf(c);
      probeWrite(c, lo, hi, rfbm & 4 ? XSAVE_AVX_OFFSET + 256 : HEADER + 8);
      const bv = readBytes(c, addrAdd(c, lo, hi, HEADER), c.hi, 8);
      const image = fxImage(c, rex64);
      if (rfbm & 1) { writeBytes(c, lo, hi, image.slice(0, 24)); writeBytes(c, addrAdd(c, lo, hi, 32), c.hi, image.slice(32, 160)); }
      if (rfbm & 6) writeBytes(c, addrAdd(c, lo, hi, 24), c.hi, image.slice(24, 32)); // MXCSR and MXCSR_MASK
      if (rfbm & 2) writeBytes(c, addrAdd(c, lo, hi, 160), c.hi, image.slice(160, 416));
      if (rfbm & 4) writeBytes(c, addrAdd(c, lo, hi, XSAVE_AVX_OFFSET), c.hi, c.s.u8.subarray(Off.YMMH, Off.YMMH + 256));
      bv[0] = (bv[0]! & ~rfbm) | (xinuse(c) & rfbm);
      writeBytes(c, addrAdd(c, lo, hi, HEADER), c.hi, bv);
    };
  };
}

/** XRSTOR / XRSTOR64 m: load the components of RFBM whose XSTATE_BV bit is set, initialise the others. */
function xrstor(rex64: boolean): Builder {
  return (d: Decoded): Exec => {
    const ea = eaOf(d.mem!);
    return (c) => {
      checkOsxsave(c);
      const lo = ea(c), hi = c.hi;
      if (lo & 63) gp(0, 'XRSTOR area not 64-byte aligned');
      const rfbm = rfbmOf(c);
      probeRead(c, lo, hi, rfbm & 4 ? XSAVE_AVX_OFFSET + 256 : HEADER + 64);
      const header = readBytes(c, addrAdd(c, lo, hi, HEADER), c.hi, 64);
      const bv = header[0]!;
      // XSTATE_BV beyond XCR0, or a compacted/non-zero XCOMP_BV (XSAVEC is not supported): #GP
      if ((bv & ~c.r[XCR0]!) !== 0 || header.slice(1, 24).some((x) => x !== 0)) gp(0, 'XRSTOR: invalid XSAVE header');
      const legacy = readBytes(c, lo, hi, 416);
      const mxcsr = (legacy[24]! | (legacy[25]! << 8) | (legacy[26]! << 16) | (legacy[27]! << 24)) >>> 0;
      if ((rfbm & 6) !== 0 && (mxcsr & ~MXCSR_MASK) !== 0) throw new Fault(Vector.GP, 0);
      const avx = rfbm & bv & 4 ? readBytes(c, addrAdd(c, lo, hi, XSAVE_AVX_OFFSET), c.hi, 256) : null;
      if (rfbm & 1) { if (bv & 1) loadFxX87(c, legacy, rex64); else initX87(c); }
      if (rfbm & 6) c.r[MXCSR] = mxcsr;
      if (rfbm & 2) { if (bv & 2) c.s.u8.set(legacy.slice(160, 416), Off.XMM); else c.s.u8.fill(0, Off.XMM, Off.XMM + 256); }
      if (rfbm & 4) { if (avx !== null) c.s.u8.set(avx, Off.YMMH); else c.s.u8.fill(0, Off.YMMH, Off.YMMH + 256); }
    };
  };
}

/** The x87 initial configuration (FNINIT, and FIP/FDP/FOP and the registers zeroed). */
function initX87(c: Cpu): void {
  finit(c);
  c.s.u8.fill(0, Off.FIP, Off.FIP + 16);
  c.s.u8.fill(0, Off.ST, Off.ST + 128);
  c.r[Off.FOP >> 2] = 0;
}

/** xsave family handlers keyed by iced Code. */
export const xsaveOps: OpMap = {
  [Code.Xgetbv]: xgetbv,
  [Code.Xsetbv]: { build: xsetbv, writes: Implicit.SYSTEM, ends: true },
  [Code.Xsave_mem]: xsave(false), [Code.Xsave64_mem]: xsave(true),
  [Code.Xrstor_mem]: { build: xrstor(false), writes: Implicit.MXCSR | Implicit.XMM | Implicit.X87 },
  [Code.Xrstor64_mem]: { build: xrstor(true), writes: Implicit.MXCSR | Implicit.XMM | Implicit.X87 },
};
