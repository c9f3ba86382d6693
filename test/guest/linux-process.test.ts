import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/guest/linux/errno.js';
import { SYSCALL_NAMES } from '../../src/guest/linux/syscall-names.js';
import { SYSCALL_TABLE, syscallName, syscallNumber } from '../../src/guest/linux/syscall-table.js';
import { type Fixture, HOLE, Harness, makeFixture } from './linux-harness.js';

let fx: Fixture;
let h: Harness;
let now: bigint;
const fsBase = { v: 0n };
beforeAll(() => { fx = makeFixture(); });
afterAll(() => fx.cleanup());
beforeEach(() => {
  now = 1_700_000_000_123_456_789n;
  h = new Harness(fx, {
    clock: () => now,
    random: (n) => new Uint8Array(n).map((_, i) => i + 1),
    setFsBase: (v) => { fsBase.v = v; },
    getFsBase: () => fsBase.v,
  });
});
afterEach(() => h.close());

const u64s = (...v: bigint[]) => new Uint8Array(new BigUint64Array(v).buffer);

describe('system call table', () => {
  it('names every x86-64 system call 0..334 and 424..450', () => {
    for (let nr = 0; nr <= 334; nr++) expect(SYSCALL_NAMES.has(nr)).toBe(true);
    for (let nr = 424; nr <= 450; nr++) expect(SYSCALL_NAMES.has(nr)).toBe(true);
    expect(SYSCALL_NAMES.size).toBe(335 + 27);
    expect([0, 1, 2, 9, 39, 60, 231, 257, 262, 318, 332, 334, 435, 439, 450].map(syscallName)).toEqual([
      'read', 'write', 'open', 'mmap', 'getpid', 'exit', 'exit_group', 'openat', 'newfstatat', 'getrandom', 'statx',
      'rseq', 'clone3', 'faccessat2', 'set_mempolicy_home_node',
    ]);
    expect(syscallName(335)).toBe('syscall_335');
    expect(syscallNumber('openat')).toBe(257);
    expect(SYSCALL_TABLE.get(206)?.handler).toBeUndefined(); // io_setup
  });

  it('answers an unknown or unimplemented call with -ENOSYS and reports it', () => {
    expect(h.call('io_setup', 1, 0)).toBe(-E.ENOSYS);
    expect(h.p.syscall(999, [])).toEqual({ kind: 'return', value: -38n });
    expect(h.p.syscall(-1, [])).toEqual({ kind: 'return', value: -38n });
    expect(h.events.unsupported).toEqual([
      { nr: 206, name: 'io_setup', result: 'ENOSYS' }, { nr: 999, name: 'syscall_999', result: 'ENOSYS' }, { nr: -1, name: 'syscall_-1', result: 'ENOSYS' },
    ]);
    expect(h.call('rseq', 0, 32, 0, 0)).toBe(-E.ENOSYS); // expected by libc: not reported
    expect(h.events.unsupported.length).toBe(3);
    // a refused variant is reported with its errno and what is missing
    expect(h.call('socket', 2, 1, 0)).toBe(-E.EACCES);
    expect(h.events.unsupported.at(-1)).toEqual({ nr: 41, name: 'socket', result: 'EACCES', detail: 'AF_INET sockets are not implemented' });
    expect(h.p.unsupported.entries.map((e) => `${e.name} ${e.count}`)).toEqual(['io_setup 1', 'syscall_999 1', 'syscall_-1 1', 'socket 1']);
  });
});

describe('process identity and system information', () => {
  it('has fixed ids', () => {
    expect(['getpid', 'getppid', 'gettid', 'getuid', 'geteuid', 'getgid', 'getegid', 'getpgrp'].map((n) => h.call(n)))
      .toEqual([1000, 999, 1000, 1000, 1000, 1000, 1000, 1000]);
    expect(h.call('getpgid', 0)).toBe(1000);
    expect(h.call('getpgid', 5)).toBe(-E.ESRCH);
    expect(h.call('getsid', 0)).toBe(999);
    expect(h.call('setsid')).toBe(-E.EPERM);
    expect(h.call('set_tid_address', 0x1234)).toBe(1000);
    expect(h.call('setuid', 1000)).toBe(0);
    expect(h.call('setuid', 0)).toBe(-E.EPERM);
  });

  it('uname writes the six 65-byte fields', () => {
    const buf = h.mem.alloc(390);
    expect(h.call('uname', buf)).toBe(0);
    const b = h.mem.bytes(buf, 390);
    const field = (i: number) => Buffer.from(b.subarray(i * 65, i * 65 + 65)).toString('latin1').replace(/\0+$/, '');
    expect([0, 1, 2, 3, 4, 5].map(field)).toEqual(['Linux', 'itrace', '6.1.0-itrace', '#1', 'x86_64', '(none)']);
    expect(b[64]).toBe(0);
  });

  it('rlimits: 8 MiB stack, 1024 files; setting within the hard limit works, raising it is EPERM', () => {
    const old = h.mem.alloc(16);
    expect(h.call('prlimit64', 0, 3, 0, old)).toBe(0);
    expect(h.mem.view(old, 16).getBigUint64(0, true)).toBe(8n << 20n);
    expect(h.call('getrlimit', 7, old)).toBe(0);
    expect(h.mem.view(old, 16).getBigUint64(0, true)).toBe(1024n);
    expect(h.call('setrlimit', 7, h.mem.put(u64s(512n, 4096n)))).toBe(0);
    expect(h.call('getrlimit', 7, old)).toBe(0);
    expect(h.mem.view(old, 16).getBigUint64(0, true)).toBe(512n);
    expect(h.call('setrlimit', 7, h.mem.put(u64s(512n, 1n << 30n)))).toBe(-E.EPERM);
    expect(h.call('setrlimit', 7, h.mem.put(u64s(600n, 500n)))).toBe(-E.EINVAL);
    expect(h.call('prlimit64', 0, 16, 0, old)).toBe(-E.EINVAL);
    expect(h.call('prlimit64', 42, 3, 0, old)).toBe(-E.ESRCH);
    expect(h.call('prlimit64', 0, 3, 0, HOLE)).toBe(-E.EFAULT);
  });

  it('sched_getaffinity reports one CPU; umask returns the old mask', () => {
    const buf = h.mem.alloc(128);
    expect(h.call('sched_getaffinity', 0, 128, buf)).toBe(8);
    expect(h.mem.view(buf, 8).getBigUint64(0, true)).toBe(1n);
    expect(h.call('sched_getaffinity', 0, 4, buf)).toBe(-E.EINVAL);
    expect(h.call('umask', 0o077)).toBe(0o022);
    expect(h.call('umask', 0o1777)).toBe(0o077);
    expect(h.call('umask', 0)).toBe(0o777);
  });
});

describe('time', () => {
  it('reports every clock value as an input; sleeping advances the clocks instead of waiting', () => {
    const ts = h.mem.alloc(16);
    expect(h.call('clock_gettime', 0, ts)).toBe(0);
    expect(h.mem.view(ts, 16).getBigInt64(0, true)).toBe(1_700_000_000n);
    expect(h.mem.view(ts, 16).getBigInt64(8, true)).toBe(123_456_789n);
    expect(h.events.last('clock')).toEqual(h.mem.bytes(ts, 16));
    expect(h.call('clock_gettime', 1, ts)).toBe(0);
    const m0 = h.mem.view(ts, 16).getBigInt64(0, true);
    // a day of guest sleep: had it waited, the test would hit its time limit
    expect(h.call('nanosleep', h.mem.put(u64s(86_400n, 0n)), 0)).toBe(0);
    expect(h.call('clock_gettime', 1, ts)).toBe(0);
    expect(h.mem.view(ts, 16).getBigInt64(0, true)).toBe(m0 + 86_400n);
    expect(h.call('clock_gettime', 0, ts)).toBe(0);
    expect(h.mem.view(ts, 16).getBigInt64(0, true)).toBe(1_700_086_400n);
    now -= 10_000_000_000n; // the host clock steps back: CLOCK_MONOTONIC does not
    expect(h.call('clock_gettime', 1, ts)).toBe(0);
    expect(h.mem.view(ts, 16).getBigInt64(0, true)).toBe(m0 + 86_400n);
    expect(h.call('clock_gettime', 99, ts)).toBe(-E.EINVAL);
    expect(h.call('nanosleep', h.mem.put(u64s(0n, 1_000_000_000n)), 0)).toBe(-E.EINVAL);
    expect(h.call('nanosleep', HOLE, 0)).toBe(-E.EFAULT);
  });

  it('gettimeofday, time, clock_getres, clock_nanosleep with TIMER_ABSTIME', () => {
    const tv = h.mem.alloc(16);
    expect(h.call('gettimeofday', tv, 0)).toBe(0);
    expect([h.mem.view(tv, 16).getBigInt64(0, true), h.mem.view(tv, 16).getBigInt64(8, true)]).toEqual([1_700_000_000n, 123_456n]);
    expect(h.events.last('clock')).toEqual(h.mem.bytes(tv, 16));
    expect(h.call('time', 0)).toBe(1_700_000_000);
    expect(h.call('clock_getres', 1, tv)).toBe(0);
    expect(h.mem.view(tv, 16).getBigInt64(8, true)).toBe(1n);
    expect(h.call('clock_getres', 1, 0)).toBe(0);
    expect(h.call('clock_nanosleep', 0, 1, h.mem.put(u64s(1_700_000_100n, 0n)), 0)).toBe(0);
    expect(h.call('time', 0)).toBe(1_700_000_100);
    expect(h.call('clock_nanosleep', 3, 0, h.mem.put(u64s(1n, 0n)), 0)).toBe(-E.EINVAL);
  });

  it('sysinfo, times and getrusage carry time values, reported as inputs', () => {
    const buf = h.mem.alloc(144);
    expect(h.call('sysinfo', buf)).toBe(0);
    expect(h.mem.view(buf, 112).getBigInt64(0, true)).toBe(10n); // up 10 s when the process starts
    expect(h.call('getrusage', 0, buf)).toBe(0);
    expect(h.call('getrusage', 7, buf)).toBe(-E.EINVAL);
    expect(h.call('times', buf)).toBeGreaterThan(0);
    expect(h.events.inputs.filter((i) => i.kind === 'clock').length).toBe(3);
  });
});

describe('random bytes', () => {
  it('getrandom returns bytes from the source and reports them', () => {
    const buf = h.mem.alloc(8);
    expect(h.call('getrandom', buf, 8, 0)).toBe(8);
    expect(h.mem.bytes(buf, 8)).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(h.events.last('getrandom')).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(h.call('getrandom', buf, 8, 0x10)).toBe(-E.EINVAL);
    expect(h.call('getrandom', HOLE, 8, 0)).toBe(-E.EFAULT);
  });
});

describe('signals', () => {
  it('stores dispositions and returns the old ones; validates sizes and signal numbers', () => {
    const act = h.mem.put(u64s(0x401000n, 0x04000000n, 0x402000n, 0xffffffffffffffffn));
    const old = h.mem.alloc(32);
    expect(h.call('rt_sigaction', 10, act, old, 8)).toBe(0);
    expect(h.mem.bytes(old, 32)).toEqual(new Uint8Array(32));
    expect(h.call('rt_sigaction', 10, 0, old, 8)).toBe(0);
    const v = h.mem.view(old, 32);
    expect([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getBigUint64(16, true)]).toEqual([0x401000n, 0x04000000n, 0x402000n]);
    expect(v.getBigUint64(24, true)).toBe(0xffffffffffffffffn & ~((1n << 8n) | (1n << 18n))); // not KILL, STOP
    expect(h.call('rt_sigaction', 10, act, old, 4)).toBe(-E.EINVAL);
    expect(h.call('rt_sigaction', 9, act, old, 8)).toBe(-E.EINVAL);
    expect(h.call('rt_sigaction', 9, 0, old, 8)).toBe(0);
    expect(h.call('rt_sigaction', 65, 0, old, 8)).toBe(-E.EINVAL);
    expect(h.call('rt_sigaction', 10, HOLE, old, 8)).toBe(-E.EFAULT);
  });

  it('rt_sigprocmask blocks, unblocks and sets the mask', () => {
    const old = h.mem.alloc(8);
    expect(h.call('rt_sigprocmask', 0, h.mem.put(u64s(0b1010n | (1n << 8n))), old, 8)).toBe(0);
    expect(h.mem.view(old, 8).getBigUint64(0, true)).toBe(0n);
    expect(h.call('rt_sigprocmask', 1, h.mem.put(u64s(0b10n)), old, 8)).toBe(0);
    expect(h.mem.view(old, 8).getBigUint64(0, true)).toBe(0b1010n); // SIGKILL was not blocked
    expect(h.call('rt_sigprocmask', 2, 0, old, 8)).toBe(0);
    expect(h.mem.view(old, 8).getBigUint64(0, true)).toBe(0b1000n);
    expect(h.call('rt_sigprocmask', 7, h.mem.put(u64s(0n)), old, 8)).toBe(-E.EINVAL);
    expect(h.call('rt_sigprocmask', 7, 0, old, 8)).toBe(0); // "how" is only checked with a new set
    expect(h.call('rt_sigprocmask', 0, 0, old, 16)).toBe(-E.EINVAL);
  });

  it('sigaltstack stores the stack and returns the old one', () => {
    const old = h.mem.alloc(24);
    const ss = new Uint8Array(24);
    new DataView(ss.buffer).setBigUint64(0, 0x500000n, true);
    new DataView(ss.buffer).setBigUint64(16, 65536n, true);
    expect(h.call('sigaltstack', h.mem.put(ss), old)).toBe(0);
    expect(h.mem.view(old, 24).getInt32(8, true)).toBe(2); // SS_DISABLE before
    expect(h.call('sigaltstack', 0, old)).toBe(0);
    expect(h.mem.view(old, 24).getBigUint64(0, true)).toBe(0x500000n);
    new DataView(ss.buffer).setBigUint64(16, 100n, true);
    expect(h.call('sigaltstack', h.mem.put(ss), 0)).toBe(-E.ENOMEM);
  });

  it('a fatal signal sent to itself ends the process with 128 + signal; others do nothing', () => {
    expect(h.call('kill', 1000, 0)).toBe(0);
    expect(h.call('kill', 4242, 15)).toBe(-E.ESRCH);
    expect(h.call('kill', 1000, 17)).toBe(0); // SIGCHLD: ignored by default
    expect(h.call('kill', 1000, 99)).toBe(-E.EINVAL);
    expect(h.call('rt_sigprocmask', 0, h.mem.put(u64s(1n << 14n)), 0, 8)).toBe(0);
    expect(h.call('kill', 0, 15)).toBe(0); // blocked: stays pending
    const pend = h.mem.alloc(8);
    expect(h.call('rt_sigpending', pend, 8)).toBe(0);
    expect(h.mem.view(pend, 8).getBigUint64(0, true)).toBe(1n << 14n);
    expect(h.sys('tgkill', 1000, 1000, 6)).toEqual({ kind: 'exit', status: 134, signal: 6 });
    expect(h.sys('kill', 1000, 9)).toEqual({ kind: 'exit', status: 137, signal: 9 });
    expect(h.call('tgkill', 0, 1000, 6)).toBe(-E.EINVAL);
    expect(h.call('tkill', 1001, 6)).toBe(-E.ESRCH);
  });
});

describe('thread and exit', () => {
  it('exit and exit_group end the process with status & 0xff', () => {
    expect(h.sys('exit_group', 0x1ff)).toEqual({ kind: 'exit', status: 0xff });
    expect(h.sys('exit', 3)).toEqual({ kind: 'exit', status: 3 });
  });

  it('arch_prctl sets and gets the FS base through the processor callbacks', () => {
    expect(h.call('arch_prctl', 0x1002, 0x7000_0000_1000n)).toBe(0);
    expect(fsBase.v).toBe(0x7000_0000_1000n);
    const out = h.mem.alloc(8);
    expect(h.call('arch_prctl', 0x1003, out)).toBe(0);
    expect(h.mem.view(out, 8).getBigUint64(0, true)).toBe(0x7000_0000_1000n);
    expect(h.call('arch_prctl', 0x1002, 0xffff_8000_0000_0000n)).toBe(-E.EPERM);
    expect(h.call('arch_prctl', 0x1001, 0x1234)).toBe(0);
    expect(h.call('arch_prctl', 0x1004, out)).toBe(0);
    expect(h.mem.view(out, 8).getBigUint64(0, true)).toBe(0x1234n);
    expect(h.call('arch_prctl', 0x1003, HOLE)).toBe(-E.EFAULT);
    expect(h.call('arch_prctl', 0x9999, out)).toBe(-E.EINVAL);
  });

  it('futex: a wait on a changed value is EAGAIN, on an unchanged one ETIMEDOUT; wake finds nobody', () => {
    const word = h.mem.put(new Uint8Array([5, 0, 0, 0]));
    expect(h.call('futex', word, 128, 4, 0, 0, 0)).toBe(-E.EAGAIN);
    expect(h.call('futex', word, 128, 5, 0, 0, 0)).toBe(-E.ETIMEDOUT);
    expect(h.call('futex', word, 129, 1, 0, 0, 0)).toBe(0);
    expect(h.call('futex', word + 1n, 0, 5, 0, 0, 0)).toBe(-E.EINVAL);
    expect(h.call('futex', HOLE, 0, 5, 0, 0, 0)).toBe(-E.EFAULT);
    expect(h.call('set_robust_list', 0x1000, 24)).toBe(0);
    expect(h.call('set_robust_list', 0x1000, 8)).toBe(-E.EINVAL);
  });
});

describe('memory', () => {
  it('delegates to the address space; a file mapping passes the whole file and reports it', () => {
    expect(h.call('brk', 0)).toBe(0x600000);
    expect(h.call('mmap', 0, 8192, 3, 0x22, -1, 0)).toBe(0x7f0000000000);
    expect(h.mm.calls.at(-1)).toEqual({ op: 'mmap', args: [0n, 8192n, 3, 0x22, undefined, 0n] });
    const fd = h.open('/etc/big.bin');
    expect(h.call('mmap', 0, 4096, 1, 0x02, fd, 4096)).toBe(0x7f0000000000);
    const file = h.mm.calls.at(-1)?.args[4] as Uint8Array;
    expect(file.length).toBe(10000);
    expect(h.events.last('mmap')).toEqual(file);
    expect(h.call('mmap', 0, 4096, 3, 0x01, fd, 0)).toBe(-E.EACCES); // shared writable on a read-only fd
    expect(h.call('mmap', 0, 4096, 1, 0x02, 99, 0)).toBe(-E.EBADF);
    expect(h.call('mmap', 0, 4096, 1, 0x02, fd, 100)).toBe(-E.EINVAL);
    expect(h.call('mmap', 0, 0, 1, 0x22, -1, 0)).toBe(-E.EINVAL);
    expect(h.call('mmap', 0, 4096, 1, 0x20, -1, 0)).toBe(-E.EINVAL); // neither shared nor private
    expect(h.call('mmap', 0, 4096, 1, 0x02, 1, 0)).toBe(-E.ENODEV);
    expect(h.call('munmap', 0x7f0000000000n, 4096)).toBe(0);
    expect(h.call('mprotect', 0x7f0000000000n, 4096, 1)).toBe(0);
    expect(h.call('madvise', 0x7f0000000000n, 4096, 4)).toBe(0);
    expect(h.mm.calls.map((c) => c.op)).toEqual(['brk', 'mmap', 'mmap', 'munmap', 'mprotect', 'discard']); // MADV_DONTNEED drops the pages
  });
});
