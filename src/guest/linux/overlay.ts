// The copy-on-write layer over the host's read-only files, as Linux's overlayfs does it: the guest's changes live
// in an upper directory (a private temporary directory made on the first change and removed at the end), a
// deleted lower file is a whiteout (kept here, in memory), and a directory the guest made or moved is opaque (the
// lower directory of that path shows through no more). Paths under a write-through directory (--rw) are changed on
// the host itself. Every host path this module hands out for writing lies in the upper directory or under a
// write-through directory: nothing else on the host is ever modified.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ByteString, hostPath, utf8ToBStr } from './byte-string.js';
import { E, hostErrno } from './errno.js';

/** Where a guest path's changes go. */
export type WriteTarget =
  | { kind: 'upper'; host: ByteString } // the private copy (the host's file is never touched)
  | { kind: 'rw'; host: ByteString }; // the host's own file, under a --rw directory

/** Runs a host call, turning a host error into its errno. */
export function hostCall<T>(f: () => T): T | { errno: number } {
  try {
    return f();
  } catch (x) {
    const e = hostErrno(x);
    if (e === undefined) throw x;
    return { errno: e };
  }
}

function lstatOrUndefined(p: ByteString): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(hostPath(p), { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * The guest path of a --rw directory `dir` (a host path) under the host root `hostRoot` ('' for "/"), or a
 * one-line error: it must be an existing directory inside the root.
 */
export function writeThroughPath(hostRoot: ByteString | undefined, dir: string): ByteString | { error: string } {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return { error: `--rw ${dir}: no such directory` };
  }
  if (!fs.statSync(real).isDirectory()) return { error: `--rw ${dir}: not a directory` };
  const r = utf8ToBStr(real);
  if (hostRoot === undefined) return { error: `--rw ${dir}: there is no host root to write through to` };
  if (hostRoot === '') return r;
  if (r === hostRoot) return '/';
  if (!r.startsWith(hostRoot + '/')) return { error: `--rw ${dir}: not inside the root directory` };
  return r.slice(hostRoot.length);
}

/** The guest paths that are `p` or below it. */
function within(p: ByteString, dir: ByteString): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

export class Overlay {
  /** Host directory shown as "/" ('' for the host's own root), the lower layer. */
  readonly lowerRoot: ByteString;
  /** Guest directories written through to the host (absolute, resolved). */
  readonly rw: readonly ByteString[];
  /** Guest paths whose lower file is deleted (it and everything below it are hidden). */
  readonly whiteouts = new Set<ByteString>();
  /** Guest directories of the upper layer that hide the lower directory of the same path. */
  readonly opaque = new Set<ByteString>();
  /** The private temporary directory (undefined until the first change). */
  private temp: string | undefined;
  /** Unnamed files made so far (O_TMPFILE): the next one's name. */
  private tmpfiles = 0;

  constructor(lowerRoot: ByteString, rw: readonly ByteString[]) {
    this.lowerRoot = lowerRoot;
    this.rw = rw;
  }

  /** The upper layer's host path of a guest path, if the upper layer exists. */
  upperOf(guest: ByteString): ByteString | undefined {
    return this.temp === undefined ? undefined : utf8ToBStr(this.temp) + '/root' + (guest === '/' ? '' : guest);
  }

  /** Whether `guest` is written through to the host. */
  isRw(guest: ByteString): boolean {
    return this.rw.some((d) => within(guest, d));
  }

  /** Whether a host path belongs to the upper layer or a write-through directory (and so may be changed). */
  writableHost(host: ByteString, guest: ByteString): boolean {
    const up = this.upperOf(guest);
    return (up !== undefined && host === up) || (this.isRw(guest) && host === this.lowerRoot + guest);
  }

  /** Whether the lower file at `guest` is hidden: it or a directory above it is deleted, or a directory above is opaque. */
  lowerHidden(guest: ByteString): boolean {
    if (this.whiteouts.size === 0 && this.opaque.size === 0) return false;
    let p = guest;
    if (this.whiteouts.has(p)) return true;
    while (p !== '/' && p !== '') {
      p = p.slice(0, p.lastIndexOf('/')) || '/';
      if (this.whiteouts.has(p) || this.opaque.has(p)) return true;
    }
    return false;
  }

  /** lstat of the lower file at `guest` if it is visible. */
  lowerStat(guest: ByteString): fs.BigIntStats | undefined {
    return this.lowerHidden(guest) ? undefined : lstatOrUndefined(this.lowerRoot + guest);
  }

  /** lstat of the upper file at `guest`, if any. */
  upperStat(guest: ByteString): fs.BigIntStats | undefined {
    const up = this.upperOf(guest);
    return up === undefined ? undefined : lstatOrUndefined(up);
  }

  private ensureTemp(): string {
    if (this.temp === undefined) {
      this.temp = fs.mkdtempSync(path.join(os.tmpdir(), 'itrace-overlay-'));
      fs.mkdirSync(path.join(this.temp, 'root'), { mode: 0o755 });
      fs.mkdirSync(path.join(this.temp, 'unnamed'), { mode: 0o700 });
      const st = lstatOrUndefined(this.lowerRoot + '/');
      if (st !== undefined) fs.chmodSync(path.join(this.temp, 'root'), Number(st.mode) & 0o7777);
      // the upper directory itself (under the host's /tmp, inside the root) is not part of the guest's view
      const t = utf8ToBStr(fs.realpathSync(this.temp));
      if (this.lowerRoot === '' || t.startsWith(this.lowerRoot + '/')) this.whiteouts.add(t.slice(this.lowerRoot.length));
    }
    return this.temp;
  }

  /**
   * The host directory in which names of the (existing, resolved) guest directory `dir` are made: the host's own
   * under --rw, else its upper copy, made with the directories above it (copied up with their modes and times).
   */
  directoryFor(dir: ByteString): WriteTarget | number {
    if (this.isRw(dir)) return { kind: 'rw', host: this.lowerRoot + dir };
    this.ensureTemp();
    const parts = dir.split('/').filter((s) => s !== '');
    let guest = '';
    for (const name of parts) {
      guest += '/' + name;
      const up = this.upperOf(guest) as ByteString;
      const have = lstatOrUndefined(up);
      if (have !== undefined) {
        if (!have.isDirectory()) return E.ENOTDIR;
        continue;
      }
      const low = this.lowerStat(guest);
      if (low === undefined || !low.isDirectory()) return E.ENOENT;
      const made = hostCall(() => {
        fs.mkdirSync(hostPath(up));
        fs.chmodSync(hostPath(up), Number(low.mode) & 0o7777);
        fs.utimesSync(hostPath(up), Number(low.atimeMs) / 1000, Number(low.mtimeMs) / 1000);
      });
      if (typeof made === 'object' && made !== null) return made.errno;
    }
    return { kind: 'upper', host: this.upperOf(dir ?? '/') as ByteString };
  }

  /**
   * The writable host path of the existing guest file `guest` (shown from host path `host`): the file itself if it
   * is already in the upper layer or under --rw, else a copy made in the upper layer (contents, mode, times; a
   * directory is copied without its entries, which keep showing from below).
   */
  copyUp(guest: ByteString, host: ByteString): WriteTarget | number {
    if (this.isRw(guest)) return { kind: 'rw', host: this.lowerRoot + guest };
    const up = this.upperOf(guest);
    if (up !== undefined && host === up) return { kind: 'upper', host: up };
    if (guest === '/') {
      const d = this.directoryFor('/');
      return d;
    }
    const parent = guest.slice(0, guest.lastIndexOf('/')) || '/';
    const d = this.directoryFor(parent);
    if (typeof d === 'number') return d;
    const target = this.upperOf(guest) as ByteString;
    const st = lstatOrUndefined(host);
    if (st === undefined) return E.ENOENT;
    const done = hostCall(() => {
      const h = hostPath(host), t = hostPath(target);
      if (st.isSymbolicLink()) {
        fs.symlinkSync(fs.readlinkSync(h, { encoding: 'buffer' }), t);
        return;
      }
      if (st.isDirectory()) fs.mkdirSync(t);
      else if (st.isFile()) fs.copyFileSync(h, t);
      else throw Object.assign(new Error('special file'), { code: 'EPERM' });
      fs.chmodSync(t, Number(st.mode) & 0o7777);
      fs.utimesSync(t, Number(st.atimeMs) / 1000, Number(st.mtimeMs) / 1000);
    });
    if (typeof done === 'object' && done !== null) return done.errno;
    return { kind: 'upper', host: target };
  }

  /** After a name was removed or renamed away: hide the lower file of that path, if there is one. */
  removed(guest: ByteString): void {
    if (this.isRw(guest)) return;
    if (this.lowerStat(guest) !== undefined) this.whiteouts.add(guest);
    for (const set of [this.whiteouts, this.opaque]) {
      for (const p of set) if (p.startsWith(guest + '/')) set.delete(p);
    }
  }

  /** After a directory was made or moved to `guest` in the upper layer: its lower namesake shows through no more. */
  madeDirectory(guest: ByteString): void {
    if (!this.isRw(guest)) this.opaque.add(guest);
  }

  /** A host path for an unnamed file (O_TMPFILE), outside the guest's tree. */
  unnamedFile(): ByteString {
    return utf8ToBStr(path.join(this.ensureTemp(), 'unnamed', String(this.tmpfiles++)));
  }

  /** Removes the upper layer (the guest's private changes) from the host. */
  close(): void {
    if (this.temp !== undefined) fs.rmSync(this.temp, { recursive: true, force: true });
    this.temp = undefined;
  }
}
