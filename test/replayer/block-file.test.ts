// The block-compressed index columns read back exactly, and the block-narrowed binary search agrees with a plain one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCK, BlockU32File, writeU32Blocks } from '../../src/replayer/block-file.js';
import { upperBound } from '../../src/replayer/step-index.js';

describe('block-compressed u32 files', () => {
  it('reads back values, ranges and ascending-group searches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itrace-blocks-'));
    try {
      let seed = 3;
      const rand = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
      // ascending groups of varied sizes (like steps grouped by instruction), some spanning several blocks
      const values: number[] = [], groups: [number, number][] = [];
      for (const size of [1, 5, 3 * BLOCK + 17, 2, BLOCK, 1000, BLOCK - 1, 40000]) {
        const from = values.length;
        let v = rand(1000);
        for (let k = 0; k < size; k++) { v += 1 + rand(50); values.push(v >>> 0); }
        groups.push([from, values.length]);
      }
      const a = Uint32Array.from(values);
      for (const delta of [false, true]) {
        const path = join(dir, `v${delta}.blk`);
        writeU32Blocks(path, a, delta);
        const f = new BlockU32File(path);
        expect(f.length).toBe(a.length);
        for (let k = 0; k < 2000; k++) { const i = rand(a.length); expect(f.get(i)).toBe(a[i]); }
        expect(f.range(BLOCK - 10, 2 * BLOCK + 10)).toEqual(a.subarray(BLOCK - 10, 2 * BLOCK + 10));
        for (const [from, to] of groups) {
          const probes = [0, a[from]! - 1, a[from]!, a[to - 1]!, a[to - 1]! + 1];
          for (let k = 0; k < 200; k++) probes.push(a[from + rand(to - from)]! + rand(3) - 1);
          for (const p of probes) expect(f.upperBound(from, to, p)).toBe(upperBound(a, p, from, to));
        }
        f.closeSync();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
