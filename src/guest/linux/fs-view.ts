// The guest's file system: a host directory exposed as "/", the guest's own changes over it (the copy-on-write
// Overlay), and the virtual files over both.
// Paths are resolved one component at a time here, never by the host: ".." stops at the root and a symlink's
// target is resolved inside the root (an absolute target starts again at the guest root), so no path, however
// made, reaches a host file outside the root.
import * as fs from 'node:fs';
import { type ByteString, hostPath } from './byte-string.js';
import { E, hostErrno } from './errno.js';
import { type FileStat, S_IFDIR, S_IFLNK, S_IFMT, fromHostStats } from './file-stat.js';
import { Overlay } from './overlay.js';
import { type VNode, virtualStat } from './virtual-files.js';

/** PATH_MAX: a path of this many bytes or more (the NUL included) is ENAMETOOLONG. */
export const PATH_MAX = 4096;
/** NAME_MAX: the longest path component. */
const NAME_MAX = 255;
/** The most symlinks one lookup follows (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/** A file found by a lookup. */
export interface FsNode {
  readonly path: ByteString; // absolute guest path with "." and ".." removed and symlinks resolved
  readonly stat: FileStat; // metadata at the time of the lookup (lstat: a final symlink not followed is itself)
  readonly virt?: VNode; // the virtual node, when the virtual tree provides this path
  readonly host?: ByteString; // the host path (upper copy, else the host root's file), if any (a directory may have both)
}

/** The result of a lookup. */
export type Lookup =
  | { kind: 'found'; node: FsNode }
  /** Every component but the last exists; the last does not (open with O_CREAT would create it in `parent`). */
  | { kind: 'missing'; parent: ByteString; name: ByteString; trailingSlash: boolean }
  | { kind: 'error'; errno: number };

/** One directory entry (without "." and ".."). */
export interface DirEntry {
  readonly name: ByteString;
  readonly ino: bigint;
  readonly mode: number;
}

export function isDir(n: FsNode): boolean {
  return (n.stat.mode & S_IFMT) === S_IFDIR;
}

export function isSymlink(n: FsNode): boolean {
  return (n.stat.mode & S_IFMT) === S_IFLNK;
}

function join(parts: readonly ByteString[]): ByteString {
  return '/' + parts.join('/');
}

export class FsView {
  /** Host directory shown as "/" (a real path, without symlinks), or undefined for a root with only virtual files. */
  readonly hostRoot: ByteString | undefined;
  /** The virtual tree (its root is the guest "/"). */
  readonly vroot: VNode;
  /** The guest's changes over the host root (undefined without a host root: then nothing can be changed). */
  readonly overlay: Overlay | undefined;

  /** `rw`: guest directories written through to the host. */
  constructor(hostRoot: ByteString | undefined, vroot: VNode, rw: readonly ByteString[] = []) {
    this.hostRoot = hostRoot;
    this.vroot = vroot;
    this.overlay = hostRoot === undefined ? undefined : new Overlay(hostRoot, rw);
  }

  /**
   * Resolves `path` (relative paths start at `base`, an absolute guest directory path). With `follow`, a final
   * symlink is followed; a trailing slash always follows it and requires a directory.
   */
  lookup(base: ByteString, path: ByteString, follow: boolean): Lookup {
    if (path.length === 0) return { kind: 'error', errno: E.ENOENT };
    if (path.length >= PATH_MAX) return { kind: 'error', errno: E.ENAMETOOLONG };
    let trailingSlash = path.endsWith('/');
    const stack: ByteString[] = path.startsWith('/') ? [] : base.split('/').filter((s) => s !== '');
    let queue = path.split('/').filter((s) => s !== '');
    let links = 0;
    let found: FsNode | undefined;
    while (queue.length > 0) {
      const name = queue[0] as ByteString;
      queue = queue.slice(1);
      const last = queue.length === 0;
      found = undefined;
      if (name === '.') continue;
      if (name === '..') {
        stack.pop();
        continue;
      }
      if (name.length > NAME_MAX) return { kind: 'error', errno: E.ENAMETOOLONG };
      const child = this.child(stack, name);
      if (typeof child === 'number') return { kind: 'error', errno: child };
      if (child === undefined) {
        if (last) return { kind: 'missing', parent: join(stack), name, trailingSlash };
        return { kind: 'error', errno: E.ENOENT };
      }
      if (isSymlink(child) && (!last || follow || trailingSlash)) {
        if (++links > MAX_SYMLINKS) return { kind: 'error', errno: E.ELOOP };
        const target = this.readlink(child);
        if (typeof target === 'number') return { kind: 'error', errno: target };
        if (target.length === 0) return { kind: 'error', errno: E.ENOENT };
        if (target.startsWith('/')) stack.length = 0;
        if (last && target.endsWith('/')) trailingSlash = true;
        queue = target.split('/').filter((s) => s !== '').concat(queue);
        continue;
      }
      if (!last && !isDir(child)) return { kind: 'error', errno: E.ENOTDIR };
      stack.push(name);
      if (last) found = child;
    }
    const node = found ?? this.dirAt(stack);
    if (node === undefined) return { kind: 'error', errno: E.ENOENT };
    if (trailingSlash && !isDir(node)) return { kind: 'error', errno: E.ENOTDIR };
    return { kind: 'found', node };
  }

  /** The node of an already resolved directory path (components that are all directories). */
  private dirAt(stack: readonly ByteString[]): FsNode | undefined {
    if (stack.length === 0) return this.rootNode();
    const c = this.child(stack.slice(0, -1), stack[stack.length - 1] as ByteString);
    return typeof c === 'object' ? c : undefined;
  }

  private rootNode(): FsNode {
    const host = this.hostStat('/');
    if (host !== undefined && typeof host !== 'number' && (Number(host.mode) & S_IFMT) === S_IFDIR) {
      return { path: '/', stat: fromHostStats(host), virt: this.vroot, host: this.hostPathOf('/') };
    }
    return { path: '/', stat: virtualStat(this.vroot), virt: this.vroot };
  }

  /** Whether a virtual directory on the way to `stack` hides the host (/proc, /dev, /sys: never the host's own). */
  private opaque(stack: readonly ByteString[]): boolean {
    let cur: VNode | undefined = this.vroot;
    for (const p of stack) {
      cur = cur?.type === 'dir' ? cur.children.get(p) : undefined;
      if (cur === undefined) return false;
      if (cur.type === 'dir' && cur.opaque) return true;
    }
    return false;
  }

  /** The virtual node at a resolved path, if every component is a virtual directory. */
  private virtualAt(stack: readonly ByteString[]): VNode | undefined {
    let cur: VNode | undefined = this.vroot;
    for (const p of stack) cur = cur?.type === 'dir' ? cur.children.get(p) : undefined;
    return cur;
  }

  /** The host path that shows a guest path: its upper copy if there is one, else the host root's file. */
  private hostPathOf(guestPath: ByteString): ByteString {
    const o = this.overlay;
    if (o !== undefined && o.upperStat(guestPath) !== undefined) return o.upperOf(guestPath) as ByteString;
    return (this.hostRoot ?? '') + guestPath;
  }

  /** lstat of a guest path on the host (upper copy first); undefined if absent, an errno on other failures. */
  private hostStat(guestPath: ByteString): fs.BigIntStats | number | undefined {
    if (this.hostRoot === undefined) return undefined;
    const o = this.overlay;
    if (o !== undefined) {
      const up = o.upperStat(guestPath);
      if (up !== undefined) return up;
      if (o.lowerHidden(guestPath)) return undefined;
    }
    try {
      return fs.lstatSync(hostPath(this.hostRoot + guestPath), { bigint: true });
    } catch (x) {
      const e = hostErrno(x);
      if (e === undefined) throw x;
      return e === E.ENOENT || e === E.ENOTDIR ? undefined : e;
    }
  }

  /** Looks up `name` in the directory at `stack` (not following a symlink). */
  private child(stack: readonly ByteString[], name: ByteString): FsNode | number | undefined {
    const path = join([...stack, name]);
    const parent = this.virtualAt(stack);
    const v = parent?.type === 'dir' ? parent.children.get(name) : undefined;
    const hidden = this.opaque(stack) || (v?.type === 'dir' && v.opaque);
    const h = !hidden && (v === undefined || v.type === 'dir') ? this.hostStat(path) : undefined;
    if (typeof h === 'number') return v !== undefined ? { path, stat: virtualStat(v), virt: v } : h;
    if (v !== undefined) {
      if (v.type === 'dir' && h !== undefined && (Number(h.mode) & S_IFMT) === S_IFDIR) {
        return { path, stat: fromHostStats(h), virt: v, host: this.hostPathOf(path) };
      }
      return { path, stat: virtualStat(v), virt: v };
    }
    if (h === undefined) return undefined;
    return { path, stat: fromHostStats(h), host: this.hostPathOf(path) };
  }

  /** Whether names can be made in directory `n`: it shows a host directory and no virtual directory hides it. */
  changeable(n: FsNode): boolean {
    if (this.overlay === undefined || n.host === undefined) return false;
    const stack = n.path.split('/').filter((s) => s !== '');
    return !this.opaque(stack) && !(n.virt?.type === 'dir' && n.virt.opaque === true);
  }

  /** The target of a symlink, or an errno (EINVAL if the node is not a symlink). */
  readlink(n: FsNode): ByteString | number {
    if (n.virt !== undefined) return n.virt.type === 'symlink' ? n.virt.target : E.EINVAL;
    if (!isSymlink(n) || n.host === undefined) return E.EINVAL;
    try {
      return fs.readlinkSync(hostPath(n.host), { encoding: 'buffer' }).toString('latin1');
    } catch (x) {
      const e = hostErrno(x);
      if (e === undefined) throw x;
      return e;
    }
  }

  /** The entries of a directory, sorted by name (bytewise), virtual entries shadowing host ones; or an errno. */
  list(n: FsNode): DirEntry[] | number {
    const names = new Set<ByteString>();
    if (n.host !== undefined && !(n.virt?.type === 'dir' && n.virt.opaque)) {
      const o = this.overlay;
      const dirs: ByteString[] = [];
      const up = o?.upperOf(n.path);
      if (up !== undefined && o?.upperStat(n.path)?.isDirectory() === true) dirs.push(up);
      if (o === undefined || (!o.opaque.has(n.path) && o.lowerStat(n.path)?.isDirectory() === true)) dirs.push((this.hostRoot ?? '') + n.path);
      for (const d of dirs) {
        let found: Buffer[];
        try {
          found = fs.readdirSync(hostPath(d), { encoding: 'buffer' });
        } catch (x) {
          const e = hostErrno(x);
          if (e === undefined) throw x;
          return e;
        }
        for (const b of found) names.add(b.toString('latin1'));
      }
    }
    if (n.virt?.type === 'dir') for (const name of n.virt.children.keys()) names.add(name);
    const stack = n.path.split('/').filter((s) => s !== '');
    const out: DirEntry[] = [];
    for (const name of names) {
      const c = this.child(stack, name);
      if (c === undefined || typeof c === 'number') continue; // deleted, vanished or unreadable meanwhile
      out.push({ name, ino: c.stat.ino, mode: c.stat.mode });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
