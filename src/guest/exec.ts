// execve(2) on the host side: read the program (a `#!` script runs its interpreter), build a new address space,
// load the program into it as Linux does, and make it the process's; close close-on-exec descriptors and reset
// caught signals. The caller (process-table.ts) then points the processor at the new image.
import type { PhysMemory } from '../cpu/phys-memory.js';
import { AddressSpace, type HostWriteSink, loaderTarget } from './address-space.js';
import type { FrameAllocator } from './frame-allocator.js';
import { E, err } from './linux/errno.js';
import type { LinuxProcess } from './linux/process.js';
import { SIG_DFL, SIG_IGN } from './linux/signal-state.js';
import { loadProgram } from './loader.js';
import type { ModuleTracker } from './module-tracker.js';
import type { GuestProcess } from './process-model.js';

/** What an exec needs from the machine. */
export interface ExecContext {
  /** Guest physical memory. */
  mem: PhysMemory;
  /** The recorder's host-write sink. */
  sink: HostWriteSink;
  /** The processor's notification of a physical write (decoded-code invalidation). */
  notify: (phys: number, length: number) => void;
  /** The machine's frames. */
  frames: FrameAllocator;
  /** Executable mappings (symbols). */
  modules: ModuleTracker;
  /** AT_RANDOM's bytes (logged as an input by the caller's source). */
  random: (n: number) => Uint8Array;
  /** The process that execs. */
  proc: GuestProcess;
}

/** Where the new image starts. */
export interface ExecEntry {
  entry: bigint;
  sp: bigint;
}

const MAX_ARGS = 0x10000;
const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000;
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** A NULL-terminated array of string pointers from user memory, or an errno. */
function readStrings(p: LinuxProcess, addr: bigint): string[] | number {
  const out: string[] = [];
  if (addr === 0n) return out;
  for (let i = 0; i < MAX_ARGS; i++) {
    const ptr = p.mem.read(addr + BigInt(8 * i), 8);
    if (ptr === undefined) return E.EFAULT;
    const v = new DataView(ptr.buffer).getBigUint64(0, true);
    if (v === 0n) return out;
    const s = p.mem.readCString(v, 131072);
    if (s === undefined) return E.EFAULT;
    out.push(latin1(s));
  }
  return E.E2BIG;
}

/** The file's bytes, or an errno (through the guest's file view, relative to its working directory). */
function readProgram(p: LinuxProcess, path: string): { bytes: Uint8Array; path: string } | number {
  if (path === '') return E.ENOENT;
  const r = p.readWholeFile(path);
  if ('error' in r) return r.error === 'no such file' ? E.ENOENT : r.error === 'not a regular file' ? E.EACCES : E.EACCES;
  return r;
}

/** `#!interpreter [arg]` of a script, or undefined. */
function shebang(bytes: Uint8Array): { interp: string; arg?: string } | undefined {
  if (bytes[0] !== 0x23 || bytes[1] !== 0x21) return undefined;
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = Math.min(bytes.length, 256);
  const line = latin1(bytes.subarray(2, end)).replace(/^[ \t]+|[ \t]+$/g, '');
  const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (m === null) return undefined;
  return m[2] !== undefined && m[2] !== '' ? { interp: m[1]!, arg: m[2] } : { interp: m[1]! };
}

/**
 * execve(path, argv, envp) for `c.proc`: on success the process has its new address space (not yet loaded into
 * CR3) and the entry point and stack pointer are returned; on failure a negative errno (nothing changed).
 */
export function execve(c: ExecContext, pathAddr: bigint, argvAddr: bigint, envAddr: bigint, at?: { dirfd: number; flags: number }): ExecEntry | bigint {
  const p = c.proc.linux;
  let pathBytes = p.mem.readCString(pathAddr);
  if (pathBytes === undefined) return err(E.EFAULT);
  if (at !== undefined) {
    // execveat: a relative path from a directory descriptor, or (AT_EMPTY_PATH) the file the descriptor is open on
    const rel = pathBytes.length > 0 && pathBytes[0] !== 0x2f;
    if (at.dirfd !== AT_FDCWD && (rel || (pathBytes.length === 0 && (at.flags & AT_EMPTY_PATH) !== 0))) {
      const f = p.fds.get(at.dirfd)?.file;
      if (f === undefined) return err(E.EBADF);
      if (pathBytes.length === 0) {
        if (f.kind !== 'file') return err(E.EACCES);
        pathBytes = new Uint8Array(Buffer.from(f.node.path, 'latin1'));
      } else {
        if (f.kind !== 'dir') return err(E.ENOTDIR);
        pathBytes = new Uint8Array(Buffer.from(`${f.node.path.replace(/\/$/, '')}/${Buffer.from(pathBytes).toString('latin1')}`, 'latin1'));
      }
    }
  }
  const argv = readStrings(p, argvAddr);
  if (typeof argv === 'number') return err(argv);
  const env = readStrings(p, envAddr);
  if (typeof env === 'number') return err(env);
  let path = latin1(pathBytes);
  let file = readProgram(p, path);
  if (typeof file === 'number') return err(file);
  let args = argv.slice(1), argv0 = argv[0] ?? path;
  const script = shebang(file.bytes);
  if (script !== undefined) {
    // Linux: argv becomes interpreter [arg] script-path original-argv[1..]
    args = [...(script.arg !== undefined ? [script.arg] : []), path, ...args];
    argv0 = script.interp;
    path = script.interp;
    file = readProgram(p, path);
    if (typeof file === 'number') return err(file);
    if (shebang(file.bytes) !== undefined) return err(E.ENOEXEC);
  }
  if (file.bytes[0] !== 0x7f || file.bytes[1] !== 0x45 || file.bytes[2] !== 0x4c || file.bytes[3] !== 0x46) return err(E.ENOEXEC);
  const as = new AddressSpace(c.mem, c.sink, c.notify, c.frames);
  as.isActive = () => false;
  as.onMap = (v) => c.modules.mapped(v);
  as.onUnmap = (start, end) => c.modules.unmapped(start, end);
  const paths = new Map<Uint8Array, string>([[file.bytes, file.path]]);
  const loaded = loadProgram(file.bytes, {
    target: loaderTarget(as, paths),
    execPath: path, argv0, args, env, uid: BigInt(p.ids.uid), gid: BigInt(p.ids.gid),
    random: c.random,
    readInterpreter: (ipath) => {
      const r = p.readWholeFile(ipath);
      if ('error' in r) return r;
      paths.set(r.bytes, r.path);
      return r.bytes;
    },
  });
  if (!loaded.ok) {
    as.destroy();
    return err(E.ENOEXEC);
  }
  as.reserveVdso();
  // the point of no return
  c.proc.as = as;
  const w = p as { -readonly [K in 'mem' | 'mm']: LinuxProcess[K] };
  w.mem = as;
  w.mm = as;
  for (const [fd, e] of [...p.fds.open()]) if (e.cloexec) p.fds.close(fd);
  for (const [sig, act] of [...p.signals.actions]) if (act.handler !== SIG_IGN && act.handler !== SIG_DFL) p.signals.actions.delete(sig);
  p.signals.thread.altStack = { sp: 0n, flags: 2, size: 0n }; // execve(2): no alternate stack
  p.signals.posixTimers.clear(); // timer_create(2): timers are deleted by execve
  c.proc.image = file.path;
  c.proc.argv = [argv0, ...args];
  p.comm = new Uint8Array(Buffer.from(path.split('/').pop() ?? '', 'utf8').subarray(0, 15));
  return { entry: loaded.entry, sp: loaded.sp };
}
