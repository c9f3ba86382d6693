// Small recordings of the sample guests for the replayer suites (recorded once per test file).
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Cpu } from '../../src/cpu/cpu.js';
import { record, RecordSummary } from '../../src/recorder/record.js';
import { ROOT } from '../helpers/run-both.js';

/** Deterministic "random" bytes so two runs of a program are the same run. */
export function fixedRandom(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
}

/** Record guests/bin/<name> with args into a fresh directory; returns the trace directory and summary. */
export function recordSample(name: string, args: string[], extra: {
  checkpointEvery?: number; snapshotAt?: ReadonlySet<number>; onSnapshot?: (seq: number, cpu: Cpu) => void;
} = {}): { dir: string; summary: RecordSummary } {
  const dir = join(mkdtempSync(join(tmpdir(), 'itrace-step-')), 't');
  const sink = openSync('/dev/null', 'w');
  const prev = process.cwd();
  try {
    process.chdir(ROOT);
    const s = record({ image: resolve(prev, 'guests/bin', name), args, root: ROOT, random: fixedRandom, stdout: sink, stderr: sink, out: dir, jitThreshold: 16, ...extra }); // compiled logging blocks too
    if ('error' in s) throw new Error(s.error);
    return { dir, summary: s };
  } finally {
    process.chdir(prev);
    closeSync(sink);
  }
}
