// Crash safety: a recording killed with SIGKILL part-way leaves a trace directory that opens, says it is
// incomplete, and holds every batch written before the kill.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { traceInfo } from '../../src/trace/trace-info.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const RUN = resolve('bin/run.js');

beforeAll(() => {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (!existsSync(resolve('dist/src/commands/record.js'))) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}, SLOW_TEST_MS);

describe('a recording killed with SIGKILL', () => {
  it('leaves a readable, incomplete trace with the steps written so far', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'itrace-kill-')), 't');
    // a long run (compute with a large N); killed once the insns table has a few batches on disk
    const child = spawn(process.execPath, [RUN, 'record', resolve('guests/bin/compute-musl'), '-o', dir, '--', '20000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = Date.now();
    let size = 0;
    while (Date.now() - started < SLOW_TEST_MS / 2) { // a limit against hangs only
      await new Promise((r) => setTimeout(r, 200));
      const rd = existsSync(join(dir, 'meta.json')) ? TraceReader.open(dir) : undefined;
      if (rd !== undefined && !('error' in rd)) { size = rd.table('insns').batches; if (size >= 3) break; }
    }
    expect(size).toBeGreaterThanOrEqual(3);
    child.kill('SIGKILL');
    const code = await new Promise<number | null>((r) => child.on('exit', (c, sig) => r(sig === 'SIGKILL' ? -9 : c)));
    expect(code).toBe(-9);
    const reader = TraceReader.open(dir);
    if ('error' in reader) throw new Error(reader.error);
    expect(reader.complete).toBe(false);
    const insns = reader.readTable('insns');
    expect(insns.error).toBeUndefined();
    expect(insns.batches).toBeGreaterThanOrEqual(size);
    // the rows that survived are consecutive steps from 0
    const seq = insns.columns.words('seq');
    for (let i = 0; i < insns.columns.length; i++) if (seq[2 * i] !== i) throw new Error(`row ${i} has seq ${seq[2 * i]}`);
    const info = traceInfo(dir);
    if ('error' in info) throw new Error(info.error);
    expect(info.complete).toBe(false);
    expect(info.steps).toBe(insns.columns.length);
  }, SLOW_TEST_MS);
});
