// The two commands end to end: `trace gdb` opens gdb on a recording (and says so when gdb is missing), and
// `trace gdbserver --port` serves gdb over TCP, keeping the session across reconnections.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';
import { recordSample } from '../replayer/recordings.js';
import { gdbUnavailable } from './gdb-harness.js';

const why = gdbUnavailable();
if (why !== undefined) console.warn(`SKIPPED test/gdb/commands.test.ts (the parts that need gdb): ${why}`);
const BIN = resolve('bin/run.js');
const EXE = resolve('guests/bin/hello-musl');

describe('trace gdb and trace gdbserver', () => {
  let dir: string;
  beforeAll(() => { dir = recordSample('hello-musl', []).dir; });

  it('trace gdb reports a missing gdb in one line with status 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'gdb', dir], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, env: { ...process.env, GDB: '/nonexistent/gdb' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('trace gdb: gdb is not installed (Debian: apt-get install gdb), or $GDB does not run\n');
  }, SLOW_TEST_MS);

  it.skipIf(why !== undefined)('trace gdb opens gdb on the recording with the recorded executable', () => {
    const r = spawnSync(process.execPath, [BIN, 'gdb', dir, '--', '-batch', '-nx', '-ex', 'break main', '-ex', 'continue', '-ex', 'info symbol $pc', '-ex', 'continue'],
      { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in main \(\)/);
    expect(r.stdout).toContain('main in section .text');
    expect(r.stdout).toContain('[Inferior 1 (Remote target) exited normally]');
  }, SLOW_TEST_MS);

  it.skipIf(why !== undefined)('trace gdbserver --port serves gdb over TCP, and a second connection can go back from the end', async () => {
    const server = spawn(process.execPath, [BIN, 'gdbserver', dir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const port = await new Promise<number>((ok, fail) => {
        let err = '';
        server.stderr.on('data', (b: Buffer) => {
          err += b.toString();
          const m = /on 127\.0\.0\.1:(\d+)/.exec(err);
          if (m !== null) ok(Number(m[1]));
        });
        server.once('exit', () => fail(new Error(`gdbserver exited: ${err}`)));
      });
      const gdb = (cmds: string[]): string => spawnSync('gdb', ['-batch', '-nx', '-ex', `target remote 127.0.0.1:${port}`, ...cmds.flatMap((c) => ['-ex', c]), EXE],
        { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS }).stdout;
      expect(gdb(['break main', 'continue', 'continue'])).toMatch(/Breakpoint 1, [^\n]*main[^]*exited normally/);
      // the session stayed at the end: backwards from there
      expect(gdb(['break main', 'reverse-continue', 'info symbol $pc'])).toMatch(/Breakpoint 1, [^\n]*main[^]*main in section .text/);
    } finally {
      server.kill();
    }
  }, SLOW_TEST_MS);
});
