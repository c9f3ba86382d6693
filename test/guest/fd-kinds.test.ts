// eventfd, epoll, socketpair, memfd_create, /proc/self/{fd,auxv,status} and /dev/tty against a native run of the same C
// program (test/guest/programs/fd-kinds.c), both without a controlling terminal (the native one in its own session).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import { withCapturedIo } from '../helpers/run-both.js';
import { compileC } from '../native/native-tools.js';

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));
const prog = compileC(resolve('test/guest/programs/fd-kinds.c'), 'fd-kinds', ['-O1']);
if (!prog.ok) console.warn(`SKIPPED fd kinds: ${prog.reason}`);
const haveSetsid = spawnSync('setsid', ['-w', 'true']).status === 0;

describe.skipIf(!prog.ok)('eventfd, epoll, socketpair, memfd_create', () => {
  it('give what Linux gives', () => {
    if (!prog.ok) return;
    // setsid: a new session, without a controlling terminal (open("/dev/tty") is ENXIO), as the guest has none
    const n = haveSetsid ? spawnSync('setsid', ['-w', prog.path], { cwd: '/', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawnSync(prog.path, [], { cwd: '/', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const native = { stdout: n.stdout.toString('latin1'), stderr: n.stderr.toString('latin1'), status: n.status };
    expect(native.stdout).toContain('link anon_inode:[eventfd]');
    expect(native.stdout).toContain('auxv agrees with getauxval: yes');
    const e = withCapturedIo('/', '', (io) => {
      const r = runProgram({ image: prog.path, args: [], stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr });
      if ('error' in r) throw new Error(r.error);
      return { status: r.status as number | null, unsupported: r.unsupportedSyscalls };
    });
    expect({ stdout: e.stdout, stderr: e.stderr, status: e.status }).toEqual(native);
    expect(e.unsupported).toEqual([]);
  }, 300_000);
});
