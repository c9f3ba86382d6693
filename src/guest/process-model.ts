// The processes and threads of the guest as plain data: what the process table, the scheduler and the trace's
// processes.json share.
import type { AddressSpace } from './address-space.js';
import type { LinuxProcess } from './linux/process.js';

/** One process. */
export interface GuestProcess {
  /** Process id (the first process is 1000, as LinuxProcess's default). */
  pid: number;
  /** Parent's pid (999 for the first process: a parent outside the machine). */
  ppid: number;
  /** Descriptors, working directory, signal dispositions, ids. */
  linux: LinuxProcess;
  /** Its address space (shared with the parent after clone(CLONE_VM) until it execs). */
  as: AddressSpace;
  /** Guest path of the program it runs (from its last execve). */
  image: string;
  /** argv of its last execve. */
  argv: string[];
  /** Step of the fork that created it (0 for the first process). */
  forkStep: number;
  /** Steps of its successful execve calls. */
  execSteps: number[];
  /** 'live' while it runs, 'zombie' once ended and not yet waited for, 'reaped' after. */
  state: 'live' | 'zombie' | 'reaped';
  /** wait4 status word once ended: (status << 8) for exit, the signal number for a fatal signal. */
  waitStatus: number;
  /** Step at which it ended, or null. */
  exitStep: number | null;
  /** Set for a clone(CLONE_VFORK) child until it execs or ends (its parent waits). */
  vforkParent: number | null;
}

/** What a blocked task waits for: called when the scheduler considers it; the system call's result, or null (still blocked). */
export type BlockedRetry = () => bigint | null;

/** One thread (a task of the scheduler). */
export interface Task {
  /** Thread id (the process's pid for its first thread). */
  tid: number;
  /** Its process. */
  proc: GuestProcess;
  /** Physical address of its TaskArea page (layout.ts), which also holds its kernel stack. */
  area: number;
  /** Kernel linear address of the TaskArea (what Percpu.CURRENT_TASK / NEXT_TASK hold). */
  areaLinear: bigint;
  /** 'running' on the processor, 'runnable', 'blocked' in a system call, 'dead'. */
  state: 'running' | 'runnable' | 'blocked' | 'dead';
  /** For a blocked task: its retry. */
  blocked: BlockedRetry | null;
  /** Step of its first instruction (its fork), and of its end (null while it lives). */
  firstStep: number;
  lastStep: number | null;
  /** set_tid_address / CLONE_CHILD_CLEARTID: cleared and futex-woken when the thread ends (0: none). */
  clearChildTid: bigint;
}

/** A task waiting in FUTEX_WAIT. */
export interface FutexWaiter {
  /** The waiting task. */
  task: Task;
  /** The address space and user address of the futex word (the key). */
  as: object;
  addr: bigint;
  /** FUTEX_WAIT_BITSET's mask (all ones for FUTEX_WAIT). */
  bitset: number;
  /** Set by a wake; set `timedOut` when its timeout is taken (the machine would idle otherwise). */
  woken: boolean;
  timedOut: boolean;
  /** Whether the wait has a timeout. */
  timed: boolean;
}

/** One entry of the schedule: from step `seq` on, thread `tid` runs. */
export interface ScheduleEntry {
  /** First step of the thread after the switch: __switch_to's RET, the first step on its kernel stack. */
  seq: number;
  /** Thread switched to. */
  tid: number;
}

/** A process event for the trace's events table (kind, and two ids: see the events table's comment). */
export interface ProcessEvent {
  /** Step it belongs to (a switch: the first step of the thread switched to). */
  seq: number;
  /** fork (id: child pid, other: parent pid), exec (id: pid), process_exit (id: pid, other: wait status), switch (id: tid switched to, other: tid switched from). */
  kind: 'fork' | 'exec' | 'process_exit' | 'switch';
  id: number;
  other: number;
}
