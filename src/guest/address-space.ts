// The user address space of the guest process: mappings (VMAs), the 4-level page tables in guest physical
// memory, demand paging policy, the memory system calls, and the host's access to user memory.
// Every byte the host writes into guest memory goes through `hostWrite`, which reports it first.
import { PhysMemory } from '../cpu/phys-memory.js';
import type { MemoryManager, UserMemory } from './abi.js';
import { Prot } from './abi.js';
import type { MapsEntry } from './linux/proc-files.js';
import type { LoaderTarget } from './loader.js';
import { FrameAllocator } from './frame-allocator.js';
import { DIRECT_MAP, directMap, KERNEL_BASE, MMAP_BASE, MMAP_MIN_ADDR, PAGE, PML4_PHYS, STACK_LIMIT, TASK_SIZE } from './layout.js';

/** Receives every host write into guest memory before it happens (old bytes are still in memory). */
export type HostWriteSink = (linear: bigint, phys: number, bytes: Uint8Array) => void;

/** One mapping of the user address space. */
export interface Vma {
  /** First address (page-aligned). */
  start: bigint;
  /** End address, exclusive (page-aligned). */
  end: bigint;
  /** Prot bits. */
  prot: number;
  /** What created it ('vdso': the inaccessible stand-in for Linux's [vvar] + [vdso] pages, see reserveVdso). */
  kind: 'elf' | 'brk' | 'stack' | 'anon' | 'file' | 'vdso';
  /** File contents for private file mappings. */
  file?: Uint8Array;
  /** Guest path of the mapped file (/proc/self/maps, modules), if file-backed. */
  path?: string;
  /** File offset of `start`. */
  fileOffset: bigint;
  /** Bytes of the file mapped from fileOffset (the rest of the range is zero-filled), or -1 for "to the end of the file". */
  fileLength: bigint;
}

/** What the page-fault policy decided. */
export type FaultResolution = 'mapped' | 'segv';

const PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_A = 0x20, PTE_D = 0x40;
const PTE_NX_HI = 0x80000000;
const MAP_SHARED = 0x1, MAP_PRIVATE = 0x2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
const EINVAL = -22n, ENOMEM = -12n, EEXIST = -17n, EACCES = -13n;

/**
 * Size of the range Linux's map_vdso() takes on this host: [vvar] 4 pages, [vvar_vclock] 2 and [vdso] 2
 * (docs/linux-layout.md, measured with randomisation off).
 */
export const VDSO_RESERVED_SIZE = 8n * 4096n;

const pageDown = (a: bigint): bigint => a & ~(PAGE - 1n);
const pageUp = (a: bigint): bigint => (a + PAGE - 1n) & ~(PAGE - 1n);

/** The address space of the guest's one process. */
export class AddressSpace implements MemoryManager, UserMemory {
  /** Guest physical memory. */
  readonly mem: PhysMemory;
  /** Mappings, sorted by start, non-overlapping. */
  readonly vmas: Vma[] = [];
  /** Start of the brk area (end of bss, page-aligned). */
  brkStart = 0n;
  /** Current program break. */
  brkEnd = 0n;
  /** Pages mapped by the page-fault policy (demand paging), for statistics. */
  demandPages = 0;
  /** Set when a PTE was removed or weakened: the kernel must flush the TLB before returning. */
  tlbFlushNeeded = false;
  /** Physical address of this address space's PML4 (its CR3). */
  readonly pml4: number;
  /** The machine's physical frames (shared by every address space). */
  readonly frames: FrameAllocator;
  /**
   * Whether the processor runs on this address space's page tables now: host writes into user memory are logged
   * at their user address then, else at their direct-map address (a replay writes through the running CR3).
   */
  isActive: () => boolean = () => true;
  private readonly sink: HostWriteSink;
  private readonly notify: (phys: number, length: number) => void;

  constructor(mem: PhysMemory, sink: HostWriteSink, notifyPhysWrite: (phys: number, length: number) => void, frames?: FrameAllocator) {
    this.mem = mem;
    this.sink = sink;
    this.notify = notifyPhysWrite;
    this.frames = frames ?? new FrameAllocator(mem.size);
    if (frames === undefined) {
      this.pml4 = PML4_PHYS; // the boot page tables (the kernel half written by boot)
    } else {
      // a new process: its own PML4 sharing the kernel's upper-half tables
      this.pml4 = this.allocFrame();
      for (const va of [KERNEL_BASE, DIRECT_MAP]) {
        const slot = Number((va >> 39n) & 0x1ffn) * 8;
        this.hostWrite(directMap(this.pml4 + slot), this.pml4 + slot, mem.bytes.slice(PML4_PHYS + slot, PML4_PHYS + slot + 8));
      }
    }
  }

  /** Next never-used physical frame (statistics and tests). */
  get nextFrame(): number {
    return this.frames.next;
  }

  // ---- physical frames and page tables ----------------------------------------------------------

  /** A free physical frame (zeroed as the guest will see it). */
  allocFrame(): number {
    const { frame, reused } = this.frames.take();
    if (reused) this.hostWrite(directMap(frame), frame, new Uint8Array(4096)); // reused frame: zero it (a logged host write)
    return frame; // never used: already zero
  }

  /** Write bytes at a physical address on the host's behalf (reported, then written). */
  hostWrite(linear: bigint, phys: number, bytes: Uint8Array): void {
    this.sink(linear, phys, bytes);
    this.mem.bytes.set(bytes, phys);
    this.notify(phys, bytes.length);
  }

  private writePte(pteAddr: number, lo: number, hi: number): void {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, lo >>> 0, true); dv.setUint32(4, hi >>> 0, true);
    this.hostWrite(directMap(pteAddr), pteAddr, b);
  }

  /** Physical address of the PTE for a user page, creating intermediate tables if `create`. */
  private pteAddr(va: bigint, create: boolean): number | undefined {
    const dv = this.mem.dv;
    let table = this.pml4;
    for (let level = 0; level < 3; level++) {
      const shift = BigInt(39 - 9 * level);
      const idx = Number((va >> shift) & 0x1ffn);
      const ea = table + idx * 8;
      const e = dv.getUint32(ea, true);
      if (!(e & PTE_P)) {
        if (!create) return undefined;
        const f = this.allocFrame();
        this.writePte(ea, f | PTE_P | PTE_W | PTE_U | PTE_A, 0);
        table = f;
      } else {
        table = (e & 0xfffff000) >>> 0;
      }
    }
    return table + Number((va >> 12n) & 0x1ffn) * 8;
  }

  /** Physical page of a mapped user page, or undefined. */
  private physOf(va: bigint): number | undefined {
    const pte = this.pteAddr(va, false);
    if (pte === undefined) return undefined;
    const e = this.mem.dv.getUint32(pte, true);
    return e & PTE_P ? (e & 0xfffff000) >>> 0 : undefined;
  }

  private pteBits(prot: number): [number, number] {
    // A and D are preset so the processor never writes page tables by itself
    let lo = PTE_P | PTE_U | PTE_A | PTE_D;
    if (prot & Prot.WRITE) lo |= PTE_W;
    const hi = prot & Prot.EXEC ? 0 : PTE_NX_HI;
    return [lo, hi];
  }

  /** Map one page of `vma` at `va` (page-aligned), filling it from the file where the mapping has one. */
  private populate(vma: Vma, va: bigint): number {
    const frame = this.allocFrame();
    if (vma.file !== undefined) {
      const off = vma.fileOffset + (va - vma.start);
      const limit = vma.fileLength < 0n ? BigInt(vma.file.length) : vma.fileOffset + vma.fileLength;
      const end = off + PAGE < limit ? off + PAGE : limit;
      if (end > off && off < BigInt(vma.file.length)) {
        const bytes = vma.file.subarray(Number(off), Math.min(Number(end), vma.file.length));
        if (bytes.some((b) => b !== 0)) this.hostWrite(directMap(frame), frame, bytes);
      }
    }
    const pte = this.pteAddr(va, true)!;
    const [lo, hi] = this.pteBits(vma.prot);
    this.writePte(pte, (frame | lo) >>> 0, hi);
    return frame;
  }

  /** Unmap the pages of [start, end) that are present, returning frames to the free list. */
  private unmapRange(start: bigint, end: bigint): void {
    for (let va = start; va < end; va += PAGE) {
      const pte = this.pteAddr(va, false);
      if (pte === undefined) { va = (va | 0x1fffffn); continue; } // no page table for this 2-MiB range
      const e = this.mem.dv.getUint32(pte, true);
      if (e & PTE_P) {
        this.writePte(pte, 0, 0);
        this.frames.release((e & 0xfffff000) >>> 0);
        this.tlbFlushNeeded = true;
      }
    }
  }

  private reprotectRange(start: bigint, end: bigint, prot: number): void {
    const [lo, hi] = this.pteBits(prot);
    for (let va = start; va < end; va += PAGE) {
      const pte = this.pteAddr(va, false);
      if (pte === undefined) { va = (va | 0x1fffffn); continue; }
      const e = this.mem.dv.getUint32(pte, true);
      if (e & PTE_P) {
        this.writePte(pte, ((e & 0xfffff000) | lo) >>> 0, hi);
        this.tlbFlushNeeded = true;
      }
    }
  }

  // ---- mappings ----------------------------------------------------------------------------------

  /** The mapping containing `va`, if any. */
  find(va: bigint): Vma | undefined {
    for (const v of this.vmas) if (va >= v.start && va < v.end) return v;
    return undefined;
  }

  private insert(v: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < v.start) i++;
    this.vmas.splice(i, 0, v);
  }

  /** Remove [start, end) from the mappings (splitting as needed) and unmap its pages. */
  private carve(start: bigint, end: bigint): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end) { out.push(v); continue; }
      if (v.start < start) out.push({ ...v, end: start });
      if (v.end > end) {
        const cut = end - v.start;
        out.push({ ...v, start: end, fileOffset: v.fileOffset + cut, fileLength: v.fileLength < 0n ? -1n : v.fileLength - cut });
      }
    }
    this.vmas.length = 0;
    this.vmas.push(...out);
    this.unmapRange(start, end);
    this.onUnmap?.(start, end);
  }

  private isFree(start: bigint, end: bigint): boolean {
    return !this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** Top-down search for a free range of `len` bytes below MMAP_BASE (Linux's default allocator). */
  private findFree(len: bigint): bigint | undefined {
    let top = MMAP_BASE;
    const below = this.vmas.filter((v) => v.start < MMAP_BASE).sort((a, b) => (a.start > b.start ? -1 : 1));
    for (const v of below) {
      const gapStart = v.end < top ? v.end : top;
      if (top - gapStart >= len) return top - len;
      if (v.start < top) top = v.start;
    }
    return top - len >= MMAP_MIN_ADDR ? top - len : undefined;
  }

  /** Map a range with fixed placement (the ELF loader and MAP_FIXED); `fileLength` -1 maps to the end of the file. */
  mapRange(addr: bigint, length: bigint, prot: number, kind: Vma['kind'], file?: Uint8Array, fileOffset = 0n, fileLength = -1n, path?: string): void {
    const start = pageDown(addr), end = pageUp(addr + length);
    this.carve(start, end);
    const v: Vma = { start, end, prot, kind, file, fileOffset: fileOffset - (addr - start), fileLength: fileLength < 0n ? -1n : fileLength + (addr - start) };
    if (path !== undefined && file !== undefined) v.path = path;
    this.insert(v);
    this.onMap?.(v);
  }

  /** Called after every new mapping (a module tracker); `onUnmap` after a range is unmapped. */
  onMap: ((v: Vma) => void) | undefined = undefined;
  onUnmap: ((start: bigint, end: bigint) => void) | undefined = undefined;

  /** The mappings as /proc/self/maps lists them. */
  mapsEntries(): MapsEntry[] {
    return this.vmas.map((v) => ({
      start: v.start, end: v.kind === 'brk' ? v.end : v.end, prot: v.prot, offset: v.file !== undefined ? v.fileOffset : 0n,
      name: v.path ?? (v.kind === 'brk' ? '[heap]' : v.kind === 'stack' ? '[stack]' : ''),
    }));
  }

  /** The process stack: a grows-down mapping of STACK_LIMIT bytes below `top`. */
  mapStack(top: bigint, size: bigint = STACK_LIMIT, prot: number = Prot.READ | Prot.WRITE): void {
    this.mapRange(top - size, size, prot, 'stack');
  }

  /**
   * Reserve the range where Linux maps the vvar and vDSO pages, as map_vdso() places them after loading the
   * program: top-down from the mmap base (0x7ffff7ff7000-0x7ffff7fff000 for ET_EXEC, just below the image for a
   * static-PIE). The guest has no vDSO (no AT_SYSINFO_EHDR), so the range is an inaccessible mapping that exists
   * only so that every later top-down mmap returns the native address. Returns its start.
   */
  reserveVdso(size: bigint = VDSO_RESERVED_SIZE): bigint {
    const start = this.findFree(size);
    if (start === undefined) throw new RangeError('no room for the vDSO reservation');
    this.insert({ start, end: start + size, prot: Prot.NONE, kind: 'vdso', fileOffset: 0n, fileLength: -1n });
    return start;
  }

  /** Set the start of the brk area (after loading the program). */
  setBrkStart(addr: bigint): void {
    this.brkStart = pageUp(addr);
    this.brkEnd = this.brkStart;
  }

  // ---- demand paging -------------------------------------------------------------------------------

  /** The page-fault policy: map the page if the access is allowed by its mapping, else SIGSEGV. */
  handleFault(va: bigint, errorCode: number): FaultResolution {
    const v = this.find(va);
    if (v === undefined) return 'segv';
    if (errorCode & 1) return 'segv'; // protection violation on a present page: the mapping forbids it
    if ((errorCode & 2) && !(v.prot & Prot.WRITE)) return 'segv';
    if ((errorCode & 16) && !(v.prot & Prot.EXEC)) return 'segv';
    if (!(errorCode & 2) && !(errorCode & 16) && !(v.prot & Prot.READ) && !(v.prot & Prot.WRITE)) return 'segv';
    this.populate(v, pageDown(va));
    this.demandPages++;
    return 'mapped';
  }

  // ---- host access to user memory (UserMemory) ----------------------------------------------------

  /** Physical address for a host access to one user byte, populating the page if its mapping allows. */
  private hostPhys(va: bigint, write: boolean): number | undefined {
    if (va < 0n || va >= TASK_SIZE) return undefined;
    const page = pageDown(va);
    const v = this.find(va);
    if (v === undefined) return undefined;
    if (write ? !(v.prot & Prot.WRITE) : !(v.prot & (Prot.READ | Prot.WRITE | Prot.EXEC))) return undefined;
    const p = this.physOf(page) ?? this.populate(v, page);
    return p + Number(va - page);
  }

  read(addr: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const va = addr + BigInt(done);
      const p = this.hostPhys(va, false);
      if (p === undefined) return undefined;
      const n = Math.min(len - done, 4096 - (p & 0xfff));
      out.set(this.mem.bytes.subarray(p, p + n), done);
      done += n;
    }
    return out;
  }

  write(addr: bigint, data: Uint8Array): boolean {
    // check every page first so a failing write changes nothing
    for (let va = pageDown(addr); va < addr + BigInt(data.length); va += PAGE) {
      const v = this.find(va < addr ? addr : va);
      if (v === undefined || !(v.prot & Prot.WRITE) || va >= TASK_SIZE) return false;
    }
    let done = 0;
    while (done < data.length) {
      const va = addr + BigInt(done);
      const p = this.hostPhys(va, true)!;
      const n = Math.min(data.length - done, 4096 - (p & 0xfff));
      this.hostWrite(this.isActive() ? va : directMap(p), p, data.subarray(done, done + n));
      done += n;
    }
    return true;
  }

  readCString(addr: bigint, max = 4096): Uint8Array | undefined {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const p = this.hostPhys(addr + BigInt(i), false);
      if (p === undefined) return undefined;
      const b = this.mem.bytes[p]!;
      if (b === 0) return Uint8Array.from(bytes);
      bytes.push(b);
    }
    return undefined;
  }

  // ---- memory system calls (MemoryManager) ----------------------------------------------------------

  brk(addr: bigint): bigint {
    if (addr < this.brkStart) return this.brkEnd;
    const newEnd = pageUp(addr), oldEnd = pageUp(this.brkEnd);
    if (newEnd > oldEnd) {
      if (!this.isFree(oldEnd, newEnd)) return this.brkEnd;
      const last = this.vmas.find((v) => v.kind === 'brk' && v.end === oldEnd);
      if (last) last.end = newEnd; else this.insert({ start: oldEnd, end: newEnd, prot: Prot.READ | Prot.WRITE, kind: 'brk', fileOffset: 0n, fileLength: -1n });
    } else if (newEnd < oldEnd) {
      this.carve(newEnd, oldEnd);
    }
    this.brkEnd = addr;
    return addr;
  }

  mmap(addr: bigint, length: bigint, prot: number, flags: number, file: Uint8Array | undefined, offset: bigint, path?: string): bigint {
    if (length <= 0n || (offset & (PAGE - 1n)) !== 0n) return EINVAL;
    const type = flags & (MAP_SHARED | MAP_PRIVATE);
    if (type === 0) return EINVAL;
    if (!(flags & MAP_ANONYMOUS) && file === undefined) return -9n; // EBADF
    if ((flags & MAP_SHARED) && file !== undefined && (prot & Prot.WRITE)) return EACCES; // read-only files
    const len = pageUp(length);
    if (len > TASK_SIZE) return ENOMEM;
    let start: bigint | undefined;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
      if ((addr & (PAGE - 1n)) !== 0n) return EINVAL;
      if (addr + len > TASK_SIZE || addr < MMAP_MIN_ADDR) return ENOMEM;
      if ((flags & MAP_FIXED_NOREPLACE) && !this.isFree(addr, addr + len)) return EEXIST;
      start = addr;
    } else {
      const hint = pageDown(addr);
      if (hint >= MMAP_MIN_ADDR && hint + len <= TASK_SIZE && this.isFree(hint, hint + len)) start = hint;
      else start = this.findFree(len);
      if (start === undefined) return ENOMEM;
    }
    const anon = (flags & MAP_ANONYMOUS) !== 0;
    this.mapRange(start, len, prot, anon ? 'anon' : 'file', anon ? undefined : file, anon ? 0n : offset, -1n, anon ? undefined : path);
    return start;
  }

  munmap(addr: bigint, length: bigint): bigint {
    if ((addr & (PAGE - 1n)) !== 0n || length <= 0n) return EINVAL;
    this.carve(addr, pageUp(addr + length));
    return 0n;
  }

  mprotect(addr: bigint, length: bigint, prot: number): bigint {
    if ((addr & (PAGE - 1n)) !== 0n) return EINVAL;
    const start = addr, end = pageUp(addr + length);
    // every page of the range must be mapped (Linux: ENOMEM otherwise)
    for (let va = start; va < end;) {
      const v = this.find(va);
      if (v === undefined) return ENOMEM;
      va = v.end;
    }
    const pieces = this.vmas.filter((v) => v.start < end && v.end > start).map((v) => ({ ...v }));
    const out = this.vmas.filter((v) => v.end <= start || v.start >= end);
    for (const v of pieces) {
      if (v.start < start) out.push({ ...v, end: start });
      if (v.end > end) { const cut = end - v.start; out.push({ ...v, start: end, fileOffset: v.fileOffset + cut, fileLength: v.fileLength < 0n ? -1n : v.fileLength - cut }); }
      const s = v.start > start ? v.start : start, e = v.end < end ? v.end : end, cut = s - v.start;
      out.push({ ...v, start: s, end: e, prot, fileOffset: v.fileOffset + cut, fileLength: v.fileLength < 0n ? -1n : v.fileLength - cut });
    }
    out.sort((a, b) => (a.start < b.start ? -1 : 1));
    this.vmas.length = 0;
    this.vmas.push(...out);
    this.reprotectRange(start, end, prot);
    return 0n;
  }

  discard(addr: bigint, length: bigint): bigint {
    if ((addr & (PAGE - 1n)) !== 0n || length < 0n) return EINVAL;
    const end = pageUp(addr + length);
    for (let va = addr; va < end;) {
      const v = this.find(va);
      if (v === undefined) return ENOMEM;
      va = v.end;
    }
    this.unmapRange(addr, end); // the mappings stay: the next touch demand-pages zeros or the file's bytes again
    return 0n;
  }

  mremap(oldAddr: bigint, oldLength: bigint, newLength: bigint, flags: number, newAddr: bigint): bigint {
    if ((oldAddr & (PAGE - 1n)) !== 0n || newLength <= 0n) return EINVAL;
    const v = this.find(oldAddr);
    const oldEnd = oldAddr + pageUp(oldLength), newLen = pageUp(newLength);
    if (v === undefined || v.end < oldEnd) return -14n; // EFAULT
    if (newLen <= pageUp(oldLength)) {
      if (newLen < pageUp(oldLength)) this.carve(oldAddr + newLen, oldEnd);
      return oldAddr;
    }
    if (!(flags & MREMAP_FIXED) && v.end === oldEnd && this.isFree(oldEnd, oldAddr + newLen)) {
      v.end = oldAddr + newLen;
      return oldAddr;
    }
    if (!(flags & MREMAP_MAYMOVE)) return ENOMEM;
    const dest = flags & MREMAP_FIXED ? newAddr : this.findFree(newLen);
    if (dest === undefined) return ENOMEM;
    // move: copy the contents through the host (a logged write), then drop the old range
    const data = this.read(oldAddr, Number(pageUp(oldLength)));
    if (data === undefined) return -14n;
    const nv: Vma = { ...v, start: dest, end: dest + newLen, fileOffset: v.fileOffset + (oldAddr - v.start) };
    this.carve(dest, dest + newLen);
    this.carve(oldAddr, oldEnd);
    this.insert(nv);
    if (nv.file !== undefined || data.some((b) => b !== 0)) {
      // write page by page, skipping all-zero pages of anonymous memory
      for (let off = 0; off < data.length; off += 4096) {
        const page = data.subarray(off, off + 4096);
        if (nv.file === undefined && !page.some((b) => b !== 0)) continue;
        this.write(dest + BigInt(off), page);
      }
    }
    return dest;
  }

  // ---- processes ------------------------------------------------------------------------------------------

  /**
   * fork(): a new address space with the same mappings and a copy of every present page (its own frames and page
   * tables; the copies are logged host writes at direct-map addresses, only the non-zero 8-byte words).
   */
  fork(): AddressSpace {
    const child = new AddressSpace(this.mem, this.sink, this.notify, this.frames);
    for (const v of this.vmas) child.vmas.push({ ...v });
    child.brkStart = this.brkStart;
    child.brkEnd = this.brkEnd;
    child.onMap = this.onMap;
    child.onUnmap = this.onUnmap;
    child.isActive = () => false;
    const bytes = this.mem.bytes;
    for (const v of this.vmas) {
      for (let va = v.start; va < v.end; va += PAGE) {
        const pte = this.pteAddr(va, false);
        if (pte === undefined) { va = (va | 0x1fffffn); continue; }
        const lo = this.mem.dv.getUint32(pte, true), hi = this.mem.dv.getUint32(pte + 4, true);
        if (!(lo & PTE_P)) continue;
        const from = (lo & 0xfffff000) >>> 0;
        const frame = child.allocFrame();
        for (let off = 0; off < 4096; off += 8) {
          let end = off;
          while (end < 4096 && (bytes[from + end] !== 0 || bytes[from + end + 1] !== 0 || bytes[from + end + 2] !== 0 || bytes[from + end + 3] !== 0 ||
            bytes[from + end + 4] !== 0 || bytes[from + end + 5] !== 0 || bytes[from + end + 6] !== 0 || bytes[from + end + 7] !== 0)) end += 8;
          if (end > off) { child.hostWrite(directMap(frame + off), frame + off, bytes.slice(from + off, from + end)); off = end; }
        }
        child.writePte(child.pteAddr(va, true)!, ((lo & 0xfff) | frame) >>> 0, hi);
      }
    }
    return child;
  }

  /**
   * Give every frame back (user pages, page tables, the PML4): the process is gone or has exec'd. The processor
   * must not run on these page tables any more (the frames are reused at once).
   */
  destroy(): void {
    const dv = this.mem.dv;
    const walk = (table: number, level: number): void => {
      for (let i = 0; i < 512; i++) {
        if (level === 0 && i >= 256) break; // the kernel half is shared
        const e = dv.getUint32(table + i * 8, true);
        if (!(e & PTE_P)) continue;
        const next = (e & 0xfffff000) >>> 0;
        if (level < 3) walk(next, level + 1);
        else this.frames.release(next);
      }
      if (table !== PML4_PHYS) this.frames.release(table); // the boot PML4 is not an allocated frame
    };
    walk(this.pml4, 0);
    this.vmas.length = 0;
  }
}

/** The loader's view of address space `as` (file mappings named by `paths`: file bytes -> guest path). */
export function loaderTarget(as: AddressSpace, paths: ReadonlyMap<Uint8Array, string>): LoaderTarget {
  return {
    mapFixed: (addr, length, prot, kind, file, fileOffset, fileLength) =>
      as.mapRange(addr, length, prot, kind, file, fileOffset, file ? fileLength : -1n, file && paths.get(file)),
    mapStack: (top, size, prot) => as.mapStack(top, size, prot),
    setBrkStart: (addr) => as.setBrkStart(addr),
    write: (addr, bytes) => as.write(addr, bytes),
  };
}
