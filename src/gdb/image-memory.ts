// What the program's own pages hold before their first touch. The guest kernel maps the executable's PT_LOAD
// segments on demand, so at a given step the page tables lack the pages not used yet; Linux shows them as
// mapped (a file-backed private mapping reads as the file, its bss as zeros). gdb reads such pages (other
// functions' code, untouched .data and .bss), so they are served from the recorded executable, when the file
// is still the one recorded (same SHA-256).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseElf, SegmentType } from '../guest/elf.js';

/** One loaded segment's page-aligned extent and where its bytes come from. */
interface Extent {
  /** First byte of the first page. */
  start: bigint;
  /** First byte after the file-backed part. */
  fileEnd: bigint;
  /** First byte after the last page. */
  end: bigint;
  /** File offset of `start`. */
  offset: bigint;
}

/** The executable's initial memory image. */
export class ImageMemory {
  private readonly bytes: Uint8Array;
  private readonly extents: Extent[];

  private constructor(bytes: Uint8Array, extents: Extent[]) {
    this.bytes = bytes;
    this.extents = extents;
  }

  /** Load the image of a trace's program; undefined if the file is gone, changed or not an ELF the loader runs. */
  static open(path: string, sha256: string, loadBias: bigint): ImageMemory | undefined {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) return undefined;
    const elf = parseElf(bytes);
    if (!elf.ok) return undefined;
    const extents: Extent[] = [];
    for (const ph of elf.image.programHeaders) {
      if (ph.type !== SegmentType.LOAD) continue;
      const v = ph.vaddr + loadBias, start = v & ~0xfffn;
      extents.push({ start, fileEnd: v + ph.filesz, end: (v + ph.memsz + 0xfffn) & ~0xfffn, offset: ph.offset - (v - start) });
    }
    return new ImageMemory(bytes, extents);
  }

  /** The byte at a linear address before any write, or undefined outside the segments. */
  byte(addr: bigint): number | undefined {
    for (const e of this.extents) {
      if (addr < e.start || addr >= e.end) continue;
      if (addr >= e.fileEnd) return 0;
      return this.bytes[Number(e.offset + (addr - e.start))] ?? 0;
    }
    return undefined;
  }
}
