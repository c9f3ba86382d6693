// The system call table: number -> name (from the one names table) and handler (from the group files).
import { copyRangeSyscalls } from './copy-range.js';
import { dirSyscalls } from './dirs.js';
import { fdSyscalls } from './fd-ops.js';
import { epollSyscalls } from './epoll.js';
import { eventfdSyscalls } from './eventfd.js';
import { fileChangeSyscalls } from './file-changes.js';
import { memfdSyscalls } from './memfd.js';
import { fileSyscalls } from './files.js';
import type { Handler, HandlerGroup } from './handler.js';
import { ioctlSyscalls } from './ioctl.js';
import { limitSyscalls } from './limits.js';
import { linkSyscalls } from './links.js';
import { memorySyscalls } from './memory.js';
import { mutationSyscalls } from './mutations.js';
import { openSyscalls } from './open.js';
import { pollSyscalls } from './poll.js';
import { processInfoSyscalls } from './process-info.js';
import { socketSyscalls } from './sockets.js';
import { statfsSyscalls } from './statfs.js';
import { randomSyscalls } from './random.js';
import { signalSyscalls } from './signals.js';
import { statSyscalls } from './stat.js';
import { SYSCALL_NAMES } from './syscall-names.js';
import { threadSyscalls } from './thread.js';
import { timeSyscalls } from './time.js';

/** One system call: its name and, if implemented, its handler. */
export interface SyscallEntry {
  readonly nr: number;
  readonly name: string;
  readonly handler: Handler | undefined;
}

const GROUPS: readonly HandlerGroup[] = [
  fileSyscalls, openSyscalls, statSyscalls, dirSyscalls, linkSyscalls, fdSyscalls, ioctlSyscalls, memorySyscalls,
  processInfoSyscalls, limitSyscalls, threadSyscalls, timeSyscalls, signalSyscalls, randomSyscalls, mutationSyscalls, fileChangeSyscalls, eventfdSyscalls, epollSyscalls, memfdSyscalls,
  pollSyscalls, statfsSyscalls, socketSyscalls, copyRangeSyscalls,
];

function buildTable(): ReadonlyMap<number, SyscallEntry> {
  const handlers = new Map<string, Handler>();
  for (const g of GROUPS) {
    for (const [name, h] of Object.entries(g)) {
      if (handlers.has(name)) throw new Error(`system call ${name} has two handlers`);
      handlers.set(name, h);
    }
  }
  const table = new Map<number, SyscallEntry>();
  for (const [nr, name] of SYSCALL_NAMES) {
    table.set(nr, { nr, name, handler: handlers.get(name) });
    handlers.delete(name);
  }
  if (handlers.size > 0) throw new Error(`handlers for unknown system calls: ${[...handlers.keys()].join(', ')}`);
  return table;
}

/** Every x86-64 system call number (0..334, 424..450) with its name and handler. */
export const SYSCALL_TABLE: ReadonlyMap<number, SyscallEntry> = buildTable();

export function syscallEntry(nr: number): SyscallEntry | undefined {
  return SYSCALL_TABLE.get(nr);
}

/** The name of system call `nr` ("read", "openat"...), or "syscall_<nr>" for a number Linux does not define. */
export function syscallName(nr: number): string {
  return SYSCALL_TABLE.get(nr)?.name ?? `syscall_${nr}`;
}

/** The number of a system call by name, or undefined. */
export function syscallNumber(name: string): number | undefined {
  for (const [nr, e] of SYSCALL_TABLE) if (e.name === name) return nr;
  return undefined;
}
