// `monitor` commands through the real gdb: SQL answers equal `trace query`'s, `seek` moves to the step whose
// registers `trace step --at` shows, `when` names the position.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';
import { buildSample, gdbTrace, gdbUnavailable, recordProgram } from './gdb-harness.js';

const why = gdbUnavailable();
if (why !== undefined) console.warn(`SKIPPED test/gdb/monitor.test.ts: ${why}`);
const BIN = resolve('bin/run.js');

describe.skipIf(why !== undefined)('gdb monitor commands', () => {
  let exe: string, trace: string;
  beforeAll(() => { exe = buildSample('-O0'); trace = recordProgram(exe); });

  it('sql, seek, when, info', () => {
    const sql = 'select entry_seq, name, result from syscalls order by entry_seq';
    const cli = spawnSync(process.execPath, [BIN, 'query', trace, sql], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
    expect(cli.status).toBe(0);
    const step = spawnSync(process.execPath, [BIN, 'step', trace, '--at', '1200', '--json'], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
    const rip = BigInt((JSON.parse(step.stdout) as { rip: string }).rip);
    const out = gdbTrace(exe, trace, ['monitor when', `monitor sql ${sql}`, 'echo @@\\n', 'monitor seek 1200', 'maint flush register-cache',
      'p/x $pc', 'monitor when', 'monitor info']);
    expect(out).toMatch(/^step \d+ of \d+\n\d+ +r3 +/);
    expect(out.slice(out.indexOf('\n', out.indexOf('\n') + 1) + 1, out.indexOf('@@'))).toBe(cli.stdout);
    expect(out).toContain('close');
    expect(out).toContain(`$1 = 0x${rip.toString(16)}\n`);
    expect(out).toMatch(/step 1200 of \d+/);
    expect(out).toMatch(/status +complete, exit status 105/); // sample.c returns 5 + 25 + 61 + fib(7) + 1 = 105
  }, SLOW_TEST_MS);
});
