import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/guest/linux/errno.js';
import { O } from '../../src/guest/linux/open-file.js';
import { type Fixture, HOLE, Harness, makeFixture } from './linux-harness.js';

let fx: Fixture;
let h: Harness;
beforeAll(() => { fx = makeFixture(); });
afterAll(() => fx.cleanup());
beforeEach(() => { h = new Harness(fx); });
afterEach(() => h.close());

/** struct stat fields at their x86-64 offsets. */
function parseStat(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    dev: v.getBigUint64(0, true), ino: v.getBigUint64(8, true), nlink: v.getBigUint64(16, true),
    mode: v.getUint32(24, true), uid: v.getUint32(28, true), gid: v.getUint32(32, true), rdev: v.getBigUint64(40, true),
    size: v.getBigInt64(48, true), blksize: v.getBigInt64(56, true), blocks: v.getBigInt64(64, true),
    atime: [v.getBigInt64(72, true), v.getBigInt64(80, true)], mtime: [v.getBigInt64(88, true), v.getBigInt64(96, true)],
    ctime: [v.getBigInt64(104, true), v.getBigInt64(112, true)],
  };
}

function expected(hostPath: string, follow = true) {
  const s = follow ? fs.statSync(hostPath, { bigint: true }) : fs.lstatSync(hostPath, { bigint: true });
  const t = (ns: bigint) => [ns / 1_000_000_000n, ns % 1_000_000_000n];
  return {
    dev: s.dev, ino: s.ino, nlink: s.nlink, mode: Number(s.mode), uid: Number(s.uid), gid: Number(s.gid), rdev: s.rdev,
    size: s.size, blksize: s.blksize, blocks: s.blocks, atime: t(s.atimeNs), mtime: t(s.mtimeNs), ctime: t(s.ctimeNs),
  };
}

describe('stat family', () => {
  it('fstat writes the 144-byte x86-64 struct stat with the host metadata, reported as an input', () => {
    const buf = h.mem.alloc(160);
    h.mem.write(buf + 144n, new Uint8Array(16).fill(0xaa));
    const fd = h.open('/etc/big.bin');
    expect(h.call('fstat', fd, buf)).toBe(0);
    const bytes = h.mem.bytes(buf, 144);
    expect(parseStat(bytes)).toEqual(expected(path.join(fx.root, 'etc', 'big.bin')));
    expect(h.mem.bytes(buf + 144n, 16)).toEqual(new Uint8Array(16).fill(0xaa)); // nothing past the struct
    expect(h.events.last('stat')).toEqual(bytes);
  });

  it('stat follows symlinks, lstat does not; newfstatat honours AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH', () => {
    const buf = h.mem.alloc(144);
    const link = path.join(fx.root, 'dir', 'link');
    expect(h.call('stat', h.mem.put('/dir/link'), buf)).toBe(0);
    expect(parseStat(h.mem.bytes(buf, 144))).toEqual(expected(link));
    expect(h.call('lstat', h.mem.put('/dir/link'), buf)).toBe(0);
    expect(parseStat(h.mem.bytes(buf, 144))).toEqual(expected(link, false));
    expect(parseStat(h.mem.bytes(buf, 144)).mode & 0o170000).toBe(0o120000);
    expect(h.call('newfstatat', -100, h.mem.put('dir/link'), buf, 0x100)).toBe(0);
    expect(parseStat(h.mem.bytes(buf, 144)).size).toBe(1n); // the link "a" itself
    // fstat as glibc does it: fstatat(fd, "", AT_EMPTY_PATH); on stdout (a host file)
    expect(h.call('write', 1, h.mem.put('12345'), 5)).toBe(5);
    expect(h.call('newfstatat', 1, h.mem.put(''), buf, 0x1000)).toBe(0);
    expect(parseStat(h.mem.bytes(buf, 144)).size).toBe(5n);
    expect(h.call('newfstatat', 1, h.mem.put(''), buf, 0)).toBe(-E.ENOENT);
    expect(h.call('newfstatat', -100, h.mem.put('/etc'), buf, 0x4)).toBe(-E.EINVAL);
    expect(h.call('stat', h.mem.put('/nope'), buf)).toBe(-E.ENOENT);
    expect(h.call('stat', h.mem.put('/etc/hello.txt/'), buf)).toBe(-E.ENOTDIR);
    expect(h.call('stat', HOLE, buf)).toBe(-E.EFAULT);
  });

  it('statx writes the 256-byte struct statx', () => {
    const buf = h.mem.alloc(256);
    const host = path.join(fx.root, 'etc', 'hello.txt');
    expect(h.call('statx', -100, h.mem.put('/etc/hello.txt'), 0, 0xfff, buf)).toBe(0);
    const v = h.mem.view(buf, 256);
    const s = fs.statSync(host, { bigint: true });
    expect(v.getUint32(0, true) & 0x7ff).toBe(0x7ff);
    expect(v.getUint16(28, true)).toBe(Number(s.mode));
    expect(v.getBigUint64(32, true)).toBe(s.ino);
    expect(v.getBigUint64(40, true)).toBe(s.size);
    expect(v.getUint32(16, true)).toBe(Number(s.nlink));
    expect(v.getBigInt64(112, true)).toBe(s.mtimeNs / 1_000_000_000n);
    expect(v.getUint32(120, true)).toBe(Number(s.mtimeNs % 1_000_000_000n));
    const dev = s.dev;
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn & 0xffffffffn));
    expect([v.getUint32(136, true), v.getUint32(140, true)]).toEqual([major, minor]);
    expect(h.events.last('stat')).toEqual(h.mem.bytes(buf, 256));
    expect(h.call('statx', -100, h.mem.put('/etc'), 0x6000, 0, buf)).toBe(-E.EINVAL);
    expect(h.call('statx', -100, h.mem.put('/etc'), 0, 0x80000000, buf)).toBe(-E.EINVAL);
  });

  it('reports a pipe as a FIFO and the virtual devices as character devices', () => {
    const buf = h.mem.alloc(144), fds = h.mem.alloc(8);
    expect(h.call('pipe', fds)).toBe(0);
    expect(h.call('fstat', h.mem.view(fds, 8).getInt32(0, true), buf)).toBe(0);
    expect(parseStat(h.mem.bytes(buf, 144)).mode & 0o170000).toBe(0o010000);
    expect(h.call('stat', h.mem.put('/dev/null'), buf)).toBe(0);
    const st = parseStat(h.mem.bytes(buf, 144));
    expect(st.mode).toBe(0o20666);
    expect(st.rdev).toBe(0x103n);
  });
});

describe('getdents64', () => {
  function records(b: Uint8Array) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out: { ino: bigint; off: bigint; reclen: number; type: number; name: string }[] = [];
    for (let o = 0; o < b.length;) {
      const reclen = v.getUint16(o + 16, true);
      const nameEnd = b.indexOf(0, o + 19);
      out.push({ ino: v.getBigUint64(o, true), off: v.getBigInt64(o + 8, true), reclen, type: b[o + 18] as number, name: Buffer.from(b.subarray(o + 19, nameEnd)).toString() });
      expect(nameEnd).toBeLessThan(o + reclen);
      o += reclen;
    }
    return out;
  }

  it('lists ".", ".." then the entries sorted by name, with exact record layout and d_type', () => {
    const fd = h.open('/dir', O.DIRECTORY);
    const buf = h.mem.alloc(4096);
    const n = h.call('getdents64', fd, buf, 4096);
    expect(n).toBeGreaterThan(0);
    const recs = records(h.mem.bytes(buf, n));
    expect(recs.map((r) => r.name)).toEqual(['.', '..', 'a', 'b', 'link', 'sub', 'up']);
    expect(recs.map((r) => r.type)).toEqual([4, 4, 8, 8, 10, 4, 10]);
    expect(recs.map((r) => r.off)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    for (const r of recs) expect(r.reclen % 8).toBe(0);
    expect(recs[0]?.reclen).toBe(24); // 19 + "." + NUL = 21, rounded up
    expect(recs[2]?.ino).toBe(fs.lstatSync(path.join(fx.root, 'dir', 'a'), { bigint: true }).ino);
    expect(recs[0]?.ino).toBe(fs.statSync(path.join(fx.root, 'dir'), { bigint: true }).ino);
    expect(recs[1]?.ino).toBe(fs.statSync(fx.root, { bigint: true }).ino);
    expect(h.events.last('getdents64')).toEqual(h.mem.bytes(buf, n));
    expect(h.call('getdents64', fd, buf, 4096)).toBe(0);
    expect(h.call('lseek', fd, 0, 0)).toBe(0);
    expect(h.call('getdents64', fd, buf, 4096)).toBe(n);
  });

  it('returns as many records as fit, EINVAL if none fits, ENOTDIR on a file', () => {
    const fd = h.open('/dir', O.DIRECTORY);
    const buf = h.mem.alloc(4096);
    expect(h.call('getdents64', fd, buf, 10)).toBe(-E.EINVAL);
    expect(h.call('getdents64', fd, buf, 48)).toBe(48); // "." and ".."
    expect(records(h.mem.bytes(buf, 48)).map((r) => r.name)).toEqual(['.', '..']);
    const rest = h.call('getdents64', fd, buf, 4096);
    expect(records(h.mem.bytes(buf, rest)).map((r) => r.name)[0]).toBe('a');
    expect(h.call('getdents64', h.open('/etc/hello.txt'), buf, 4096)).toBe(-E.ENOTDIR);
    expect(h.call('getdents64', fd, HOLE, 4096)).toBe(0); // at the end: nothing to copy
  });

  it('merges the virtual files into the root listing', () => {
    const fd = h.open('/', O.DIRECTORY);
    const buf = h.mem.alloc(8192);
    const n = h.call('getdents64', fd, buf, 8192);
    const names = records(h.mem.bytes(buf, n)).map((r) => r.name);
    expect(names).toEqual(['.', '..', 'abs', 'dev', 'dir', 'escape', 'escape-rel', 'etc', 'loop1', 'loop2', 'proc', 'sys', 'usr']);
  });
});

describe('readlink and access', () => {
  it('readlink of /proc/self/exe is the program path; truncates without NUL; EINVAL on a non-link', () => {
    const buf = h.mem.alloc(64);
    expect(h.call('readlink', h.mem.put('/proc/self/exe'), buf, 64)).toBe('/usr/bin/prog'.length);
    expect(Buffer.from(h.mem.bytes(buf, 13)).toString()).toBe('/usr/bin/prog');
    expect(h.events.last('readlink')).toEqual(h.mem.bytes(buf, 13));
    expect(h.call('readlink', h.mem.put('/proc/self/exe'), buf, 4)).toBe(4);
    expect(h.call('readlinkat', -100, h.mem.put('/dir/up'), buf, 64)).toBe('../../../../etc/hello.txt'.length);
    expect(h.call('readlink', h.mem.put('/etc/hello.txt'), buf, 64)).toBe(-E.EINVAL);
    expect(h.call('readlink', h.mem.put('/etc/hello.txt'), buf, 0)).toBe(-E.EINVAL);
    expect(h.call('readlink', h.mem.put('/nope'), buf, 64)).toBe(-E.ENOENT);
    expect(h.call('readlink', h.mem.put('/proc/self/exe'), HOLE, 64)).toBe(-E.EFAULT);
    expect(h.text(h.open('/proc/self/exe'), 4)).toBe('\x7fELF');
  });

  it('access checks existence, read, write and execute; writing virtual files is EROFS', () => {
    const p = (s: string) => h.mem.put(s);
    expect(h.call('access', p('/etc/hello.txt'), 0)).toBe(0);
    expect(h.call('access', p('/etc/hello.txt'), 4)).toBe(0);
    expect(h.call('access', p('/usr/bin/prog'), 5)).toBe(0);
    expect(h.call('access', p('/dev/null'), 2)).toBe(0);
    expect(h.call('access', p('/nope'), 0)).toBe(-E.ENOENT);
    expect(h.call('access', p('/etc'), 2)).toBe(0); // the guest's changes go to the overlay
    expect(h.call('access', p('/usr/bin/prog'), 2)).toBe(-E.EROFS);
    expect(h.call('access', p('/etc'), 8)).toBe(-E.EINVAL);
    expect(h.call('faccessat2', -100, p('/dir/link'), 0, 0x100)).toBe(0);
    expect(h.call('faccessat2', -100, p('/dir/link'), 0, 0x8)).toBe(-E.EINVAL);
    expect(h.call('faccessat', h.open('/dir', O.DIRECTORY), p('b'), 4)).toBe(0);
  });
});
