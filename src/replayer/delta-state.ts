// Machine state rebuilt from a checkpoint plus the trace's logged deltas (regs rows and mem write rows), with
// no re-execution. Memory rows carry linear addresses; they are applied to physical memory through the page
// tables being rebuilt at the same time (CR3 from the regs rows, table entries from earlier mem rows), so
// page-table updates, frame reuse and aliases come out right.
import { CpuState, Off } from '../cpu/state.js';
import { PhysMemory } from '../cpu/phys-memory.js';
import { peekPage } from '../cpu/mmu.js';
import { REGISTERS } from '../trace/registers.js';

/** One logged register change. */
export interface RegDelta {
  /** Step. */
  seq: number;
  /** Register id (src/trace/registers.ts). */
  reg: number;
  /** New value, lo half. */
  lo: number;
  /** New value, hi half. */
  hi: number;
}

/** One logged memory write. */
export interface MemWrite {
  /** Step. */
  seq: number;
  /** Linear address, lo half. */
  addrLo: number;
  /** Linear address, hi half. */
  addrHi: number;
  /** 1, 2, 4 or 8. */
  size: number;
  /** Value written, lo half. */
  lo: number;
  /** Value written, hi half. */
  hi: number;
}

/** State rebuilt by applying deltas forward from a checkpoint. */
export class DeltaState {
  /** Registers (and the rest of the processor state). */
  readonly state: CpuState;
  /** Physical memory. */
  readonly mem: PhysMemory;
  /** All deltas of steps < this have been applied. */
  position: number;
  /** Linear page → physical page cache, dropped whenever CR3 or a page-table frame changes. */
  private readonly tlb = new Map<number, number>();
  /** Frames read by page walks since the cache was last dropped. */
  private readonly tableFrames = new Set<number>();
  /** Physical frames written by applyWrite since the caller last cleared this set (snapshots, restores). */
  readonly written = new Set<number>();
  /** Frames set by the constructor or the last reset(). */
  private readonly resident = new Set<number>();

  constructor(memorySize: number, checkpointState: Uint8Array, pages: Map<number, Uint8Array>, seq: number) {
    this.state = new CpuState();
    this.state.restore(checkpointState);
    this.mem = new PhysMemory(memorySize);
    for (const [frame, bytes] of pages) { this.mem.bytes.set(bytes, frame << 12); this.resident.add(frame); }
    this.position = seq;
  }

  /** Apply the regs and mem rows of one step (call in seq order, rows of a step in trace order). */
  applyReg(d: RegDelta): void {
    const slot = REGISTERS[d.reg];
    if (slot === undefined) return;
    const w = slot.off >> 2, r = this.state.u32;
    r[w] = d.lo;
    if (slot.bytes === 8) r[w + 1] = d.hi;
    if (slot.off === Off.CR3) this.dropCache();
  }

  /** Apply one memory write. Returns false if the address has no translation (not expected in a valid trace). */
  applyWrite(w: MemWrite): boolean {
    if ((w.addrLo & 0xfff) + w.size <= 4096) {
      // within one page: one translation
      const p = this.translate(w.addrLo, w.addrHi);
      if (p < 0) return false;
      const b = this.mem.bytes;
      for (let k = 0; k < w.size; k++) b[p + k] = k < 4 ? (w.lo >>> (8 * k)) & 0xff : (w.hi >>> (8 * (k - 4))) & 0xff;
      this.written.add(p >>> 12);
      if (this.tableFrames.has(p >>> 12)) this.dropCache();
      return true;
    }
    for (let k = 0; k < w.size; k++) {
      const lo = (w.addrLo + k) >>> 0, hi = lo < w.addrLo ? (w.addrHi + 1) >>> 0 : w.addrHi;
      const p = this.translate(lo, hi);
      if (p < 0) return false;
      const byte = k < 4 ? (w.lo >>> (8 * k)) & 0xff : (w.hi >>> (8 * (k - 4))) & 0xff;
      this.mem.bytes[p] = byte;
      this.written.add(p >>> 12);
      if (this.tableFrames.has(p >>> 12)) this.dropCache();
    }
    return true;
  }

  /** Records a page-table frame read by a walk. */
  private readonly visitTable = (table: number): void => { this.tableFrames.add(table >>> 12); };

  /** Physical address of a linear address under the rebuilt page tables, or -1. */
  translate(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12);
    const cached = this.tlb.get(vpn);
    if (cached !== undefined) return cached + (lo & 0xfff);
    const base = peekPage(this.mem, this.state.u32[Off.CR3 >> 2]!, lo, hi, this.visitTable);
    if (base < 0) return -1;
    this.tlb.set(vpn, base);
    return base + (lo & 0xfff);
  }

  /** Replace the whole state: registers from `state`, and every frame in `pages` (frames written since the last
   * reset that `pages` does not hold become zero). Clears `written`. */
  reset(state: Uint8Array, pages: Map<number, Uint8Array>, seq: number): void {
    this.state.restore(state);
    const b = this.mem.bytes;
    for (const f of this.written) if (!pages.has(f)) b.fill(0, f << 12, (f + 1) << 12);
    for (const f of this.resident) if (!pages.has(f)) b.fill(0, f << 12, (f + 1) << 12);
    this.resident.clear();
    for (const [f, bytes] of pages) { b.set(bytes, f << 12); this.resident.add(f); }
    this.written.clear();
    this.dropCache();
    this.position = seq;
  }

  /** Forget cached translations (after changing memory or CR3 directly). */
  dropCache(): void {
    this.tlb.clear();
    this.tableFrames.clear();
  }
}
