// socketpair(AF_UNIX, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET): two connected ends within the guest, each with
// a receive queue the other end fills. A stream is a byte queue (a Pipe); a datagram end keeps message
// boundaries (a read takes one message, cut to the buffer). A read with nothing queued fails with EAGAIN (one
// thread: a blocking one is reported as partial), or gives end-of-file once the peer is closed or shut down;
// a write to a closed peer is EPIPE (and SIGPIPE).
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { S_IFSOCK } from './file-stat.js';
import { type AnonFile, type AnonInode, O } from './open-file.js';
import { PIPE_CAPACITY, Pipe } from './pipe.js';
import { POLL } from './poll.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { writeOut } from './user-memory.js';

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = O.NONBLOCK, SOCK_CLOEXEC = O.CLOEXEC;

/** What one end receives. */
export interface SocketQueue {
  readonly bytes: Pipe; // stream data (streams only)
  readonly messages: Uint8Array[]; // whole messages, oldest first (datagram and seqpacket only)
  open: boolean; // the end that reads this queue is open
  writable: boolean; // its peer may still write into it (false after the peer's close or shutdown(SHUT_WR))
}

/** Bytes a datagram end may hold queued (about Linux's default receive buffer). */
const MESSAGE_CAPACITY = 212992;

function queuedBytes(q: SocketQueue): number {
  return q.messages.reduce((s, m) => s + m.length, 0);
}

/** One end: it reads `rx` and writes into `tx` (the peer's rx). */
export function socketInode(p: LinuxProcess, rx: SocketQueue, tx: SocketQueue, dgram: boolean, ino: bigint): AnonInode {
  return {
    label: `socket:[${ino}]`,
    mode: S_IFSOCK | 0o777,
    read(f: AnonFile, count: number): Uint8Array | number {
      const empty = dgram ? rx.messages.length === 0 : rx.bytes.size === 0;
      if (empty) {
        if (!rx.writable) return new Uint8Array(0);
        if ((f.flags & O.NONBLOCK) === 0) p.unsupportedCall('partial', 'a blocking read of an empty socket fails with EAGAIN (one thread: it would never return)');
        return E.EAGAIN;
      }
      if (dgram) return (rx.messages.shift() as Uint8Array).subarray(0, count);
      return rx.bytes.take(count);
    },
    write(_f: AnonFile, data: Uint8Array): number {
      if (!tx.open || !tx.writable) return -E.EPIPE;
      if (dgram) {
        if (queuedBytes(tx) + data.length > MESSAGE_CAPACITY) return data.length > MESSAGE_CAPACITY ? -E.EMSGSIZE : -E.EAGAIN;
        tx.messages.push(data.slice());
        return data.length;
      }
      if (data.length === 0) return 0;
      const n = tx.bytes.push(data);
      return n > 0 ? n : -E.EAGAIN;
    },
    poll(): number {
      const has = dgram ? rx.messages.length > 0 : rx.bytes.size > 0;
      const room = dgram ? queuedBytes(tx) < MESSAGE_CAPACITY : tx.bytes.size < PIPE_CAPACITY;
      // unix_poll: writable whenever the send buffer has room, whatever either end's shutdown state
      return (has || !rx.writable ? POLL.IN | POLL.RDNORM : 0) | (!rx.writable && !tx.open ? POLL.HUP : 0) |
        (room ? POLL.OUT | POLL.WRNORM : 0);
    },
    release(): void {
      rx.open = false;
      tx.writable = false;
    },
    shutdown(write: boolean, read: boolean): void {
      if (write) tx.writable = false;
      if (read) rx.open = false;
    },
  };
}

function socketpair(p: LinuxProcess, a: Args): bigint {
  const domain = int(a, 0), typeFlags = int(a, 1), protocol = int(a, 2);
  const type = typeFlags & 0xf;
  if ((typeFlags & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return err(E.EINVAL);
  if (domain === AF_INET || domain === AF_INET6) return err(E.EOPNOTSUPP); // Linux's inet sockets have no pairs
  if (domain !== AF_UNIX) {
    p.unsupportedCall('EAFNOSUPPORT', `socketpair of family ${domain}`);
    return err(E.EAFNOSUPPORT);
  }
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) return err(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) return err(E.EPROTONOSUPPORT);
  const dgram = type !== SOCK_STREAM;
  const queue = (): SocketQueue => ({ bytes: new Pipe(), messages: [], open: true, writable: true });
  const q0 = queue(), q1 = queue();
  const status = O.RDWR | (typeFlags & SOCK_NONBLOCK);
  const end = (rx: SocketQueue, tx: SocketQueue): AnonFile => {
    const ino = BigInt(++p.anonCount);
    return { kind: 'anon', anon: socketInode(p, rx, tx, dgram, ino), ino, refs: 0, flags: status };
  };
  const cloexec = (typeFlags & SOCK_CLOEXEC) !== 0;
  const fd0 = p.fds.alloc(end(q0, q1), cloexec, p.fdLimit());
  if (fd0 < 0) return err(E.EMFILE);
  const fd1 = p.fds.alloc(end(q1, q0), cloexec, p.fdLimit());
  if (fd1 < 0) {
    p.fds.close(fd0);
    return err(E.EMFILE);
  }
  if (!writeOut(p.mem, u64(a, 3), new StructWriter(8).i32(0, fd0).i32(4, fd1).bytes)) {
    p.fds.close(fd0);
    p.fds.close(fd1);
    return err(E.EFAULT);
  }
  return 0n;
}

export const socketPairSyscalls = { socketpair };
