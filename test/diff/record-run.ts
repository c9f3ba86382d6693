// Records a program into a fresh temporary trace with repeatable random bytes (AT_RANDOM, getrandom), so two
// recordings differ only in what a test changes: arguments, stdin, the program.
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { record } from '../../src/recorder/record.js';

/** Directory the samples run in (and the guest's root). */
export const SAMPLE_ROOT = resolve('guests/root');

/** A deterministic byte source. */
export function seeded(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => Uint8Array.from({ length: n }, () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x & 0xff; });
}

/** Record `image args` (image relative to guests/bin unless absolute); returns the trace directory. */
export function recordRun(image: string, args: string[], opts: { stdinFile?: string; seed?: number; out?: string; root?: string } = {}): string {
  const tmp = mkdtempSync(join(tmpdir(), 'itrace-diff-'));
  const path = image.startsWith('/') ? image : resolve('guests/bin', image);
  const out = openSync(join(tmp, 'out'), 'w'), err = openSync(join(tmp, 'err'), 'w');
  const prev = process.cwd();
  try {
    const root = opts.root ?? SAMPLE_ROOT;
    process.chdir(root);
    const dir = opts.out ?? join(tmp, 'trace');
    const s = record({ image: path, args, root, stdout: out, stderr: err, out: dir, stdinFile: opts.stdinFile, random: seeded(opts.seed ?? 7), clock: () => 1_700_000_000_000_000_000n });
    if ('error' in s) throw new Error(s.error);
    return dir;
  } finally {
    process.chdir(prev);
    closeSync(out); closeSync(err);
  }
}
