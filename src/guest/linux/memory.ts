// brk, mmap, munmap, mprotect, mremap, madvise: delegated to the address space. A file mapping passes the whole
// file, whose contents are an input.
import * as fs from 'node:fs';
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import { readable, writable } from './open-file.js';
import type { LinuxProcess } from './process.js';

const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f, MAP_ANONYMOUS = 0x20;
const PROT_WRITE = 2;
const MADV_DONTNEED = 4;

/** The whole contents of a host file descriptor. */
function readWhole(hostFd: number): Uint8Array {
  const size = fs.fstatSync(hostFd).size;
  const out = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(hostFd, out, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return out.subarray(0, off);
}

function mmap(p: LinuxProcess, a: Args): bigint {
  const addr = u64(a, 0), length = u64(a, 1), prot = int(a, 2), flags = int(a, 3), fd = int(a, 4), offset = u64(a, 5);
  if ((offset & 0xfffn) !== 0n) return err(E.EINVAL);
  const type = flags & MAP_TYPE;
  let file: Uint8Array | undefined;
  let path: string | undefined;
  if ((flags & MAP_ANONYMOUS) === 0) {
    const e = p.fds.get(fd);
    if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
    const f = e.file;
    if (length === 0n) return err(E.EINVAL);
    if (f.kind === 'device' && f.device === 'zero') {
      file = undefined; // /dev/zero maps as anonymous memory
    } else if (f.kind !== 'file') {
      return err(E.ENODEV);
    } else {
      if (!readable(f)) return err(E.EACCES);
      if ((type === MAP_SHARED || type === MAP_SHARED_VALIDATE) && (prot & PROT_WRITE) !== 0 && !writable(f)) return err(E.EACCES);
      file = f.bytes ?? (f.hostFd !== undefined ? readWhole(f.hostFd) : new Uint8Array(0));
      p.input(InputKind.MMAP, file);
      path = Buffer.from(f.node.path, 'latin1').toString('utf8');
    }
  }
  if (length === 0n) return err(E.EINVAL);
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return err(E.EINVAL);
  return p.mm.mmap(addr, length, prot, flags, file, offset, path);
}

export const memorySyscalls: HandlerGroup = {
  brk: (p, a) => p.mm.brk(u64(a, 0)),
  mmap,
  munmap: (p, a) => p.mm.munmap(u64(a, 0), u64(a, 1)),
  mprotect: (p, a) => p.mm.mprotect(u64(a, 0), u64(a, 1), int(a, 2)),
  mremap: (p, a) => p.mm.mremap(u64(a, 0), u64(a, 1), u64(a, 2), int(a, 3), u64(a, 4)),
  // advice changes no result, except MADV_DONTNEED: private pages read as zeros (or the file) again
  madvise: (p, a) => (int(a, 2) === MADV_DONTNEED ? p.mm.discard(u64(a, 0), u64(a, 1)) : 0n),
  // one CPU: every barrier is already complete; MEMBARRIER_CMD_QUERY answers that no command is supported
  membarrier: (_p, a) => (int(a, 0) === 0 ? 0n : err(E.EINVAL)),
  msync: () => 0n,
  mlock: () => 0n,
  munlock: () => 0n,
};
