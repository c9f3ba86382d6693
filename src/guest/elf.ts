// ELF64 executable headers for x86-64 Linux guests: the file header and the program headers, checked the way
// the loader needs them. Bad input is a value ({ ok: false, error }) with a one-line message, never a throw.
// The symbol table reader lives in elf-symbols.ts and is re-exported here.

export { readSymbols } from './elf-symbols.js';
export type { ElfSymbol, SymbolsResult } from './elf-symbols.js';

/** e_type values. */
export const enum ElfType { REL = 1, EXEC = 2, DYN = 3, CORE = 4 }

/** p_type values the loader looks at. */
export const enum SegmentType { LOAD = 1, DYNAMIC = 2, INTERP = 3, NOTE = 4, PHDR = 6, TLS = 7, GNU_STACK = 0x6474e551 }

/** p_flags bits. */
export const enum SegmentFlags { X = 1, W = 2, R = 4 }

export const EM_X86_64 = 62;
export const ELF_HEADER_SIZE = 64; // sizeof(Elf64_Ehdr)
export const PROGRAM_HEADER_SIZE = 56; // sizeof(Elf64_Phdr), also AT_PHENT

/** The fields of Elf64_Ehdr that matter to a loader. */
export interface ElfHeader {
  readonly type: number; // e_type: ElfType.EXEC or ElfType.DYN once parsed successfully
  readonly machine: number; // e_machine: EM_X86_64
  readonly entry: bigint; // e_entry: link-time virtual address of the first instruction
  readonly phoff: bigint; // e_phoff: file offset of the program header table
  readonly shoff: bigint; // e_shoff: file offset of the section header table (0 if none)
  readonly flags: number; // e_flags
  readonly phentsize: number; // e_phentsize: PROGRAM_HEADER_SIZE
  readonly phnum: number; // e_phnum: number of program headers (AT_PHNUM)
  readonly shentsize: number; // e_shentsize
  readonly shnum: number; // e_shnum
  readonly shstrndx: number; // e_shstrndx
}

/** One Elf64_Phdr; every range has been checked against the file size. */
export interface ProgramHeader {
  readonly type: number; // p_type (SegmentType)
  readonly flags: number; // p_flags (SegmentFlags R/W/X)
  readonly offset: bigint; // p_offset: file offset of the first byte
  readonly vaddr: bigint; // p_vaddr: link-time virtual address
  readonly filesz: bigint; // p_filesz: bytes present in the file (<= memsz for PT_LOAD)
  readonly memsz: bigint; // p_memsz: bytes in memory; memsz - filesz bytes of zeros (bss) follow
  readonly align: bigint; // p_align
}

/** A parsed executable: static (ET_EXEC), static-PIE (ET_DYN without PT_INTERP) or dynamically linked (PT_INTERP). */
export interface ElfImage {
  readonly bytes: Uint8Array; // the whole file
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];
  readonly isPie: boolean; // ET_DYN: the loader chooses a load bias
  readonly executableStack: boolean; // no PT_GNU_STACK, or PT_GNU_STACK with PF_X (Linux maps the stack PROT_EXEC)
  readonly interpreter: string | undefined; // PT_INTERP's path (the dynamic loader), undefined for a static image
}

export type ElfResult = { readonly ok: true; readonly image: ElfImage } | { readonly ok: false; readonly error: string };

const PAGE_SIZE = 0x1000n;

function fail(error: string): ElfResult {
  return { ok: false, error };
}

/** Parses and validates an x86-64 Linux executable that the loader can run. */
export function parseElf(bytes: Uint8Array): ElfResult {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return fail('not an ELF file');
  }
  if (bytes.length < 6) return fail('truncated ELF header');
  if (bytes[4] === 1) return fail('32-bit ELF files are not supported (ELFCLASS32)');
  if (bytes[4] !== 2) return fail(`unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) return fail('big-endian ELF files are not supported');
  if (bytes.length < ELF_HEADER_SIZE) return fail(`truncated ELF header (${bytes.length} bytes, need ${ELF_HEADER_SIZE})`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: ElfHeader = {
    type: view.getUint16(16, true),
    machine: view.getUint16(18, true),
    entry: view.getBigUint64(24, true),
    phoff: view.getBigUint64(32, true),
    shoff: view.getBigUint64(40, true),
    flags: view.getUint32(48, true),
    phentsize: view.getUint16(54, true),
    phnum: view.getUint16(56, true),
    shentsize: view.getUint16(58, true),
    shnum: view.getUint16(60, true),
    shstrndx: view.getUint16(62, true),
  };

  if (header.machine !== EM_X86_64) return fail(`not an x86-64 executable (e_machine ${header.machine})`);
  switch (header.type) {
    case ElfType.EXEC:
    case ElfType.DYN:
      break;
    case ElfType.REL:
      return fail('relocatable object file (ET_REL) is not an executable');
    case ElfType.CORE:
      return fail('core dump (ET_CORE) is not an executable');
    default:
      return fail(`unsupported ELF type ${header.type}`);
  }
  if (header.phentsize !== PROGRAM_HEADER_SIZE) {
    return fail(`bad program header entry size ${header.phentsize} (expected ${PROGRAM_HEADER_SIZE})`);
  }
  if (header.phnum === 0) return fail('no program headers');
  const fileSize = BigInt(bytes.length);
  const tableEnd = header.phoff + BigInt(header.phnum * PROGRAM_HEADER_SIZE);
  if (tableEnd > fileSize) {
    return fail(`program header table (offset 0x${header.phoff.toString(16)}, ${header.phnum} entries) extends beyond the end of the file`);
  }

  const programHeaders: ProgramHeader[] = [];
  for (let i = 0; i < header.phnum; i++) {
    const at = Number(header.phoff) + i * PROGRAM_HEADER_SIZE;
    programHeaders.push({
      type: view.getUint32(at, true),
      flags: view.getUint32(at + 4, true),
      offset: view.getBigUint64(at + 8, true),
      vaddr: view.getBigUint64(at + 16, true),
      filesz: view.getBigUint64(at + 32, true),
      memsz: view.getBigUint64(at + 40, true),
      align: view.getBigUint64(at + 48, true),
    });
  }

  let loads = 0;
  let interpreter: string | undefined;
  for (const [i, ph] of programHeaders.entries()) {
    if (ph.type === SegmentType.INTERP) {
      const name = interpreterName(bytes, ph);
      if (name === undefined) return fail(`segment ${i} (PT_INTERP) is not a NUL-terminated path inside the file`);
      interpreter = name;
    }
    if (ph.type !== SegmentType.LOAD) continue;
    loads++;
    if (ph.offset + ph.filesz > fileSize) {
      return fail(`segment ${i} (PT_LOAD, file offset 0x${ph.offset.toString(16)}, size 0x${ph.filesz.toString(16)}) extends beyond the end of the file`);
    }
    if (ph.filesz > ph.memsz) return fail(`segment ${i} has p_filesz 0x${ph.filesz.toString(16)} > p_memsz 0x${ph.memsz.toString(16)}`);
    if ((ph.vaddr - ph.offset) % PAGE_SIZE !== 0n) {
      return fail(`segment ${i} has p_vaddr 0x${ph.vaddr.toString(16)} and p_offset 0x${ph.offset.toString(16)} that differ modulo the page size`);
    }
    if (ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr + ph.memsz > 0x8000_0000_0000n) {
      return fail(`segment ${i} (0x${ph.vaddr.toString(16)}, size 0x${ph.memsz.toString(16)}) is outside the user address space`);
    }
  }
  if (loads === 0) return fail('no loadable segments (PT_LOAD)');

  const gnuStack = programHeaders.find((ph) => ph.type === SegmentType.GNU_STACK);
  return {
    ok: true,
    image: {
      bytes,
      header,
      programHeaders,
      isPie: header.type === ElfType.DYN,
      executableStack: gnuStack === undefined || (gnuStack.flags & SegmentFlags.X) !== 0,
      interpreter,
    },
  };
}

/** The PT_INTERP path (Linux requires it inside the file, at most PATH_MAX long, NUL-terminated), or undefined. */
function interpreterName(bytes: Uint8Array, ph: ProgramHeader): string | undefined {
  if (ph.filesz < 2n || ph.filesz > 4096n || ph.offset + ph.filesz > BigInt(bytes.length)) return undefined;
  const raw = bytes.subarray(Number(ph.offset), Number(ph.offset + ph.filesz));
  if (raw[raw.length - 1] !== 0) return undefined;
  return Buffer.from(raw.subarray(0, raw.indexOf(0))).toString('latin1');
}
