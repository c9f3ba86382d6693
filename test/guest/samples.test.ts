// Whole programs: every sample guest under the emulated machine prints the same bytes and exits with the same
// status as the same binary run natively (the oracle), from the same directory with the same environment.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuid } from '../../src/cpu/cpuid.js';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';

const BIN = resolve('guests/bin');
const ROOT = resolve('guests/root');

interface Outcome { stdout: string; stderr: string; status: number }

function native(image: string, args: string[], stdin?: string): Outcome {
  const r = spawnSync(image, args, { cwd: ROOT, env: Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string])), input: stdin ?? '' });
  const status = r.status ?? 128 + (r.signal ? ({ SIGSEGV: 11, SIGILL: 4, SIGFPE: 8 } as Record<string, number>)[r.signal] ?? 0 : 0);
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status };
}

function emulated(image: string, args: string[], stdin?: string): Outcome & { message?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-sample-'));
  const out = openSync(join(dir, 'out'), 'w'), err = openSync(join(dir, 'err'), 'w');
  let stdinFile: string | undefined;
  if (stdin !== undefined) { stdinFile = join(dir, 'in'); writeFileSync(stdinFile, stdin); }
  const prev = process.cwd();
  try {
    process.chdir(ROOT);
    const res = runProgram({ image, args, root: ROOT, stdinFile, stdout: out, stderr: err });
    if ('error' in res) throw new Error(res.error);
    return { stdout: readFileSync(join(dir, 'out'), 'latin1'), stderr: readFileSync(join(dir, 'err'), 'latin1'), status: res.status, message: res.message };
  } finally {
    process.chdir(prev);
    closeSync(out); closeSync(err);
  }
}

const CASES: [string, string[]][] = [
  ['hello', []],
  ['compute', ['300']],
  ['args', ['one', 'two words', '']],
  ['readfile', ['data/input.txt']],
  ['readfile', ['data/missing.txt']],
  ['pages', []],
  ['segv', []],
];

describe('sample guests match native runs', () => {
  for (const libc of ['musl', 'glibc']) {
    for (const [name, args] of CASES) {
      it(`${name}-${libc} ${args.join(' ')}`, () => {
        const image = join(BIN, `${name}-${libc}`);
        const n = native(image, args);
        const e = emulated(image, args);
        if (name === 'args') {
          // The one legitimate difference: AT_HWCAP describes the processor. The emulated one advertises exactly
          // what it implements (CPUID.1:EDX of src/cpu/cpuid.ts); musl prints the auxv value, glibc its own bits.
          const hw = /^AT_HWCAP=.*$/m;
          const edx = cpuid(1, 0)[3] >>> 0;
          if (libc === 'musl') expect(e.stdout.match(hw)?.[0]).toBe(`AT_HWCAP=0x${edx.toString(16)}`);
          expect(e.stdout.replace(hw, '')).toBe(n.stdout.replace(hw, ''));
          expect(e.status).toBe(n.status);
          return;
        }
        expect(e.stdout).toBe(n.stdout);
        expect(e.stderr).toBe(n.stderr);
        expect(e.status).toBe(n.status);
        if (name === 'segv') expect(e.message).toBe('Segmentation fault');
      });
    }
  }
  it('hello-musl-pie (static-PIE)', () => {
    const image = join(BIN, 'hello-musl-pie');
    const n = native(image, []);
    const e = emulated(image, []);
    expect(e).toMatchObject(n);
  });
});
