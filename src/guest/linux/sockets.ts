// Sockets are a later step: socket(2) fails with EACCES, which programs handle (glibc's nscd and syslog clients,
// Python's socket module probing), and every such call is reported as unsupported.
import { type Args, int } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';

const FAMILIES: Record<number, string> = { 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK' };

export const socketSyscalls: HandlerGroup = {
  socket: (p, a: Args) => {
    const family = int(a, 0);
    p.unsupportedCall('EACCES', `${FAMILIES[family] ?? `family ${family}`} sockets are not implemented`);
    return err(E.EACCES);
  },
};
