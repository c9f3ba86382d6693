import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/guest/linux/errno.js';
import { O } from '../../src/guest/linux/open-file.js';
import { type Fixture, HELLO, HOLE, Harness, PROGRAM, READ_ONLY, makeFixture } from './linux-harness.js';

let fx: Fixture;
let h: Harness;
beforeAll(() => { fx = makeFixture(); });
afterAll(() => fx.cleanup());
beforeEach(() => { h = new Harness(fx); });
afterEach(() => h.close());

describe('open, read, lseek, pread, close', () => {
  it('reads a root file and reports every read as an input', () => {
    const fd = h.open('/etc/hello.txt');
    expect(fd).toBe(3);
    expect(h.text(fd, 5)).toBe('hello');
    expect(h.events.last('read')).toEqual(new Uint8Array(Buffer.from('hello')));
    expect(h.text(fd)).toBe(' world\n');
    const eof = h.read(fd, 10);
    expect(eof).toEqual(new Uint8Array(0));
    expect(h.events.last('read')).toEqual(new Uint8Array(0));
    expect(h.call('close', fd)).toBe(0);
    expect(h.call('close', fd)).toBe(-E.EBADF);
  });

  it('seeks with SEEK_SET/CUR/END/DATA/HOLE and rejects bad whence and negative results', () => {
    const fd = h.open('/etc/hello.txt');
    expect(h.call('lseek', fd, 0, 2)).toBe(HELLO.length);
    expect(h.call('lseek', fd, 6, 0)).toBe(6);
    expect(h.call('lseek', fd, -1, 1)).toBe(5);
    expect(h.text(fd)).toBe(' world\n');
    expect(h.call('lseek', fd, -100, 1)).toBe(-E.EINVAL);
    expect(h.call('lseek', fd, 0, 7)).toBe(-E.EINVAL);
    expect(h.call('lseek', fd, 3, 3)).toBe(3);
    expect(h.call('lseek', fd, 3, 4)).toBe(HELLO.length);
    expect(h.call('lseek', fd, 100, 3)).toBe(-E.ENXIO);
    expect(h.call('lseek', 0, 0, 1)).toBe(-E.ESPIPE); // a host stream
  });

  it('preads at an offset without moving the file position; negative offset is EINVAL', () => {
    const fd = h.open('/etc/hello.txt');
    const buf = h.mem.alloc(16);
    expect(h.call('pread64', fd, buf, 5, 6)).toBe(5);
    expect(Buffer.from(h.mem.bytes(buf, 5)).toString()).toBe('world');
    expect(h.text(fd, 5)).toBe('hello');
    expect(h.call('pread64', fd, buf, 5, -1)).toBe(-E.EINVAL);
    expect(h.call('pread64', fd, buf, 5, 1000)).toBe(0);
  });

  it('readv scatters one read over several buffers', () => {
    const fd = h.open('/etc/hello.txt');
    const a = h.mem.alloc(4), b = h.mem.alloc(100);
    const iov = h.mem.alloc(32);
    const dv = new DataView(new ArrayBuffer(32));
    dv.setBigUint64(0, a, true); dv.setBigUint64(8, 4n, true); dv.setBigUint64(16, b, true); dv.setBigUint64(24, 100n, true);
    h.mem.write(iov, new Uint8Array(dv.buffer));
    expect(h.call('readv', fd, iov, 2)).toBe(HELLO.length);
    expect(Buffer.from(h.mem.bytes(a, 4)).toString()).toBe('hell');
    expect(Buffer.from(h.mem.bytes(b, HELLO.length - 4)).toString()).toBe('o world\n');
    expect(Buffer.from(h.events.last('read') as Uint8Array).toString()).toBe(HELLO);
    expect(h.call('readv', fd, iov, -1)).toBe(-E.EINVAL);
    expect(h.call('readv', fd, HOLE, 1)).toBe(-E.EFAULT);
  });

  it('reads stdin from the host fd, as an input', () => {
    expect(h.text(0)).toBe(HELLO);
    expect(Buffer.from(h.events.last('read') as Uint8Array).toString()).toBe(HELLO);
  });

  it('reads the program at its guest path, though it is not under the root', () => {
    const fd = h.open('/usr/bin/prog');
    expect(h.read(fd, 100)).toEqual(PROGRAM);
    const st = h.mem.alloc(144);
    expect(h.call('fstat', fd, st)).toBe(0);
    expect(h.mem.view(st, 144).getBigInt64(48, true)).toBe(BigInt(PROGRAM.length));
    expect(h.mem.view(st, 144).getUint32(24, true)).toBe(0o100755);
  });
});

describe('errors', () => {
  it('EBADF for descriptors that are not open or not open for the operation', () => {
    const buf = h.mem.alloc(8);
    for (const name of ['read', 'write', 'pread64']) expect(h.call(name, 99, buf, 1, 0)).toBe(-E.EBADF);
    expect(h.call('fstat', 99, buf)).toBe(-E.EBADF);
    expect(h.call('lseek', 99, 0, 0)).toBe(-E.EBADF);
    expect(h.call('close', -1)).toBe(-E.EBADF);
    expect(h.call('getdents64', 99, buf, 100)).toBe(-E.EBADF);
    expect(h.call('write', h.open('/etc/hello.txt'), buf, 1)).toBe(-E.EBADF);
    expect(h.call('read', 1, buf, 1)).toBe(-E.EBADF); // stdout is write-only
  });

  it('ENOENT, ENOTDIR, ELOOP, EISDIR, ENAMETOOLONG from lookups and opens', () => {
    expect(h.open('/nope')).toBe(-E.ENOENT);
    expect(h.open('/nope/x')).toBe(-E.ENOENT);
    expect(h.open('')).toBe(-E.ENOENT);
    expect(h.open('/etc/hello.txt/x')).toBe(-E.ENOTDIR);
    expect(h.open('/etc/hello.txt/')).toBe(-E.ENOTDIR);
    expect(h.open('/loop1')).toBe(-E.ELOOP);
    expect(h.open('/dir/link', O.NOFOLLOW)).toBe(-E.ELOOP);
    expect(h.open('/etc/hello.txt', O.DIRECTORY)).toBe(-E.ENOTDIR);
    expect(h.open('/dir', O.WRONLY)).toBe(-E.EISDIR);
    expect(h.open('/' + 'x'.repeat(300))).toBe(-E.ENAMETOOLONG);
    expect(h.open('/' + 'x/'.repeat(2100))).toBe(-E.ENAMETOOLONG);
    const d = h.open('/dir', O.DIRECTORY);
    expect(d).toBeGreaterThan(2);
    expect(h.read(d, 10)).toBe(-E.EISDIR);
  });

  it('writes and creates in the overlay (after EEXIST, EISDIR, ENOENT as Linux orders them); the root is unchanged', () => {
    const w = h.open('/etc/hello.txt', O.RDWR);
    expect(w).toBeGreaterThanOrEqual(0);
    expect(h.call('write', w, h.mem.put(new TextEncoder().encode('J')), 1)).toBe(1);
    expect(h.text(h.open('/etc/hello.txt'), 5)).toBe('Jello');
    expect(h.open('/etc/new.txt', O.WRONLY | O.CREAT)).toBeGreaterThanOrEqual(0);
    expect(h.open('/etc/hello.txt', O.WRONLY | O.CREAT | O.EXCL)).toBe(-E.EEXIST);
    expect(h.open('/nodir/new.txt', O.WRONLY | O.CREAT)).toBe(-E.ENOENT);
    expect(h.open('/dir', O.RDONLY | O.CREAT)).toBe(-E.EISDIR);
    expect(h.open('/nodir/new/', O.WRONLY | O.CREAT)).toBe(-E.ENOENT);
    expect(h.open('/etc/newdir/', O.WRONLY | O.CREAT)).toBe(-E.EISDIR);
    expect(h.open('/etc', O.TMPFILE | O.RDWR)).toBeGreaterThanOrEqual(0);
    expect(h.open('/etc', O.TMPFILE)).toBe(-E.EINVAL);
    expect(h.open('/usr/bin/prog', O.WRONLY)).toBe(-E.ETXTBSY); // the running program
    expect(h.open('/proc/new', O.WRONLY | O.CREAT)).toBe(-E.EROFS);
    expect(h.open('/etc/big.bin', O.RDONLY | O.TRUNC)).toBeGreaterThanOrEqual(0);
    expect(h.call('creat', h.mem.put('/etc/x'), 0o644)).toBeGreaterThanOrEqual(0);
    expect(h.call('access', h.mem.put('/etc/hello.txt'), 2)).toBe(0);
    expect(fs.readFileSync(path.join(fx.root, 'etc', 'hello.txt'), 'latin1')).toBe(HELLO);
    expect(fs.statSync(path.join(fx.root, 'etc', 'big.bin')).size).toBe(10000);
    expect(fs.readdirSync(path.join(fx.root, 'etc')).sort()).toEqual(['big.bin', 'hello.txt']);
  });

  it('EFAULT for bad pointers, without consuming the data', () => {
    const fd = h.open('/etc/hello.txt');
    expect(h.call('read', fd, HOLE, 5)).toBe(-E.EFAULT);
    expect(h.call('read', fd, READ_ONLY, 5)).toBe(-E.EFAULT);
    expect(h.text(fd, 5)).toBe('hello'); // the position did not move
    expect(h.call('openat', -100, HOLE, 0, 0)).toBe(-E.EFAULT);
    expect(h.call('fstat', fd, HOLE)).toBe(-E.EFAULT);
    expect(h.call('write', 1, HOLE, 4)).toBe(-E.EFAULT);
    expect(h.call('read', fd, HOLE, 0)).toBe(0);
    expect(h.call('getcwd', HOLE, 100)).toBe(-E.EFAULT);
    expect(h.call('clock_gettime', 0, HOLE)).toBe(-E.EFAULT);
    expect(h.call('uname', READ_ONLY)).toBe(-E.EFAULT);
  });

  it('EMFILE when the descriptor limit is reached', () => {
    const lim = h.mem.put(new Uint8Array(new BigUint64Array([5n, 5n]).buffer));
    expect(h.call('prlimit64', 0, 7, lim, 0)).toBe(0);
    expect(h.open('/etc/hello.txt')).toBe(3);
    expect(h.open('/etc/hello.txt')).toBe(4);
    expect(h.open('/etc/hello.txt')).toBe(-E.EMFILE);
    expect(h.open('/nope')).toBe(-E.EMFILE);
    expect(h.call('dup', 0)).toBe(-E.EMFILE);
  });
});

describe('path confinement', () => {
  it('resolves ".." at the root to the root', () => {
    expect(h.text(h.open('/../../../etc/hello.txt'))).toBe(HELLO);
    expect(h.text(h.open('/etc/../../etc/./hello.txt'))).toBe(HELLO);
  });

  it('resolves symlinks inside the root, never on the host', () => {
    expect(h.text(h.open('/dir/link'))).toBe('A');
    expect(h.text(h.open('/abs'))).toBe(HELLO); // absolute target: from the guest root
    expect(h.text(h.open('/dir/up'))).toBe(HELLO); // "../../../../etc/hello.txt" stops at the root
    expect(fs.existsSync(path.join(fx.outside, 'secret.txt'))).toBe(true);
    expect(h.open('/escape')).toBe(-E.ENOENT); // a host path outside the root means nothing in the guest
    expect(h.open('/escape-rel')).toBe(-E.ENOENT);
    const buf = h.mem.alloc(256);
    const n = h.call('readlink', h.mem.put('/escape'), buf, 256);
    expect(Buffer.from(h.mem.bytes(buf, n)).toString()).toBe(path.join(fx.outside, 'secret.txt'));
  });

  it('relative paths start at the working directory; chdir, fchdir, getcwd', () => {
    const buf = h.mem.alloc(64);
    expect(h.call('getcwd', buf, 64)).toBe(2);
    expect(h.call('chdir', h.mem.put('/dir/sub/..'))).toBe(0);
    expect(h.call('getcwd', buf, 64)).toBe(5);
    expect(Buffer.from(h.mem.bytes(buf, 5)).toString()).toBe('/dir\0');
    expect(h.call('getcwd', buf, 4)).toBe(-E.ERANGE);
    expect(h.text(h.open('b'))).toBe('BB');
    expect(h.text(h.open('../etc/hello.txt'))).toBe(HELLO);
    expect(h.call('chdir', h.mem.put('/etc/hello.txt'))).toBe(-E.ENOTDIR);
    expect(h.call('chdir', h.mem.put('/nope'))).toBe(-E.ENOENT);
    const etc = h.open('/etc', O.DIRECTORY);
    expect(h.call('fchdir', etc)).toBe(0);
    expect(h.text(h.open('hello.txt'))).toBe(HELLO);
    expect(h.call('fchdir', h.open('/etc/hello.txt'))).toBe(-E.ENOTDIR);
    // openat relative to a directory descriptor
    const d = h.open('/dir', O.DIRECTORY);
    expect(h.text(h.call('openat', d, h.mem.put('a'), 0, 0))).toBe('A');
    expect(h.call('openat', h.open('/etc/hello.txt'), h.mem.put('a'), 0, 0)).toBe(-E.ENOTDIR);
    expect(h.call('openat', 77, h.mem.put('a'), 0, 0)).toBe(-E.EBADF);
  });
});

describe('writes', () => {
  it('passes stdout and stderr bytes through unchanged', () => {
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0x0a, 0x80]);
    expect(h.call('write', 1, h.mem.put(bytes), bytes.length)).toBe(6);
    expect(h.call('write', 2, h.mem.put('err'), 3)).toBe(3);
    expect(h.call('write', 1, h.mem.alloc(1), 0)).toBe(0);
    expect(new Uint8Array(fs.readFileSync(h.stdoutPath))).toEqual(bytes);
    expect(fs.readFileSync(h.stderrPath, 'latin1')).toBe('err');
  });

  it('writev gathers buffers; pwrite64 to a stdout that is a file writes at the offset', () => {
    const a = h.mem.put('abc'), b = h.mem.put('defg');
    const iov = h.mem.put(new Uint8Array(new BigUint64Array([a, 3n, b, 4n]).buffer));
    expect(h.call('writev', 1, iov, 2)).toBe(7);
    expect(h.call('pwrite64', 1, h.mem.put('XY'), 2, 1)).toBe(2);
    expect(h.stdout()).toBe('aXYdefg');
  });

  it('dup2 onto stdout redirects writes; dup3 and fcntl flags', () => {
    const pipe = h.mem.alloc(8);
    expect(h.call('pipe2', pipe, O.CLOEXEC)).toBe(0);
    const [r, w] = [h.mem.view(pipe, 8).getInt32(0, true), h.mem.view(pipe, 8).getInt32(4, true)];
    expect([r, w]).toEqual([3, 4]);
    expect(h.call('fcntl', r, 1)).toBe(1); // FD_CLOEXEC
    expect(h.call('dup2', w, 1)).toBe(1);
    expect(h.call('fcntl', 1, 1)).toBe(0); // dup2 clears FD_CLOEXEC
    expect(h.call('write', 1, h.mem.put('piped'), 5)).toBe(5);
    expect(h.text(r)).toBe('piped');
    expect(h.stdout()).toBe('');
    expect(h.call('dup3', 1, 1, 0)).toBe(-E.EINVAL);
    expect(h.call('dup2', 1, 1)).toBe(1);
    expect(h.call('dup2', 99, 1)).toBe(-E.EBADF);
    expect(h.call('dup3', 0, 9, O.CLOEXEC)).toBe(9);
    expect(h.call('fcntl', 9, 1)).toBe(1);
    expect(h.call('fcntl', 0, 0, 20)).toBe(20); // F_DUPFD: lowest >= 20
    expect(h.call('fcntl', 0, 3)).toBe(O.RDONLY | O.LARGEFILE);
    expect(h.call('fcntl', 0, 4, O.NONBLOCK | O.WRONLY)).toBe(0);
    expect(h.call('fcntl', 0, 3)).toBe(O.RDONLY | O.LARGEFILE | O.NONBLOCK); // access mode unchanged
    expect(h.call('fcntl', 0, 999)).toBe(-E.EINVAL);
  });

  it('pipes: EAGAIN when empty with a writer, 0 at end of file, SIGPIPE or EPIPE without readers', () => {
    const pipe = h.mem.alloc(8);
    expect(h.call('pipe', pipe)).toBe(0);
    const r = h.mem.view(pipe, 8).getInt32(0, true), w = h.mem.view(pipe, 8).getInt32(4, true);
    expect(h.read(r, 10)).toBe(-E.EAGAIN);
    expect(h.call('write', w, h.mem.put('xyz'), 3)).toBe(3);
    expect(h.call('read', r, HOLE, 3)).toBe(-E.EFAULT);
    expect(h.text(r, 2)).toBe('xy'); // the faulting read lost nothing
    expect(h.call('close', w)).toBe(0);
    expect(h.text(r)).toBe('z');
    expect(h.read(r, 10)).toEqual(new Uint8Array(0));
    expect(h.call('lseek', r, 0, 0)).toBe(-E.ESPIPE);
    expect(h.call('pipe', pipe)).toBe(0);
    const r2 = h.mem.view(pipe, 8).getInt32(0, true), w2 = h.mem.view(pipe, 8).getInt32(4, true);
    expect(h.call('close', r2)).toBe(0);
    expect(h.sys('write', w2, h.mem.put('x'), 1)).toEqual({ kind: 'exit', status: 128 + 13, signal: 13 });
    const ign = h.mem.put(new Uint8Array(new BigUint64Array([1n, 0n, 0n, 0n]).buffer)); // SIG_IGN
    expect(h.call('rt_sigaction', 13, ign, 0, 8)).toBe(0);
    expect(h.call('write', w2, h.mem.put('x'), 1)).toBe(-E.EPIPE);
    expect(h.call('pipe2', pipe, 0x40)).toBe(-E.EINVAL);
    expect(h.call('pipe', HOLE)).toBe(-E.EFAULT);
  });

  it('/dev/null, /dev/zero and /dev/urandom are character devices that can be opened for writing', () => {
    const n = h.open('/dev/null', O.RDWR);
    expect(n).toBeGreaterThan(2);
    expect(h.read(n, 10)).toEqual(new Uint8Array(0));
    expect(h.call('write', n, h.mem.put('zz'), 2)).toBe(2);
    expect(h.read(h.open('/dev/zero'), 4)).toEqual(new Uint8Array(4));
    const u = h.read(h.open('/dev/urandom'), 16);
    expect(u).toBeInstanceOf(Uint8Array);
    expect(h.events.last('read')).toEqual(u);
  });
});

describe('ioctl', () => {
  it('ENOTTY for terminal requests on a non-terminal; generic requests work on any descriptor', () => {
    const buf = h.mem.alloc(64);
    expect(h.call('ioctl', 1, 0x5401, buf)).toBe(-E.ENOTTY); // TCGETS
    expect(h.call('ioctl', 1, 0x5413, buf)).toBe(-E.ENOTTY); // TIOCGWINSZ
    expect(h.call('ioctl', 99, 0x5401, buf)).toBe(-E.EBADF);
    expect(h.call('ioctl', 1, 0x5451, 0)).toBe(0); // FIOCLEX
    expect(h.call('fcntl', 1, 1)).toBe(1);
    const fd = h.open('/etc/hello.txt');
    expect(h.call('ioctl', fd, 0x541b, buf)).toBe(0); // FIONREAD
    expect(h.mem.view(buf, 4).getInt32(0, true)).toBe(HELLO.length);
  });

  it('answers as a 24x80 terminal when the host stream is a tty', () => {
    h.close();
    h = new Harness(fx, { isatty: { stdin: true, stdout: true, stderr: true } });
    const buf = h.mem.alloc(64);
    expect(h.call('ioctl', 1, 0x5401, buf)).toBe(0);
    expect(h.mem.view(buf, 36).getUint32(12, true) & 2).toBe(2); // ICANON
    expect(h.call('ioctl', 1, 0x5413, buf)).toBe(0);
    expect([h.mem.view(buf, 8).getUint16(0, true), h.mem.view(buf, 8).getUint16(2, true)]).toEqual([24, 80]);
    expect(h.call('ioctl', 1, 0x5401, HOLE)).toBe(-E.EFAULT);
    expect(h.call('fcntl', 1, 3) & 3).toBe(O.RDWR);
  });
});
