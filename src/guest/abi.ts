// The seams between the host-side Linux ABI, the guest's memory and the recorder. The Linux layer sees the
// guest only through these interfaces, so it can be tested without a processor.

/** Host access to the current process's user memory (linear addresses, through the guest page tables). */
export interface UserMemory {
  /** Read `len` bytes; undefined if any byte is not in a readable mapping (the syscall returns -EFAULT). */
  read(addr: bigint, len: number): Uint8Array | undefined;
  /** Write bytes (mapping pages on demand within valid mappings); false if any byte is not writable (-EFAULT). */
  write(addr: bigint, data: Uint8Array): boolean;
  /** Read a NUL-terminated string of at most `max` bytes (default 4096); undefined on -EFAULT or no NUL. */
  readCString(addr: bigint, max?: number): Uint8Array | undefined;
}

/** Memory-management system calls, implemented by the address space. Results are Linux return values (-errno on error). */
export interface MemoryManager {
  /** brk(2): set the program break; returns the new (or unchanged) break. */
  brk(addr: bigint): bigint;
  /** mmap(2) of anonymous memory or a private file mapping (`file` holds the whole file's bytes). */
  mmap(addr: bigint, length: bigint, prot: number, flags: number, file: Uint8Array | undefined, offset: bigint, path?: string): bigint;
  /** munmap(2). */
  munmap(addr: bigint, length: bigint): bigint;
  /** mprotect(2). */
  mprotect(addr: bigint, length: bigint, prot: number): bigint;
  /** madvise(MADV_DONTNEED): drop the pages of [addr, addr + length); the next touch maps them afresh (zeros or file). */
  discard(addr: bigint, length: bigint): bigint;
  /** mremap(2). */
  mremap(oldAddr: bigint, oldLength: bigint, newLength: bigint, flags: number, newAddr: bigint): bigint;
}

/** Where the host reports what a recorder must log. */
export interface HostEvents {
  /** A nondeterministic value the guest received (time, random bytes, read() data, file contents...). */
  input(kind: string, data: Uint8Array): void;
  /**
   * A system call the ABI did not carry out as Linux would: `result` is the errno name the guest got ("ENOSYS" when
   * it is not implemented, "EACCES" for a refused variant) or "partial"; `detail` says what is missing.
   */
  unsupportedSyscall(nr: number, name: string, result: string, detail?: string): void;
  /**
   * A signal handler was entered ('signal_delivery': `signo`, its si_code, from the interrupted RIP to the handler)
   * or left ('sigreturn': from the rt_sigreturn call to the restored RIP).
   */
  signal?(kind: 'signal_delivery' | 'sigreturn', signo: number, code: number, fromRip: bigint, toRip: bigint): void;
}

/** How a system call ended. */
export type SyscallOutcome =
  | { kind: 'return'; value: bigint } // RAX := value (negative errno for errors)
  | { kind: 'exit'; status: number; signal?: number }; // exit/exit_group: the process ends with this status (0..255); `signal`: killed by it

/** Protection bits (mmap/mprotect). */
export const enum Prot { NONE = 0, READ = 1, WRITE = 2, EXEC = 4 }
