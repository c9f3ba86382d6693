// Open file descriptions: what a file descriptor refers to. dup() shares one description (its offset and status
// flags); close() of the last descriptor referring to it releases it.
import * as fs from 'node:fs';
import type { FsNode } from './fs-view.js';
import type { Pipe } from './pipe.js';
import type { DirEntry } from './fs-view.js';
import type { DeviceKind } from './virtual-files.js';

/** open(2) flags (x86-64 values). */
export const O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, ACCMODE: 3,
  CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000, APPEND: 0o2000, NONBLOCK: 0o4000,
  DSYNC: 0o10000, ASYNC: 0o20000, DIRECT: 0o40000, LARGEFILE: 0o100000, DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000, NOATIME: 0o1000000, CLOEXEC: 0o2000000, SYNC: 0o4010000, PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

interface Common {
  /** Access mode and status flags, as F_GETFL reports them. */
  flags: number;
  /** File descriptors (across dup) that refer to this description. */
  refs: number;
}

/** A host file descriptor the process was given (stdin, stdout, stderr). */
export interface StreamFile extends Common {
  kind: 'stream';
  hostFd: number;
  /** Whether the host fd is a terminal (ioctl TCGETS etc. answer as a tty). */
  tty: boolean;
  /** termios the guest set with TCSETS (kept here, the host terminal is not changed); tty only. */
  termios: Uint8Array | undefined;
}

/** A regular file from the root (a host fd opened read-only) or the virtual program file (its bytes). */
export interface RegularFile extends Common {
  kind: 'file';
  node: FsNode;
  hostFd: number | undefined;
  bytes: Uint8Array | undefined;
  /** File position. */
  offset: bigint;
}

/** An open directory; `entries` is read on the first getdents64 after open or rewind. */
export interface DirFile extends Common {
  kind: 'dir';
  node: FsNode;
  /** Position: index into "." , "..", then `entries`. */
  offset: bigint;
  entries: DirEntry[] | undefined;
}

/** A virtual character device (/dev/null, /dev/zero, ...). */
export interface DeviceFile extends Common {
  kind: 'device';
  node: FsNode;
  device: DeviceKind;
}

/** One end of an in-process pipe. */
export interface PipeEnd extends Common {
  kind: 'pipe';
  pipe: Pipe;
  end: 'read' | 'write';
  /** Pseudo inode number (fstat). */
  ino: bigint;
}

/** An O_PATH descriptor: names a file for *at() and fstat but allows no I/O. */
export interface PathFile extends Common {
  kind: 'path';
  node: FsNode;
}

/**
 * A file without a name (an anonymous inode: eventfd, epoll, a socketpair end): what it does is in `anon`, whose
 * operations receive the description itself.
 */
export interface AnonFile extends Common {
  kind: 'anon';
  anon: AnonInode;
  /** Pseudo inode number (fstat). */
  ino: bigint;
}

/** The behaviour of an anonymous inode (eventfd.ts, epoll.ts, socket-pair.ts). */
export interface AnonInode {
  /** What /proc/self/fd shows after "anon_inode:" (or the whole link for sockets), e.g. "[eventfd]". */
  readonly label: string;
  /** st_mode of fstat. */
  readonly mode: number;
  /** Bytes read now (count > 0), or an errno (EAGAIN when nothing is there). */
  read(f: AnonFile, count: number): Uint8Array | number;
  /** Bytes taken from `data`, or an errno (EPIPE: the peer is gone). */
  write(f: AnonFile, data: Uint8Array): number;
  /** poll(2) events now. */
  poll(f: AnonFile): number;
  /** The last descriptor was closed. */
  release?(): void;
  /** shutdown(2) of a socket: stop writing (`write`) and/or reading (`read`). */
  shutdown?(write: boolean, read: boolean): void;
}

export type OpenFile = StreamFile | RegularFile | DirFile | DeviceFile | PipeEnd | PathFile | AnonFile;

/** Whether the description was opened for reading / writing. */
export function readable(f: OpenFile): boolean {
  const acc = f.flags & O.ACCMODE;
  return f.kind !== 'path' && (acc === O.RDONLY || acc === O.RDWR);
}

export function writable(f: OpenFile): boolean {
  const acc = f.flags & O.ACCMODE;
  return f.kind !== 'path' && (acc === O.WRONLY || acc === O.RDWR);
}

/** Drops one reference; the last one releases the host fd or the pipe end. */
export function release(f: OpenFile): void {
  if (--f.refs > 0) return;
  if (f.kind === 'file' && f.hostFd !== undefined) {
    try {
      fs.closeSync(f.hostFd);
    } catch {
      // already closed on the host: nothing to release
    }
  } else if (f.kind === 'pipe') {
    if (f.end === 'read') f.pipe.readers--;
    else f.pipe.writers--;
  } else if (f.kind === 'anon') {
    f.anon.release?.();
  }
}
