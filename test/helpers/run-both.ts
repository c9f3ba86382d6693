// Run a program natively and on the emulated machine, from the same directory with the same environment,
// capturing stdout, stderr and the exit status of each.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import type { CpuLevel } from '../../src/cpu/cpu-level.js';

/** Directory the samples run in (and the guest's root). */
export const ROOT = resolve('guests/root');

export interface Outcome { stdout: string; stderr: string; status: number }

export function native(image: string, args: string[], stdin?: string, cwd = ROOT): Outcome {
  const r = spawnSync(image, args, { cwd, env: Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string])), input: stdin ?? '' });
  const status = r.status ?? 128 + (r.signal ? ({ SIGSEGV: 11, SIGILL: 4, SIGFPE: 8 } as Record<string, number>)[r.signal] ?? 0 : 0);
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status };
}

/** What a guest run in `withCapturedIo` gets: fds for its output, its stdin file, and a scratch directory. */
export interface CapturedIo {
  /** Scratch directory (also holds the captured files). */
  dir: string;
  /** Host fd for the guest's stdout. */
  stdout: number;
  /** Host fd for the guest's stderr. */
  stderr: number;
  /** File holding the given stdin, if any. */
  stdinFile?: string;
}

/**
 * Run `fn` in `root` as the working directory with the guest's stdout/stderr going to files (and `stdin`
 * in a file); returns fn's result with the captured output.
 */
export function withCapturedIo<T>(root: string, stdin: string | undefined, fn: (io: CapturedIo) => T): T & { stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-io-'));
  const out = openSync(join(dir, 'out'), 'w'), err = openSync(join(dir, 'err'), 'w');
  let stdinFile: string | undefined;
  if (stdin !== undefined) { stdinFile = join(dir, 'in'); writeFileSync(stdinFile, stdin); }
  const prev = process.cwd();
  try {
    process.chdir(root);
    const r = fn({ dir, stdout: out, stderr: err, stdinFile });
    return { ...r, stdout: readFileSync(join(dir, 'out'), 'latin1'), stderr: readFileSync(join(dir, 'err'), 'latin1') };
  } finally {
    process.chdir(prev);
    closeSync(out); closeSync(err);
  }
}

export function emulated(image: string, args: string[], stdin?: string, root = ROOT, cpu?: CpuLevel): Outcome & { message?: string } {
  return withCapturedIo(root, stdin, (io) => {
    const res = runProgram({ image, args, root, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr, cpu, jitThreshold: 16 }); // whole programs run compiled blocks too
    if ('error' in res) throw new Error(res.error);
    return { status: res.status, message: res.message };
  });
}

