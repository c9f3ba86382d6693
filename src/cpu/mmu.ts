// 4-level paging (IA-32e, SDM vol. 3A ch. 4.5): a page walk with P/RW/US/NX/A/D, CR0.WP, EFER.NXE,
// 2-MiB and 1-GiB pages, producing the SDM's #PF error codes.
import { Fault, Vector } from './fault.js';
import { PhysMemory } from './phys-memory.js';
import { Off } from './state.js';

/** Detail of the #GP(0) raised for a non-canonical address (turned into #SS(0) for stack references). */
export const NON_CANONICAL = 'non-canonical address';

/** Kinds of access. */
export const enum Access { READ = 0, WRITE = 1, FETCH = 2 }

/** #PF error code bits (SDM 4.7). */
export const enum PfErr { P = 1, W = 2, U = 4, RSVD = 8, I = 16 }

const CR0_WP = 1 << 16;
const CR0_PG = 0x80000000;
const EFER_NXE = 1 << 11;

/** Result of the last successful walk: physical page base and whether the page is dirty. */
export interface WalkResult {
  /** Physical address of the 4-KiB page containing the linear address. */
  phys: number;
  /** Final entry allows writes at this privilege. */
  writable: boolean;
}

/** True if the 64-bit address (lo/hi) is canonical for 48-bit linear addresses. */
export function isCanonical(hi: number): boolean {
  const top = hi >>> 15;
  return top === 0 || top === 0x1ffff;
}

/**
 * Translate a linear address. Sets A bits along the walk and D on writes (writing guest memory through
 * `onWalkWrite` so recorders see it). Throws Fault(#PF) or Fault(#GP) for non-canonical addresses.
 */
export function walk(u32: Uint32Array, mem: PhysMemory, lo: number, hi: number, access: Access, cpl: number,
  out: WalkResult, onWalkWrite?: (phys: number, oldValue: number, newValue: number) => void): void {
  if (!isCanonical(hi)) throw new Fault(Vector.GP, 0, 0, 0, NON_CANONICAL);
  const cr0 = u32[Off.CR0 >> 2]!;
  if (!(cr0 & CR0_PG)) { // paging off: identity (only used by tests before paging is enabled)
    if (hi !== 0 || lo >= mem.size) throw new Fault(Vector.GP, 0, 0, 0, 'physical address beyond memory');
    out.phys = (lo & ~0xfff) >>> 0; out.writable = true;
    return;
  }
  const nxe = (u32[Off.EFER >> 2]! & EFER_NXE) !== 0;
  const user = cpl === 3;
  const dv = mem.dv;
  let table = (u32[Off.CR3 >> 2]! & 0xfffff000) >>> 0;
  let allowW = true, allowU = true, nx = false;
  const idx = [(hi >>> 7) & 0x1ff, ((hi & 0x7f) << 2) | (lo >>> 30), (lo >>> 21) & 0x1ff, (lo >>> 12) & 0x1ff];
  const errBase = (access === Access.WRITE ? PfErr.W : 0) | (user ? PfErr.U : 0) | (access === Access.FETCH && nxe ? PfErr.I : 0);
  const pf = (err: number): never => { throw new Fault(Vector.PF, err | errBase, lo, hi); };
  for (let level = 0; level < 4; level++) {
    const ea = table + idx[level]! * 8;
    if (ea + 8 > mem.size) pf(PfErr.RSVD | PfErr.P);
    const e = dv.getUint32(ea, true), eh = dv.getUint32(ea + 4, true);
    if (!(e & 1)) pf(0);
    const large = level > 0 && level < 3 && (e & 0x80) !== 0;
    // reserved bits (SDM 4.5.4): physical-address bits 51:32 (memory is below 4 GiB), XD when NXE = 0,
    // PS in a PML4E, bits 20:13 of a 2-MiB / 29:13 of a 1-GiB page entry; checked before any A/D update
    if ((eh & 0xfffff) !== 0 || (!nxe && (eh & 0x80000000)) || (level === 0 && (e & 0x80)) ||
      (large && (e & (level === 2 ? 0x1fe000 : 0x3fffe000)) !== 0)) pf(PfErr.RSVD | PfErr.P);
    if (nxe && (eh & 0x80000000)) nx = true;
    if (!(e & 2)) allowW = false;
    if (!(e & 4)) allowU = false;
    if (!(e & 0x20)) { // accessed
      const ne = (e | 0x20) >>> 0; dv.setUint32(ea, ne, true); mem.dirty[ea >>> 12] = 1; onWalkWrite?.(ea, e, ne);
    }
    if (level === 3 || large) {
      // permission checks (SDM 4.6)
      if (user && !allowU) pf(PfErr.P);
      if (access === Access.WRITE && !allowW && (user || (cr0 & CR0_WP))) pf(PfErr.P);
      if (access === Access.FETCH && nx) pf(PfErr.P);
      if (access === Access.WRITE && !(e & 0x40)) {
        const cur = dv.getUint32(ea, true);
        const ne = (cur | 0x40) >>> 0; dv.setUint32(ea, ne, true); mem.dirty[ea >>> 12] = 1; onWalkWrite?.(ea, cur, ne);
      }
      let base: number;
      if (level === 3) base = (e & 0xfffff000) >>> 0;
      else if (level === 2) base = ((e & 0xffe00000) >>> 0) + (lo & 0x1ff000); // 2 MiB
      else base = ((e & 0xc0000000) >>> 0) + (lo & 0x3ffff000); // 1 GiB
      if (base >= mem.size) pf(PfErr.RSVD | PfErr.P);
      out.phys = base;
      out.writable = allowW || (!user && !(cr0 & CR0_WP));
      // report whether the final entry is already dirty through `writable` only when it is
      if (access !== Access.WRITE && !(dv.getUint32(ea, true) & 0x40)) out.writable = false;
      return;
    }
    table = (e & 0xfffff000) >>> 0;
    if (table >= mem.size) pf(PfErr.RSVD | PfErr.P);
  }
}

/**
 * The physical page a linear address maps to under the page tables rooted at `cr3`, read without side effects
 * (no A/D bits, no permission checks, no faults): -1 if it is not mapped. `visit` sees the physical address of
 * every table the walk reads (replayers track them to know when a write changes a translation).
 */
export function peekPage(mem: PhysMemory, cr3: number, lo: number, hi: number, visit?: (table: number) => void): number {
  const dv = mem.dv;
  let table = (cr3 & 0xfffff000) >>> 0;
  for (let level = 0; level < 4; level++) {
    visit?.(table);
    const idx = level === 0 ? (hi >>> 7) & 0x1ff : level === 1 ? ((hi & 0x7f) << 2) | (lo >>> 30) : level === 2 ? (lo >>> 21) & 0x1ff : (lo >>> 12) & 0x1ff;
    const ea = table + idx * 8;
    if (ea + 8 > mem.size) return -1;
    const e = dv.getUint32(ea, true);
    if (!(e & 1)) return -1;
    if (level === 3) return (e & 0xfffff000) >>> 0;
    if (level === 2 && (e & 0x80)) return ((e & 0xffe00000) >>> 0) + (lo & 0x1ff000);
    if (level === 1 && (e & 0x80)) return ((e & 0xc0000000) >>> 0) + (lo & 0x3ffff000);
    table = (e & 0xfffff000) >>> 0;
  }
  return -1;
}
