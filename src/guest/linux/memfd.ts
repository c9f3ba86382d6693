// memfd_create: an unnamed regular file (in the overlay's private directory, unlinked at once), readable, writable,
// mappable and resizable like any file; /proc/self/fd shows it as "/memfd:NAME (deleted)". Seals are not kept.
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { hostPath } from './byte-string.js';
import { E, err } from './errno.js';
import { fromHostStats } from './file-stat.js';
import type { HandlerGroup } from './handler.js';
import { O, type RegularFile } from './open-file.js';
import { hostCall } from './overlay.js';
import type { LinuxProcess } from './process.js';
import { readPath } from './user-memory.js';

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
/** The longest name (NAME_MAX minus the "memfd:" prefix). */
const MFD_NAME_MAX = 249;

function memfdCreate(p: LinuxProcess, a: Args): bigint {
  const flags = int(a, 1);
  if ((flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) !== 0) return err(E.EINVAL);
  const name = readPath(p.mem, u64(a, 0));
  if (typeof name === 'number') return err(name === E.ENAMETOOLONG ? E.EINVAL : name);
  if (name.length > MFD_NAME_MAX) return err(E.EINVAL);
  if ((flags & MFD_HUGETLB) !== 0) {
    p.unsupportedCall('EINVAL', 'MFD_HUGETLB');
    return err(E.EINVAL);
  }
  const o = p.fs.overlay;
  if (o === undefined) {
    p.unsupportedCall('ENOSYS', 'memfd_create needs a host root for its private directory');
    return err(E.ENOSYS);
  }
  const host = o.unnamedFile();
  const fd = hostCall(() => {
    const h = fs.openSync(hostPath(host), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.fchmodSync(h, 0o777);
    fs.unlinkSync(hostPath(host));
    return h;
  });
  if (typeof fd === 'object') return err(fd.errno);
  const f: RegularFile = {
    kind: 'file', node: { path: `/memfd:${name} (deleted)`, stat: fromHostStats(fs.fstatSync(fd, { bigint: true })) },
    hostFd: fd, bytes: undefined, offset: 0n, refs: 0, flags: O.RDWR | O.LARGEFILE,
  };
  const guestFd = p.fds.alloc(f, (flags & MFD_CLOEXEC) !== 0, p.fdLimit());
  return guestFd < 0 ? err(E.EMFILE) : BigInt(guestFd);
}

export const memfdSyscalls: HandlerGroup = { memfd_create: memfdCreate };
