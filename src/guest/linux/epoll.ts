// epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2: an interest list over the readiness poll(2) uses
// (pollMask). The guest has one thread, so a wait with nothing ready ends as a timeout at once; an endless one is
// reported as partial, as is edge-triggered mode (EPOLLET is served level-triggered).
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { ANON_MODE } from './eventfd.js';
import type { HandlerGroup } from './handler.js';
import { type AnonFile, type AnonInode, O, type OpenFile } from './open-file.js';
import { POLL, pollMask } from './poll.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
const EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
/** Size of struct epoll_event (packed on x86-64: u32 events, u64 data). */
const EVENT_SIZE = 12;
/** EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);

/** One watched descriptor. */
export interface EpollItem {
  readonly fd: number; // the descriptor it was added with
  readonly file: OpenFile; // the description it watches (the item goes when the description is released)
  events: number; // requested events and flags; 0 after a EPOLLONESHOT report
  data: bigint; // epoll_data returned with each report
}

/** The interest list of one epoll instance, in the order items were added, and its ready list. */
export interface EpollState {
  readonly items: EpollItem[];
  /**
   * Items found ready, in the order Linux's ready list holds them: an item joins at the tail when it is added or
   * modified while ready, or when a wait first sees it ready; a level-triggered report keeps the order.
   */
  ready: EpollItem[];
}

/** Brings the ready list up to date: drops what is no longer ready or watched, appends what became ready. */
function refresh(state: EpollState): void {
  state.ready = state.ready.filter((i) => state.items.includes(i) && armed(i) && ready(i) !== 0);
  for (const i of state.items) if (armed(i) && ready(i) !== 0 && !state.ready.includes(i)) state.ready.push(i);
}

/** Whether an item may report (a EPOLLONESHOT item is disarmed after its report until EPOLL_CTL_MOD). */
function armed(i: EpollItem): boolean {
  return (i.events & ~(EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE)) !== 0;
}

/** The events of one item now (0 if none of the requested ones). */
function ready(item: EpollItem): number {
  if (item.file.refs === 0) return 0;
  return pollMask(item.file) & ((item.events & 0xffff) | POLL.ERR | POLL.HUP);
}

function epollInode(state: EpollState): AnonInode {
  return {
    label: 'anon_inode:[eventpoll]',
    mode: ANON_MODE,
    read: () => E.EINVAL,
    write: () => -E.EINVAL,
    poll: () => (state.items.some((i) => ready(i) !== 0) ? POLL.IN | POLL.RDNORM : 0),
  };
}

function epollOf(p: LinuxProcess, epfd: number): EpollState | number {
  const e = p.fds.get(epfd);
  if (e === undefined) return E.EBADF;
  const f = e.file;
  return f.kind === 'anon' && f.anon.label === 'anon_inode:[eventpoll]' ? (f as AnonFile & { epoll: EpollState }).epoll : E.EINVAL;
}

function create(p: LinuxProcess, flags: number): bigint {
  if ((flags & ~O.CLOEXEC) !== 0) return err(E.EINVAL);
  const state: EpollState = { items: [], ready: [] };
  const f: AnonFile & { epoll: EpollState } = { kind: 'anon', anon: epollInode(state), epoll: state, ino: BigInt(++p.anonCount), refs: 0, flags: O.RDWR };
  const fd = p.fds.alloc(f, (flags & O.CLOEXEC) !== 0, p.fdLimit());
  return fd < 0 ? err(E.EMFILE) : BigInt(fd);
}

function ctl(p: LinuxProcess, a: Args): bigint {
  const epfd = int(a, 0), op = int(a, 1), fd = int(a, 2);
  let events = 0, data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const ev = readIn(p.mem, u64(a, 3), EVENT_SIZE);
    if (ev === undefined) return err(E.EFAULT);
    const v = new DataView(ev.buffer, ev.byteOffset, EVENT_SIZE);
    events = v.getUint32(0, true);
    data = v.getBigUint64(4, true);
  }
  const state = epollOf(p, epfd);
  const target = p.fds.get(fd);
  if (typeof state === 'number' && state === E.EBADF) return err(E.EBADF);
  if (target === undefined) return err(E.EBADF);
  if (typeof state === 'number') return err(state);
  const f = target.file;
  if (f.kind === 'file' || f.kind === 'dir' || f.kind === 'path') return err(E.EPERM); // no poll operation
  if (fd === epfd) return err(E.EINVAL);
  if ((events & EPOLLEXCLUSIVE) !== 0 && op === EPOLL_CTL_MOD) return err(E.EINVAL);
  const at = state.items.findIndex((i) => i.fd === fd && i.file === f);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (at >= 0) return err(E.EEXIST);
      if ((events & EPOLLET) !== 0) p.unsupportedCall('partial', 'EPOLLET is served level-triggered');
      state.items.push({ fd, file: f, events: events | POLL.ERR | POLL.HUP, data });
      refresh(state);
      return 0n;
    case EPOLL_CTL_MOD:
      if (at < 0) return err(E.ENOENT);
      state.items[at]!.events = events | POLL.ERR | POLL.HUP;
      state.items[at]!.data = data;
      refresh(state);
      return 0n;
    case EPOLL_CTL_DEL:
      if (at < 0) return err(E.ENOENT);
      state.items.splice(at, 1);
      refresh(state);
      return 0n;
    default:
      return err(E.EINVAL);
  }
}

function wait(p: LinuxProcess, epfd: number, eventsAddr: bigint, max: number, endless: boolean): bigint {
  if (max <= 0 || max > MAX_EVENTS) return err(E.EINVAL);
  const state = epollOf(p, epfd);
  if (typeof state === 'number') return err(state);
  for (let k = state.items.length - 1; k >= 0; k--) if (state.items[k]!.file.refs === 0) state.items.splice(k, 1);
  refresh(state);
  const out = new StructWriter(max * EVENT_SIZE);
  let n = 0;
  const reported = state.ready.slice(0, max);
  for (const item of reported) {
    out.u32(n * EVENT_SIZE, ready(item)).u64(n * EVENT_SIZE + 4, item.data);
    n++;
    if ((item.events & EPOLLONESHOT) !== 0) item.events &= EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE;
  }
  // reported items go to the tail (still in order): ready items beyond maxevents come first next time
  state.ready = [...state.ready.slice(reported.length), ...reported.filter(armed)];
  if (n === 0 && endless) p.unsupportedCall('partial', 'an endless wait with nothing ready returns 0 (natively it never returns)');
  if (n > 0 && !writeOut(p.mem, eventsAddr, out.bytes.subarray(0, n * EVENT_SIZE))) return err(E.EFAULT);
  return BigInt(n);
}

export const epollSyscalls: HandlerGroup = {
  epoll_create: (p, a) => (int(a, 0) <= 0 ? err(E.EINVAL) : create(p, 0)),
  epoll_create1: (p, a) => create(p, int(a, 0)),
  epoll_ctl: ctl,
  epoll_wait: (p, a) => wait(p, int(a, 0), u64(a, 1), int(a, 2), int(a, 3) < 0),
  epoll_pwait: (p, a) => wait(p, int(a, 0), u64(a, 1), int(a, 2), int(a, 3) < 0),
  epoll_pwait2: (p, a) => wait(p, int(a, 0), u64(a, 1), int(a, 2), u64(a, 3) === 0n),
};
