// processes.json of a trace directory (format version 4): the processes and threads of the recording and the
// schedule (which thread runs from which step on), written when the recording ends, with its checksum
// (sealed-json.ts). A trace without one (version 3) reads as one process and one thread, pid = tid = 1, that ran
// every step.
import { join } from 'node:path';
import { readSealedFile, sealJson } from './sealed-json.js';
import { writeFileAtomic } from './trace-writer.js';

/** One process as stored. */
export interface TraceProcess {
  pid: number; // process id
  ppid: number; // parent's pid
  image: string; // guest path of the program it ran last (its last execve, or its parent's for a child that did not exec)
  argv: string[]; // argv of that program
  forkSeq: number; // step of the fork that created it (0 for the first process)
  execSeqs: number[]; // steps of its successful execve calls
  exitSeq: number | null; // step at which it ended, null if it was still running when the recording stopped
  exitStatus: number | null; // exit status (0..255), null if killed by a signal or still running
  signal: number | null; // the signal that killed it, or null
}

/** One thread as stored. */
export interface TraceThread {
  tid: number; // thread id (the pid for a process's first thread)
  pid: number; // its process
  firstSeq: number; // its first step
  lastSeq: number | null; // the step at which it ended, null if still running at the end
}

/** The schedule: thread `tid` runs from step `seq` on (until the next entry). */
export interface TraceRun {
  seq: number; // first step of the run (__switch_to's RET, the first step on the thread's own kernel stack)
  tid: number; // the thread
}

/** Everything processes.json holds. */
export interface TraceProcesses {
  processes: TraceProcess[];
  threads: TraceThread[];
  schedule: TraceRun[];
}

/** What a trace without processes.json (version 3) reads as: one process, one thread, pid = tid = 1. */
export function singleProcess(argv: readonly string[]): TraceProcesses {
  return {
    processes: [{ pid: 1, ppid: 0, image: argv[0] ?? '', argv: [...argv], forkSeq: 0, execSeqs: [], exitSeq: null, exitStatus: null, signal: null }],
    threads: [{ tid: 1, pid: 1, firstSeq: 0, lastSeq: null }],
    schedule: [{ seq: 0, tid: 1 }],
  };
}

/** Write processes.json into a trace directory (atomically, with its checksum). */
export function writeProcesses(dir: string, p: TraceProcesses): void {
  writeFileAtomic(join(dir, 'processes.json'), sealJson({ ...p }));
}

/** processes.json of a trace (undefined if absent), or what is wrong with it. */
export function loadProcesses(dir: string): TraceProcesses | undefined | { error: string } {
  const path = join(dir, 'processes.json');
  const sealed = readSealedFile(path);
  if (sealed === undefined || 'error' in sealed) return sealed;
  const o = sealed.value;
  if (!Array.isArray(o.processes) || !Array.isArray(o.threads) || !Array.isArray(o.schedule)) return { error: `${path}: fields missing` };
  return o as unknown as TraceProcesses;
}

/** The processes of a trace: processes.json, or one process for a trace without it (or with a damaged one: trace checks report damage). */
export function readProcesses(dir: string, argv: readonly string[]): TraceProcesses {
  const p = loadProcesses(dir);
  return p === undefined || 'error' in p ? singleProcess(argv) : p;
}
