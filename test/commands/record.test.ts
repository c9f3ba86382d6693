// The real `trace record` binary (compiled build: tables written on a worker thread): output and status pass
// through, the summary and --summary-json report the trace, and the trace reads back with its invariants.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { native, ROOT } from '../helpers/run-both.js';
import { checkInvariants } from '../helpers/trace-checks.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const RUN = resolve('bin/run.js');

beforeAll(() => {
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (!existsSync(resolve('dist/src/commands/record.js'))) throw new Error('build failed');
}, SLOW_TEST_MS);

describe('trace record (CLI)', () => {
  it('records compute-musl: output, status, summary JSON and a readable trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itrace-cli-rec-'));
    const image = resolve('guests/bin/compute-musl');
    const r = spawnSync(process.execPath, [RUN, 'record', image, '-o', join(dir, 't'), '--summary-json', join(dir, 's.json'), '--', '150'], { cwd: ROOT, encoding: 'latin1' });
    const n = native(image, ['150']);
    expect(r.stdout).toBe(n.stdout);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/trace record: .*\n\s+steps\s+[\d,]+ \(user [\d,]+, kernel [\d,]+\)/);
    expect(r.stderr).toMatch(/bytes\/step/);
    const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(Object.keys(summary).sort()).toEqual(['bytes', 'exitStatus', 'kernelSteps', 'pageFaults', 'ringSwitches', 'seconds', 'steps', 'syscalls', 'trace', 'unsupportedSyscalls', 'userSteps']);
    expect(summary.unsupportedSyscalls).toEqual([]); // compute-musl makes only calls the guest kernel carries out
    const reader = TraceReader.open(join(dir, 't'));
    if ('error' in reader) throw new Error(reader.error);
    checkInvariants(reader, summary);
    expect(summary.bytes).toBeGreaterThan(0);
  });

  it('passes the exit status of a killed program and reports --max-steps stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itrace-cli-rec-'));
    const segv = spawnSync(process.execPath, [RUN, 'record', resolve('guests/bin/segv-musl'), '-o', join(dir, 'a')], { cwd: ROOT, encoding: 'latin1' });
    expect(segv.status).toBe(139);
    expect(segv.stderr).toContain('Segmentation fault');
    const cut = spawnSync(process.execPath, [RUN, 'record', resolve('guests/bin/compute-musl'), '-o', join(dir, 'b'), '--max-steps', '5000'], { cwd: ROOT, encoding: 'latin1' });
    expect(cut.status).toBe(0);
    expect(cut.stderr).toContain('stopped after 5000 steps (--max-steps)');
    const reader = TraceReader.open(join(dir, 'b'));
    if ('error' in reader) throw new Error(reader.error);
    expect(reader.complete).toBe(true);
    expect(reader.table('insns').rows).toBe(5000);
  });

  it('refuses a missing image and a non-empty output directory with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itrace-cli-rec-'));
    const missing = spawnSync(process.execPath, [RUN, 'record', join(dir, 'nope')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const busy = spawnSync(process.execPath, [RUN, 'record', resolve('guests/bin/hello-musl'), '-o', ROOT], { encoding: 'utf8' });
    expect(busy.status).toBe(2);
    expect(busy.stderr).toContain('not empty');
  });
});

describe('trace record --seed', () => {
  it('makes two recordings of the same program identical', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itrace-cli-seed-'));
    const image = resolve('guests/bin/hello-musl');
    for (const t of ['a', 'b']) {
      const r = spawnSync(process.execPath, [RUN, 'record', '--seed', '7', image, '-o', join(dir, t)], { cwd: ROOT, encoding: 'latin1' });
      expect(r.status).toBe(0);
    }
    for (const table of ['insns', 'regs', 'mem', 'inputs'] as const) {
      const a = TraceReader.open(join(dir, 'a')), b = TraceReader.open(join(dir, 'b'));
      if ('error' in a || 'error' in b) throw new Error('open failed');
      expect(b.table(table).rows).toBe(a.table(table).rows);
      expect(readFileSync(join(dir, 'b', `${table}.arrows`)).equals(readFileSync(join(dir, 'a', `${table}.arrows`)))).toBe(true);
    }
  });
});
