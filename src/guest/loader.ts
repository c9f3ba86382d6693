// Loads a static (ET_EXEC), static-PIE (ET_DYN, no PT_INTERP) or dynamically linked executable (PT_INTERP: the
// program and its interpreter, the dynamic loader) the way Linux 6.x's load_elf_binary does with address
// randomisation off (personality ADDR_NO_RANDOMIZE, `setarch -R`), through a small memory
// interface so that it can be tested without an address space. Facts measured on this machine are in
// docs/linux-layout.md.

import { cpuid } from '../cpu/cpuid.js';
import { Prot } from './abi.js';
import { type ElfImage, type ProgramHeader, PROGRAM_HEADER_SIZE, SegmentFlags, SegmentType, parseElf } from './elf.js';
import { type AuxValues, type InitialStack, STACK_TOP, buildInitialStack } from './initial-stack.js';

/** What the loader needs from an address space. All addresses and lengths are page-aligned except in write(). */
export interface LoaderTarget {
  /**
   * Maps [addr, addr + length) with protection `prot` (Prot bits), replacing whatever was there (MAP_FIXED).
   * The first `fileLength` bytes hold `file[fileOffset, fileOffset + fileLength)`; the rest reads as zeros.
   * `kind` is 'elf' for the file-backed part of a segment and 'anon' for the bss pages past the last file page
   * (Linux maps those with vm_brk_flags: anonymous, read/write); then `file` is undefined and fileLength 0.
   */
  mapFixed(addr: bigint, length: bigint, prot: number, kind: 'elf' | 'anon', file: Uint8Array | undefined, fileOffset: bigint, fileLength: bigint): void;
  /** Maps the stack: [top - size, top), zero-filled, demand-paged, growing down; `prot` is READ|WRITE (+EXEC). */
  mapStack(top: bigint, size: bigint, prot: number): void;
  /** Sets the start (and current value) of the program break for brk(2). */
  setBrkStart(addr: bigint): void;
  /** Writes bytes into mapped, writable memory (only used for the initial stack contents). */
  write(addr: bigint, bytes: Uint8Array): unknown;
}

/** Options of one exec. Defaults are this machine's values with randomisation off. */
export interface LoadOptions {
  readonly target: LoaderTarget; // the address space
  readonly execPath: string; // the filename given to execve: AT_EXECFN, and argv[0] unless `argv0` is given
  readonly args: readonly string[]; // argv[1..]
  readonly env: readonly string[]; // "KEY=VALUE" strings
  readonly random: (n: number) => Uint8Array; // source of the 16 AT_RANDOM bytes (log them as an input)
  readonly argv0?: string; // argv[0] when it differs from execPath
  readonly hwcap?: bigint; // AT_HWCAP; default CPUID.1:EDX of the modelled processor (src/cpu/cpuid.ts)
  readonly hwcap2?: bigint; // AT_HWCAP2; default 0 (no FSGSBASE)
  readonly minsigstksz?: bigint; // AT_MINSIGSTKSZ; default 2048 (x86 MINSIGSTKSZ; Linux reports its FPU frame size)
  readonly uid?: bigint; // AT_UID/AT_EUID; default 0
  readonly gid?: bigint; // AT_GID/AT_EGID; default 0
  readonly rseq?: AuxValues['rseq'] | null; // AT_RSEQ_*; default {28, 32} as Linux 6.18 here; null leaves them out (6.1)
  readonly sysinfoEhdrSlot?: AuxValues['sysinfoEhdrSlot']; // default 'ignore' (native stack addresses)
  readonly stackTop?: bigint; // default STACK_TOP
  readonly stackSize?: bigint; // default 8 MiB (RLIMIT_STACK)
  readonly mmapBase?: bigint; // top of the mmap area; default MMAP_BASE
  /** The bytes of the interpreter named by PT_INTERP (read through the guest's file view), or a one-line error. */
  readonly readInterpreter?: (path: string) => Uint8Array | { readonly error: string };
  /** Where a static-PIE's brk starts: Linux >= 6.9 moves it to ELF_ET_DYN_BASE ('et-dyn-base', default); older kernels put it after the bss. */
  readonly staticPieBrk?: 'et-dyn-base' | 'after-bss';
}

export interface LoadedProgram {
  readonly ok: true;
  readonly entry: bigint; // initial RIP: e_entry + loadBias
  readonly sp: bigint; // initial RSP (points at argc)
  readonly brkStart: bigint; // start of the heap for brk(2)
  readonly loadBias: bigint; // 0 for ET_EXEC; where vaddr 0 of a static-PIE went
  readonly phdr: bigint; // AT_PHDR
  readonly stack: InitialStack; // the stack image and the addresses of its strings
  readonly mappings: readonly Mapping[]; // every mapFixed call, in order (the program's, then the interpreter's)
  readonly interpreter: LoadedInterpreter | undefined; // the dynamic loader, for a dynamically linked program
  readonly programEntry: bigint; // AT_ENTRY: the program's own entry point (= entry without an interpreter)
}

/** The interpreter (dynamic loader) as mapped for a dynamically linked program. */
export interface LoadedInterpreter {
  readonly path: string; // PT_INTERP's path as written in the program
  readonly image: ElfImage; // its parsed file
  readonly base: bigint; // AT_BASE: its load bias
  readonly mappings: readonly Mapping[]; // its mapFixed calls
}

/** One mapFixed call (for inspection and tests). */
export interface Mapping {
  readonly image: 'program' | 'interpreter'; // whose segment
  readonly addr: bigint;
  readonly length: bigint;
  readonly prot: number;
  readonly fileOffset: bigint; // meaningful when fileLength > 0
  readonly fileLength: bigint; // 0: anonymous
}

export const PAGE_SIZE = 0x1000n;
/** mmap_base with randomisation off: TASK_SIZE - 128 MiB (the minimum gap, since RLIMIT_STACK 8 MiB + guard < 128 MiB). */
export const MMAP_BASE = 0x7fff_f7ff_f000n;
/** ELF_ET_DYN_BASE on x86-64: DEFAULT_MAP_WINDOW / 3 * 2 (page-aligned up where used). */
export const ELF_ET_DYN_BASE = 0x5555_5555_4aaan;
const DEFAULT_STACK_SIZE = 8n << 20n;

const pageStart = (a: bigint): bigint => a & ~(PAGE_SIZE - 1n);
const pageAlign = (a: bigint): bigint => (a + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
const pageOffset = (a: bigint): bigint => a & (PAGE_SIZE - 1n);

function segmentProt(ph: ProgramHeader): number {
  return ((ph.flags & SegmentFlags.R) !== 0 ? Prot.READ : 0)
    | ((ph.flags & SegmentFlags.W) !== 0 ? Prot.WRITE : 0)
    | ((ph.flags & SegmentFlags.X) !== 0 ? Prot.EXEC : 0);
}

/** total_mapping_size(): from the first PT_LOAD's page to the end of the last one (in header order). */
export function totalMappingSize(loads: readonly ProgramHeader[]): bigint {
  const first = loads[0];
  const last = loads[loads.length - 1];
  if (first === undefined || last === undefined) return 0n;
  return pageAlign(last.vaddr + last.memsz) - pageStart(first.vaddr);
}

/**
 * The load bias Linux picks with randomisation off: 0 for ET_EXEC; ELF_ET_DYN_BASE for a PIE with an interpreter
 * (0x555555554000); for a static-PIE and for an interpreter the top of the mmap area (the first mapping, total_size
 * long and without MAP_FIXED, is placed top-down).
 */
export function loadBias(image: ElfImage, mmapBase: bigint = MMAP_BASE): bigint {
  if (!image.isPie) return 0n;
  const loads = image.programHeaders.filter((ph) => ph.type === SegmentType.LOAD);
  const firstVaddr = pageStart(loads[0]?.vaddr ?? 0n);
  if (image.interpreter !== undefined) return pageStart(ELF_ET_DYN_BASE - firstVaddr);
  // load_bias = ELF_PAGESTART(0 - vaddr); the first mapping (total_size long, no MAP_FIXED) is placed top-down.
  return pageStart(mmapBase - totalMappingSize(loads)) - firstVaddr;
}

/** A file that cannot be loaded: a one-line reason (from parseElf). */
export interface LoadFailure {
  readonly ok: false;
  readonly error: string;
}

/**
 * Maps the segments, sets the break, maps and fills the stack. `image` is the file's bytes (parsed and checked
 * here) or an image from parseElf. Nothing is mapped when the file is rejected.
 */
export function loadProgram(file: Uint8Array | ElfImage, opts: LoadOptions): LoadedProgram | LoadFailure {
  let image: ElfImage;
  if (file instanceof Uint8Array) {
    const parsed = parseElf(file);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    image = parsed.image;
  } else {
    image = file;
  }
  const target = opts.target;
  let interpImage: ElfImage | undefined;
  if (image.interpreter !== undefined) {
    const bytes = opts.readInterpreter?.(image.interpreter) ?? { error: 'no file system to read it from' };
    if (!(bytes instanceof Uint8Array)) return { ok: false, error: `interpreter ${image.interpreter}: ${bytes.error}` };
    const parsed = parseElf(bytes);
    if (!parsed.ok) return { ok: false, error: `interpreter ${image.interpreter}: ${parsed.error}` };
    if (parsed.image.interpreter !== undefined) return { ok: false, error: `interpreter ${image.interpreter}: has an interpreter itself` };
    interpImage = parsed.image;
  }
  const bias = loadBias(image, opts.mmapBase ?? MMAP_BASE);
  const mappings: Mapping[] = [];
  const prog = mapSegments(image, bias, 'program', target, mappings);
  const phdr = prog.phdr, elfBrk = prog.brk;

  let interp: LoadedInterpreter | undefined;
  if (image.interpreter !== undefined && interpImage !== undefined) {
    // load_elf_interp(): its first segment goes top-down from mmap_base like a static-PIE's
    const ibias = loadBias(interpImage, opts.mmapBase ?? MMAP_BASE);
    const imaps: Mapping[] = [];
    mapSegments(interpImage, ibias, 'interpreter', target, imaps);
    mappings.push(...imaps);
    interp = { path: image.interpreter, image: interpImage, base: ibias, mappings: imaps };
  }

  const movePieBrk = image.isPie && image.interpreter === undefined && (opts.staticPieBrk ?? 'et-dyn-base') === 'et-dyn-base';
  const brkStart = pageAlign(movePieBrk ? ELF_ET_DYN_BASE : elfBrk);
  target.setBrkStart(brkStart);

  const programEntry = image.header.entry + bias;
  const entry = interp !== undefined ? interp.image.header.entry + interp.base : programEntry;
  const stackTop = opts.stackTop ?? STACK_TOP;
  const stack = buildInitialStack({
    argv: [opts.argv0 ?? opts.execPath, ...opts.args],
    envp: opts.env,
    execfn: opts.execPath,
    platform: 'x86_64',
    random: opts.random(16),
    stackTop,
    aux: {
      phdr,
      phent: BigInt(PROGRAM_HEADER_SIZE),
      phnum: BigInt(image.header.phnum),
      entry: programEntry,
      base: interp?.base ?? 0n,
      hwcap: opts.hwcap ?? BigInt(cpuid(1, 0)[3] >>> 0),
      hwcap2: opts.hwcap2 ?? 0n,
      minsigstksz: opts.minsigstksz ?? 2048n,
      pagesz: PAGE_SIZE,
      clktck: 100n,
      flags: 0n,
      uid: opts.uid ?? 0n,
      euid: opts.uid ?? 0n,
      gid: opts.gid ?? 0n,
      egid: opts.gid ?? 0n,
      secure: 0n,
      ...(opts.rseq === null ? {} : { rseq: opts.rseq ?? { featureSize: 28n, align: 32n } }),
      sysinfoEhdrSlot: opts.sysinfoEhdrSlot ?? 'ignore',
    },
  });
  const stackProt = Prot.READ | Prot.WRITE | (image.executableStack ? Prot.EXEC : 0);
  target.mapStack(stackTop, opts.stackSize ?? DEFAULT_STACK_SIZE, stackProt);
  target.write(stack.bottom, stack.bytes);

  return { ok: true, entry, sp: stack.sp, brkStart, loadBias: bias, phdr, stack, mappings, interpreter: interp, programEntry };
}

/** elf_load() for every PT_LOAD of `image` at `bias`; returns AT_PHDR's address and the end of the last bss. */
function mapSegments(image: ElfImage, bias: bigint, who: Mapping['image'], target: LoaderTarget, mappings: Mapping[]): { phdr: bigint; brk: bigint } {
  const fileSize = BigInt(image.bytes.length);
  const map = (addr: bigint, length: bigint, prot: number, fileOffset: bigint, fileLength: bigint): void => {
    if (length <= 0n) return;
    mappings.push({ image: who, addr, length, prot, fileOffset, fileLength });
    const kind = fileLength > 0n ? 'elf' : 'anon';
    target.mapFixed(addr, length, prot, kind, fileLength > 0n ? image.bytes : undefined, fileOffset, fileLength);
  };
  let phdr = 0n;
  let elfBrk = 0n;
  for (const ph of image.programHeaders) {
    if (ph.type !== SegmentType.LOAD) continue;
    const prot = segmentProt(ph);
    const start = ph.vaddr + bias;
    let zeroStart: bigint;
    if (ph.filesz > 0n) {
      // elf_map(): whole pages of the file, from the page holding p_offset.
      const mapStart = pageStart(start);
      const mapLength = pageAlign(ph.filesz + pageOffset(ph.vaddr));
      const fileStart = ph.offset - pageOffset(ph.vaddr);
      let fileLength = mapLength < fileSize - fileStart ? mapLength : fileSize - fileStart;
      zeroStart = start + ph.filesz;
      // padzero(): with a bss, the rest of the last file page is cleared (only if the segment is writable;
      // the kernel ignores the fault otherwise and the file bytes stay visible).
      if (ph.memsz > ph.filesz && (prot & Prot.WRITE) !== 0) fileLength = zeroStart - mapStart;
      map(mapStart, mapLength, prot, fileStart, fileLength);
    } else {
      zeroStart = pageStart(start);
    }
    if (ph.memsz > ph.filesz) {
      // vm_brk_flags(): anonymous read/write pages (+exec if the segment is executable) for the rest of the bss.
      const zeroPagesStart = pageAlign(zeroStart);
      const zeroEnd = pageAlign(start + ph.memsz);
      map(zeroPagesStart, zeroEnd - zeroPagesStart, Prot.READ | Prot.WRITE | (prot & Prot.EXEC), 0n, 0n);
    }
    // AT_PHDR: the address of the program header table inside the segment that contains it.
    if (ph.offset <= image.header.phoff && image.header.phoff < ph.offset + ph.filesz) {
      phdr = image.header.phoff - ph.offset + ph.vaddr + bias;
    }
    if (ph.vaddr + ph.memsz + bias > elfBrk) elfBrk = ph.vaddr + ph.memsz + bias;
  }
  return { phdr, brk: elfBrk };
}
