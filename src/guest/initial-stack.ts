// The initial process stack, byte for byte as Linux's execve (fs/exec.c + fs/binfmt_elf.c create_elf_tables)
// lays it out with address randomisation off (setarch -R). From the top down:
//
//   stackTop                      0x7ffffffff000 (STACK_TOP, 47-bit user space)
//   stackTop - 8                  8 zero bytes (bprm->p starts at vm_end - sizeof(void *))
//   execfn                        the path given to execve, NUL-terminated (AT_EXECFN)
//   envp strings                  envp[0] lowest ... envp[n-1] highest, each NUL-terminated
//   argv strings                  argv[0] lowest (= argv[0]'s address) ... argv[n-1]
//                                 (so the strings read in order argv..., envp..., execfn upwards)
//   align down to 16              arch_align_stack() without randomisation
//   "x86_64\0"                    AT_PLATFORM (7 bytes, unaligned)
//   16 random bytes               AT_RANDOM (directly below the platform string)
//   padding                       so that the final sp is 16-byte aligned (STACK_ROUND)
//   auxv pairs, AT_NULL pair      in create_elf_tables order
//   envp pointers, NULL
//   argv pointers, NULL
//   argc                          <- initial RSP, 16-byte aligned
//
// Verified against this machine's kernel by test/guest/initial-stack.test.ts (test/native/auxv-dump.c).

/** Auxiliary vector entry types (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h). */
export const enum AuxType {
  NULL = 0, IGNORE = 1, PHDR = 3, PHENT = 4, PHNUM = 5, PAGESZ = 6, BASE = 7, FLAGS = 8, ENTRY = 9,
  UID = 11, EUID = 12, GID = 13, EGID = 14, PLATFORM = 15, HWCAP = 16, CLKTCK = 17, SECURE = 23,
  RANDOM = 25, HWCAP2 = 26, RSEQ_FEATURE_SIZE = 27, RSEQ_ALIGN = 28, EXECFN = 31, SYSINFO_EHDR = 33,
  MINSIGSTKSZ = 51,
}

/** Linux's STACK_TOP on x86-64 with 4-level paging and no stack randomisation. */
export const STACK_TOP = 0x7ffff_ffff_000n;

/** Everything the auxiliary vector says that is not a stack address. */
export interface AuxValues {
  readonly phdr: bigint; // AT_PHDR: address of the program headers in memory (after the load bias)
  readonly phent: bigint; // AT_PHENT: 56
  readonly phnum: bigint; // AT_PHNUM: e_phnum
  readonly entry: bigint; // AT_ENTRY: e_entry + load bias
  readonly base: bigint; // AT_BASE: interpreter load address, 0 for static executables
  readonly hwcap: bigint; // AT_HWCAP: CPUID.1:EDX of the modelled processor
  readonly hwcap2: bigint; // AT_HWCAP2: bit 1 = FSGSBASE usable from user mode
  readonly minsigstksz: bigint; // AT_MINSIGSTKSZ: signal frame size for the modelled FPU state
  readonly pagesz: bigint; // AT_PAGESZ: 4096
  readonly clktck: bigint; // AT_CLKTCK: 100
  readonly flags: bigint; // AT_FLAGS: 0
  readonly uid: bigint; // AT_UID
  readonly euid: bigint; // AT_EUID
  readonly gid: bigint; // AT_GID
  readonly egid: bigint; // AT_EGID
  readonly secure: bigint; // AT_SECURE: 0
  /**
   * AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN (Linux >= 6.3 with CONFIG_RSEQ); undefined leaves them out, as 6.1 does.
   * Linux 6.18 here: featureSize 28 (offsetof(struct rseq, end)), align 32.
   */
  readonly rseq?: { readonly featureSize: bigint; readonly align: bigint };
  /**
   * The slot Linux fills with AT_SYSINFO_EHDR (the vDSO address). We have no vDSO. 'ignore' keeps the slot as an
   * AT_IGNORE pair so every stack address (and the initial RSP) equals the native one; 'omit' drops it, so the
   * auxv is 16 bytes shorter and RSP is 16 bytes higher than native.
   */
  readonly sysinfoEhdrSlot: 'ignore' | 'omit';
}

export interface InitialStackInput {
  readonly argv: readonly string[]; // argument strings (UTF-8), argv[0] included
  readonly envp: readonly string[]; // "KEY=VALUE" strings in order
  readonly execfn: string; // the filename passed to execve (bprm->filename), e.g. "./hello"
  readonly platform: string; // AT_PLATFORM string: "x86_64"
  readonly random: Uint8Array; // the 16 AT_RANDOM bytes (an input of the recording)
  readonly aux: AuxValues;
  readonly stackTop?: bigint; // default STACK_TOP
}

export interface AuxEntry {
  readonly type: number; // AuxType
  readonly value: bigint;
}

/** The finished stack image and where each piece went. */
export interface InitialStack {
  readonly sp: bigint; // initial RSP: the address of argc (16-byte aligned)
  readonly bottom: bigint; // lowest address of `bytes` (= sp)
  readonly top: bigint; // stackTop; bytes covers [bottom, top)
  readonly bytes: Uint8Array; // the stack contents from `bottom` to `top`
  readonly argvAddresses: readonly bigint[]; // address of each argv string
  readonly envpAddresses: readonly bigint[]; // address of each envp string
  readonly execfnAddress: bigint; // AT_EXECFN
  readonly platformAddress: bigint; // AT_PLATFORM
  readonly randomAddress: bigint; // AT_RANDOM
  readonly auxv: readonly AuxEntry[]; // the vector as written, AT_NULL last
}

const encoder = new TextEncoder();

function cString(s: string): Uint8Array {
  const body = encoder.encode(s);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

/** The auxiliary vector in the order of Linux 6.x create_elf_tables on x86-64 (ARCH_DLINFO first). */
export function auxvEntries(aux: AuxValues, addresses: { execfn: bigint; platform: bigint; random: bigint }): AuxEntry[] {
  const entries: AuxEntry[] = [];
  if (aux.sysinfoEhdrSlot === 'ignore') entries.push({ type: AuxType.IGNORE, value: 0n });
  entries.push(
    { type: AuxType.MINSIGSTKSZ, value: aux.minsigstksz },
    { type: AuxType.HWCAP, value: aux.hwcap },
    { type: AuxType.PAGESZ, value: aux.pagesz },
    { type: AuxType.CLKTCK, value: aux.clktck },
    { type: AuxType.PHDR, value: aux.phdr },
    { type: AuxType.PHENT, value: aux.phent },
    { type: AuxType.PHNUM, value: aux.phnum },
    { type: AuxType.BASE, value: aux.base },
    { type: AuxType.FLAGS, value: aux.flags },
    { type: AuxType.ENTRY, value: aux.entry },
    { type: AuxType.UID, value: aux.uid },
    { type: AuxType.EUID, value: aux.euid },
    { type: AuxType.GID, value: aux.gid },
    { type: AuxType.EGID, value: aux.egid },
    { type: AuxType.SECURE, value: aux.secure },
    { type: AuxType.RANDOM, value: addresses.random },
    { type: AuxType.HWCAP2, value: aux.hwcap2 },
    { type: AuxType.EXECFN, value: addresses.execfn },
    { type: AuxType.PLATFORM, value: addresses.platform },
  );
  if (aux.rseq !== undefined) {
    entries.push({ type: AuxType.RSEQ_FEATURE_SIZE, value: aux.rseq.featureSize }, { type: AuxType.RSEQ_ALIGN, value: aux.rseq.align });
  }
  entries.push({ type: AuxType.NULL, value: 0n });
  return entries;
}

/** Lays out the initial stack. Pure: the caller maps the stack and writes `bytes` at `bottom`. */
export function buildInitialStack(input: InitialStackInput): InitialStack {
  if (input.random.length !== 16) throw new RangeError('AT_RANDOM needs exactly 16 bytes');
  const top = input.stackTop ?? STACK_TOP;
  // Pieces are placed top-down; `placed` remembers (address, bytes) so one buffer can be filled at the end.
  const placed: { at: bigint; bytes: Uint8Array }[] = [];
  let p = top - 8n;
  const put = (bytes: Uint8Array): bigint => {
    p -= BigInt(bytes.length);
    placed.push({ at: p, bytes });
    return p;
  };

  const execfnAddress = put(cString(input.execfn));
  const envpAddresses: bigint[] = [];
  for (let i = input.envp.length - 1; i >= 0; i--) envpAddresses.unshift(put(cString(input.envp[i]!)));
  const argvAddresses: bigint[] = [];
  for (let i = input.argv.length - 1; i >= 0; i--) argvAddresses.unshift(put(cString(input.argv[i]!)));

  p &= ~0xfn; // arch_align_stack
  const platformAddress = put(cString(input.platform));
  const randomAddress = put(input.random.slice());

  const auxv = auxvEntries(input.aux, { execfn: execfnAddress, platform: platformAddress, random: randomAddress });
  const words: bigint[] = [BigInt(input.argv.length), ...argvAddresses, 0n, ...envpAddresses, 0n];
  for (const e of auxv) words.push(BigInt(e.type), e.value);
  const auxWords = BigInt(auxv.length * 2);
  const items = BigInt(input.argv.length + 1 + input.envp.length + 1 + 1);
  const sp = (p - 8n * auxWords - 8n * items) & ~0xfn; // STACK_ROUND(STACK_ADD(p, ei_index), items)

  const table = new Uint8Array(words.length * 8);
  const view = new DataView(table.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  placed.push({ at: sp, bytes: table });

  const bytes = new Uint8Array(Number(top - sp));
  for (const piece of placed) bytes.set(piece.bytes, Number(piece.at - sp));
  return {
    sp, bottom: sp, top, bytes, argvAddresses, envpAddresses, execfnAddress, platformAddress, randomAddress, auxv,
  };
}
