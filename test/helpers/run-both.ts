// Run a program natively and on the emulated machine, from the same directory with the same environment,
// capturing stdout, stderr and the exit status of each.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';

/** Directory the samples run in (and the guest's root). */
export const ROOT = resolve('guests/root');

export interface Outcome { stdout: string; stderr: string; status: number }

export function native(image: string, args: string[], stdin?: string, cwd = ROOT): Outcome {
  const r = spawnSync(image, args, { cwd, env: Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string])), input: stdin ?? '' });
  const status = r.status ?? 128 + (r.signal ? ({ SIGSEGV: 11, SIGILL: 4, SIGFPE: 8 } as Record<string, number>)[r.signal] ?? 0 : 0);
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status };
}

export function emulated(image: string, args: string[], stdin?: string, root = ROOT): Outcome & { message?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-sample-'));
  const out = openSync(join(dir, 'out'), 'w'), err = openSync(join(dir, 'err'), 'w');
  let stdinFile: string | undefined;
  if (stdin !== undefined) { stdinFile = join(dir, 'in'); writeFileSync(stdinFile, stdin); }
  const prev = process.cwd();
  try {
    process.chdir(root);
    const res = runProgram({ image, args, root, stdinFile, stdout: out, stderr: err });
    if ('error' in res) throw new Error(res.error);
    return { stdout: readFileSync(join(dir, 'out'), 'latin1'), stderr: readFileSync(join(dir, 'err'), 'latin1'), status: res.status, message: res.message };
  } finally {
    process.chdir(prev);
    closeSync(out); closeSync(err);
  }
}

