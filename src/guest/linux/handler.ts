// The shape every system call handler has.
import type { Args } from './args.js';
import type { LinuxProcess } from './process.js';

/** What a handler returns: RAX (negative errno on error), or the end of the process. */
export type SyscallResult = bigint | { kind: 'exit'; status: number; signal?: number };

/** A system call implementation. It never throws for anything the guest passes. */
export type Handler = (p: LinuxProcess, a: Args) => SyscallResult;

/** Handlers of one group, by system call name (the numbers come from the one names table). */
export type HandlerGroup = Readonly<Record<string, Handler>>;
