// Helpers shared by the system-instruction files: privilege checks and implicit supervisor accesses
// to system tables (GDT, TSS), which ignore CPL as the SDM's "implicit supervisor-mode accesses" do.
import type { Cpu } from '../cpu.js';
import { gp } from '../fault.js';
import { Access } from '../mmu.js';
import { Off } from '../state.js';

/** Index into the 32-bit state view of a byte offset. */
export const R = (off: number): number => off >> 2;

/** #GP(0) unless CPL is 0 (privileged instructions). */
export function needCpl0(c: Cpu, name: string): void {
  if (c.r[R(Off.CPL)] !== 0) gp(0, `${name} at CPL ${c.r[R(Off.CPL)]}`);
}

/** Add a byte offset to a lo/hi linear address: returns lo, leaves hi in c.hi. */
export function addLinear(c: Cpu, lo: number, hi: number, k: number): number {
  const s = lo + k;
  c.hi = s > 0xffffffff ? (hi + 1) >>> 0 : s < 0 ? (hi - 1) >>> 0 : hi;
  return s >>> 0;
}

/** Read one byte of a system table with supervisor privilege. */
export function sysRead8(c: Cpu, lo: number, hi: number): number {
  return c.bytes[c.translateAt(lo, hi, Access.READ, 0)]!;
}

/** Read a little-endian 32-bit value of a system table with supervisor privilege (may cross pages). */
export function sysRead32(c: Cpu, lo: number, hi: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const a = addLinear(c, lo, hi, k);
    v += sysRead8(c, a, c.hi) * 2 ** (8 * k);
  }
  return v;
}

/** Write one byte of a system table with supervisor privilege (keeps decoded code coherent). */
export function sysWrite8(c: Cpu, lo: number, hi: number, v: number): void {
  const p = c.translateAt(lo, hi, Access.WRITE, 0);
  c.notifyPhysWrite(p, 1);
  c.bytes[p] = v;
}
