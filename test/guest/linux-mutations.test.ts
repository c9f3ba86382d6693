import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/guest/linux/errno.js';
import { type Fixture, HOLE, Harness, makeFixture } from './linux-harness.js';

let fx: Fixture;
let h: Harness;
beforeAll(() => { fx = makeFixture(); });
afterAll(() => fx.cleanup());
beforeEach(() => { h = new Harness(fx); });
afterEach(() => h.close());

describe('calls that would change the read-only root', () => {
  it('creating a name: EEXIST if it exists, EROFS if it could be made, lookup errors first', () => {
    const p = (s: string) => h.mem.put(s);
    expect(h.call('mkdir', p('/etc'), 0o755)).toBe(-E.EEXIST);
    expect(h.call('mkdir', p('/etc/new'), 0o755)).toBe(-E.EROFS);
    expect(h.call('mkdir', p('/nope/new'), 0o755)).toBe(-E.ENOENT);
    expect(h.call('mkdir', p('/etc/hello.txt/new'), 0o755)).toBe(-E.ENOTDIR);
    expect(h.call('mkdir', HOLE, 0o755)).toBe(-E.EFAULT);
    expect(h.call('symlink', p('x'), p('/dir/a'))).toBe(-E.EEXIST);
    expect(h.call('symlink', p('x'), p('/dir/z'))).toBe(-E.EROFS);
    expect(h.call('link', p('/dir/a'), p('/dir/z'))).toBe(-E.EROFS);
    expect(h.call('link', p('/dir'), p('/dir/z'))).toBe(-E.EPERM);
    expect(h.call('link', p('/dir/none'), p('/dir/z'))).toBe(-E.ENOENT);
  });

  it('removing, renaming and changing: EROFS once the path resolves', () => {
    const p = (s: string) => h.mem.put(s);
    expect(h.call('unlink', p('/dir/a'))).toBe(-E.EROFS);
    expect(h.call('unlink', p('/dir/none'))).toBe(-E.EROFS); // Linux asks for write access before the last lookup
    expect(h.call('unlink', p('/nope/x'))).toBe(-E.ENOENT);
    expect(h.call('unlinkat', -100, p('/dir/sub'), 0x200)).toBe(-E.EROFS);
    expect(h.call('unlinkat', -100, p('/dir/sub'), 0x1)).toBe(-E.EINVAL);
    expect(h.call('rename', p('/dir/a'), p('/dir/c'))).toBe(-E.EROFS);
    expect(h.call('rename', p('/nope/a'), p('/dir/c'))).toBe(-E.ENOENT);
    expect(h.call('chmod', p('/dir/a'), 0o600)).toBe(-E.EROFS);
    expect(h.call('chmod', p('/dir/none'), 0o600)).toBe(-E.ENOENT);
    expect(h.call('truncate', p('/dir'), 0)).toBe(-E.EISDIR);
    expect(h.call('truncate', p('/dir/a'), 0)).toBe(-E.EROFS);
    expect(h.call('utimensat', -100, p('/dir/a'), 0, 0)).toBe(-E.EROFS);
    expect(h.call('fchmod', h.open('/dir/a'), 0o600)).toBe(-E.EROFS);
    expect(h.call('fchmod', 1, 0o600)).toBe(0);
    expect(h.call('fchmod', 99, 0o600)).toBe(-E.EBADF);
    expect(h.call('ftruncate', h.open('/dir/a'), 0)).toBe(-E.EINVAL);
  });

  it('fsync, fadvise64 and flock succeed on open files and check their descriptor', () => {
    const fd = h.open('/dir/a');
    expect(h.call('fsync', fd)).toBe(0);
    expect(h.call('fsync', 99)).toBe(-E.EBADF);
    expect(h.call('fadvise64', fd, 0, 0, 2)).toBe(0);
    expect(h.call('fadvise64', fd, 0, 0, 9)).toBe(-E.EINVAL);
    expect(h.call('flock', fd, 2 | 4)).toBe(0);
    expect(h.call('flock', fd, 3)).toBe(-E.EINVAL);
  });
});

describe('a process without a root directory', () => {
  it('sees only the program, /proc/self/exe and /dev', () => {
    h.close();
    h = new Harness(fx, { root: undefined, cwd: '/usr/bin' });
    expect(h.open('/etc/hello.txt')).toBe(-E.ENOENT);
    expect(h.text(h.open('prog'), 4)).toBe('\x7fELF');
    const fd = h.open('/', 0x10000);
    const buf = h.mem.alloc(4096);
    const n = h.call('getdents64', fd, buf, 4096);
    const names: string[] = [];
    const b = h.mem.bytes(buf, n);
    for (let o = 0; o < n; o += new DataView(b.buffer).getUint16(o + 16, true)) names.push(Buffer.from(b.subarray(o + 19, b.indexOf(0, o + 19))).toString());
    expect(names).toEqual(['.', '..', 'dev', 'proc', 'sys', 'usr']);
    expect(h.call('mkdir', h.mem.put('/tmp'), 0o755)).toBe(-E.EROFS);
  });
});
