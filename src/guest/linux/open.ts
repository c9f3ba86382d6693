// open, openat, creat on the read-only file system: anything that would write or create fails as Linux fails
// it on a read-only mount (EROFS), after the checks Linux makes first (ENOENT, ENOTDIR, EEXIST, EISDIR, ELOOP).
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_FDCWD, baseDir } from './at-path.js';
import { hostPath } from './byte-string.js';
import { E, err, hostErrno } from './errno.js';
import { S_IFMT, S_IFREG } from './file-stat.js';
import { type FsNode, isDir, isSymlink } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { O, type OpenFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';

/** Flags that are not kept in the description (F_GETFL does not show them). */
const OPEN_ONLY = O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC;

/** Opens `node` (an existing file) with `flags`; the description, or an errno. */
function openNode(node: FsNode, flags: number): OpenFile | number {
  const acc = flags & O.ACCMODE;
  const writes = acc !== O.RDONLY;
  const kept = (flags & ~OPEN_ONLY) | O.LARGEFILE;
  if ((flags & O.PATH) !== 0) {
    if ((flags & O.DIRECTORY) !== 0 && !isDir(node)) return E.ENOTDIR;
    return { kind: 'path', node, refs: 0, flags: flags & (O.PATH | O.DIRECTORY | O.NOFOLLOW | O.LARGEFILE) };
  }
  if (isSymlink(node)) return E.ELOOP; // O_NOFOLLOW (or O_CREAT|O_EXCL, checked before)
  if ((flags & O.CREAT) !== 0 && isDir(node)) return E.EISDIR;
  if ((flags & O.DIRECTORY) !== 0 && !isDir(node)) return E.ENOTDIR;
  if (isDir(node)) return writes ? E.EISDIR : { kind: 'dir', node, refs: 0, flags: kept, offset: 0n, entries: undefined };
  const v = node.virt;
  if (v?.type === 'device') return { kind: 'device', node, device: v.device, refs: 0, flags: kept };
  if ((node.stat.mode & S_IFMT) !== S_IFREG) return E.EACCES; // host fifos, sockets, devices: not exposed
  if (writes || (flags & O.TRUNC) !== 0) return E.EROFS;
  if (v?.type === 'file') return { kind: 'file', node, hostFd: undefined, bytes: v.bytes, offset: 0n, refs: 0, flags: kept };
  if (node.host === undefined) return E.ENOENT;
  try {
    const hostFd = fs.openSync(hostPath(node.host), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return { kind: 'file', node, hostFd, bytes: undefined, offset: 0n, refs: 0, flags: kept };
  } catch (x) {
    const e = hostErrno(x);
    if (e === undefined) throw x;
    return e;
  }
}

/** openat(2): the new descriptor or -errno. */
export function openAt(p: LinuxProcess, dirfd: number, pathAddr: bigint, flags: number): bigint {
  const path = readPath(p.mem, pathAddr);
  if (typeof path === 'number') return err(path);
  if (!hasFreeFd(p)) return err(E.EMFILE);
  if (path.length === 0) return err(E.ENOENT);
  const base = baseDir(p, dirfd, path);
  if (typeof base === 'number') return err(base);
  if ((flags & O.TMPFILE) === O.TMPFILE) {
    if ((flags & O.ACCMODE) === O.RDONLY) return err(E.EINVAL);
    const d = p.fs.lookup(base, path, true);
    if (d.kind !== 'found') return err(d.kind === 'error' ? d.errno : E.ENOENT);
    return err(isDir(d.node) ? E.EROFS : E.ENOTDIR);
  }
  const creatExcl = (flags & (O.CREAT | O.EXCL)) === (O.CREAT | O.EXCL);
  const follow = (flags & O.NOFOLLOW) === 0 && !creatExcl;
  const l = p.fs.lookup(base, path, follow);
  if (l.kind === 'error') return err(l.errno);
  if (l.kind === 'missing') {
    if ((flags & O.CREAT) === 0) return err(E.ENOENT);
    return err(l.trailingSlash ? E.EISDIR : E.EROFS);
  }
  if (creatExcl) return err(E.EEXIST);
  const f = openNode(l.node, flags);
  if (typeof f === 'number') return err(f);
  const fd = p.fds.alloc(f, (flags & O.CLOEXEC) !== 0, p.fdLimit());
  return BigInt(fd);
}

/** Whether a descriptor is free below the limit (Linux takes one before the lookup: EMFILE comes first). */
function hasFreeFd(p: LinuxProcess): boolean {
  const limit = p.fdLimit();
  for (let fd = 0; fd < limit; fd++) if (p.fds.get(fd) === undefined) return true;
  return false;
}

export const openSyscalls: HandlerGroup = {
  open: (p, a: Args) => openAt(p, AT_FDCWD, u64(a, 0), int(a, 1)),
  openat: (p, a) => openAt(p, int(a, 0), u64(a, 1), int(a, 2)),
  creat: (p, a) => openAt(p, AT_FDCWD, u64(a, 0), O.CREAT | O.WRONLY | O.TRUNC),
};
