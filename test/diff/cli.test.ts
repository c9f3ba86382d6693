// The real `trace diff` binary: exit status 0 identical / 1 different / 2 error, the --json shape the issue
// names, the text form, and --sql with both traces attached as a and b beside the diff tables.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordRun } from './record-run.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const RUN = resolve('bin/run.js');
const diff = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [RUN, 'diff', ...args], { encoding: 'utf8' });

describe('trace diff (CLI)', () => {
  let a: string, b: string, a2: string;
  beforeAll(() => {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
    if (!existsSync(resolve('dist/src/commands/diff.js'))) throw new Error('build failed');
    a = recordRun('compute-musl', ['120']);
    b = recordRun('compute-musl', ['130']);
    a2 = recordRun('compute-musl', ['120']);
  }, SLOW_TEST_MS);

  it('different runs: exit 1, --json with firstDivergence, regions and profile', () => {
    const r = diff(a, b, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.identical).toBe(false);
    const d = j.firstDivergence;
    expect(d.kind).toBe('memory');
    for (const side of [d.a, d.b]) {
      expect(Object.keys(side)).toEqual(expect.arrayContaining(['seq', 'rip', 'disassembly', 'values', 'memory']));
      expect(side.seq).toBe(d.seq);
    }
    expect(d.cause).toMatchObject({ kind: 'argv', what: 'argv[1]', a: '"120"', b: '"130"' });
    expect(Array.isArray(j.regions)).toBe(true);
    expect(j.profile.length).toBeGreaterThan(0);
    expect(Object.keys(j.profile[0]).sort()).toEqual(['callsA', 'callsB', 'stepsA', 'stepsB', 'symbol']);
  });

  it('text: both sides of the divergence, the cause and the profile', () => {
    const r = diff(a, b, '--limit', '5');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/first divergence at step [\d,]+ \(memory/);
    expect(r.stdout).toMatch(/^>A +[\d,]+ +r3 /m);
    expect(r.stdout).toMatch(/^>B +[\d,]+ +r3 /m);
    expect(r.stdout).toContain('cause: argv[1] differs (before the first step)');
    expect(r.stdout).toMatch(/profile \(steps per function/);
  });

  it('identical runs: exit 0', () => {
    const r = diff(a, a2);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('identical');
    expect(JSON.parse(diff(a, a2, '--json').stdout).firstDivergence).toBeNull();
  });

  it('errors: exit 2 with one line', () => {
    const r = diff(a, '/nonexistent/trace');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('trace diff: /nonexistent/trace: no such directory\n');
  });

  it('--sql: a and b attached beside the diff tables', () => {
    const r = diff(a, b, '--format', 'csv', '--sql',
      "select d.kind, d.seq, (select count(*) from a.insns) = (select steps_a from (select sum(steps_a) steps_a from diff_profile)) same_a, " +
      "(select count(*) from b.insns) = (select sum(steps_b) from diff_profile) same_b, (select count(*) from diff_causes) causes from diff_divergence d");
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('kind,seq,same_a,same_b,causes');
    expect(lines[1]).toMatch(/^memory,\d+,true,true,1$/);
  }, SLOW_TEST_MS);
});
