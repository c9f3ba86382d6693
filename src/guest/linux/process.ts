// A Linux process as the host sees it: its descriptors, working directory, signal table, limits and clocks, and
// the dispatch of system calls to their handlers. It needs no processor: the guest's memory and address space
// come in through the UserMemory and MemoryManager seams.
import * as fs from 'node:fs';
import { webcrypto } from 'node:crypto';
import type { HostEvents, MemoryManager, SyscallOutcome, UserMemory } from '../abi.js';
import { type ByteString, hostPath, utf8ToBStr } from './byte-string.js';
import { E, err, errnoName, hostErrno } from './errno.js';
import { S_IFMT, S_IFREG } from './file-stat.js';
import { FdTable } from './fd-table.js';
import { FsView, isDir } from './fs-view.js';
import { GuestClock, hostRealtimeNs } from './guest-clock.js';
import { O, type StreamFile } from './open-file.js';
import { writeThroughPath } from './overlay.js';
import { fdLinks, formatStatus } from './proc-self.js';
import { RLIMIT, type Rlimit, defaultRlimits } from './rlimits.js';
import { SignalState } from './signal-state.js';
import { syscallEntry, syscallName } from './syscall-table.js';
import { UnsupportedSyscalls } from './unsupported.js';
import { type ProcSource, buildVirtualTree } from './virtual-files.js';

/** Whether each standard stream is a terminal. */
export interface TtyFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface LinuxProcessOptions {
  mem: UserMemory;
  mm: MemoryManager;
  events: HostEvents;
  /** Host directory exposed as the guest's "/" (read-only, the guest's changes in a private overlay); without it "/" holds only the virtual files. */
  root?: string;
  /** Host directories (inside `root`) the guest writes through to instead of the overlay (--rw). */
  rw?: readonly string[];
  /** The program file, always readable at its guest path (the target of /proc/self/exe). */
  program: { guestPath: string; bytes: Uint8Array };
  /** What /proc/self/{cmdline,maps} show; without it those files (and /proc/cpuinfo, /sys/.../cpu) are absent. */
  proc?: ProcSource;
  /** Host file descriptors for the guest's fds 0, 1 and 2 (not closed by the process). */
  stdin: number;
  stdout: number;
  stderr: number;
  /** Which standard streams are terminals (default: none). */
  isatty?: TtyFlags;
  /** Initial working directory, a guest path (default "/"). */
  cwd?: string;
  /** Real time in ns since the epoch (default: the host's, high resolution). */
  clock?: () => bigint;
  /** CPU time used in ns (default: time since start), e.g. derived from the instruction count. */
  cpuTime?: () => bigint;
  /** n random bytes (default: crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** Identity (defaults: pid 1000, ppid 999, uid and gid 1000). tid = pid, pgid = pid, sid = ppid. */
  pid?: number;
  ppid?: number;
  uid?: number;
  gid?: number;
  /** The processor's FS and GS bases (arch_prctl); without them the values are only remembered here. */
  setFsBase?: (v: bigint) => void;
  getFsBase?: () => bigint;
  setGsBase?: (v: bigint) => void;
  getGsBase?: () => bigint;
}

/** Process identity. */
export interface ProcessIds {
  readonly pid: number;
  readonly ppid: number;
  readonly tid: number;
  readonly uid: number;
  readonly gid: number;
  readonly pgid: number;
  readonly sid: number;
}

function defaultRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) webcrypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

export class LinuxProcess {
  readonly mem: UserMemory;
  readonly mm: MemoryManager;
  readonly events: HostEvents;
  readonly fs: FsView;
  readonly fds = new FdTable();
  readonly clock: GuestClock;
  readonly signals = new SignalState();
  /** Resource limits by RLIMIT_* number. */
  readonly rlimits: Rlimit[] = defaultRlimits();
  /** Identity (replaced as a whole by fork, setpgid and setsid). */
  ids: ProcessIds;
  readonly random: (n: number) => Uint8Array;
  /** The program's guest path as bytes. */
  readonly programPath: ByteString;
  /** Working directory: an absolute guest path of a directory. */
  cwd: ByteString;
  /** File mode creation mask. */
  umask = 0o022;
  /** set_tid_address's pointer (cleared at thread exit; kept for completeness). */
  clearChildTid = 0n;
  /** Pipes created so far (the next pipe's pseudo inode number). */
  pipeCount = 0;
  /** Anonymous inodes (eventfd, epoll, socketpair) created so far (the next one's pseudo inode number). */
  anonCount = 0;
  /** System calls not carried out as Linux would, counted (reported at exit, in the summary and the trace). */
  readonly unsupported = new UnsupportedSyscalls();
  /** Number of the system call being run (for unsupportedCall). */
  currentNr = -1;
  /** Process name (prctl PR_SET_NAME), at most 15 bytes. */
  comm: Uint8Array;
  private readonly options: LinuxProcessOptions;
  private fsBase = 0n;
  private gsBase = 0n;

  constructor(o: LinuxProcessOptions) {
    this.options = o;
    this.mem = o.mem;
    this.mm = o.mm;
    this.events = o.events;
    this.random = o.random ?? defaultRandom;
    this.clock = new GuestClock(o.clock ?? hostRealtimeNs, o.cpuTime);
    const pid = o.pid ?? 1000, ppid = o.ppid ?? 999;
    this.ids = { pid, ppid, tid: pid, uid: o.uid ?? 1000, gid: o.gid ?? 1000, pgid: pid, sid: ppid };
    this.programPath = utf8ToBStr(o.program.guestPath);
    if (!this.programPath.startsWith('/')) throw new Error(`program.guestPath must be absolute: ${o.program.guestPath}`);
    const base = this.programPath.split('/').pop() ?? '';
    this.comm = new Uint8Array(Buffer.from(base, 'latin1').subarray(0, 15));
    let hostRoot: ByteString | undefined;
    if (o.root !== undefined) {
      const real = fs.realpathSync(o.root);
      if (!fs.statSync(real).isDirectory()) throw new Error(`root is not a directory: ${o.root}`);
      hostRoot = utf8ToBStr(real === '/' ? '' : real);
    }
    const rw = (o.rw ?? []).map((d) => {
      const g = writeThroughPath(hostRoot, d);
      if (typeof g === 'object') throw new Error(g.error);
      return g;
    });
    const proc = o.proc === undefined ? undefined : {
      ...o.proc,
      status: () => formatStatus(this, Math.round((o.proc?.maps().reduce((s, m) => s + Number(m.end - m.start), 0) ?? 0) / 1024)),
      fds: () => fdLinks(this),
    };
    this.fs = new FsView(hostRoot, buildVirtualTree(this.programPath, o.program.bytes, proc), rw);
    const cwd = this.fs.lookup('/', utf8ToBStr(o.cwd ?? '/'), true);
    if (cwd.kind !== 'found' || !isDir(cwd.node)) throw new Error(`cwd is not a directory in the guest: ${o.cwd}`);
    this.cwd = cwd.node.path;
    const tty = o.isatty ?? { stdin: false, stdout: false, stderr: false };
    const stream = (hostFd: number, isTty: boolean, acc: number): StreamFile =>
      ({ kind: 'stream', hostFd, tty: isTty, termios: undefined, refs: 0, flags: (isTty ? O.RDWR : acc) | O.LARGEFILE });
    this.fds.install(0, stream(o.stdin, tty.stdin, O.RDONLY), false);
    this.fds.install(1, stream(o.stdout, tty.stdout, O.WRONLY), false);
    this.fds.install(2, stream(o.stderr, tty.stderr, O.WRONLY), false);
  }

  /** Removes the guest's private file changes from the host (the overlay's temporary directory). */
  close(): void {
    this.fs.overlay?.close();
  }

  /**
   * The child of fork(): the same file system view, clock, working directory, limits and signal dispositions, a
   * copy of the descriptor table (sharing the open file descriptions), and its own memory.
   */
  forkChild(pid: number, mem: UserMemory, mm: MemoryManager): LinuxProcess {
    const c = Object.create(LinuxProcess.prototype) as LinuxProcess;
    Object.assign(c, this);
    const w = c as { -readonly [K in 'mem' | 'mm' | 'fds' | 'signals' | 'rlimits']: LinuxProcess[K] };
    w.mem = mem;
    w.mm = mm;
    w.fds = new FdTable();
    for (const [fd, e] of this.fds.open()) c.fds.install(fd, e.file, e.cloexec);
    // fork(2): dispositions, the mask and the alternate stack are inherited; pending signals, timers are not
    w.signals = new SignalState();
    for (const [sig, act] of this.signals.actions) c.signals.actions.set(sig, { ...act });
    c.signals.thread.blocked = this.signals.thread.blocked;
    c.signals.thread.altStack = { ...this.signals.thread.altStack };
    w.rlimits = this.rlimits.map((r) => ({ ...r }));
    c.ids = { ...this.ids, pid, tid: pid, ppid: this.ids.pid };
    c.comm = this.comm.slice();
    return c;
  }

  /** Runs system call `nr` with its six arguments. */
  syscall(nr: number, args: readonly bigint[]): SyscallOutcome {
    this.currentNr = nr;
    const handler = syscallEntry(nr)?.handler;
    if (handler === undefined) {
      this.unsupportedCall('ENOSYS');
      return { kind: 'return', value: err(E.ENOSYS) };
    }
    let r;
    try {
      r = handler(this, args);
    } catch (x) {
      const e = hostErrno(x); // a host failure the handler did not expect (EIO, ENOMEM...): the guest sees it
      if (e === undefined) throw x;
      r = err(e);
    }
    return typeof r === 'bigint' ? { kind: 'return', value: r } : r;
  }

  /**
   * The whole contents of the regular file at guest path `path` (as execve reads the interpreter: through the
   * guest's view of the file system), or a one-line error.
   */
  readWholeFile(path: string): { bytes: Uint8Array; path: string } | { error: string } {
    const l = this.fs.lookup(this.cwd, utf8ToBStr(path), true);
    if (l.kind !== 'found') return { error: l.kind === 'missing' || l.errno === E.ENOENT ? 'no such file' : errnoName(l.errno) };
    const n = l.node;
    const resolved = Buffer.from(n.path, 'latin1').toString('utf8');
    if (n.virt?.type === 'file') return { bytes: n.virt.bytes, path: resolved };
    if ((n.stat.mode & S_IFMT) !== S_IFREG || n.host === undefined) return { error: 'not a regular file' };
    try {
      return { bytes: new Uint8Array(fs.readFileSync(hostPath(n.host))), path: resolved };
    } catch (x) {
      const e = hostErrno(x);
      if (e === undefined) throw x;
      return { error: errnoName(e) };
    }
  }

  /**
   * Counts and reports the current system call as not carried out as Linux would: `result` is the errno name the
   * guest gets, or "partial" (the call succeeds but something is ignored, said by `detail`).
   */
  unsupportedCall(result: string, detail?: string): void {
    const name = syscallName(this.currentNr);
    this.unsupported.add(name, result, detail);
    this.events.unsupportedSyscall(this.currentNr, name, result, detail);
  }

  /** Reports a value the host chose (see InputKind). */
  input(kind: string, data: Uint8Array): void {
    this.events.input(kind, data);
  }

  /** The soft RLIMIT_NOFILE: descriptors are below it. */
  fdLimit(): number {
    return Number((this.rlimits[RLIMIT.NOFILE] as Rlimit).cur);
  }

  getFsBase(): bigint {
    return this.options.getFsBase?.() ?? this.fsBase;
  }

  setFsBase(v: bigint): void {
    this.fsBase = v;
    this.options.setFsBase?.(v);
  }

  getGsBase(): bigint {
    return this.options.getGsBase?.() ?? this.gsBase;
  }

  setGsBase(v: bigint): void {
    this.gsBase = v;
    this.options.setGsBase?.(v);
  }
}
