// statfs and fstatfs: the file system a file is on, as struct statfs (120 bytes). Host files report the host's
// numbers (an input) with ST_RDONLY, since the guest's root is read-only; the virtual /proc, /dev, /sys report
// their own kinds of file system.
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { AT_FDCWD, foundNode, lookupAt } from './at-path.js';
import { hostPath } from './byte-string.js';
import { E, err, hostErrno } from './errno.js';
import type { FsNode } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { writeOut } from './user-memory.js';

const ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_NOEXEC = 8;
const PROC_SUPER_MAGIC = 0x9fa0, SYSFS_MAGIC = 0x62656572, TMPFS_MAGIC = 0x01021994;

function statfsOf(p: LinuxProcess, n: FsNode): Uint8Array | number {
  const w = new StructWriter(120);
  const top = n.path.split('/')[1] ?? '';
  if (n.host === undefined || top === 'proc' || top === 'sys' || top === 'dev') {
    const type = top === 'proc' ? PROC_SUPER_MAGIC : top === 'sys' ? SYSFS_MAGIC : TMPFS_MAGIC;
    w.u64(0, type).u64(8, 4096).u64(64, 255).u64(72, 4096).u64(80, ST_RDONLY | ST_NOSUID | (top === 'dev' ? 0 : ST_NODEV | ST_NOEXEC));
    return w.bytes;
  }
  let s: fs.BigIntStatsFs;
  try {
    s = fs.statfsSync(hostPath(n.host), { bigint: true });
  } catch (x) {
    const e = hostErrno(x);
    if (e === undefined) throw x;
    return e;
  }
  w.u64(0, s.type).u64(8, s.bsize).u64(16, s.blocks).u64(24, s.bfree).u64(32, s.bavail).u64(40, s.files).u64(48, s.ffree)
    .u64(64, 255).u64(72, s.bsize).u64(80, ST_RDONLY);
  p.input(InputKind.STAT, w.bytes);
  return w.bytes;
}

function put(p: LinuxProcess, addr: bigint, r: Uint8Array | number): bigint {
  if (typeof r === 'number') return err(r);
  return writeOut(p.mem, addr, r) ? 0n : err(E.EFAULT);
}

export const statfsSyscalls: HandlerGroup = {
  statfs: (p, a: Args) => {
    const n = foundNode(lookupAt(p, AT_FDCWD, u64(a, 0), true));
    return typeof n === 'number' ? err(n) : put(p, u64(a, 1), statfsOf(p, n));
  },
  fstatfs: (p, a) => {
    const e = p.fds.get(int(a, 0));
    if (e === undefined) return err(E.EBADF);
    const f = e.file;
    if (f.kind === 'stream' || f.kind === 'pipe' || f.kind === 'anon') {
      return put(p, u64(a, 1), new StructWriter(120).u64(0, 0x50495045).u64(8, 4096).u64(64, 255).u64(72, 4096).bytes); // PIPEFS_MAGIC
    }
    return put(p, u64(a, 1), statfsOf(p, f.node));
  },
};
