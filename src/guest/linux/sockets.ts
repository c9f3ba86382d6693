// Network sockets are a later step: socket(2) fails with EACCES, which programs handle (glibc's nscd and syslog
// clients, Python's socket module probing), and every such call is reported as unsupported. socketpair's ends
// (socket-pair.ts) work within the guest, with send/recv (no address) and shutdown.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { readOne, writeOne } from './files.js';
import type { HandlerGroup, SyscallResult } from './handler.js';
import { O } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { socketPairSyscalls } from './socket-pair.js';

const MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

/** Runs `io` on a socket descriptor with MSG_DONTWAIT applied for this call only; ENOTSOCK for other files. */
function onSocket(p: LinuxProcess, fd: number, flags: number, io: () => SyscallResult): SyscallResult {
  const e = p.fds.get(fd);
  if (e === undefined) return err(E.EBADF);
  const f = e.file;
  if (f.kind !== 'anon' || !f.anon.label.startsWith('socket:')) return err(E.ENOTSOCK);
  if ((flags & MSG_PEEK) !== 0) {
    p.unsupportedCall('EINVAL', 'MSG_PEEK');
    return err(E.EINVAL);
  }
  const saved = f.flags;
  if ((flags & MSG_DONTWAIT) !== 0) f.flags |= O.NONBLOCK;
  try {
    return io();
  } finally {
    f.flags = saved;
  }
}

function sendto(p: LinuxProcess, a: Args): SyscallResult {
  const fd = int(a, 0), flags = int(a, 3);
  if (u64(a, 4) !== 0n) return err(E.EISCONN);
  return onSocket(p, fd, flags, () => {
    const r = writeOne(p, fd, u64(a, 1), u64(a, 2), undefined, (flags & MSG_NOSIGNAL) !== 0);
    return r;
  });
}

function recvfrom(p: LinuxProcess, a: Args): SyscallResult {
  const fd = int(a, 0), flags = int(a, 3);
  return onSocket(p, fd, flags, () => {
    const r = readOne(p, fd, u64(a, 1), u64(a, 2), undefined);
    // a socketpair peer has no address: *addrlen becomes 0
    if (r >= 0n && u64(a, 5) !== 0n && !p.mem.write(u64(a, 5), new Uint8Array(4))) return err(E.EFAULT);
    return r;
  });
}

function shutdown(p: LinuxProcess, a: Args): SyscallResult {
  const how = int(a, 1);
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return err(E.EINVAL);
  const e = p.fds.get(int(a, 0));
  if (e === undefined) return err(E.EBADF);
  const f = e.file;
  if (f.kind !== 'anon' || !f.anon.label.startsWith('socket:')) return err(E.ENOTSOCK);
  f.anon.shutdown?.(how !== SHUT_RD, how !== SHUT_WR);
  return 0n;
}

const FAMILIES: Record<number, string> = { 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK' };

export const socketSyscalls: HandlerGroup = {
  ...socketPairSyscalls,
  sendto,
  recvfrom,
  shutdown,
  socket: (p, a: Args) => {
    const family = int(a, 0);
    p.unsupportedCall('EACCES', `${FAMILIES[family] ?? `family ${family}`} sockets are not implemented`);
    return err(E.EACCES);
  },
};
