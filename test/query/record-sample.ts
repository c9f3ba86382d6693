// Records a sample program into a fresh temporary trace directory for the query tests (cwd and root guests/root,
// default environment, argv[0] the absolute image path, as the native oracle runs use).
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { record, RecordSummary } from '../../src/recorder/record.js';

/** Directory the samples run in (and the guest's root). */
export const SAMPLE_ROOT = resolve('guests/root');

/** Record `guests/bin/<name> args`; returns the trace directory and the summary. */
export function recordSample(name: string, args: string[], extra: { syncEvery?: number } = {}): { dir: string; image: string; summary: RecordSummary } {
  const tmp = mkdtempSync(join(tmpdir(), 'itrace-query-'));
  const image = resolve('guests/bin', name);
  const out = openSync(join(tmp, 'out'), 'w'), err = openSync(join(tmp, 'err'), 'w');
  const prev = process.cwd();
  try {
    process.chdir(SAMPLE_ROOT);
    const s = record({ image, args, root: SAMPLE_ROOT, stdout: out, stderr: err, out: join(tmp, 'trace'), ...extra });
    if ('error' in s) throw new Error(s.error);
    return { dir: join(tmp, 'trace'), image, summary: s };
  } finally {
    process.chdir(prev);
    closeSync(out); closeSync(err);
  }
}
