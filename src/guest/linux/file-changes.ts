// Calls that change an existing file's contents or metadata (chmod, chown, utimes, truncate, fallocate) on its
// copy in the overlay (made on the first change) or, under --rw, on the host's file; and the fd calls that change
// nothing the guest can see (fsync, fadvise64, flock).
import * as fs from 'node:fs';
import { type Args, i64, int, u64 } from './args.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, fileNode, foundNode, lookupAt } from './at-path.js';
import { hostPath } from './byte-string.js';
import { E, err } from './errno.js';
import { isDir, isSymlink } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { writable } from './open-file.js';
import { hostCall } from './overlay.js';
import type { LinuxProcess } from './process.js';
import { readIn, readPath } from './user-memory.js';
import { nodeTarget } from './write-target.js';

/** A change made through a host path or, for a file open for writing, its host fd. */
interface Change {
  path(host: Buffer): void;
  fd?(hostFd: number): void;
}

function outcome(r: void | { errno: number } | undefined): bigint {
  return r === undefined ? 0n : err(r.errno);
}

/** Applies `c` to the file at `addr` (following a final symlink if `follow`). */
function onPath(p: LinuxProcess, dirfd: number, addr: bigint, follow: boolean, c: Change, flags = 0): bigint {
  if ((flags & AT_EMPTY_PATH) !== 0) {
    const path = readPath(p.mem, addr);
    if (addr === 0n || path === '') return onFd(p, dirfd, c);
  }
  const n = foundNode(lookupAt(p, dirfd, addr, follow));
  if (typeof n === 'number') return err(n);
  const t = nodeTarget(p, n);
  if (typeof t === 'number') return err(t);
  return outcome(hostCall(() => c.path(hostPath(t.host))));
}

/** Applies `c` to what descriptor `fd` refers to; pipes and terminals accept it and keep nothing. */
function onFd(p: LinuxProcess, fd: number, c: Change): bigint {
  const e = fd === AT_FDCWD ? undefined : p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') {
    if (fd !== AT_FDCWD) return err(E.EBADF);
    const n = foundNode(p.fs.lookup('/', p.cwd, true));
    if (typeof n === 'number') return err(n);
    const t = nodeTarget(p, n);
    return typeof t === 'number' ? err(t) : outcome(hostCall(() => c.path(hostPath(t.host))));
  }
  const f = e.file;
  if (f.kind === 'file' && f.hostFd !== undefined && writable(f) && c.fd !== undefined) {
    const fdChange = c.fd;
    const hostFd = f.hostFd;
    return outcome(hostCall(() => fdChange(hostFd)));
  }
  const n = fileNode(f);
  if (n === undefined || f.kind === 'device') return 0n;
  if (f.kind === 'file' && f.hostFd !== undefined && n.host === undefined) return outcome(hostCall(() => c.fd?.(f.hostFd as number)));
  const t = nodeTarget(p, n);
  return typeof t === 'number' ? err(t) : outcome(hostCall(() => c.path(hostPath(t.host))));
}

function chmod(mode: number): Change {
  const m = mode & 0o7777;
  return { path: (h) => fs.chmodSync(h, m), fd: (fd) => fs.fchmodSync(fd, m) };
}

function chown(uid: number, gid: number, follow: boolean): Change {
  return { path: (h) => (follow ? fs.chownSync(h, uid, gid) : fs.lchownSync(h, uid, gid)), fd: (fd) => fs.fchownSync(fd, uid, gid) };
}

const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

/** A time to set: ns since the epoch, or undefined to keep the file's. */
type NewTime = bigint | undefined;

function utimes(atime: NewTime, mtime: NewTime, follow: boolean): Change {
  const secs = (ns: bigint): number => Number(ns) / 1e9;
  const set = (old: fs.BigIntStats, apply: (a: number, m: number) => void): void =>
    apply(secs(atime ?? old.atimeNs), secs(mtime ?? old.mtimeNs));
  return {
    path: (h) => set(follow ? fs.statSync(h, { bigint: true }) : fs.lstatSync(h, { bigint: true }),
      (a, m) => (follow ? fs.utimesSync(h, a, m) : fs.lutimesSync(h, a, m))),
    fd: (fd) => set(fs.fstatSync(fd, { bigint: true }), (a, m) => fs.futimesSync(fd, a, m)),
  };
}

/** The two times of utimensat's `struct timespec[2]` (NULL: now); an errno for a bad one. */
function timespecs(p: LinuxProcess, addr: bigint): [NewTime, NewTime] | number {
  const now = p.clock.realtime();
  if (addr === 0n) return [now, now];
  const b = readIn(p.mem, addr, 32);
  if (b === undefined) return E.EFAULT;
  const v = new DataView(b.buffer, b.byteOffset);
  const one = (o: number): NewTime | number => {
    const sec = v.getBigInt64(o, true), nsec = v.getBigInt64(o + 8, true);
    if (nsec === BigInt(UTIME_NOW)) return now;
    if (nsec === BigInt(UTIME_OMIT)) return undefined;
    if (nsec < 0n || nsec > 999_999_999n) return E.EINVAL;
    return sec * 1_000_000_000n + nsec;
  };
  const a = one(0), m = one(16);
  if (typeof a === 'number' || typeof m === 'number') return E.EINVAL;
  return [a, m];
}

/** The two times of utimes' `struct timeval[2]` (NULL: now). */
function timevals(p: LinuxProcess, addr: bigint): [NewTime, NewTime] | number {
  const now = p.clock.realtime();
  if (addr === 0n) return [now, now];
  const b = readIn(p.mem, addr, 32);
  if (b === undefined) return E.EFAULT;
  const v = new DataView(b.buffer, b.byteOffset);
  const one = (o: number): bigint | number => {
    const usec = v.getBigInt64(o + 8, true);
    return usec < 0n || usec > 999_999n ? E.EINVAL : v.getBigInt64(o, true) * 1_000_000_000n + usec * 1000n;
  };
  const a = one(0), m = one(16);
  return typeof a === 'number' || typeof m === 'number' ? E.EINVAL : [a, m];
}

function utimensat(p: LinuxProcess, a: Args): bigint {
  const flags = int(a, 3);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return err(E.EINVAL);
  const t = timespecs(p, u64(a, 2));
  if (typeof t === 'number') return err(t);
  if (t[0] === undefined && t[1] === undefined) return 0n;
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  if (u64(a, 1) === 0n) return onFd(p, int(a, 0), utimes(t[0], t[1], true));
  return onPath(p, int(a, 0), u64(a, 1), follow, utimes(t[0], t[1], follow), flags);
}

function utimesCall(p: LinuxProcess, dirfd: number, pathAddr: bigint, timesAddr: bigint): bigint {
  const t = timevals(p, timesAddr);
  if (typeof t === 'number') return err(t);
  return onPath(p, dirfd, pathAddr, true, utimes(t[0], t[1], true));
}

/** utime(2): struct utimbuf { actime, modtime } in seconds (NULL: now). */
function utime(p: LinuxProcess, pathAddr: bigint, timesAddr: bigint): bigint {
  let t: [NewTime, NewTime] = [p.clock.realtime(), p.clock.realtime()];
  if (timesAddr !== 0n) {
    const b = readIn(p.mem, timesAddr, 16);
    if (b === undefined) return err(E.EFAULT);
    const v = new DataView(b.buffer, b.byteOffset);
    t = [v.getBigInt64(0, true) * 1_000_000_000n, v.getBigInt64(8, true) * 1_000_000_000n];
  }
  return onPath(p, AT_FDCWD, pathAddr, true, utimes(t[0], t[1], true));
}

function truncate(p: LinuxProcess, addr: bigint, length: bigint): bigint {
  if (length < 0n) return err(E.EINVAL);
  const n = foundNode(lookupAt(p, AT_FDCWD, addr, true));
  if (typeof n === 'number') return err(n);
  if (isDir(n)) return err(E.EISDIR);
  if (isSymlink(n) || n.virt !== undefined) return err(E.EINVAL);
  const t = nodeTarget(p, n);
  if (typeof t === 'number') return err(t);
  return outcome(hostCall(() => fs.truncateSync(hostPath(t.host), Number(length))));
}

/** The host fd of a regular file open for writing, or the errno ftruncate/fallocate give. */
function writableFile(p: LinuxProcess, fd: number, notWritable: number): number | { errno: number } {
  const e = p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') return { errno: E.EBADF };
  const f = e.file;
  if (f.kind === 'pipe') return { errno: f.end === 'write' || notWritable === E.EINVAL ? E.EINVAL : E.ESPIPE };
  if (f.kind !== 'file' || f.hostFd === undefined || !writable(f)) return { errno: writable(f) && f.kind !== 'file' ? E.EINVAL : notWritable };
  return f.hostFd;
}

function ftruncate(p: LinuxProcess, fd: number, length: bigint): bigint {
  const h = writableFile(p, fd, E.EINVAL);
  if (typeof h === 'object') return err(h.errno);
  if (length < 0n) return err(E.EINVAL);
  return outcome(hostCall(() => fs.ftruncateSync(h, Number(length))));
}

const FALLOC_FL_KEEP_SIZE = 1;

/** fallocate(2): the file is made at least offset+len long (mode 0); KEEP_SIZE changes nothing visible. */
function fallocate(p: LinuxProcess, fd: number, mode: number, offset: bigint, len: bigint): bigint {
  if (offset < 0n || len <= 0n) return err(E.EINVAL);
  const h = writableFile(p, fd, E.EBADF);
  if (typeof h === 'object') return err(h.errno);
  if (mode === FALLOC_FL_KEEP_SIZE) return 0n;
  if (mode !== 0) {
    p.unsupportedCall('EOPNOTSUPP', `mode ${mode}`);
    return err(E.EOPNOTSUPP);
  }
  return outcome(hostCall(() => {
    if (BigInt(fs.fstatSync(h).size) < offset + len) fs.ftruncateSync(h, Number(offset + len));
  }));
}

function fdCheck(p: LinuxProcess, fd: number, pipeErr: number): bigint {
  const e = p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
  return e.file.kind === 'pipe' ? err(pipeErr) : 0n;
}

const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

export const fileChangeSyscalls: HandlerGroup = {
  chmod: (p, a) => onPath(p, AT_FDCWD, u64(a, 0), true, chmod(int(a, 1))),
  fchmodat: (p, a) => onPath(p, int(a, 0), u64(a, 1), true, chmod(int(a, 2))),
  chown: (p, a) => onPath(p, AT_FDCWD, u64(a, 0), true, chown(int(a, 1), int(a, 2), true)),
  lchown: (p, a) => onPath(p, AT_FDCWD, u64(a, 0), false, chown(int(a, 1), int(a, 2), false)),
  fchownat: (p, a) => {
    const follow = (int(a, 4) & AT_SYMLINK_NOFOLLOW) === 0;
    return onPath(p, int(a, 0), u64(a, 1), follow, chown(int(a, 2), int(a, 3), follow), int(a, 4));
  },
  utimensat,
  utimes: (p, a) => utimesCall(p, AT_FDCWD, u64(a, 0), u64(a, 1)),
  futimesat: (p, a) => utimesCall(p, int(a, 0), u64(a, 1), u64(a, 2)),
  utime: (p, a) => utime(p, u64(a, 0), u64(a, 1)),
  truncate: (p, a) => truncate(p, u64(a, 0), i64(a, 1)),
  fchmod: (p, a) => onFd(p, int(a, 0), chmod(int(a, 1))),
  fchown: (p, a) => onFd(p, int(a, 0), chown(int(a, 1), int(a, 2), true)),
  ftruncate: (p, a) => ftruncate(p, int(a, 0), i64(a, 1)),
  fallocate: (p, a) => fallocate(p, int(a, 0), int(a, 1), i64(a, 2), i64(a, 3)),
  fsync: (p, a) => fdCheck(p, int(a, 0), E.EINVAL),
  fdatasync: (p, a) => fdCheck(p, int(a, 0), E.EINVAL),
  syncfs: (p, a) => fdCheck(p, int(a, 0), 0),
  sync: () => 0n,
  fadvise64: (p, a) => (int(a, 3) < 0 || int(a, 3) > 5 ? (p.fds.get(int(a, 0)) === undefined ? err(E.EBADF) : err(E.EINVAL)) : fdCheck(p, int(a, 0), E.ESPIPE)),
  flock: (p, a) => {
    const op = int(a, 1) & ~LOCK_NB;
    const r = fdCheck(p, int(a, 0), 0);
    if (r !== 0n) return r;
    return op === LOCK_SH || op === LOCK_EX || op === LOCK_UN ? 0n : err(E.EINVAL);
  },
};
