// The host side of processes on the one emulated processor: the process and thread tables, the system calls that
// create, replace, end and wait for processes, blocking (a task whose call cannot complete waits and the
// processor goes to another), and the host's half of a context switch: it writes the chosen task into the per-CPU
// area and the guest kernel's __switch_to does the rest in ring 0 (kernel/switch-to.ts). Every byte the host writes
// goes through an address space's logged hostWrite, so a replay needs nothing from here.
import type { Cpu } from '../cpu/cpu.js';
import { fxImage } from '../cpu/ops/x87-control.js';
import { Off } from '../cpu/state.js';
import { AddressSpace } from './address-space.js';
import type { BootInfo } from './kernel/boot.js';
import { SWITCH_STEPS } from './kernel/image.js';
import { switchFrameOffset, SWITCH_FRAME_SIZE, SAVED_GPR_NUMBERS } from './kernel/switch-to.js';
import { directMap, kernelLinear, kernelPhys, Percpu, PERCPU_PHYS, TASK0_PHYS, TaskArea } from './layout.js';
import { type Args, int, u64 } from './linux/args.js';
import { E, err } from './linux/errno.js';
import { O } from './linux/open-file.js';
import type { SyscallOutcome } from './abi.js';
import { syscallName } from './linux/syscall-table.js';
import type { BlockedRetry, GuestProcess, ProcessEvent, ScheduleEntry, Task } from './process-model.js';
import { execve, type ExecContext } from './exec.js';
import { signalChildExit } from './child-exit.js';
import { Futexes } from './futexes.js';
import { Scheduler } from './scheduler.js';

/** What a process system call did. */
export type ProcOutcome =
  | { kind: 'return'; value: bigint } // RAX := value
  | { kind: 'block'; retry: BlockedRetry } // the task waits; `retry` answers when it can go on
  | { kind: 'yield' } // RAX := 0 and another runnable task goes first
  | { kind: 'thread_exit' } // the task ended (its process goes on)
  | { kind: 'exit'; waitStatus: number }; // the process ends

/** What the service of one system call asks of the machine. */
export type TableOutcome =
  | { kind: 'continue' } // return to the guest (RAX set, or a switch requested)
  | { kind: 'exit'; status: number; signal?: number } // every task has ended: the first process's status
  | { kind: 'error'; message: string }; // the machine cannot go on (every task blocked)

const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CLONE_SETTLS = 0x80000, CLONE_THREAD = 0x10000;
const CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_SETTID = 0x1000000, CLONE_CHILD_CLEARTID = 0x200000;
const WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2;

/** The host address of kernel memory at a kernel linear address (kernel image or direct map). */


/** A little-endian u64. */
function u64le(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

export class ProcessTable {
  /** Processes by pid (zombies and reaped ones stay for the trace's processes.json). */
  readonly procs = new Map<number, GuestProcess>();
  /** Threads, in creation order (the scheduler's round-robin order). */
  readonly tasks: Task[] = [];
  /** The schedule: the first entry is the first task at step 0. */
  readonly schedule: ScheduleEntry[] = [];
  /** The task on the processor (after a switch request: the one switched to). */
  current: Task;
  /** The first process (its exit status is the machine's). */
  readonly root: GuestProcess;
  /** Step counter (the recorder's seq; the instruction count without one). */
  clock: () => number;
  /** The scheduling policy (default or chaos). */
  scheduler = new Scheduler();
  /** Tasks waiting on futex words. */
  readonly futexes = new Futexes();
  /** Receives fork, exec, process_exit and switch events (the recorder's events table). */
  onEvent: ((e: ProcessEvent) => void) | null = null;
  /** Frames and address spaces of ended tasks, released at the next service (their kernel stack was still in use). */
  private readonly deferred: (() => void)[] = [];
  private nextPid: number;
  private readonly cpu: Cpu;
  private readonly kernel: BootInfo;
  private readonly exec: Omit<ExecContext, 'proc'>;

  constructor(cpu: Cpu, kernel: BootInfo, root: GuestProcess, exec: Omit<ExecContext, 'proc'>) {
    this.cpu = cpu;
    this.kernel = kernel;
    this.exec = exec;
    this.root = root;
    this.clock = () => cpu.icount;
    this.procs.set(root.pid, root);
    this.nextPid = root.pid + 1;
    const task: Task = { tid: root.pid, proc: root, area: TASK0_PHYS, areaLinear: kernelLinear(TASK0_PHYS), state: 'running', blocked: null, firstStep: 0, lastStep: null, clearChildTid: 0n };
    this.tasks.push(task);
    this.current = task;
    this.schedule.push({ seq: 0, tid: task.tid });
    this.watch(root.as);
  }

  /** Address spaces log user-address writes only while the processor runs on them. */
  private watch(as: AddressSpace): void {
    const r = this.cpu.r, cr3 = Off.CR3 >> 2;
    as.isActive = () => r[cr3] === as.pml4 && r[cr3 + 1] === 0;
  }

  private reg(n: number): bigint {
    return (BigInt(this.cpu.r[(n << 1) | 1]!) << 32n) | BigInt(this.cpu.r[n << 1]!);
  }

  private setReg(n: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.cpu.r[n << 1] = Number(u & 0xffffffffn);
    this.cpu.r[(n << 1) | 1] = Number(u >> 32n);
  }

  private state64(off: number): bigint {
    return (BigInt(this.cpu.r[(off >> 2) + 1]!) << 32n) | BigInt(this.cpu.r[off >> 2]!);
  }

  /** A logged host write into kernel memory at physical address `phys`. */
  kwrite(phys: number, bytes: Uint8Array): void {
    this.root.as.hostWrite(phys < 0x200000 ? kernelLinear(phys) : directMap(phys), phys, bytes);
  }

  /** Writes `bytes` at `phys`, only its non-zero 8-byte words (the frame is known to hold zeros). */
  private kwriteNonZero(phys: number, bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += 8) {
      let end = off;
      while (end < bytes.length && bytes.subarray(end, end + 8).some((b) => b !== 0)) end += 8;
      if (end > off) { this.kwrite(phys + off, bytes.slice(off, end)); off = end; }
    }
  }

  private read64(phys: number): bigint {
    return this.cpu.mem.dv.getBigUint64(phys, true);
  }

  /** Releases what ended tasks left behind (called at the start of every service). */
  reapDeferred(): void {
    for (const f of this.deferred.splice(0)) f();
  }

  // ---- system calls -------------------------------------------------------------------------------------

  /** The process system calls (the rest go to LinuxProcess). */
  private readonly calls: Record<string, (t: Task, a: Args) => ProcOutcome | undefined> = {
    kill: (t, a) => this.killCall(t, int(a, 0), int(a, 1)),
    tgkill: (t, a) => this.tkill(t, int(a, 1), int(a, 2), int(a, 0)),
    tkill: (t, a) => this.tkill(t, int(a, 0), int(a, 1)),
    fork: (t) => this.fork(t, 0, 0n, 0n),
    vfork: (t) => this.fork(t, CLONE_VM | CLONE_VFORK, 0n, 0n),
    clone: (t, a) => this.clone(t, [u64(a, 0), u64(a, 1), u64(a, 2), u64(a, 3), u64(a, 4)]),
    clone3: (t, a) => this.clone3(t, a),
    gettid: (t) => ({ kind: 'return', value: BigInt(t.tid) }),
    set_tid_address: (t, a) => { t.clearChildTid = u64(a, 0); return { kind: 'return', value: BigInt(t.tid) }; },
    futex: (t, a) => { const r = this.futexes.call(t, t.proc.as, a); return typeof r === 'bigint' ? { kind: 'return', value: r } : { kind: 'block', retry: r.block }; },
    sched_yield: () => ({ kind: 'yield' }),
    execve: (t, a) => this.execCall(t, u64(a, 0), u64(a, 1), u64(a, 2)),
    execveat: (t, a) => this.execCall(t, u64(a, 1), u64(a, 2), u64(a, 3), { dirfd: int(a, 0), flags: int(a, 4) }),
    exit: (t, a) => this.exitThread(t, (int(a, 0) & 0xff) << 8),
    exit_group: (_t, a) => ({ kind: 'exit', waitStatus: (int(a, 0) & 0xff) << 8 }),
    wait4: (t, a) => this.wait4(t, a),
    waitid: (t, a) => this.waitid(t, a),
    setpgid: (t, a) => this.setpgid(t, a),
    getpgid: (t, a) => this.idOf(t, int(a, 0), (p) => p.linux.ids.pgid),
    getsid: (t, a) => this.idOf(t, int(a, 0), (p) => p.linux.ids.sid),
    setsid: (t) => this.setsid(t),
  };

  /** Whether `nr` is one of the process system calls handled here. */
  handles(nr: number): boolean {
    return syscallName(nr) in this.calls;
  }

  /**
   * Service the current task's system call `nr`: run it (here or in its LinuxProcess), set RAX or block, and when
   * the task blocks or its process ends, switch to another one.
   */
  syscall(nr: number, args: Args, linuxCall: (p: GuestProcess, nr: number, args: Args) => SyscallOutcome): TableOutcome {
    const task = this.current;
    const handler = this.calls[syscallName(nr)];
    if (this.waitsForSignal(task, nr, args) && this.yieldAndRestart(task, nr)) return { kind: 'continue' };
    let out: ProcOutcome;
    const mine = handler?.(task, args);
    if (mine !== undefined) {
      out = mine;
    } else {
      const r = linuxCall(task.proc, nr, args);
      if (r.kind === 'exit') out = { kind: 'exit', waitStatus: r.signal !== undefined ? r.signal : (r.status & 0xff) << 8 };
      else if (this.wouldBlock(task.proc, nr, args, r.value)) {
        out = { kind: 'block', retry: () => { const again = linuxCall(task.proc, nr, args); return again.kind === 'exit' ? null : this.wouldBlock(task.proc, nr, args, again.value) ? null : again.value; } };
      } else out = { kind: 'return', value: r.value };
    }
    if (out.kind === 'return') {
      this.setReg(0, out.value);
      // preemption at a system call once the run's quantum is used (chaos mode)
      return this.scheduler.expired(this.clock()) ? this.switchAway(task) : { kind: 'continue' };
    }
    if (out.kind === 'yield') {
      this.setReg(0, 0n);
    } else if (out.kind === 'block') {
      task.state = 'blocked';
      task.blocked = out.retry;
    } else if (out.kind === 'exit') {
      this.endProcess(task.proc, out.waitStatus);
    }
    return this.switchAway(task);
  }

  /**
   * kill(2) to other processes: each gets the signal (its default action, when it ends the process, ends it here;
   * handlers are the signals code's). Signals to the caller itself are left to its LinuxProcess (undefined).
   */
  private killCall(t: Task, pid: number, sig: number): ProcOutcome | undefined {
    if (sig < 0 || sig > 64) return undefined;
    const me = t.proc, live = [...this.procs.values()].filter((p) => p.state === 'live');
    const targets = pid > 0 ? live.filter((p) => p.pid === pid) : pid === 0 ? live.filter((p) => p.linux.ids.pgid === me.linux.ids.pgid)
      : pid === -1 ? live.filter((p) => p !== me) : live.filter((p) => p.linux.ids.pgid === -pid);
    if (targets.length === 0) return pid === -1 ? undefined : { kind: 'return', value: err(E.ESRCH) };
    for (const p of targets) if (p !== me && sig !== 0 && p.linux.signals.send(sig) === 'terminate') this.endProcess(p, sig);
    return targets.includes(me) ? undefined : { kind: 'return', value: 0n };
  }

  /** tgkill/tkill to a thread: another process's, or another thread of the caller's (the process's default action). */
  private tkill(t: Task, tid: number, sig: number, tgid?: number): ProcOutcome | undefined {
    if (tid <= 0 || sig < 0 || sig > 64 || (tgid !== undefined && tgid <= 0)) return undefined;
    const target = this.tasks.find((k) => k.tid === tid && k.state !== 'dead');
    if (target === undefined || target === t || (tgid !== undefined && target.proc.pid !== tgid)) return undefined;
    if (sig !== 0 && target.proc.linux.signals.send(sig) === 'terminate') {
      if (target.proc === t.proc) return { kind: 'exit', waitStatus: sig };
      this.endProcess(target.proc, sig);
    }
    return { kind: 'return', value: 0n };
  }

  /**
   * Whether `nr` is pause or rt_sigsuspend and would sleep: no pending signal the call's mask lets through.
   * (Linux sleeps until a signal comes; here other tasks, which may send it, run first.)
   */
  private waitsForSignal(task: Task, nr: number, args: Args): boolean {
    const name = syscallName(nr);
    if (name !== 'pause' && name !== 'rt_sigsuspend') return false;
    const t = task.proc.linux.signals.thread;
    let mask = t.blocked;
    if (name === 'rt_sigsuspend') {
      const b = task.proc.linux.mem.read(u64(args, 0), 8);
      if (b === undefined || u64(args, 1) !== 8n) return false; // the call itself answers EFAULT / EINVAL
      mask = BigInt.asUintN(64, new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
    }
    return (t.pendingSet() & ~mask) === 0n;
  }

  /**
   * Let the other tasks run and make the call again when `task` next runs (Linux's restart: RIP back over the
   * SYSCALL, RAX the call's number), so that a signal they send is delivered by that call. False, with nothing
   * changed, when no other task can run now (the call then sleeps on the guest clock as in a single task).
   */
  private yieldAndRestart(task: Task, nr: number): boolean {
    if (!this.tasks.some((t) => t !== task && (t.state === 'runnable' || t.state === 'blocked'))) return false;
    const ripSlot = kernelPhys(this.reg(4) + 8n); // the user RIP the SYSCALL entry pushed (RCX)
    const rip = this.read64(ripSlot), rax = this.reg(0);
    this.kwrite(ripSlot, u64le(rip - 2n));
    this.setReg(0, BigInt(nr));
    const r = this.switchAway(task);
    if (r.kind === 'continue' && this.current !== task) return true;
    // nothing else could run: undo, and let the call sleep
    if (this.current === task) { this.kwrite(ripSlot, u64le(rip)); this.setReg(0, rax); }
    return false;
  }

  /** Process `p` dies of signal `sig` in a fault (its task never resumes): switch to another task, or end. */
  kill(p: GuestProcess, sig: number, switchSteps: number): TableOutcome {
    const task = this.current;
    this.endProcess(p, sig);
    return this.switchAway(task, switchSteps);
  }

  /** A read or write that would wait on a blocking pipe (the LinuxProcess answers EAGAIN). */
  private wouldBlock(p: GuestProcess, nr: number, args: Args, value: bigint): boolean {
    if (value !== err(E.EAGAIN)) return false;
    const name = syscallName(nr);
    if (name !== 'read' && name !== 'write' && name !== 'readv' && name !== 'writev') return false;
    const f = p.linux.fds.get(int(args, 0))?.file;
    return f !== undefined && f.kind === 'pipe' && (f.flags & O.NONBLOCK) === 0;
  }

  // ---- scheduling -----------------------------------------------------------------------------------------

  /** The next task to run after `from` (round-robin; a blocked task runs once its retry answers), or null. */
  private pickNext(from: Task): Task | null {
    const n = this.tasks.length, start = this.tasks.indexOf(from);
    for (const k of [...this.scheduler.order(n - 1), n]) {
      const t = this.tasks[(start + k) % n]!;
      if (t.state === 'runnable' || t.state === 'running') return t;
      if (t.state === 'blocked' && t !== from) {
        const r = t.blocked!();
        if (r !== null) {
          t.blocked = null;
          t.state = 'runnable';
          this.kwrite(kernelPhys(this.read64(t.area + TaskArea.RSP)) + switchFrameOffset(0), u64le(r));
          return t;
        }
      }
    }
    if (from.state === 'blocked') {
      const r = from.blocked!();
      if (r !== null) { from.blocked = null; from.state = 'running'; this.setReg(0, r); return from; }
    }
    if (from.state === 'running') return from;
    // nothing can run: a timed futex wait times out (virtual time moves to its end)
    if (this.futexes.expireOne()) return this.pickNext(from);
    return null;
  }

  /** `from` blocked or ended: request a switch to the next task, or end the machine. */
  private switchAway(from: Task, switchSteps = SWITCH_STEPS): TableOutcome {
    const next = this.pickNext(from);
    if (next === from) { this.scheduler.started(this.clock()); return { kind: 'continue' }; }
    if (next === null) {
      if (this.root.state !== 'live') {
        const ws = this.root.waitStatus;
        return (ws & 0x7f) !== 0 ? { kind: 'exit', status: 128 + (ws & 0x7f), signal: ws & 0x7f } : { kind: 'exit', status: (ws >> 8) & 0xff };
      }
      return { kind: 'error', message: `every task is blocked (threads ${this.tasks.filter((t) => t.state === 'blocked').map((t) => t.tid).join(', ')}): the guest deadlocked` };
    }
    // the CR3 load of the switch flushes the TLB: no separate flush
    for (const p of this.procs.values()) p.as.tlbFlushNeeded = false;
    this.kwrite(PERCPU_PHYS + Percpu.NEXT_TASK, u64le(next.areaLinear));
    this.kwrite(PERCPU_PHYS + Percpu.SWITCH, Uint8Array.of(1));
    if (from.state === 'running') from.state = 'runnable';
    next.state = 'running';
    this.current = next;
    const seq = this.clock() + switchSteps; // __switch_to's RET: the first step on the next task's kernel stack
    this.schedule.push({ seq, tid: next.tid });
    this.scheduler.started(seq);
    this.onEvent?.({ seq, kind: 'switch', id: next.tid, other: from.tid });
    return { kind: 'continue' };
  }

  // ---- fork, exit, wait -----------------------------------------------------------------------------------

  /** clone3(args, size): struct clone_args to clone's arguments (the stack is given as base and size). */
  private clone3(t: Task, a: Args): ProcOutcome {
    const size = u64(a, 1);
    if (size < 64n || size > 4096n) return { kind: 'return', value: err(E.EINVAL) };
    const b = t.proc.as.read(u64(a, 0), 64);
    if (b === undefined) return { kind: 'return', value: err(E.EFAULT) };
    const dv = new DataView(b.buffer), f = (k: number): bigint => dv.getBigUint64(8 * k, true);
    const flags = f(0), stack = f(5), stackSize = f(6);
    if ((f(4) & ~0xffn) !== 0n) return { kind: 'return', value: err(E.EINVAL) };
    return this.clone(t, [flags | f(4), stack !== 0n ? stack + stackSize : 0n, f(3), f(2), f(7)]);
  }

  /** clone(flags, stack, parent_tid, child_tid, tls): a process, or a thread with CLONE_THREAD. */
  private clone(t: Task, a: bigint[]): ProcOutcome {
    const flags = Number(a[0]! & 0xffffffffn);
    const [stack, ptid, ctid, tls] = [a[1]!, a[2]!, a[3]!, a[4]!];
    if ((flags & CLONE_THREAD) !== 0 && (flags & CLONE_VM) === 0) return { kind: 'return', value: err(E.EINVAL) };
    const r = (flags & CLONE_THREAD) !== 0 ? this.newThread(t, stack, (flags & CLONE_SETTLS) !== 0 ? tls : undefined) : this.fork(t, flags, stack, tls);
    if (r.kind === 'return' && r.value > 0n) {
      const child = Number(r.value);
      const task = this.tasks.find((k) => k.tid === child)!;
      const put = (addr: bigint, as: AddressSpace): void => { if (addr !== 0n) as.write(addr, new Uint8Array(new Uint32Array([child]).buffer)); };
      if ((flags & CLONE_PARENT_SETTID) !== 0) put(ptid, t.proc.as);
      if ((flags & CLONE_CHILD_SETTID) !== 0) put(ctid, task.proc.as);
      if ((flags & CLONE_CHILD_CLEARTID) !== 0) task.clearChildTid = ctid;
    }
    return r;
  }

  /** A new thread of `t`'s process, starting on `stack` (its TLS in FS_BASE with CLONE_SETTLS). */
  private newThread(t: Task, stack: bigint, tls: bigint | undefined): ProcOutcome {
    const tid = this.nextPid++;
    const area = t.proc.as.allocFrame();
    const task: Task = { tid, proc: t.proc, area, areaLinear: directMap(area), state: 'runnable', blocked: null, firstStep: this.clock(), lastStep: null, clearChildTid: 0n };
    this.tasks.push(task);
    this.writeChildArea(task, stack, tls);
    this.onEvent?.({ seq: this.clock(), kind: 'fork', id: tid, other: t.tid });
    return { kind: 'return', value: BigInt(tid) };
  }

  /** exit(2): the thread ends; with it the process when it was the last one. */
  private exitThread(t: Task, waitStatus: number): ProcOutcome {
    if (!this.tasks.some((k) => k !== t && k.proc === t.proc && k.state !== 'dead')) return { kind: 'exit', waitStatus };
    this.endTask(t);
    return { kind: 'thread_exit' };
  }

  /** A task ends: its clear_child_tid word is zeroed and woken, its page released after the switch. */
  private endTask(t: Task): void {
    t.state = 'dead'; t.blocked = null; t.lastStep = this.clock();
    this.futexes.drop(t);
    if (t.clearChildTid !== 0n && t.proc.as.write(t.clearChildTid, new Uint8Array(4))) this.futexes.wake(t.proc.as, t.clearChildTid, 1);
    if (t.area !== TASK0_PHYS) { const area = t.area, frames = t.proc.as.frames; this.deferred.push(() => frames.release(area)); }
  }

  /** fork/vfork/clone of a process: a new process with one task that returns 0 from the same system call. */
  private fork(t: Task, flags: number, stack: bigint, tls: bigint): ProcOutcome {
    const parent = t.proc;
    const pid = this.nextPid++;
    const shared = (flags & CLONE_VM) !== 0;
    const as = shared ? parent.as : parent.as.fork();
    if (!shared) this.watch(as);
    const linux = parent.linux.forkChild(pid, as, as);
    const proc: GuestProcess = {
      pid, ppid: parent.pid, linux, as, image: parent.image, argv: [...parent.argv], forkStep: this.clock(), execSteps: [],
      state: 'live', waitStatus: 0, exitStep: null, vforkParent: (flags & CLONE_VFORK) !== 0 ? parent.pid : null,
    };
    this.procs.set(pid, proc);
    const area = as.allocFrame();
    const task: Task = { tid: pid, proc, area, areaLinear: directMap(area), state: 'runnable', blocked: null, firstStep: this.clock(), lastStep: null, clearChildTid: 0n };
    this.tasks.push(task);
    this.writeChildArea(task, stack, (flags & CLONE_SETTLS) !== 0 ? tls : undefined);
    this.onEvent?.({ seq: this.clock(), kind: 'fork', id: pid, other: parent.pid });
    if ((flags & CLONE_VFORK) !== 0) {
      // the parent waits until the child has exec'd or ended
      return { kind: 'block', retry: () => (proc.vforkParent === null ? BigInt(pid) : null) };
    }
    return { kind: 'return', value: BigInt(pid) };
  }

  /**
   * The new task's page: the parent's FXSAVE image and FS/GS bases, and a kernel stack holding what the SYSCALL
   * entry's switch path leaves, so that __switch_to returns into it and it leaves the system call with RAX 0.
   */
  private writeChildArea(task: Task, stack: bigint, tls: bigint | undefined): void {
    const page = new Uint8Array(4096);
    const dv = new DataView(page.buffer);
    page.set(fxImage(this.cpu, true), TaskArea.FXSAVE);
    const top = 4096, frame = top - SWITCH_FRAME_SIZE;
    const set = (off: number, v: bigint): void => dv.setBigUint64(off, BigInt.asUintN(64, v), true);
    set(TaskArea.RSP, task.areaLinear + BigInt(frame));
    set(TaskArea.CR3, BigInt(task.proc.as.pml4));
    set(TaskArea.KSTACK_TOP, task.areaLinear + BigInt(top));
    set(TaskArea.FS_BASE, tls ?? this.state64(Off.FS_BASE));
    set(TaskArea.GS_BASE, this.state64(Off.GS_BASE));
    set(TaskArea.KERNEL_GS_BASE, this.state64(Off.KERNEL_GS_BASE));
    set(frame + switchFrameOffset('ret'), this.kernel.codeBase + BigInt(this.kernel.routines.find((r) => r.resume !== undefined)!.resume!));
    for (const g of SAVED_GPR_NUMBERS) set(frame + switchFrameOffset(g), g === 0 ? 0n : this.reg(g));
    set(frame + switchFrameOffset('user_rsp'), stack !== 0n ? stack : this.read64(PERCPU_PHYS + Percpu.USER_RSP));
    set(frame + switchFrameOffset('r11'), this.reg(11));
    set(frame + switchFrameOffset('rcx'), this.reg(1));
    this.kwriteNonZero(task.area, page);
  }

  /** The process ends with `waitStatus`: its tasks die, its descriptors close, its parent hears of it. */
  endProcess(p: GuestProcess, waitStatus: number): void {
    const now = this.clock();
    for (const t of this.tasks) {
      if (t.proc !== p || t.state === 'dead') continue;
      t.state = 'dead'; t.blocked = null; t.lastStep = now;
      this.futexes.drop(t);
      if (t.area !== TASK0_PHYS) { const area = t.area; this.deferred.push(() => p.as.frames.release(area)); }
    }
    for (const [fd] of [...p.linux.fds.open()]) p.linux.fds.close(fd);
    p.state = 'zombie';
    p.waitStatus = waitStatus;
    p.exitStep = now;
    this.onEvent?.({ seq: now, kind: 'process_exit', id: p.pid, other: waitStatus });
    p.vforkParent = null;
    for (const c of this.procs.values()) if (c.ppid === p.pid && c.state !== 'reaped') c.ppid = 1;
    const shared = [...this.procs.values()].some((o) => o !== p && o.state === 'live' && o.as === p.as);
    if (!shared) { const as = p.as; this.deferred.push(() => as.destroy()); }
    const parent = this.procs.get(p.ppid);
    if (parent !== undefined && parent.state === 'live' && signalChildExit(parent.linux, p.pid, p.linux.ids.uid, waitStatus) === 'reap') p.state = 'reaped';
  }

  /** The zombie children of `t`'s process that `pid` (wait4's selector) matches, and whether any child matches. */
  private matching(t: Task, pid: number): { any: boolean; zombie: GuestProcess | undefined } {
    const me = t.proc;
    let any = false, zombie: GuestProcess | undefined;
    for (const c of this.procs.values()) {
      if (c.ppid !== me.pid || c.state === 'reaped') continue;
      const ok = pid === -1 || (pid > 0 ? c.pid === pid : pid === 0 ? c.linux.ids.pgid === me.linux.ids.pgid : c.linux.ids.pgid === -pid);
      if (!ok) continue;
      any = true;
      if (c.state === 'zombie' && (zombie === undefined || (c.exitStep ?? 0) < (zombie.exitStep ?? 0))) zombie = c;
    }
    return { any, zombie };
  }

  private wait4(t: Task, a: Args): ProcOutcome {
    const pid = int(a, 0), status = u64(a, 1), options = int(a, 2), rusage = u64(a, 3);
    if ((options & ~(WNOHANG | 2 | 8 | 0x40000000 | 0x20000000 | 0x80000000)) !== 0) return { kind: 'return', value: err(E.EINVAL) };
    const attempt = (): bigint | null => {
      const m = this.matching(t, pid);
      if (!m.any) return err(E.ECHILD);
      if (m.zombie === undefined) return (options & WNOHANG) !== 0 ? 0n : null;
      const z = m.zombie;
      if (status !== 0n && !t.proc.as.write(status, new Uint8Array(new Int32Array([z.waitStatus]).buffer))) return err(E.EFAULT);
      if (rusage !== 0n && !t.proc.as.write(rusage, new Uint8Array(144))) return err(E.EFAULT);
      z.state = 'reaped';
      return BigInt(z.pid);
    };
    const r = attempt();
    return r !== null ? { kind: 'return', value: r } : { kind: 'block', retry: attempt };
  }

  private waitid(t: Task, a: Args): ProcOutcome {
    const idtype = int(a, 0), id = int(a, 1), info = u64(a, 2), options = int(a, 3), rusage = u64(a, 4);
    if ((options & WEXITED) === 0) return { kind: 'return', value: err(E.EINVAL) };
    const pid = idtype === P_ALL ? -1 : idtype === P_PID ? id : idtype === P_PGID ? (id === 0 ? 0 : -id) : NaN;
    if (Number.isNaN(pid) || (idtype === P_PID && id <= 0)) return { kind: 'return', value: err(E.EINVAL) };
    const attempt = (): bigint | null => {
      const m = this.matching(t, pid);
      if (!m.any) return err(E.ECHILD);
      if (m.zombie === undefined) {
        if ((options & WNOHANG) === 0) return null;
        if (info !== 0n && !t.proc.as.write(info, new Uint8Array(128))) return err(E.EFAULT);
        return 0n;
      }
      const z = m.zombie, ws = z.waitStatus, killed = (ws & 0x7f) !== 0;
      const si = new Uint8Array(128), dv = new DataView(si.buffer);
      dv.setInt32(0, 17, true); // SIGCHLD
      dv.setInt32(8, killed ? 2 : 1, true); // CLD_KILLED / CLD_EXITED
      dv.setInt32(16, z.pid, true);
      dv.setInt32(20, z.linux.ids.uid, true);
      dv.setInt32(24, killed ? ws & 0x7f : (ws >> 8) & 0xff, true);
      if (info !== 0n && !t.proc.as.write(info, si)) return err(E.EFAULT);
      if (rusage !== 0n && !t.proc.as.write(rusage, new Uint8Array(144))) return err(E.EFAULT);
      if ((options & WNOWAIT) === 0) z.state = 'reaped';
      return 0n;
    };
    const r = attempt();
    return r !== null ? { kind: 'return', value: r } : { kind: 'block', retry: attempt };
  }

  // ---- process groups and sessions ------------------------------------------------------------------------

  private target(t: Task, pid: number): GuestProcess | undefined {
    const p = pid === 0 ? t.proc : this.procs.get(pid);
    return p !== undefined && p.state !== 'reaped' ? p : undefined;
  }

  private idOf(t: Task, pid: number, get: (p: GuestProcess) => number): ProcOutcome {
    const p = this.target(t, pid);
    return { kind: 'return', value: p === undefined ? err(E.ESRCH) : BigInt(get(p)) };
  }

  private setpgid(t: Task, a: Args): ProcOutcome {
    const p = this.target(t, int(a, 0));
    let pgid = int(a, 1);
    if (pgid < 0) return { kind: 'return', value: err(E.EINVAL) };
    if (p === undefined || (p !== t.proc && p.ppid !== t.proc.pid)) return { kind: 'return', value: err(E.ESRCH) };
    if (p.linux.ids.sid === p.pid || p.linux.ids.sid !== t.proc.linux.ids.sid) return { kind: 'return', value: err(E.EPERM) };
    if (pgid === 0) pgid = p.pid;
    const inSession = pgid === p.pid || [...this.procs.values()].some((o) => o.state !== 'reaped' && o.linux.ids.pgid === pgid && o.linux.ids.sid === p.linux.ids.sid);
    if (!inSession) return { kind: 'return', value: err(E.EPERM) };
    p.linux.ids = { ...p.linux.ids, pgid };
    return { kind: 'return', value: 0n };
  }

  private setsid(t: Task): ProcOutcome {
    const p = t.proc;
    if ([...this.procs.values()].some((o) => o.state !== 'reaped' && o.linux.ids.pgid === p.pid)) return { kind: 'return', value: err(E.EPERM) };
    p.linux.ids = { ...p.linux.ids, pgid: p.pid, sid: p.pid };
    return { kind: 'return', value: BigInt(p.pid) };
  }

  // ---- exec -----------------------------------------------------------------------------------------------

  private execCall(t: Task, path: bigint, argv: bigint, envp: bigint, at?: { dirfd: number; flags: number }): ProcOutcome {
    const p = t.proc;
    const old = p.as;
    const r = execve({ ...this.exec, proc: p }, path, argv, envp, at);
    if (typeof r === 'bigint') return { kind: 'return', value: r };
    // the other threads of the process end (Linux's de_thread; the exec'ing thread keeps its tid here)
    for (const k of this.tasks) if (k !== t && k.proc === p && k.state !== 'dead') { k.clearChildTid = 0n; this.endTask(k); }
    // past the point of no return: the new address space is in place
    this.watch(p.as);
    this.setState64(Off.CR3, BigInt(p.as.pml4));
    this.cpu.flushTlb();
    for (let g = 0; g < 16; g++) if (g !== 4) this.setReg(g, 0n);
    const rsp = this.reg(4); // the kernel stack: [rsp] R11 (user RFLAGS), [rsp + 8] RCX (user RIP)
    this.kwrite(kernelPhys(rsp), u64le(0x202n));
    this.kwrite(kernelPhys(rsp) + 8, u64le(r.entry));
    this.kwrite(PERCPU_PHYS + Percpu.USER_RSP, u64le(r.sp));
    this.setState64(Off.FS_BASE, 0n);
    this.setState64(Off.KERNEL_GS_BASE, 0n);
    const s = this.cpu.r;
    s[Off.FCW >> 2] = 0x37f; s[Off.FSW >> 2] = 0; s[Off.FTOP >> 2] = 0; s[Off.FTAG >> 2] = 0xffff; s[Off.MXCSR >> 2] = 0x1f80;
    this.cpu.s.u8.fill(0, Off.XMM, Off.XMM + 256);
    p.execSteps.push(this.clock());
    this.onEvent?.({ seq: this.clock(), kind: 'exec', id: p.pid, other: 0 });
    const shared = [...this.procs.values()].some((o) => o !== p && o.state === 'live' && o.as === old);
    if (!shared) old.destroy();
    p.vforkParent = null;
    return { kind: 'return', value: 0n };
  }

  private setState64(off: number, v: bigint): void {
    this.cpu.r[off >> 2] = Number(v & 0xffffffffn);
    this.cpu.r[(off >> 2) + 1] = Number((v >> 32n) & 0xffffffffn);
  }
}
