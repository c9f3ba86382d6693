// Calls that make, remove and rename names (mkdir, mknod, symlink, link, unlink, rmdir, rename): carried out in
// the guest's copy-on-write overlay (see overlay.ts), or on the host under a --rw directory. The lookup errors
// (ENOENT, ENOTDIR, ELOOP) come first, then EEXIST for a name that exists; virtual directories are read-only.
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_EMPTY_PATH, AT_FDCWD, foundNode, lookupAt } from './at-path.js';
import { type ByteString, bstrToBytes, hostPath } from './byte-string.js';
import { E, err } from './errno.js';
import { S_IFMT, S_IFREG } from './file-stat.js';
import { type FsNode, isDir } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { hostCall } from './overlay.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';
import { childPath, directoryTarget, nodeTarget, parentPath } from './write-target.js';

const AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400;
const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

/** A host call's outcome as a system call result. */
function done(r: unknown): bigint {
  return typeof r === 'object' && r !== null && 'errno' in r ? err((r as { errno: number }).errno) : 0n;
}

/**
 * A call that makes the name at `addr`: EEXIST if it exists; else `make` runs with the new name's host path and
 * its guest path.
 */
function create(p: LinuxProcess, dirfd: number, addr: bigint, make: (host: ByteString, guest: ByteString) => void, dir = false): bigint {
  const l = lookupAt(p, dirfd, addr, false);
  if (l.kind === 'error') return err(l.errno);
  if (l.kind === 'found') return err(E.EEXIST);
  if (l.trailingSlash && !dir) return err(E.ENOENT);
  const t = directoryTarget(p, l.parent);
  if (typeof t === 'number') return err(t);
  const guest = childPath(l.parent, l.name);
  return done(hostCall(() => make(t.host + '/' + l.name, guest)));
}

function mkdirat(p: LinuxProcess, dirfd: number, addr: bigint, mode: number): bigint {
  const perm = mode & 0o7777 & ~p.umask;
  return create(p, dirfd, addr, (host, guest) => {
    fs.mkdirSync(hostPath(host), { mode: perm });
    fs.chmodSync(hostPath(host), perm);
    p.fs.overlay?.madeDirectory(guest);
  }, true);
}

function mknodat(p: LinuxProcess, dirfd: number, addr: bigint, mode: number): bigint {
  const type = mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG) {
    p.unsupportedCall('EPERM', 'only regular files are made');
    return err(E.EPERM);
  }
  const perm = mode & 0o7777 & ~p.umask;
  return create(p, dirfd, addr, (host) => {
    fs.closeSync(fs.openSync(hostPath(host), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, perm));
    fs.chmodSync(hostPath(host), perm);
  });
}

function symlinkat(p: LinuxProcess, targetAddr: bigint, newdirfd: number, linkAddr: bigint): bigint {
  const target = readPath(p.mem, targetAddr);
  if (typeof target === 'number') return err(target);
  if (target.length === 0) return err(E.ENOENT);
  return create(p, newdirfd, linkAddr, (host) => fs.symlinkSync(Buffer.from(bstrToBytes(target)), hostPath(host)));
}

/** Whether two guest paths are on different sides of a --rw boundary (a rename or link across it is EXDEV). */
function acrossMounts(p: LinuxProcess, a: ByteString, b: ByteString): boolean {
  const o = p.fs.overlay;
  return o !== undefined && o.isRw(a) !== o.isRw(b);
}

function linkat(p: LinuxProcess, olddirfd: number, oldAddr: bigint, newdirfd: number, newAddr: bigint, flags: number): bigint {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return err(E.EINVAL);
  const old = foundNode(lookupAt(p, olddirfd, oldAddr, (flags & AT_SYMLINK_FOLLOW) !== 0));
  if (typeof old === 'number') return err(old);
  if (isDir(old)) return err(E.EPERM);
  const l = lookupAt(p, newdirfd, newAddr, false);
  if (l.kind === 'error') return err(l.errno);
  if (l.kind === 'found') return err(E.EEXIST);
  if (acrossMounts(p, old.path, childPath(l.parent, l.name))) return err(E.EXDEV);
  const from = nodeTarget(p, old);
  if (typeof from === 'number') return err(from);
  return create(p, newdirfd, newAddr, (host) => fs.linkSync(hostPath(from.host), hostPath(host)));
}

/** Whether directory `n` has entries (besides "." and ".."), as the guest sees it; or an errno. */
function hasEntries(p: LinuxProcess, n: FsNode): boolean | number {
  const list = p.fs.list(n);
  return typeof list === 'number' ? list : list.length > 0;
}

/** Removes the host file of a name (if it is in the overlay or under --rw) and hides the lower one. */
function removeName(p: LinuxProcess, n: FsNode, dir: boolean): bigint {
  const o = p.fs.overlay;
  const parent = directoryTarget(p, parentPath(n.path));
  if (typeof parent === 'number' || o === undefined) return err(typeof parent === 'number' ? parent : E.EROFS);
  if (n.host !== undefined && o.writableHost(n.host, n.path)) {
    const r = hostCall(() => (dir ? fs.rmdirSync(hostPath(n.host as ByteString)) : fs.unlinkSync(hostPath(n.host as ByteString))));
    if (r !== undefined) return err(r.errno);
  }
  o.removed(n.path);
  return 0n;
}

function unlinkat(p: LinuxProcess, dirfd: number, addr: bigint, flags: number): bigint {
  if ((flags & ~AT_REMOVEDIR) !== 0) return err(E.EINVAL);
  const path = readPath(p.mem, addr);
  if (typeof path === 'number') return err(path);
  const rmdir = (flags & AT_REMOVEDIR) !== 0;
  const last = path.replace(/\/+$/, '').split('/').pop();
  if (rmdir && last === '.') return err(E.EINVAL);
  if (rmdir && last === '..') return err(E.ENOTEMPTY);
  const n = foundNode(lookupAt(p, dirfd, addr, false));
  if (typeof n === 'number') return err(n);
  if (n.path === '/') return err(E.EBUSY);
  if (n.virt !== undefined && n.host === undefined) return err(E.EROFS);
  if (!rmdir) return isDir(n) ? err(E.EISDIR) : removeName(p, n, false);
  if (!isDir(n)) return err(E.ENOTDIR);
  const full = hasEntries(p, n);
  if (full !== false) return err(full === true ? E.ENOTEMPTY : full);
  return removeName(p, n, true);
}

/** Whether the guest path `a` is `b` or inside it. */
function inside(a: ByteString, b: ByteString): boolean {
  return a === b || a.startsWith(b + '/');
}

function renameat2(p: LinuxProcess, a: Args, flags: number): bigint {
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return err(E.EINVAL);
  if ((flags & RENAME_NOREPLACE) !== 0 && (flags & RENAME_EXCHANGE) !== 0) return err(E.EINVAL);
  const src = foundNode(lookupAt(p, int(a, 0), u64(a, 1), false));
  if (typeof src === 'number') return err(src);
  const l = lookupAt(p, int(a, 2), u64(a, 3), false);
  if (l.kind === 'error') return err(l.errno);
  if ((flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) {
    p.unsupportedCall('EINVAL', 'RENAME_EXCHANGE and RENAME_WHITEOUT are not carried out');
    return err(E.EINVAL);
  }
  const dst = l.kind === 'found' ? l.node : undefined;
  const dstPath = l.kind === 'found' ? l.node.path : childPath(l.parent, l.name);
  if (src.path === '/' || dstPath === '/') return err(E.EBUSY);
  if (dst !== undefined && (flags & RENAME_NOREPLACE) !== 0) return err(E.EEXIST);
  if (src.path === dstPath) return 0n;
  if (isDir(src)) {
    if (inside(dstPath, src.path)) return err(E.EINVAL);
    if (dst !== undefined && !isDir(dst)) return err(E.ENOTDIR);
    if (dst !== undefined) {
      const full = hasEntries(p, dst);
      if (full !== false) return err(full === true ? E.ENOTEMPTY : full);
    }
  } else {
    if (dst !== undefined && isDir(dst)) return err(E.EISDIR);
    if (l.kind === 'missing' && l.trailingSlash) return err(E.ENOTDIR);
  }
  if ((src.virt !== undefined && src.host === undefined) || (dst?.virt !== undefined && dst.host === undefined)) return err(E.EROFS);
  if (acrossMounts(p, src.path, dstPath)) return err(E.EXDEV);
  const o = p.fs.overlay;
  if (o === undefined) return err(E.EROFS);
  // a directory that merges a host directory cannot move (overlayfs without redirect_dir says EXDEV: mv copies)
  if (isDir(src) && !o.isRw(src.path) && !o.opaque.has(src.path) && o.lowerStat(src.path) !== undefined) return err(E.EXDEV);
  const from = directoryTarget(p, parentPath(src.path));
  if (typeof from === 'number') return err(from);
  const to = directoryTarget(p, l.kind === 'found' ? parentPath(dstPath) : l.parent);
  if (typeof to === 'number') return err(to);
  const moving = nodeTarget(p, src);
  if (typeof moving === 'number') return err(moving);
  const target = to.host + '/' + dstPath.slice(dstPath.lastIndexOf('/') + 1);
  const r = hostCall(() => fs.renameSync(hostPath(moving.host), hostPath(target)));
  if (r !== undefined) return err(r.errno);
  o.removed(src.path);
  if (isDir(src)) o.madeDirectory(dstPath);
  return 0n;
}

export const mutationSyscalls: HandlerGroup = {
  mkdir: (p, a) => mkdirat(p, AT_FDCWD, u64(a, 0), int(a, 1)),
  mkdirat: (p, a) => mkdirat(p, int(a, 0), u64(a, 1), int(a, 2)),
  mknod: (p, a) => mknodat(p, AT_FDCWD, u64(a, 0), int(a, 1)),
  mknodat: (p, a) => mknodat(p, int(a, 0), u64(a, 1), int(a, 2)),
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
};
