// Whole programs: every sample guest under the emulated machine prints the same bytes and exits with the same
// status as the same binary run natively (the oracle), from the same directory with the same environment.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuid } from '../../src/cpu/cpuid.js';
import { emulated, native } from '../helpers/run-both.js';

const BIN = resolve('guests/bin');

const CASES: [string, string[]][] = [
  ['hello', []],
  ['compute', ['300']],
  ['args', ['one', 'two words', '']],
  ['readfile', ['data/input.txt']],
  ['readfile', ['data/missing.txt']],
  ['pages', []],
  ['segv', []],
  ['simd', []], // MMX with EMMS before x87 code, SSSE3, SSE4.1, SSE4.2 intrinsics
  ['compute-v2', ['300']], // compute.c built with -O3 -march=x86-64-v2 (auto-vectorised with SSE4.1/SSSE3)
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
