// The metadata of a guest-visible file, in the units of struct stat, from the host (lstat/fstat) or synthesized.
import type { BigIntStats } from 'node:fs';

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** Metadata as struct stat / statx report it. */
export interface FileStat {
  dev: bigint; // st_dev, glibc/Linux encoding (major bits 8..19 and 32.., minor bits 0..7 and 20..)
  ino: bigint; // inode number
  mode: number; // type and permission bits
  nlink: bigint; // hard links
  uid: number;
  gid: number;
  rdev: bigint; // device number of a device file, same encoding as dev
  size: bigint; // bytes
  blksize: bigint; // preferred I/O size
  blocks: bigint; // 512-byte blocks allocated
  atimeNs: bigint; // times in ns since the epoch
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint | undefined; // undefined when the host does not know it
}

/** Host metadata as Node reports it with { bigint: true }. */
export function fromHostStats(s: BigIntStats): FileStat {
  return {
    dev: s.dev, ino: s.ino, mode: Number(s.mode), nlink: s.nlink, uid: Number(s.uid), gid: Number(s.gid),
    rdev: s.rdev, size: s.size, blksize: s.blksize, blocks: s.blocks,
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
    birthtimeNs: s.birthtimeNs > 0n ? s.birthtimeNs : undefined,
  };
}

/** Linux dev_t encoding of (major, minor). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function major(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn & 0xffffffffn));
}

export function minor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn & 0xffffffffn));
}

/** d_type of linux_dirent64 for a mode. */
export function direntType(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFIFO: return 1;
    case S_IFCHR: return 2;
    case S_IFDIR: return 4;
    case S_IFBLK: return 6;
    case S_IFREG: return 8;
    case S_IFLNK: return 10;
    case S_IFSOCK: return 12;
    default: return 0;
  }
}
