// A forward gdb session against a recording prints what the same session prints on the program itself
// (gdb running it natively), for a -O0 and a -O2 build of test/gdb/sample.c.
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';
import { resolve } from 'node:path';
import { recordSample } from '../replayer/recordings.js';
import { buildSample, gdbNative, gdbTrace, gdbUnavailable, normalise, recordProgram } from './gdb-harness.js';

const why = gdbUnavailable();
if (why !== undefined) console.warn(`SKIPPED test/gdb/forward.test.ts: ${why}`);

describe.skipIf(why !== undefined)('gdb forward session: recording vs native', () => {
  let o0: { exe: string; trace: string }, o2: { exe: string; trace: string };
  beforeAll(() => {
    const e0 = buildSample('-O0'), e2 = buildSample('-O2');
    o0 = { exe: e0, trace: recordProgram(e0) };
    o2 = { exe: e2, trace: recordProgram(e2) };
  });

  it('break, continue, next, step, finish, bt, p, info registers, x, to the exit (-O0)', () => {
    const cmds = ['break add', 'continue', 'bt', 'p *p', 'next', 'step', 'bt', 'finish', 'next', 'p s', 'info registers rip',
      'x/8gx $rsp', 'p counter', 'up', 'p sum', 'p pts', 'info registers rip eflags cs ss ds es fs gs fs_base rbx rbp rsp',
    'p $xmm0', 'info registers fctrl fstat ftag fiseg fioff foseg fooff fop mxcsr', 'p $st0', 'info registers orig_rax fs_base gs_base',
    'info frame', 'continue'];
    const native = normalise(gdbNative(o0.exe, cmds)), recorded = normalise(gdbTrace(o0.exe, o0.trace, cmds));
    expect(native).toMatch(/Breakpoint 1, add/);
    expect(recorded).toBe(native);
  }, SLOW_TEST_MS);

  it('the same session on an -O2 build (inlined calls, registers for variables)', () => {
    const cmds = ['break square', 'continue', 'bt', 'p v', 'finish', 'next', 'step', 'bt', 'info registers rip', 'x/4gx $rsp',
      'break fib', 'continue', 'bt', 'p n', 'delete', 'continue'];
    const native = normalise(gdbNative(o2.exe, cmds)), recorded = normalise(gdbTrace(o2.exe, o2.trace, cmds));
    expect(native).toMatch(/Breakpoint 1\.1, /);
    expect(recorded).toBe(native);
  }, SLOW_TEST_MS);

  it('a fatal signal: reported where it was raised, then the process is gone (as natively)', () => {
    const exe = resolve('guests/bin/segv-musl'), { dir } = recordSample('segv-musl', []);
    const cmds = ['continue', 'bt', 'info registers rip', 'continue'];
    // the program's own output line goes to the same terminal natively
    const native = normalise(gdbNative(exe, cmds)).replace('about to fault\n', '');
    expect(native).toContain('Program received signal SIGSEGV');
    expect(native).toContain('Program terminated with signal SIGSEGV');
    expect(normalise(gdbTrace(exe, dir, cmds))).toBe(native);
  }, SLOW_TEST_MS);
});
