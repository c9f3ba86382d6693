// stat, lstat, fstat, newfstatat, statx. Host metadata is an input (the replay has no host files).
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, foundNode, lookupAt, lookupPathAt } from './at-path.js';
import { hostPath } from './byte-string.js';
import { E, err, hostErrno } from './errno.js';
import { type FileStat, S_IFCHR, S_IFIFO, fromHostStats, makedev } from './file-stat.js';
import type { FsNode } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { OpenFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { STATX_RESERVED, encodeStat, encodeStatx } from './stat-layout.js';
import { readPath, writeOut } from './user-memory.js';

/** Current metadata of a node (the host is asked again; virtual nodes are fixed). */
export function nodeStat(n: FsNode): FileStat | number {
  if (n.host === undefined) return n.stat;
  try {
    return fromHostStats(fs.lstatSync(hostPath(n.host), { bigint: true }));
  } catch (x) {
    const e = hostErrno(x);
    if (e === undefined) throw x;
    return e;
  }
}

/** A terminal's metadata when the host cannot say (a pseudo-terminal, /dev/pts/0). */
function ttyStat(p: LinuxProcess): FileStat {
  return {
    dev: makedev(0, 24), ino: 3n, mode: S_IFCHR | 0o620, nlink: 1n, uid: p.ids.uid, gid: 5, rdev: makedev(136, 0),
    size: 0n, blksize: 1024n, blocks: 0n, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: undefined,
  };
}

/** Metadata of what a descriptor refers to. */
export function openFileStat(p: LinuxProcess, f: OpenFile): FileStat | number {
  switch (f.kind) {
    case 'stream': {
      try {
        const s = fromHostStats(fs.fstatSync(f.hostFd, { bigint: true }));
        return f.tty && (s.mode & 0o170000) !== S_IFCHR ? ttyStat(p) : s;
      } catch (x) {
        const e = hostErrno(x);
        if (e === undefined) throw x;
        if (f.tty) return ttyStat(p);
        return e;
      }
    }
    case 'pipe':
      return {
        dev: makedev(0, 13), ino: f.ino, mode: S_IFIFO | 0o600, nlink: 1n, uid: p.ids.uid, gid: p.ids.gid, rdev: 0n,
        size: 0n, blksize: 4096n, blocks: 0n, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: undefined,
      };
    case 'anon':
      return {
        dev: makedev(0, 14), ino: f.ino, mode: f.anon.mode, nlink: 1n, uid: p.ids.uid, gid: p.ids.gid, rdev: 0n,
        size: 0n, blksize: 4096n, blocks: 0n, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: undefined,
      };
    case 'file':
      if (f.hostFd !== undefined) return fromHostStats(fs.fstatSync(f.hostFd, { bigint: true }));
      return f.node.stat;
    case 'dir': case 'device': case 'path':
      return nodeStat(f.node);
  }
}

/** Metadata of dirfd itself (AT_EMPTY_PATH with an empty path). */
function statOfDirfd(p: LinuxProcess, dirfd: number): FileStat | number {
  if (dirfd === AT_FDCWD) {
    const n = foundNode(p.fs.lookup('/', p.cwd, true));
    return typeof n === 'number' ? n : nodeStat(n);
  }
  const e = p.fds.get(dirfd);
  return e === undefined ? E.EBADF : openFileStat(p, e.file);
}

/** Metadata for a path argument with AT_* flags; an errno on failure. */
function statPath(p: LinuxProcess, dirfd: number, pathAddr: bigint, flags: number): FileStat | number {
  if ((flags & AT_EMPTY_PATH) !== 0 && pathAddr === 0n) return statOfDirfd(p, dirfd);
  const path = readPath(p.mem, pathAddr);
  if (typeof path === 'number') return path;
  if (path.length === 0) return (flags & AT_EMPTY_PATH) !== 0 ? statOfDirfd(p, dirfd) : E.ENOENT;
  const n = foundNode(lookupPathAt(p, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0));
  return typeof n === 'number' ? n : nodeStat(n);
}

/** Copies an encoded structure out and reports it. */
function deliver(p: LinuxProcess, s: FileStat | number, addr: bigint, encode: (s: FileStat) => Uint8Array): bigint {
  if (typeof s === 'number') return err(s);
  const bytes = encode(s);
  if (!writeOut(p.mem, addr, bytes)) return err(E.EFAULT);
  p.input(InputKind.STAT, bytes);
  return 0n;
}

function newfstatat(p: LinuxProcess, a: Args): bigint {
  const flags = int(a, 3);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) !== 0) return err(E.EINVAL);
  return deliver(p, statPath(p, int(a, 0), u64(a, 1), flags), u64(a, 2), encodeStat);
}

function statx(p: LinuxProcess, a: Args): bigint {
  const flags = int(a, 2), mask = uint32(a, 3);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) !== 0) return err(E.EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE || (mask & STATX_RESERVED) !== 0) return err(E.EINVAL);
  return deliver(p, statPath(p, int(a, 0), u64(a, 1), flags), u64(a, 4), encodeStatx);
}

function uint32(a: Args, i: number): number {
  return int(a, i) >>> 0;
}

export const statSyscalls: HandlerGroup = {
  stat: (p, a) => {
    const n = foundNode(lookupAt(p, AT_FDCWD, u64(a, 0), true));
    return deliver(p, typeof n === 'number' ? n : nodeStat(n), u64(a, 1), encodeStat);
  },
  lstat: (p, a) => {
    const n = foundNode(lookupAt(p, AT_FDCWD, u64(a, 0), false));
    return deliver(p, typeof n === 'number' ? n : nodeStat(n), u64(a, 1), encodeStat);
  },
  fstat: (p, a) => {
    const e = p.fds.get(int(a, 0));
    return deliver(p, e === undefined ? E.EBADF : openFileStat(p, e.file), u64(a, 1), encodeStat);
  },
  newfstatat,
  statx,
};

