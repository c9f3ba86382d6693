// Modules: every executable mapping of an ELF file (the program, its interpreter, each shared library the loader
// maps) becomes a module with its path, base, size, GNU build-id and the steps at which it was mapped and unmapped.
// The tracker follows the address space's mappings; the symbols of each module come from its file's .symtab (else
// .dynsym), relocated to where it was mapped.
import { Prot } from './abi.js';
import type { Vma } from './address-space.js';
import { SegmentType, parseElf, readSymbols } from './elf.js';

/** One module of a process. */
export interface Module {
  readonly path: string; // guest path of the file
  readonly name: string; // file name (the `module` of `module!symbol`)
  readonly base: bigint; // load bias: link-time address 0 of the file is here (0 for ET_EXEC)
  readonly start: bigint; // lowest address of its PT_LOAD segments
  readonly size: bigint; // bytes from `start` to the page-aligned end of its last PT_LOAD segment
  readonly buildId: string | undefined; // NT_GNU_BUILD_ID, hex
  readonly mapSeq: number; // step at which its first executable mapping was made
  unmapSeq: number | undefined; // step at which its last executable mapping went away, if it did
  readonly bytes: Uint8Array; // the file (for its symbols)
}

/** A module's function symbol, relocated. */
export interface ModuleSymbol {
  readonly name: string;
  readonly address: bigint;
  readonly size: bigint;
  readonly module: string; // Module.name
}

const pageDown = (a: bigint): bigint => a & ~0xfffn;
const pageUp = (a: bigint): bigint => (a + 0xfffn) & ~0xfffn;

/** The GNU build-id of an ELF file (PT_NOTE with type NT_GNU_BUILD_ID 3 and owner "GNU"), hex, or undefined. */
export function buildIdOf(bytes: Uint8Array, notes: readonly { offset: bigint; filesz: bigint }[]): string | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const n of notes) {
    let at = Number(n.offset);
    const end = Math.min(bytes.length, at + Number(n.filesz));
    while (at + 12 <= end) {
      const namesz = dv.getUint32(at, true), descsz = dv.getUint32(at + 4, true), type = dv.getUint32(at + 8, true);
      const name = at + 12, desc = name + ((namesz + 3) & ~3);
      if (desc + descsz > end) break;
      if (type === 3 && namesz === 4 && Buffer.from(bytes.subarray(name, name + 3)).toString('latin1') === 'GNU') {
        return Buffer.from(bytes.subarray(desc, desc + descsz)).toString('hex');
      }
      at = desc + ((descsz + 3) & ~3);
    }
  }
  return undefined;
}

/** Follows mappings and keeps the modules. */
export class ModuleTracker {
  /** Modules in the order they were first mapped. */
  readonly modules: Module[] = [];
  /** The current step (set by a recorder; 0 otherwise). */
  clock: () => number = () => 0;
  /** Executable mappings per module (index into `modules`), to see when the last one goes. */
  private readonly live = new Map<number, { start: bigint; end: bigint }[]>();

  /** AddressSpace.onMap: a new mapping. */
  mapped(v: Vma): void {
    if ((v.prot & Prot.EXEC) === 0 || v.file === undefined || v.path === undefined) return;
    const parsed = parseElf(v.file);
    if (!parsed.ok) return;
    const loads = parsed.image.programHeaders.filter((ph) => ph.type === SegmentType.LOAD);
    // the segment this mapping shows: its file page is the mapping's offset
    const seg = loads.find((ph) => pageDown(ph.offset) === v.fileOffset);
    if (seg === undefined) return;
    const base = v.start - pageDown(seg.vaddr);
    let i = this.modules.findIndex((m) => m.bytes === v.file && m.base === base && m.unmapSeq === undefined);
    if (i < 0) {
      const first = loads[0]!, last = loads[loads.length - 1]!;
      const notes = parsed.image.programHeaders.filter((ph) => ph.type === SegmentType.NOTE);
      this.modules.push({
        path: v.path, name: v.path.split('/').pop() ?? v.path, base, start: pageDown(first.vaddr) + base,
        size: pageUp(last.vaddr + last.memsz) - pageDown(first.vaddr), buildId: buildIdOf(v.file, notes),
        mapSeq: this.clock(), unmapSeq: undefined, bytes: v.file,
      });
      i = this.modules.length - 1;
    }
    const ranges = this.live.get(i) ?? [];
    ranges.push({ start: v.start, end: v.end });
    this.live.set(i, ranges);
  }

  /** AddressSpace.onUnmap: [start, end) was unmapped. */
  unmapped(start: bigint, end: bigint): void {
    for (const [i, ranges] of this.live) {
      const left: { start: bigint; end: bigint }[] = [];
      for (const r of ranges) {
        if (r.end <= start || r.start >= end) { left.push(r); continue; }
        if (r.start < start) left.push({ start: r.start, end: start });
        if (r.end > end) left.push({ start: end, end: r.end });
      }
      if (left.length > 0) { this.live.set(i, left); continue; }
      this.live.delete(i);
      this.modules[i]!.unmapSeq = this.clock();
    }
  }

  /**
   * The function symbols of every module, relocated. A module whose file has no .symtab takes its symbols from its
   * separate debug file `/usr/lib/debug/.build-id/xx/yyyy.debug` when `readFile` (the guest's view of the files)
   * finds one (its PLT stubs still come from the file itself).
   */
  symbols(readFile?: (path: string) => Uint8Array | undefined): ModuleSymbol[] {
    const out: ModuleSymbol[] = [];
    for (const m of this.modules) {
      const r = readSymbols(m.bytes);
      if (!r.ok) continue;
      let list = r.symbols;
      if (r.table !== 'symtab' && m.buildId !== undefined && m.buildId.length > 2 && readFile !== undefined) {
        const debug = readFile(`/usr/lib/debug/.build-id/${m.buildId.slice(0, 2)}/${m.buildId.slice(2)}.debug`);
        const d = debug === undefined ? undefined : readSymbols(debug);
        if (d?.ok === true && d.table === 'symtab') list = [...d.symbols.filter((s) => s.plt === undefined), ...r.symbols.filter((s) => s.plt !== undefined)].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      // an unsized symbol (assembly routines, _fini) covers up to the next symbol of its own module, never beyond it
      const end = m.start + m.size;
      list.forEach((s, k) => {
        const address = s.address + m.base;
        let size = s.size;
        if (size === 0n) {
          let next = end;
          for (let j = k + 1; j < list.length; j++) if (list[j]!.address > s.address) { next = list[j]!.address + m.base; break; }
          size = next > address ? next - address : 0n;
        }
        out.push({ name: s.name, address, size, module: m.name });
      });
    }
    return out;
  }
}
