// The MMX registers and the x87/MMX aliasing (SDM vol. 1, 9.5 "Compatibility with x87 FPU Architecture"):
// MMn is the significand (bits 63:0) of physical x87 register Rn. Every MMX instruction except EMMS first
// takes #UD (CR0.EM), #NM (CR0.TS) or #MF (a pending unmasked x87 exception), and on completion sets TOP to 0
// and marks every register valid; a write to MMn also sets bits 79:64 of Rn to all ones. The 2-bit tags this
// processor keeps are those FSTENV/FSAVE report, which hardware derives from the contents of non-empty registers.
// An MMX instruction that takes a memory fault makes no transition; one that raises #XM (the conversions) makes it
// first (measured on the host CPU by the differential suite's mmx family).
import type { Cpu } from '../cpu.js';
import { Fault, Vector } from '../fault.js';
import { Off } from '../state.js';

/** Index of MMn's low half in the 32-bit state view. */
export const mmIndex = (n: number): number => (Off.ST >> 2) + (n << 2);

const CR0 = Off.CR0 >> 2, FSW = Off.FSW >> 2, FTOP = Off.FTOP >> 2, FTAG = Off.FTAG >> 2, ST = Off.ST >> 2;

/** The checks every MMX instruction makes before it executes: #UD if CR0.EM, #NM if CR0.TS, #MF if FSW.ES. */
export function mmxEnter(c: Cpu): void {
  const cr0 = c.r[CR0]!;
  if (cr0 & 0x4) throw new Fault(Vector.UD, 0, 0, 0, 'MMX instruction with CR0.EM set');
  if (cr0 & 0x8) throw new Fault(Vector.NM);
  if (c.r[FSW]! & 0x80) throw new Fault(Vector.MF);
}

/** The tag (0 valid, 1 zero, 2 special) of a non-empty register from its contents, as FSTENV reports it. */
function tagOfContents(lo: number, hi: number, se: number): number {
  const e = se & 0x7fff;
  if (e === 0x7fff) return 2;
  if (e === 0) return (lo | hi) === 0 ? 1 : 2; // zero, or a (pseudo-)denormal
  return hi & 0x80000000 ? 0 : 2; // normal, or an unnormal
}

/** The transition to MMX state after an MMX instruction completes: TOP = 0, every register non-empty. */
export function mmxCommit(c: Cpu): void {
  const u = c.r;
  let tags = 0;
  for (let p = 0; p < 8; p++) {
    const k = ST + (p << 2);
    tags |= tagOfContents(u[k]!, u[k + 1]!, u[k + 2]!) << (p * 2);
  }
  u[FTAG] = tags;
  u[FTOP] = 0;
}

/** Write MMn (lo, hi) with bits 79:64 of Rn set to all ones. */
export function writeMm(c: Cpu, n: number, lo: number, hi: number): void {
  const u = c.r, k = mmIndex(n);
  u[k] = lo; u[k + 1] = hi; u[k + 2] = 0xffff; u[k + 3] = 0;
}

/** EMMS: every tag empty, and TOP = 0 as after every MMX instruction (SDM vol. 3, 12.2: "Each time an MMX instruction is executed, the TOS value is set to 000B"). */
export function emms(c: Cpu): void {
  c.r[FTAG] = 0xffff;
  c.r[FTOP] = 0;
}
