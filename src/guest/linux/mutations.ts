// Calls that change the file system (mkdir, unlink, rename, chmod, truncate, ...): the root is mounted read-only,
// so they fail as Linux fails them on a read-only mount: EROFS, after the lookup errors (ENOENT, ENOTDIR, ELOOP)
// and, for calls that create a name, after EEXIST. Also the harmless fd calls: fsync, fadvise64, flock.
import { type Args, i64, int, u64 } from './args.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, foundNode, lookupAt } from './at-path.js';
import { E, err } from './errno.js';
import { isDir } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';

const AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400;

/** A call that creates the name at `addr`: EEXIST if it exists, EROFS if it could be created. */
function create(p: LinuxProcess, dirfd: number, addr: bigint): bigint {
  const l = lookupAt(p, dirfd, addr, false);
  if (l.kind === 'error') return err(l.errno);
  return err(l.kind === 'found' ? E.EEXIST : E.EROFS);
}

/** A call that removes or renames the name at `addr`: its parent must resolve, then EROFS. */
function remove(p: LinuxProcess, dirfd: number, addr: bigint): bigint {
  const l = lookupAt(p, dirfd, addr, false);
  return err(l.kind === 'error' ? l.errno : E.EROFS);
}

/** A call that changes an existing file (chmod, chown, utimes, truncate): ENOENT if missing, then EROFS. */
function change(p: LinuxProcess, dirfd: number, addr: bigint, follow: boolean, flags = 0): bigint {
  if ((flags & AT_EMPTY_PATH) !== 0) {
    const path = readPath(p.mem, addr);
    if (path === '' || addr === 0n) return onFd(p, dirfd);
  }
  const n = foundNode(lookupAt(p, dirfd, addr, follow));
  return err(typeof n === 'number' ? n : E.EROFS);
}

/** fchmod, fchown and the like on a descriptor: EROFS for root files, accepted for pipes and streams. */
function onFd(p: LinuxProcess, fd: number): bigint {
  if (fd === AT_FDCWD) return err(E.EROFS);
  const e = p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
  return e.file.kind === 'file' || e.file.kind === 'dir' ? err(E.EROFS) : 0n;
}

function linkat(p: LinuxProcess, olddirfd: number, oldAddr: bigint, newdirfd: number, newAddr: bigint, flags: number): bigint {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return err(E.EINVAL);
  const old = foundNode(lookupAt(p, olddirfd, oldAddr, (flags & AT_SYMLINK_FOLLOW) !== 0));
  if (typeof old === 'number') return err(old);
  if (isDir(old)) return err(E.EPERM);
  return create(p, newdirfd, newAddr);
}

function symlinkat(p: LinuxProcess, targetAddr: bigint, newdirfd: number, linkAddr: bigint): bigint {
  const target = readPath(p.mem, targetAddr);
  if (typeof target === 'number') return err(target);
  if (target.length === 0) return err(E.ENOENT);
  return create(p, newdirfd, linkAddr);
}

function renameat2(p: LinuxProcess, a: Args, flags: number): bigint {
  if ((flags & ~7) !== 0) return err(E.EINVAL);
  const from = remove(p, int(a, 0), u64(a, 1));
  if (from !== err(E.EROFS)) return from;
  return remove(p, int(a, 2), u64(a, 3));
}

function unlinkat(p: LinuxProcess, dirfd: number, addr: bigint, flags: number): bigint {
  if ((flags & ~AT_REMOVEDIR) !== 0) return err(E.EINVAL);
  return remove(p, dirfd, addr);
}

function truncate(p: LinuxProcess, addr: bigint, length: bigint): bigint {
  if (length < 0n) return err(E.EINVAL);
  const n = foundNode(lookupAt(p, AT_FDCWD, addr, true));
  if (typeof n === 'number') return err(n);
  return err(isDir(n) ? E.EISDIR : E.EROFS);
}

function ftruncate(p: LinuxProcess, fd: number, length: bigint): bigint {
  const e = p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
  if (length < 0n) return err(E.EINVAL);
  return err(E.EINVAL); // no descriptor is both a regular file and open for writing
}

function fdCheck(p: LinuxProcess, fd: number, pipeErr: number): bigint {
  const e = p.fds.get(fd);
  if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
  return e.file.kind === 'pipe' ? err(pipeErr) : 0n;
}

const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

export const mutationSyscalls: HandlerGroup = {
  mkdir: (p, a) => create(p, AT_FDCWD, u64(a, 0)),
  mkdirat: (p, a) => create(p, int(a, 0), u64(a, 1)),
  mknod: (p, a) => create(p, AT_FDCWD, u64(a, 0)),
  mknodat: (p, a) => create(p, int(a, 0), u64(a, 1)),
  symlink: (p, a) => symlinkat(p, u64(a, 0), AT_FDCWD, u64(a, 1)),
  symlinkat: (p, a) => symlinkat(p, u64(a, 0), int(a, 1), u64(a, 2)),
  link: (p, a) => linkat(p, AT_FDCWD, u64(a, 0), AT_FDCWD, u64(a, 1), 0),
  linkat: (p, a) => linkat(p, int(a, 0), u64(a, 1), int(a, 2), u64(a, 3), int(a, 4)),
  unlink: (p, a) => unlinkat(p, AT_FDCWD, u64(a, 0), 0),
  rmdir: (p, a) => unlinkat(p, AT_FDCWD, u64(a, 0), AT_REMOVEDIR),
  unlinkat: (p, a) => unlinkat(p, int(a, 0), u64(a, 1), int(a, 2)),
  rename: (p, a) => renameat2(p, [BigInt(AT_FDCWD), a[0] ?? 0n, BigInt(AT_FDCWD), a[1] ?? 0n], 0),
  renameat: (p, a) => renameat2(p, a, 0),
  renameat2: (p, a) => renameat2(p, a, int(a, 4)),
  chmod: (p, a) => change(p, AT_FDCWD, u64(a, 0), true),
  fchmodat: (p, a) => change(p, int(a, 0), u64(a, 1), true),
  chown: (p, a) => change(p, AT_FDCWD, u64(a, 0), true),
  lchown: (p, a) => change(p, AT_FDCWD, u64(a, 0), false),
  fchownat: (p, a) => change(p, int(a, 0), u64(a, 1), (int(a, 4) & AT_SYMLINK_NOFOLLOW) === 0, int(a, 4)),
  utimensat: (p, a) => (u64(a, 1) === 0n ? onFd(p, int(a, 0)) : change(p, int(a, 0), u64(a, 1), (int(a, 3) & AT_SYMLINK_NOFOLLOW) === 0)),
  utimes: (p, a) => change(p, AT_FDCWD, u64(a, 0), true),
  utime: (p, a) => change(p, AT_FDCWD, u64(a, 0), true),
  futimesat: (p, a) => change(p, int(a, 0), u64(a, 1), true),
  truncate: (p, a) => truncate(p, u64(a, 0), i64(a, 1)),
  fchmod: (p, a) => onFd(p, int(a, 0)),
  fchown: (p, a) => onFd(p, int(a, 0)),
  ftruncate: (p, a) => ftruncate(p, int(a, 0), i64(a, 1)),
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
