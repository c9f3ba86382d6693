// Path arguments of the *at() calls: a path relative to a directory descriptor (or AT_FDCWD).
import type { ByteString } from './byte-string.js';
import { E } from './errno.js';
import { type FsNode, type Lookup, isDir } from './fs-view.js';
import type { OpenFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EACCESS = 0x200;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;

/** The file system node an open file refers to, if any. */
export function fileNode(f: OpenFile): FsNode | undefined {
  return f.kind === 'file' || f.kind === 'dir' || f.kind === 'device' || f.kind === 'path' ? f.node : undefined;
}

/** The directory relative paths start from: the cwd or `dirfd`'s directory; an errno (EBADF, ENOTDIR). */
export function baseDir(p: LinuxProcess, dirfd: number, path: ByteString): ByteString | number {
  if (path.startsWith('/') || dirfd === AT_FDCWD) return p.cwd;
  const e = p.fds.get(dirfd);
  if (e === undefined) return E.EBADF;
  const n = fileNode(e.file);
  return n !== undefined && isDir(n) ? n.path : E.ENOTDIR;
}

/** Reads the path at `addr` and looks it up relative to `dirfd`. */
export function lookupAt(p: LinuxProcess, dirfd: number, addr: bigint, follow: boolean): Lookup {
  const path = readPath(p.mem, addr);
  if (typeof path === 'number') return { kind: 'error', errno: path };
  return lookupPathAt(p, dirfd, path, follow);
}

export function lookupPathAt(p: LinuxProcess, dirfd: number, path: ByteString, follow: boolean): Lookup {
  if (path.length === 0) return { kind: 'error', errno: E.ENOENT };
  const base = baseDir(p, dirfd, path);
  if (typeof base === 'number') return { kind: 'error', errno: base };
  return p.fs.lookup(base, path, follow);
}

/** The node of an existing file, or an errno (ENOENT for a missing last component). */
export function foundNode(l: Lookup): FsNode | number {
  return l.kind === 'found' ? l.node : l.kind === 'missing' ? E.ENOENT : l.errno;
}
