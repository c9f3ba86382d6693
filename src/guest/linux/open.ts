// open, openat, creat. Opening a host file for writing (or with O_TRUNC) opens its copy in the overlay (see
// overlay.ts), O_CREAT makes the file there; the checks Linux makes first come first (ENOENT, ENOTDIR, EEXIST,
// EISDIR, ELOOP). Without a host root (only virtual files) nothing can be written: EROFS.
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_FDCWD, baseDir } from './at-path.js';
import { type ByteString, hostPath } from './byte-string.js';
import { E, err, hostErrno } from './errno.js';
import { S_IFMT, S_IFREG, fromHostStats } from './file-stat.js';
import { hostCall } from './overlay.js';
import { type FsNode, isDir, isSymlink } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { O, type OpenFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';

/** Flags that are not kept in the description (F_GETFL does not show them). */
const OPEN_ONLY = O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC;

/** Opens a host file for the guest (never following a final symlink); its fd or an errno. */
function hostOpen(host: ByteString, flags: number, mode = 0): number | { errno: number } {
  return hostCall(() => fs.openSync(hostPath(host), flags | fs.constants.O_NOFOLLOW, mode));
}

/** Host open(2) flags of a guest open that writes (the guest's own position and O_APPEND are kept here). */
function writeFlags(flags: number): number {
  const acc = flags & O.ACCMODE;
  return (acc === O.WRONLY ? fs.constants.O_WRONLY : fs.constants.O_RDWR) | ((flags & O.TRUNC) !== 0 ? fs.constants.O_TRUNC : 0);
}

/** Opens an existing host file for writing: through its copy in the overlay (or the host's own under --rw). */
function openForWriting(p: LinuxProcess, node: FsNode, flags: number, kept: number): OpenFile | number {
  if (node.virt !== undefined) return node.path === p.programPath ? E.ETXTBSY : E.EACCES; // a running program, /proc files
  if (node.host === undefined || p.fs.overlay === undefined) return E.EROFS;
  const denied = hostCall(() => fs.accessSync(hostPath(node.host as ByteString), fs.constants.W_OK));
  if (denied !== undefined) return denied.errno;
  const t = p.fs.overlay.copyUp(node.path, node.host);
  if (typeof t === 'number') return t;
  const fd = hostOpen(t.host, writeFlags(flags));
  if (typeof fd === 'object') return fd.errno;
  const acc = flags & O.ACCMODE;
  const access = acc === O.RDONLY ? (kept & ~O.ACCMODE) | O.RDONLY : kept; // O_RDONLY|O_TRUNC: truncated, read-only
  return { kind: 'file', node: { ...node, host: t.host }, hostFd: fd, bytes: undefined, offset: 0n, refs: 0, flags: access };
}

/** Makes a regular file named `name` in the existing directory `dir` and opens it; the description or an errno. */
function createFile(p: LinuxProcess, dir: ByteString, name: ByteString, flags: number, mode: number): OpenFile | number {
  const d = p.fs.lookup('/', dir, false);
  if (d.kind !== 'found') return d.kind === 'error' ? d.errno : E.ENOENT;
  if (!p.fs.changeable(d.node) || p.fs.overlay === undefined) return E.EROFS;
  const denied = hostCall(() => fs.accessSync(hostPath(d.node.host as ByteString), fs.constants.W_OK | fs.constants.X_OK));
  if (denied !== undefined) return denied.errno;
  const t = p.fs.overlay.directoryFor(d.node.path);
  if (typeof t === 'number') return t;
  const host = t.host + '/' + name;
  const perm = mode & 0o7777 & ~p.umask;
  const fd = hostOpen(host, writeFlags(flags | O.RDWR) | fs.constants.O_CREAT | fs.constants.O_EXCL, perm);
  if (typeof fd === 'object') return fd.errno;
  fs.fchmodSync(fd, perm); // the guest's umask, not the host's
  const guest = (dir === '/' ? '' : dir) + '/' + name;
  const node: FsNode = { path: guest, stat: fromHostStats(fs.fstatSync(fd, { bigint: true })), host };
  const kept = (flags & ~OPEN_ONLY) | O.LARGEFILE;
  return { kind: 'file', node, hostFd: fd, bytes: undefined, offset: 0n, refs: 0, flags: kept };
}

/** O_TMPFILE: an unnamed regular file in directory `dir` (it disappears with its last descriptor). */
function unnamedFile(p: LinuxProcess, dir: FsNode, flags: number, mode: number): OpenFile | number {
  if (!isDir(dir)) return E.ENOTDIR;
  if (!p.fs.changeable(dir) || p.fs.overlay === undefined) return E.EROFS;
  const host = p.fs.overlay.unnamedFile();
  const perm = mode & 0o7777 & ~p.umask;
  const fd = hostOpen(host, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, perm);
  if (typeof fd === 'object') return fd.errno;
  fs.unlinkSync(hostPath(host));
  const node: FsNode = { path: (dir.path === '/' ? '' : dir.path) + '/#' + fd, stat: fromHostStats(fs.fstatSync(fd, { bigint: true })) };
  const kept = (flags & ~(OPEN_ONLY | O.TMPFILE)) | O.LARGEFILE;
  return { kind: 'file', node, hostFd: fd, bytes: undefined, offset: 0n, refs: 0, flags: kept };
}

/** Opens `node` (an existing file) with `flags`; the description, or an errno. */
function openNode(p: LinuxProcess, node: FsNode, flags: number): OpenFile | number {
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
  if (v?.type === 'device' && v.device === 'tty') return E.ENXIO; // no controlling terminal
  if (v?.type === 'device') return { kind: 'device', node, device: v.device, refs: 0, flags: kept };
  if ((node.stat.mode & S_IFMT) !== S_IFREG) return E.EACCES; // host fifos, sockets, devices: not exposed
  if (writes || (flags & O.TRUNC) !== 0) return openForWriting(p, node, flags, kept);
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
export function openAt(p: LinuxProcess, dirfd: number, pathAddr: bigint, flags: number, mode: number): bigint {
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
    const f = unnamedFile(p, d.node, flags, mode);
    return typeof f === 'number' ? err(f) : BigInt(p.fds.alloc(f, (flags & O.CLOEXEC) !== 0, p.fdLimit()));
  }
  const creatExcl = (flags & (O.CREAT | O.EXCL)) === (O.CREAT | O.EXCL);
  const follow = (flags & O.NOFOLLOW) === 0 && !creatExcl;
  const l = p.fs.lookup(base, path, follow);
  if (l.kind === 'error') return err(l.errno);
  if (l.kind === 'missing') {
    if ((flags & O.CREAT) === 0) return err(E.ENOENT);
    if (l.trailingSlash) return err(E.EISDIR);
    const f = createFile(p, l.parent, l.name, flags, mode);
    return typeof f === 'number' ? err(f) : BigInt(p.fds.alloc(f, (flags & O.CLOEXEC) !== 0, p.fdLimit()));
  }
  if (creatExcl) return err(E.EEXIST);
  const f = openNode(p, l.node, flags);
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
  open: (p, a: Args) => openAt(p, AT_FDCWD, u64(a, 0), int(a, 1), int(a, 2)),
  openat: (p, a) => openAt(p, int(a, 0), u64(a, 1), int(a, 2), int(a, 3)),
  creat: (p, a) => openAt(p, AT_FDCWD, u64(a, 0), O.CREAT | O.WRONLY | O.TRUNC, int(a, 1)),
};
