// The trace format: one directory, one Arrow IPC stream file per table (`<table>.arrows`), a `meta.json`, and
// `checkpoints/` (msgpackr). Every table is keyed by `seq`, the 0-based index of a step: an executed
// instruction, one iteration of a REP string instruction, or an attempt that faulted. This file is the single
// source of truth for table and column names, types and meanings.

import { type CpuLevel, type CpuLevelName, cpuLevelOf, DEFAULT_CPU_LEVEL } from '../cpu/cpu-level.js';

/**
 * Version of the trace format written; readers accept READABLE_VERSIONS. 2: delta-coded seq columns, per-column
 * zstd levels. 3: manifest.bin (CRC-32 of every schema, batch, end marker and checkpoint; sync points),
 * checksummed meta.json and symbols.json. 4: several processes and threads: processes.json (processes, threads,
 * the schedule) and fork/exec/process_exit/switch events; a version-3 trace reads as one thread, pid = tid = 1.
 */
export const TRACE_VERSION = 4;

/** Format versions this build reads (3 differs only by having no processes.json). */
export const READABLE_VERSIONS: readonly number[] = [3, 4];

/** Whether a table's or meta.json's format version (as stored: a number or its decimal text) is readable. */
export function readableVersion(v: unknown): boolean {
  return READABLE_VERSIONS.some((r) => v === r || v === String(r));
}

/** Column types, as stored in Arrow. u64 columns are BigUint64 in Arrow and lo/hi u32 pairs while recording. */
export type ColumnType = 'u8' | 'u16' | 'u32' | 'u64' | 'i16' | 'i64' | 'utf8' | 'binary';

/** One column. */
export interface ColumnSpec {
  /** Column name (stable: users query it). */
  readonly name: string;
  /** Storage type. */
  readonly type: ColumnType;
  /** Meaning, unit and invariant. */
  readonly comment: string;
  /**
   * Stored delta-coded within each record batch (u64 only): the batch's first row holds the value, every later
   * row the difference from the row before (field metadata `encoding: delta`). Readers here decode it.
   */
  readonly delta?: boolean;
  /**
   * zstd level of the column body (default ZSTD_LEVEL). Fast negative levels suit columns of long runs and
   * addresses (several times faster there, and as small); level 1 the value columns.
   */
  readonly level?: number;
}

/** One table. */
export interface TableSpec {
  /** Table name, also the file name `<name>.arrows`. */
  readonly name: TableName;
  /** What one row is. */
  readonly comment: string;
  /** Its columns. */
  readonly columns: readonly ColumnSpec[];
}

/** The tables of a trace. */
export type TableName = 'insns' | 'code' | 'regs' | 'mem' | 'events' | 'syscalls' | 'inputs';

const c = (name: string, type: ColumnType, comment: string, physical: { delta?: boolean; level?: number } = {}): ColumnSpec =>
  ({ name, type, comment, ...physical });
/** A seq column of a per-step table: sorted, so stored as deltas (mostly 0 and 1), at a fast zstd level. */
const SEQ = { delta: true, level: -5 } as const;
/** An address column: fast zstd level (as small as level 1 on addresses, several times faster). */
const ADDR = { level: -5 } as const;

/** Every table, in the order they are described to users. */
export const TABLES: readonly TableSpec[] = [
  {
    name: 'insns', comment: 'one row per step',
    columns: [
      c('seq', 'u64', 'step index, 0-based, consecutive: row n has seq n', SEQ),
      c('rip', 'u64', 'linear address of the instruction', ADDR),
      c('cpl', 'u8', 'privilege level the step ran at (3 user, 0 kernel)'),
      c('length', 'u8', 'instruction length in bytes (0 when fetching the instruction faulted)'),
      c('code', 'u32', 'row of the `code` table holding the instruction bytes'),
      c('faulted', 'u8', '1 if the attempt raised an exception, which was delivered within this step'),
    ],
  },
  {
    name: 'code', comment: 'one row per distinct (rip, bytes): the instruction bytes steps refer to',
    columns: [
      c('id', 'u32', 'row number, referenced by insns.code'),
      c('rip', 'u64', 'linear address of the instruction'),
      c('bytes', 'binary', 'the instruction bytes (1..15)'),
    ],
  },
  {
    name: 'regs', comment: 'one row per register a step changed (value after the step); RIP is not listed: it is the next step\'s insns.rip',
    columns: [
      c('seq', 'u64', 'step that changed the register', SEQ),
      c('reg', 'u8', 'register number (src/trace/registers.ts: 0..15 rax..r15, 17 rflags, ...)'),
      c('value', 'u64', 'the register\'s value after the step'),
    ],
  },
  {
    name: 'mem', comment: 'one row per data memory access of a step, in order (host writes of a VMCALL step included)',
    columns: [
      c('seq', 'u64', 'step that made the access', SEQ),
      c('addr', 'u64', 'linear address of the first byte', ADDR),
      c('size', 'u8', 'bytes accessed: 1, 2, 4 or 8'),
      c('access', 'u8', '0 read, 1 write'),
      c('value', 'u64', 'value read or written (little-endian, zero-extended)'),
      c('old_value', 'u64', 'for writes: the value the write replaced; 0 for reads'),
    ],
  },
  {
    name: 'events', comment: 'ring switches, exceptions, page faults, VM exits and the end of the program',
    columns: [
      c('seq', 'u64', 'step the event happened in'),
      c('kind', 'utf8', 'syscall | sysret | exception | page_fault | interrupt | iret | vmexit | signal | exit | unsupported_syscall (vector: its number, error_code: the errno it returned, 0 when partial) | signal_delivery (at the VMCALL step that wrote the frame; vector: the signal, error_code: its si_code, from_rip: the interrupted RIP, to_rip: the handler) | sigreturn (the rt_sigreturn VMCALL step; to_rip: the restored RIP)'),
      c('vector', 'i16', 'exception or interrupt vector; VM-exit reason for vmexit; signal number for signal; system call number for unsupported_syscall; -1 otherwise'),
      c('error_code', 'u32', 'exception error code (0 if none); exit status for exit and signal; errno returned for unsupported_syscall (0: partial)'),
      c('cr2', 'u64', 'faulting linear address for page_fault, else 0'),
      c('from_cpl', 'u8', 'privilege level before the event'),
      c('to_cpl', 'u8', 'privilege level after the event'),
      c('from_rip', 'u64', 'RIP before the event (the faulting or switching instruction)'),
      c('to_rip', 'u64', 'RIP after the event (handler entry, return address)'),
    ],
  },
  {
    name: 'syscalls', comment: 'one row per system call',
    columns: [
      c('entry_seq', 'u64', 'step of the SYSCALL instruction'),
      c('return_seq', 'i64', 'step of the SYSRETQ that returned to ring 3, or -1 if the call did not return (exit)'),
      c('number', 'u32', 'system call number (RAX at entry)'),
      c('name', 'utf8', 'Linux name of the call'),
      c('arg0', 'u64', 'RDI at entry'), c('arg1', 'u64', 'RSI at entry'), c('arg2', 'u64', 'RDX at entry'),
      c('arg3', 'u64', 'R10 at entry'), c('arg4', 'u64', 'R8 at entry'), c('arg5', 'u64', 'R9 at entry'),
      c('result', 'i64', 'RAX returned (negative errno on error)'),
    ],
  },
  {
    name: 'inputs', comment: 'every nondeterministic value the guest received',
    columns: [
      c('seq', 'u64', 'step that received it (the VMCALL step of the system call; 0 for values placed before the first step)'),
      c('kind', 'utf8', 'auxv-random | read | stat | getdents64 | readlink | clock | getrandom | mmap | ...'),
      c('data', 'binary', 'the bytes'),
    ],
  },
];

/** The spec of a table by name. */
export function tableSpec(name: TableName): TableSpec {
  const t = TABLES.find((x) => x.name === name);
  if (t === undefined) throw new Error(`unknown table ${name}`);
  return t;
}

/** Contents of meta.json. */
export interface TraceMeta {
  /** TRACE_VERSION of the writer. */
  version: number;
  /** itrace version that wrote it. */
  tool: string;
  /** Path of the recorded program as given. */
  image: string;
  /** SHA-256 of the program file, hex. */
  imageSha256: string;
  /** argv including argv[0]. */
  argv: string[];
  /** Environment strings. */
  env: string[];
  /** Host directory exposed as the guest root, if any. */
  root?: string;
  /** ISO time the recording started. */
  started: string;
  /** True once the recording ended normally and every table was closed. */
  complete: boolean;
  /** Steps in the trace (set when complete). */
  steps?: number;
  /** Exit status of the program (set when complete). */
  exitStatus?: number;
  /** Kernel routines (symbols of the guest kernel). */
  kernelSymbols: { name: string; address: string; size: number }[];
  /** Load bias of a static-PIE (hex), "0" otherwise. */
  loadBias: string;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Why the recording stopped early, if it did: "interrupted at step N (SIGINT)", an internal or disk error. */
  stopped?: string;
  /** The CPU model the program ran on (`--cpu`); absent in older traces, which ran on x86-64-v2 (traceCpuLevel). */
  cpu?: CpuLevelName;
  /** Seed of the chaos-mode scheduler (--chaos), decimal; absent for the default schedule. */
  chaos?: string;
  /** System calls not carried out as Linux would (set when the recording ends; absent in older traces). */
  unsupportedSyscalls?: { name: string; result: string; detail?: string; count: number }[];
}

/** The CPU model of a trace: meta.json's `cpu`, or x86-64-v2 for traces written before it was recorded. */
export function traceCpuLevel(meta: Pick<TraceMeta, 'cpu'>): CpuLevel {
  return meta.cpu === undefined ? DEFAULT_CPU_LEVEL : cpuLevelOf(meta.cpu) ?? DEFAULT_CPU_LEVEL;
}
