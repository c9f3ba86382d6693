// readlink, readlinkat, and access, faccessat, faccessat2 (permission checks: the host's, except that virtual
// files and a process without a host root are read-only).
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, fileNode, foundNode, lookupPathAt } from './at-path.js';
import { bstrToBytes, hostPath } from './byte-string.js';
import { E, err, hostErrno } from './errno.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './file-stat.js';
import { type FsNode, isSymlink } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { readPath, writeOut } from './user-memory.js';

function readlinkAt(p: LinuxProcess, dirfd: number, pathAddr: bigint, buf: bigint, size: number): bigint {
  if (size <= 0) return err(E.EINVAL);
  const path = readPath(p.mem, pathAddr);
  if (typeof path === 'number') return err(path);
  let node: FsNode | number;
  if (path.length === 0) {
    // an O_PATH descriptor of a symlink names the link itself
    const e = dirfd === AT_FDCWD ? undefined : p.fds.get(dirfd);
    const n = e === undefined ? undefined : fileNode(e.file);
    node = n !== undefined && isSymlink(n) ? n : E.ENOENT;
  } else {
    node = foundNode(lookupPathAt(p, dirfd, path, false));
  }
  if (typeof node === 'number') return err(node);
  const target = p.fs.readlink(node);
  if (typeof target === 'number') return err(target);
  const bytes = bstrToBytes(target).subarray(0, size);
  if (!writeOut(p.mem, buf, bytes)) return err(E.EFAULT);
  p.input(InputKind.READLINK, bytes);
  return BigInt(bytes.length);
}

const R_OK = 4, W_OK = 2, X_OK = 1;

/** access(2) on one node: EROFS for writing a virtual file or without an overlay; the host decides the rest. */
function accessNode(p: LinuxProcess, node: FsNode, mode: number): number {
  const type = node.stat.mode & S_IFMT;
  const readOnly = p.fs.overlay === undefined || node.host === undefined || (node.virt !== undefined && node.virt.type !== 'dir');
  if ((mode & W_OK) !== 0 && readOnly && (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)) return E.EROFS;
  if ((mode & (R_OK | W_OK | X_OK)) === 0) return 0;
  if (node.virt !== undefined && node.host === undefined) {
    // virtual files: the program and directories are r-x for all, devices rw- for all
    const perm = node.stat.mode & 0o7;
    return (mode & ~perm & (R_OK | X_OK)) === 0 ? 0 : E.EACCES;
  }
  try {
    fs.accessSync(hostPath(node.host ?? ''), mode & (R_OK | W_OK | X_OK));
    return 0;
  } catch (x) {
    const e = hostErrno(x);
    if (e === undefined) throw x;
    return e;
  }
}

function faccessat(p: LinuxProcess, dirfd: number, pathAddr: bigint, mode: number, flags: number): bigint {
  if ((mode & ~(R_OK | W_OK | X_OK)) !== 0) return err(E.EINVAL);
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return err(E.EINVAL);
  const path = readPath(p.mem, pathAddr);
  if (typeof path === 'number') return err(path);
  let node: FsNode | number;
  if (path.length === 0 && (flags & AT_EMPTY_PATH) !== 0) {
    const n = dirfd === AT_FDCWD ? foundNode(p.fs.lookup('/', p.cwd, true)) : p.fds.get(dirfd);
    node = typeof n === 'number' ? n : n === undefined ? E.EBADF : 'file' in n ? fileNode(n.file) ?? E.EACCES : n;
  } else {
    node = foundNode(lookupPathAt(p, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0));
  }
  return typeof node === 'number' ? err(node) : -BigInt(accessNode(p, node, mode));
}

export const linkSyscalls: HandlerGroup = {
  readlink: (p, a: Args) => readlinkAt(p, AT_FDCWD, u64(a, 0), u64(a, 1), int(a, 2)),
  readlinkat: (p, a) => readlinkAt(p, int(a, 0), u64(a, 1), u64(a, 2), int(a, 3)),
  access: (p, a) => faccessat(p, AT_FDCWD, u64(a, 0), int(a, 1), 0),
  faccessat: (p, a) => faccessat(p, int(a, 0), u64(a, 1), int(a, 2), 0),
  faccessat2: (p, a) => faccessat(p, int(a, 0), u64(a, 1), int(a, 2), int(a, 3)),
};
