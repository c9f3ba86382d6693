// The block compiler against the interpreter on real compiled code: the same functions from the compute
// sample's text, run once with every block compiled and once with none, must end in the same state.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callBare, loadBare } from '../../bench/bare-call.js';
import { jitStats } from '../../src/cpu/jit/compile-block.js';

const IMAGE = new Uint8Array(readFileSync('guests/bin/compute-musl'));
const A = 0x1000000, N = 3000;

function run(jit: boolean, fn: 'merge_sort' | 'qsort') {
  const img = loadBare(IMAGE, 64 * 1024 * 1024);
  img.m.cpu.jitEnabled = jit;
  img.m.cpu.jitThreshold = 1;
  const dv = img.m.mem.dv;
  let s = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < N; i++) {
    s ^= s >> 12n; s ^= (s << 25n) & 0xffffffffffffffffn; s ^= s >> 27n;
    dv.setBigUint64(A + i * 8, (s * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn, true);
  }
  img.m.cpu.notifyPhysWrite(A, N * 8);
  const args = fn === 'qsort' ? [BigInt(A), BigInt(N), 8n, img.symbols.get('cmp_u64')!] : [BigInt(A), BigInt(A + N * 8 + 4096), BigInt(N)];
  const res = callBare(img, fn, args);
  return {
    steps: res.steps,
    regs: Array.from({ length: 16 }, (_, i) => img.m.reg(i)),
    flags: img.m.flags(),
    memory: Buffer.from(img.m.mem.bytes.subarray(A, A + 2 * N * 8 + 4096)).toString('base64'),
  };
}

describe('block compiler vs interpreter', () => {
  for (const fn of ['merge_sort', 'qsort'] as const) {
    it(`${fn}: same steps, registers, flags and memory`, () => {
      const before = jitStats.blocks;
      const compiled = run(true, fn);
      expect(jitStats.blocks).toBeGreaterThan(before); // the compiler really ran
      const interpreted = run(false, fn);
      expect(compiled.steps).toBe(interpreted.steps);
      expect(compiled.regs).toEqual(interpreted.regs);
      expect(compiled.flags).toBe(interpreted.flags);
      expect(compiled.memory).toBe(interpreted.memory);
    });
  }
});
