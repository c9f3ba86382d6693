// Trace files across real processes, on the built dist/: a recorder SIGKILLed while it writes leaves a trace that
// opens as incomplete with at least every batch it reported written; `trace info` (bin/run.js) on it and on a
// complete trace, as text and --json; its one-line errors with status 2.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { tempDir, testMeta } from './helpers.js';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';

const REPO = resolve('.');
const tmp = tempDir('itrace-proc-');
afterAll(tmp.cleanup);

beforeAll(() => {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' });
  // tsc emits even when it reports type errors (files other people are editing may have some): the code is tested
  // as built; type errors in our files are caught by `tsc --noEmit`.
  if (r.status !== 0) console.warn(`tsc -p tsconfig.build.json reported errors:\n${r.stdout.split('\n').slice(0, 5).join('\n')}`);
  for (const f of ['dist/src/trace/trace-writer.js', 'dist/src/commands/info.js']) {
    if (!existsSync(join(REPO, f))) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  }
}, SLOW_TEST_MS);

/** Run the writer fixture until it has reported `batches` batches, then SIGKILL it; the last reported row count. */
function recordAndKill(dir: string, rowsPerBatch: number, batches: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(REPO, 'test/trace/fixtures/kill-writer.mjs'), dir, String(rowsPerBatch)], {
      cwd: REPO, env: { ...process.env, ITRACE_TEST_META: JSON.stringify(testMeta()) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '', reported = 0, seen = 0;
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        const m = /^batch (\d+) (\d+)$/.exec(l);
        if (m === null) continue;
        seen++;
        reported = Number(m[2]);
        if (seen === batches) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') done(reported);
      else fail(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

/**
 * `trace ARGS...` from the repository root. Node warnings that oclif emits about other commands in a stale dist/
 * (a compiled command whose source was removed) are dropped from stderr: they are not this command's output.
 */
function trace(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/run.js'), ...args], { cwd: REPO, encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
  const stderr = r.stderr.replace(/^\(node:\d+\) Warning:[\s\S]*?\(Use `node --trace-warnings[^\n]*\n/gm, '');
  return { status: r.status, stdout: r.stdout, stderr };
}

describe('a recording killed with SIGKILL', () => {
  const dir = join(tmp.dir, 'killed');
  let reported = 0;

  it('leaves an incomplete trace holding every batch the writer reported, each value intact', async () => {
    reported = await recordAndKill(dir, 20_000, 6);
    expect(reported).toBeGreaterThanOrEqual(6 * 20_000);
    const r = TraceReader.open(dir);
    if ('error' in r) throw new Error(r.error);
    expect(r.complete).toBe(false);
    const info = r.table('regs');
    expect(info.ended).toBe(false);
    expect(info.rows).toBeGreaterThanOrEqual(reported);
    expect(info.rows % 20_000).toBe(0);
    const t = r.readTable('regs');
    expect(t.error).toBeUndefined();
    expect(t.columns.length).toBe(info.rows);
    const seq = t.columns.u64('seq'), reg = t.columns.ints('reg'), value = t.columns.u64('value');
    for (let n = 0; n < t.columns.length; n++) {
      if (seq[n] !== BigInt(n) || reg[n] !== n % 16 || value[n] !== BigInt.asUintN(64, BigInt(n) * 0x9e3779b97f4a7c15n)) {
        throw new Error(`row ${n}: seq ${seq[n]} reg ${reg[n]} value ${value[n]}`);
      }
    }
    expect(r.listCheckpoints().length).toBeGreaterThanOrEqual(2);
    for (const seqNo of r.listCheckpoints()) expect(r.readCheckpoint(seqNo)).not.toHaveProperty('error');
  });

  it('`trace info DIR --json` says so', () => {
    const res = trace('info', dir, '--json');
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const j = JSON.parse(res.stdout);
    expect(j.complete).toBe(false);
    expect(j.tables.find((x: { name: string }) => x.name === 'regs').rows).toBeGreaterThanOrEqual(reported);
    expect(j.steps).toBe(0);
    expect(j.meta.argv).toEqual(testMeta().argv);
  });

  it('`trace info DIR` prints the interruption', () => {
    const res = trace('info', dir);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('status      incomplete: the recording was interrupted; 0 steps readable\n');
    expect(res.stdout).toMatch(/^regs +\d+ +\d+ /m);
  });
});

describe('trace info on a complete trace and on errors', () => {
  it('--json prints one object with the counts', () => {
    const dir = join(tmp.dir, 'complete');
    const w = TraceWriter.create(dir, testMeta());
    if ('error' in w) throw new Error(w.error);
    const insns = new TableBuffer('insns', 10);
    for (let s = 0; s < 10; s++) insns.push([s, 0x401000 + s, s < 8 ? 3 : 0, 1, 0, 0]);
    w.writeBatch(insns);
    w.close({ steps: 10, exitStatus: 0 });
    const res = trace('info', dir, '--json');
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ complete: true, steps: 10, userSteps: 8, kernelSteps: 2, syscalls: 0, meta: { exitStatus: 0 } });
    expect(trace('info', dir).stdout).toContain('status      complete, exit status 0\n');
  });

  it('a directory that is not a trace: one line on stderr, status 2', () => {
    const res = trace('info', tmp.dir);
    expect(res.status).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(`trace info: ${tmp.dir} is not a trace: no meta.json\n`);
    expect(trace('info', join(tmp.dir, 'nope'), '--json')).toMatchObject({ status: 2, stderr: `trace info: ${join(tmp.dir, 'nope')}: no such directory\n` });
  });

  it('--help shows examples', () => {
    const res = trace('info', '--help');
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('info hello.trace --json');
  });
});
