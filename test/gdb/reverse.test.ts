// Reverse execution through gdb against a recording of test/gdb/sample.c: reverse-stepi, reverse-next,
// reverse-finish, a watchpoint backwards, the start of the recording, a system call in both directions, and a
// recursion walked backwards against the native call sequence. Oracles: the program's source (its line markers
// and the values it computes) and gdb on the program run natively.
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';
import { buildSample, gdbNative, gdbTrace, gdbUnavailable, line, normalise, recordProgram } from './gdb-harness.js';

const why = gdbUnavailable();
if (why !== undefined) console.warn(`SKIPPED test/gdb/reverse.test.ts: ${why}`);

const GPRS = 'info registers rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags';

describe.skipIf(why !== undefined)('gdb reverse execution on a recording', () => {
  let exe: string, trace: string;
  beforeAll(() => { exe = buildSample('-O0'); trace = recordProgram(exe); });

  it('reverse-stepi lands on the previous step with the registers it had there (equal to native)', () => {
    const head = ['break add', 'continue', 'stepi', 'stepi', 'stepi', 'echo @A\\n', GPRS];
    const out = gdbTrace(exe, trace, [...head, 'stepi', 'echo @B\\n', GPRS, 'reverse-stepi', 'echo @C\\n', GPRS]);
    const block = (m: string): string => out.slice(out.indexOf(`${m}\n`), out.indexOf('\n@', out.indexOf(`${m}\n`) + 1)).split('\n').filter((l) => /^\w+\s+0x/.test(l)).join('\n');
    const a = block('@A'), b = block('@B'), c = block('@C');
    expect(a.split('\n')).toHaveLength(18);
    expect(b).not.toBe(a); // the step changed something (at least rip)
    expect(c).toBe(a);
    const native = gdbNative(exe, head);
    expect(normalise(a)).toBe(normalise(native.slice(native.indexOf('@A\n')).split('\n').filter((l) => /^\w+\s+0x/.test(l)).join('\n')));
  }, SLOW_TEST_MS);

  it('reverse-next and reverse-finish do what gdb\'s own `record full` does on the native program', () => {
    // a call on the same line as the stop: reverse-next first stops at the line-table entry after the second call
    // (as record full does), then before the calls; reverse-finish goes back to the CALL in the caller
    const next = (record: boolean): string[] => ['break add', 'continue', ...(record ? ['record full'] : []), 'next', 'p counter',
      'reverse-next', 'p counter', 'reverse-next', 'p counter', 'info line *$pc'];
    const native = normalise(gdbNative(exe, next(true))), recorded = normalise(gdbTrace(exe, trace, next(false)));
    expect(native).toMatch(/\$1 = 2\n[^$]*\$2 = 2\n[^$]*\$3 = 1\n/);
    expect(recorded).toBe(native);
    const finish = (record: boolean): string[] => ['break add', 'continue', ...(record ? ['record full'] : []), 'break square', 'continue',
      'continue', 'p v', 'reverse-finish', 'x/i $pc', 'bt', 'p counter', 'reverse-stepi', 'p $pc'];
    const nativeFinish = normalise(gdbNative(exe, finish(true)));
    expect(nativeFinish).toMatch(/=> 0x[0-9a-f]+ <add\+\d+>:\tcall +0x[0-9a-f]+ <square>/);
    expect(normalise(gdbTrace(exe, trace, finish(false)))).toBe(nativeFinish);
  }, SLOW_TEST_MS);

  it('watch + reverse-continue stops at the last writer with the old and new values', () => {
    const out = gdbTrace(exe, trace, [`break sample.c:${line('L_SYSCALL')}`, 'continue', 'watch total', 'reverse-continue', 'p p->x',
      'reverse-continue', 'p p->x', 'continue', 'p total']);
    // totals after the three add() calls: 5, 5+25, 30+61 (sample.c's points (1,2), (3,4), (5,6))
    expect(out).toMatch(new RegExp(`Hardware watchpoint 2: total\\n\\nOld value = 91\\nNew value = 30\\n[^\\n]*add \\(p=0x[0-9a-f]+\\) at [^\\n]*sample.c:${line('L_TOTAL')}`));
    expect(out).toMatch(/\$1 = 5\n/);
    expect(out).toMatch(/Old value = 30\nNew value = 5\n/);
    expect(out).toMatch(/\$2 = 3\n/);
    // forwards again: the write is redone
    expect(out).toMatch(/Old value = 5\nNew value = 30\n/);
  }, SLOW_TEST_MS);

  it('rwatch and awatch backwards stop before the reading or accessing instruction; hbreak forwards', () => {
    const out = gdbTrace(exe, trace, [`break sample.c:${line('L_SYSCALL')}`, 'continue', 'rwatch total', 'reverse-continue', 'x/i $pc',
      'reverse-continue', 'delete', 'awatch counter', 'reverse-continue', 'delete', 'hbreak fib', 'continue', 'p n']);
    // total is read by the third add() before it adds 61 (value 30), by the second before it adds 25 (value 5)
    expect(out).toMatch(new RegExp(`Hardware read watchpoint 2: total\\n\\nValue = 30\\n[^\\n]*sample.c:${line('L_TOTAL')}\\n`));
    expect(out).toMatch(/=> 0x[0-9a-f]+ <add\+\d+>:\tmov +0x[0-9a-f]+\(%rip\),%r\w+ +# 0x[0-9a-f]+ <total>/);
    expect(out).toMatch(/Value = 5\n/);
    // back from the second add(): its second square() call (v = 4) last wrote counter, 3 -> 4
    expect(out).toMatch(/Hardware access \(read\/write\) watchpoint 3: counter\n\nOld value = 4\nNew value = 3\n[^\n]*square \(v=4\)/);
    expect(out).toMatch(/Hardware assisted breakpoint 4 at [^\n]*\n\nBreakpoint 4, fib \(n=7\)[^$]*\$1 = 7\n/);
  }, SLOW_TEST_MS);

  it('reverse-continue without breakpoints reaches the start of the recording, the native entry point', () => {
    const out = gdbTrace(exe, trace, [`break sample.c:${line('L_RETURN')}`, 'continue', 'delete', 'reverse-continue', 'info registers rip']);
    expect(out).toContain('\nNo more reverse-execution history.\n');
    const rip = /^rip +0x[0-9a-f]+ .*$/m.exec(out)?.[0];
    const native = /^rip +0x[0-9a-f]+ .*$/m.exec(gdbNative(exe, ['info registers rip']))?.[0];
    expect(native).toMatch(/<_start/);
    expect(rip).toBe(native);
  }, SLOW_TEST_MS);

  it('stepi crosses a SYSCALL as one instruction, and reverse-stepi crosses it back', () => {
    const fwd = ['break *syscall_insn', 'continue', 'p $rax', 'p $pc', 'stepi', 'p $rax', 'p $pc', 'echo @R\\n'];
    const out = gdbTrace(exe, trace, [...fwd, 'reverse-stepi', 'p $rax', 'p $pc']);
    const native = normalise(gdbNative(exe, fwd));
    expect(normalise(out.slice(0, out.indexOf('@R\n') + 3))).toBe(native.slice(0, native.indexOf('@R\n') + 3));
    const pc = (k: number): number => Number(new RegExp(`\\$${k} = \\(void \\(\\*\\)\\(\\)\\) (0x[0-9a-f]+) `).exec(out)?.[1]);
    expect(out).toMatch(/\$1 = 3\n/); // RAX: close
    expect(out).toMatch(/\$3 = -9\n/); // close(99): EBADF
    expect(pc(4)).toBe(pc(2) + 2); // one instruction: the 2-byte SYSCALL
    expect(out).toMatch(/\$5 = 3\n/);
    expect(pc(6)).toBe(pc(2));
    // with --kernel the same stepi enters the guest kernel
    const k = gdbTrace(exe, trace, ['break *syscall_insn', 'continue', 'stepi', 'p/x $pc', 'p $cs'], ['--kernel']);
    expect(k).toMatch(/\$1 = 0xffffffff8[0-9a-f]+\n\$2 = 16\n/);
  }, SLOW_TEST_MS);

  it('a conditional breakpoint in a recursion, hit backwards, gives the native call sequence reversed', () => {
    // fib(7) calls fib(2) F(6) = 8 times
    const hits = 8, each = ['bt', 'echo @@\\n'];
    const native = gdbNative(exe, ['break fib if n == 2', ...Array.from({ length: hits }, () => ['continue', ...each]).flat()]);
    const out = gdbTrace(exe, trace, [`break sample.c:${line('L_RETURN')}`, 'continue', 'break fib if n == 2',
      ...Array.from({ length: hits + 1 }, () => ['reverse-continue', ...each]).flat()]);
    const stacks = (t: string): string[] => t.split(/\nBreakpoint \d+, /).filter((b) => b.startsWith('fib (n=2)'))
      .map((b) => b.slice(0, b.indexOf('@@')).split('\n').filter((l) => l.startsWith('#')).join('\n'));
    const n = stacks(normalise(native)), r = stacks(normalise(out));
    expect(n).toHaveLength(hits);
    expect(new Set(n).size).toBeGreaterThan(1); // different depths: the sequence is informative
    expect(r).toEqual([...n].reverse());
    expect(out).toContain('No more reverse-execution history.');
  }, SLOW_TEST_MS);
});
