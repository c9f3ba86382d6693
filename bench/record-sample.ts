// A recording for the benchmarks that measure a trace (step, gdb): `image 11000` (about 21 M steps of the compute
// sample), recorded into a temporary directory with the sample root as the working directory.
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from '../src/recorder/record.js';

/** Where the recording is, the temporary directory to remove afterwards, and how long recording took. */
export interface BenchRecording {
  dir: string;
  tmp: string;
  recordSeconds: number;
}

/** Record `image 11000` under `root` into a new temporary directory named after `tag`. */
export function recordBenchSample(image: string, root: string, tag: string): BenchRecording {
  const tmp = mkdtempSync(join(tmpdir(), `itrace-bench-${tag}-`));
  const dir = join(tmp, 't');
  const sink = openSync('/dev/null', 'w'), prev = process.cwd(), t0 = performance.now();
  try {
    process.chdir(root);
    const s = record({ image, args: ['11000'], root, stdout: sink, stderr: sink, out: dir });
    if ('error' in s) throw new Error(s.error);
  } finally {
    process.chdir(prev);
    closeSync(sink);
  }
  return { dir, tmp, recordSeconds: (performance.now() - t0) / 1000 };
}
