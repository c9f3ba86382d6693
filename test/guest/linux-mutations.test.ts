import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/guest/linux/errno.js';
import { type Fixture, HOLE, Harness, makeFixture } from './linux-harness.js';

let fx: Fixture;
let h: Harness;
beforeAll(() => { fx = makeFixture(); });
afterAll(() => fx.cleanup());
beforeEach(() => { h = new Harness(fx); });
afterEach(() => h.close());

/** The names in a guest directory, by getdents64. */
function names(dir: string): string[] {
  const fd = h.open(dir, 0x10000);
  const buf = h.mem.alloc(8192);
  const n = h.call('getdents64', fd, buf, 8192);
  h.call('close', fd);
  const out: string[] = [];
  const b = h.mem.bytes(buf, n);
  for (let o = 0; o < n; o += new DataView(b.buffer).getUint16(o + 16, true)) out.push(Buffer.from(b.subarray(o + 19, b.indexOf(0, o + 19))).toString());
  return out.sort();
}

/** Every file under the fixture's root with its contents (or link target), to show the host is unchanged. */
function hostTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name), st = fs.lstatSync(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[full] = `-> ${fs.readlinkSync(full)}`;
    else if (st.isDirectory()) Object.assign(out, { [full]: `dir ${mode}` }, hostTree(full));
    else out[full] = `${mode} ${fs.readFileSync(full, 'latin1')} ${st.mtimeMs}`;
  }
  return out;
}

describe('calls that change the file system, in the overlay', () => {
  it('creating a name: EEXIST if it exists, lookup errors first; the new name is seen, the host is unchanged', () => {
    const before = hostTree(fx.root);
    const p = (s: string) => h.mem.put(s);
    expect(h.call('mkdir', p('/etc'), 0o755)).toBe(-E.EEXIST);
    expect(h.call('mkdir', p('/etc/new'), 0o777)).toBe(0);
    expect(h.call('mkdir', p('/nope/new'), 0o755)).toBe(-E.ENOENT);
    expect(h.call('mkdir', p('/etc/hello.txt/new'), 0o755)).toBe(-E.ENOTDIR);
    expect(h.call('mkdir', HOLE, 0o755)).toBe(-E.EFAULT);
    expect(h.call('mkdir', p('/proc/new'), 0o755)).toBe(-E.EROFS);
    expect(h.call('symlink', p('x'), p('/dir/a'))).toBe(-E.EEXIST);
    expect(h.call('symlink', p('a'), p('/dir/z'))).toBe(0);
    expect(h.call('link', p('/dir/b'), p('/dir/y'))).toBe(0);
    expect(h.call('link', p('/dir'), p('/dir/x'))).toBe(-E.EPERM);
    expect(h.call('link', p('/dir/none'), p('/dir/x'))).toBe(-E.ENOENT);
    expect(names('/dir')).toEqual(['.', '..', 'a', 'b', 'link', 'sub', 'up', 'y', 'z']);
    expect(names('/etc')).toEqual(['.', '..', 'big.bin', 'hello.txt', 'new']);
    expect(h.text(h.open('/dir/z'))).toBe('A');
    expect(h.text(h.open('/dir/y'))).toBe('BB');
    const st = h.mem.alloc(144);
    expect(h.call('stat', p('/etc/new'), st)).toBe(0);
    expect(h.mem.view(st, 144).getUint32(24, true)).toBe(0o40755); // the guest's umask 022
    expect(h.call('stat', p('/dir/y'), st)).toBe(0);
    expect(h.mem.view(st, 144).getBigUint64(16, true)).toBe(2n); // two links
    expect(hostTree(fx.root)).toEqual(before);
  });

  it('removing and renaming: the lower file is hidden (whiteout), a renamed name shows its contents', () => {
    const before = hostTree(fx.root);
    const p = (s: string) => h.mem.put(s);
    expect(h.call('unlink', p('/dir/a'))).toBe(0);
    expect(h.open('/dir/a')).toBe(-E.ENOENT);
    expect(h.call('unlink', p('/dir/a'))).toBe(-E.ENOENT);
    expect(h.call('unlink', p('/nope/x'))).toBe(-E.ENOENT);
    expect(h.call('unlink', p('/dir/sub'))).toBe(-E.EISDIR);
    expect(h.call('unlinkat', -100, p('/dir/sub'), 0x1)).toBe(-E.EINVAL);
    expect(h.call('rmdir', p('/dir'))).toBe(-E.ENOTEMPTY);
    expect(h.call('unlinkat', -100, p('/dir/sub'), 0x200)).toBe(0);
    expect(h.call('rename', p('/dir/b'), p('/dir/c'))).toBe(0);
    expect(h.call('rename', p('/nope/a'), p('/dir/c'))).toBe(-E.ENOENT);
    expect(names('/dir')).toEqual(['.', '..', 'c', 'link', 'up']);
    expect(h.text(h.open('/dir/c'))).toBe('BB');
    expect(h.open('/dir/link')).toBe(-E.ENOENT); // it pointed at the deleted a
    expect(h.call('rename', p('/dir'), p('/moved'))).toBe(-E.EXDEV); // a host directory does not move (overlayfs)
    expect(h.call('mkdir', p('/dir/sub'), 0o755)).toBe(0); // made again: empty, the host's sub shows no more
    expect(names('/dir/sub')).toEqual(['.', '..']);
    expect(h.call('mkdir', p('/dir/sub/in'), 0o755)).toBe(0);
    expect(h.call('rename', p('/dir/sub'), p('/etc/sub2'))).toBe(0); // a directory of the guest's own moves
    expect(names('/etc/sub2')).toEqual(['.', '..', 'in']);
    expect(hostTree(fx.root)).toEqual(before);
  });

  it('changing: chmod, utimensat, truncate and ftruncate change the copy', () => {
    const before = hostTree(fx.root);
    const p = (s: string) => h.mem.put(s);
    const st = h.mem.alloc(144);
    expect(h.call('chmod', p('/dir/a'), 0o600)).toBe(0);
    expect(h.call('chmod', p('/dir/none'), 0o600)).toBe(-E.ENOENT);
    expect(h.call('stat', p('/dir/a'), st)).toBe(0);
    expect(h.mem.view(st, 144).getUint32(24, true) & 0o7777).toBe(0o600);
    const times = h.mem.put(new Uint8Array(new BigInt64Array([1000n, 0n, 1234567890n, 0n]).buffer));
    expect(h.call('utimensat', -100, p('/dir/a'), times, 0)).toBe(0);
    expect(h.call('stat', p('/dir/a'), st)).toBe(0);
    expect(h.mem.view(st, 144).getBigInt64(88, true)).toBe(1234567890n); // st_mtime
    expect(h.call('truncate', p('/dir'), 0)).toBe(-E.EISDIR);
    expect(h.call('truncate', p('/etc/big.bin'), 10)).toBe(0);
    expect(h.call('stat', p('/etc/big.bin'), st)).toBe(0);
    expect(h.mem.view(st, 144).getBigInt64(48, true)).toBe(10n);
    expect(h.call('fchmod', 1, 0o600)).toBe(0);
    expect(h.call('fchmod', 99, 0o600)).toBe(-E.EBADF);
    expect(h.call('ftruncate', h.open('/dir/b'), 0)).toBe(-E.EINVAL); // open read-only
    const w = h.open('/dir/b', 2);
    expect(h.call('ftruncate', w, 1)).toBe(0);
    expect(h.call('fallocate', w, 0, 0, 100)).toBe(0);
    expect(h.call('fstat', w, st)).toBe(0);
    expect(h.mem.view(st, 144).getBigInt64(48, true)).toBe(100n);
    expect(h.call('fallocate', h.open('/dir/b'), 0, 0, 100)).toBe(-E.EBADF);
    expect(hostTree(fx.root)).toEqual(before);
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

  it('--rw: changes under that directory are made on the host', () => {
    h.close();
    h = new Harness(fx, { rw: [path.join(fx.root, 'dir', 'sub')] });
    expect(h.open('/dir/sub/out.txt', 0o101)).toBeGreaterThanOrEqual(0);
    expect(fs.existsSync(path.join(fx.root, 'dir', 'sub', 'out.txt'))).toBe(true);
    expect(h.call('rename', h.mem.put('/dir/sub/out.txt'), h.mem.put('/dir/out.txt'))).toBe(-E.EXDEV);
    expect(h.call('unlink', h.mem.put('/dir/sub/out.txt'))).toBe(0);
    expect(fs.readdirSync(path.join(fx.root, 'dir', 'sub'))).toEqual([]);
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
