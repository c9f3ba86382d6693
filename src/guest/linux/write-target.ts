// Where a change to the guest's file system is made on the host: the one gate between the system calls that
// change files and the Overlay. Only host paths from here are ever changed.
import * as fs from 'node:fs';
import { type ByteString, hostPath } from './byte-string.js';
import { E } from './errno.js';
import { type FsNode, isDir } from './fs-view.js';
import { type WriteTarget, hostCall } from './overlay.js';
import type { LinuxProcess } from './process.js';

/** The guest path of `name` in directory `dir`. */
export function childPath(dir: ByteString, name: ByteString): ByteString {
  return (dir === '/' ? '' : dir) + '/' + name;
}

/** The guest path of the directory holding `path`. */
export function parentPath(path: ByteString): ByteString {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** The host lets the guest write (and search) the host file that shows `n`; 0 or an errno (EACCES). */
function mayWrite(n: FsNode, search: boolean): number {
  const mode = fs.constants.W_OK | (search ? fs.constants.X_OK : 0);
  const r = hostCall(() => fs.accessSync(hostPath(n.host as ByteString), mode));
  return r === undefined ? 0 : r.errno;
}

/**
 * The host directory in which a name of guest directory `dir` (resolved, existing) is made or removed: EROFS for
 * virtual directories (/proc, /dev) or without a host root, EACCES where the host would refuse the guest's user.
 */
export function directoryTarget(p: LinuxProcess, dir: ByteString): WriteTarget | number {
  const d = p.fs.lookup('/', dir, true);
  if (d.kind !== 'found') return d.kind === 'error' ? d.errno : E.ENOENT;
  if (!isDir(d.node)) return E.ENOTDIR;
  if (!p.fs.changeable(d.node) || p.fs.overlay === undefined) return E.EROFS;
  const denied = mayWrite(d.node, true);
  if (denied !== 0) return denied;
  return p.fs.overlay.directoryFor(d.node.path);
}

/** The writable host path of an existing file `n` (its copy in the overlay, made now if needed). */
export function nodeTarget(p: LinuxProcess, n: FsNode): WriteTarget | number {
  if (n.host === undefined || p.fs.overlay === undefined) return E.EROFS;
  if (n.virt !== undefined && !isDir(n)) return E.EROFS; // the program file, /proc files, devices
  const parent = p.fs.lookup('/', parentPath(n.path), true);
  if (parent.kind === 'found' && !p.fs.changeable(parent.node) && n.path !== '/') return E.EROFS;
  return p.fs.overlay.copyUp(n.path, n.host);
}
