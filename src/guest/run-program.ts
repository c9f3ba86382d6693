// Running a program file on the guest machine without recording: read and validate the image, build the
// machine, run, and turn the outcome into an exit status (and, for a fatal signal, the shell's message).
import { closeSync, existsSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { utf8ToBStr } from './linux/byte-string.js';
import { writeThroughPath } from './linux/overlay.js';
import type { CpuLevel } from '../cpu/cpu-level.js';
import { GuestMachine, MachineObserver, ServiceOutcome } from './machine.js';
import { Scheduler } from './scheduler.js';
import { type UnsupportedSyscall, formatUnsupported } from './linux/unsupported.js';

/** The fixed default environment (small, so runs are reproducible). */
export const DEFAULT_ENV: readonly string[] = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/', 'LANG=C'];

/** What to run. */
export interface ProgramSpec {
  /** Host path of the program file (also the guest's execve path). */
  image: string;
  /** Arguments after argv[0]. */
  args: readonly string[];
  /** Environment strings; default DEFAULT_ENV. */
  env?: readonly string[];
  /** Host directory to expose read-only as the guest's root (default "/": the host's own files, read-only). */
  root?: string;
  /** Host directories the guest writes through to (--rw); other changes stay in a private overlay. */
  rw?: readonly string[];
  /** Host file to use as stdin instead of the tool's own. */
  stdinFile?: string;
  /** Source of the random bytes the guest receives (default: the host's); tests make runs repeatable with it. */
  random?: (n: number) => Uint8Array;
  /** Stop the guest at the first system call not carried out as Linux would (--strict). */
  strict?: boolean;
  /** Host real time in ns since the epoch that the guest's clocks derive from (default: the host's); tests fix it. */
  clock?: () => bigint;
  /** The CPU model (--cpu; default x86-64-v2). */
  cpu?: CpuLevel;
  /** Seed of the chaos-mode scheduler (--chaos): random quanta and task order; undefined for the default schedule. */
  chaos?: number | bigint;
  /** Host fds for stdout and stderr (default 1 and 2). */
  stdout?: number;
  stderr?: number;
  /**
   * Executions after which a block is compiled, plain and (when recording) as a logging block; default the
   * processor's. Tests use small values so that whole programs run compiled code.
   */
  jitThreshold?: number;
}

/** A problem the user can fix: a one-line message. */
export interface SpecError {
  error: string;
}

/** Read the image and check the options; returns the bytes or a one-line error. */
export function readImage(spec: ProgramSpec): Uint8Array | SpecError {
  if (!existsSync(spec.image)) return { error: `${spec.image}: no such file` };
  const st = statSync(spec.image);
  if (st.isDirectory()) return { error: `${spec.image}: is a directory` };
  if (!st.isFile()) return { error: `${spec.image}: not a regular file` }; // /dev/zero or a FIFO would be read forever
  if (spec.root !== undefined && (!existsSync(spec.root) || !statSync(spec.root).isDirectory())) {
    return { error: `--root ${spec.root}: not a directory` };
  }
  for (const d of spec.rw ?? []) {
    const real = realpathSync(spec.root ?? '/');
    const g = writeThroughPath(real === '/' ? '' : utf8ToBStr(real), d);
    if (typeof g === 'object') return g;
  }
  if (spec.stdinFile !== undefined && !existsSync(spec.stdinFile)) return { error: `--stdin ${spec.stdinFile}: no such file` };
  return new Uint8Array(readFileSync(spec.image));
}

/** Build the machine for a spec (stdin opened from --stdin if given). */
export function createMachine(spec: ProgramSpec, image: Uint8Array, observer?: MachineObserver): { machine: GuestMachine; close: () => void } | SpecError {
  const stdinFd = spec.stdinFile !== undefined ? openSync(spec.stdinFile, 'r') : 0;
  const m = GuestMachine.create({
    image, execPath: spec.image, args: spec.args, env: spec.env ?? DEFAULT_ENV, root: spec.root ?? '/', rw: spec.rw,
    stdio: [stdinFd, spec.stdout ?? 1, spec.stderr ?? 2], observer, random: spec.random, strict: spec.strict, clock: spec.clock, cpu: spec.cpu,
  });
  if (!('error' in m) && spec.chaos !== undefined) m.procs.scheduler = new Scheduler({ chaos: spec.chaos });
  const close = (): void => {
    if (stdinFd !== 0) closeSync(stdinFd);
    if (!('error' in m)) m.linux.close();
  };
  if ('error' in m) { close(); return { error: `${spec.image}: ${m.error}` }; }
  if (spec.jitThreshold !== undefined) m.cpu.jitThreshold = m.cpu.logJitThreshold = spec.jitThreshold;
  return { machine: m, close };
}

/**
 * The exit status of an outcome, and the line a shell would print for a fatal signal; for SIGILL (#UD) a line
 * before it names the instruction and its address (the processor's diagnostic).
 */
export function describeOutcome(out: ServiceOutcome): { status: number; message?: string } {
  switch (out.kind) {
    case 'exit': return { status: out.status };
    case 'signal':
      return { status: out.status, message: out.signal.signal === 4 ? `trace: ${out.detail}\n${out.signal.message}` : out.signal.message };
    case 'error': return { status: 70, message: `itrace: ${out.message}` };
    case 'strict': return { status: 2, message: `trace: ${out.message}` };
    default: return { status: 70, message: 'itrace: program did not end' };
  }
}

/** The line for stderr at exit when some system calls were not carried out as Linux would, else undefined. */
export function unsupportedLine(list: readonly UnsupportedSyscall[]): string | undefined {
  return list.length === 0 ? undefined : `trace: unsupported system calls: ${formatUnsupported(list)}`;
}

/** Run a program to completion; returns its exit status, an optional message for stderr and the unsupported calls. */
export function runProgram(spec: ProgramSpec): { status: number; message?: string; steps: number; unsupportedSyscalls: UnsupportedSyscall[] } | SpecError {
  const image = readImage(spec);
  if ('error' in image) return image;
  const made = createMachine(spec, image);
  if ('error' in made) return made;
  try {
    const out = made.machine.run();
    return { ...describeOutcome(out), steps: made.machine.cpu.icount, unsupportedSyscalls: made.machine.linux.unsupported.entries.map((e) => ({ ...e })) };
  } finally {
    made.close();
  }
}
