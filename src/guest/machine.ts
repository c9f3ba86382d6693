// The guest machine: processor, physical memory, hypervisor, guest kernel, address space and the Linux ABI,
// assembled to run one static Linux program at ring 3. `service()` is the hypervisor's handling of a VM exit
// (VMCALL services, fatal events); the plain runner and the recorder both drive the VM through it.
import { isAbsolute, resolve } from 'node:path';
import { Cpu } from '../cpu/cpu.js';
import { VECTOR_NAMES } from '../cpu/fault.js';
import { type CpuLevel, DEFAULT_CPU_LEVEL } from '../cpu/cpu-level.js';
import { loggedHostValues, modelHostValues } from '../cpu/host-values.js';
import { PhysMemory } from '../cpu/phys-memory.js';
import { Off } from '../cpu/state.js';
import { ExitReason } from '../vmx/exit-reason.js';
import { Vm } from '../vmx/hypervisor.js';
import { AddressSpace, loaderTarget } from './address-space.js';
import { boot, BootInfo, prepareUserEntry } from './kernel/boot.js';
import { Service } from './kernel/image.js';
import { DEFAULT_MEMORY, Percpu, PERCPU_PHYS, kernelLinear } from './layout.js';
import { LinuxProcess } from './linux/process.js';
import { DEAD_SWITCH_STEPS } from './kernel/image.js';
import { ProcessTable } from './process-table.js';
import { syscallName } from './linux/syscall-table.js';
import { loadProgram } from './loader.js';
import { ModuleTracker } from './module-tracker.js';
import { FatalSignal, SIGSEGV, fatalSignal, signalForVector, statusForSignal } from './signals.js';
import { faultSignal, pageFaultSignal } from './fault-signal.js';
import { raiseFault, returnToUser } from './linux/signal-deliver.js';
import { TASK_SIZE_MAX } from './linux/args.js';
import { EntryContext } from './user-context.js';

/** Receives what a recorder must log besides the processor's own effects. */
export interface MachineObserver {
  /** A host write into guest memory (called before the bytes change). */
  hostWrite?(linear: bigint, phys: number, bytes: Uint8Array): void;
  /** A nondeterministic value the guest received. */
  input?(kind: string, data: Uint8Array): void;
  /** A system call the ABI did not carry out as Linux would (see HostEvents.unsupportedSyscall). */
  unsupportedSyscall?(nr: number, name: string, result: string, detail?: string): void;
  /** A signal handler entered or left (see HostEvents.signal). */
  signal?(kind: 'signal_delivery' | 'sigreturn', signo: number, code: number, fromRip: bigint, toRip: bigint): void;
}

/** Options for creating a machine. */
export interface MachineOptions {
  /** The program file's bytes. */
  image: Uint8Array;
  /** The path the program is executed as (argv[0] default, AT_EXECFN, /proc/self/exe). */
  execPath: string;
  /** Arguments after argv[0]. */
  args: readonly string[];
  /** Environment strings "K=V". */
  env: readonly string[];
  /** Host directory exposed read-only as the guest's root, if any (the guest's changes go to a private overlay). */
  root?: string;
  /** Host directories inside `root` the guest writes through to (--rw). */
  rw?: readonly string[];
  /** Host file descriptors for the guest's stdin, stdout, stderr. */
  stdio?: [number, number, number];
  /** Physical memory size. */
  memory?: number;
  /** Recorder hooks. */
  observer?: MachineObserver;
  /** uid and gid of the process (AT_UID..., getuid; default 1000). */
  uid?: number;
  /** Random bytes source (AT_RANDOM, getrandom). */
  random?: (n: number) => Uint8Array;
  /** Stop the guest at the first system call that is not carried out as Linux would (--strict). */
  strict?: boolean;
  /** Host real time in ns since the epoch that the guest's clocks derive from (default: the host's). */
  clock?: () => bigint;
  /** The CPU model (--cpu; default x86-64-v2). */
  cpu?: CpuLevel;
}

/** How a service call ended. */
export type ServiceOutcome =
  | { kind: 'continue' }
  | { kind: 'exit'; status: number } // exit/exit_group
  | { kind: 'signal'; status: number; signal: FatalSignal; detail: string } // killed by a fatal signal
  | { kind: 'error'; message: string } // the machine cannot continue (triple fault, internal error)
  | { kind: 'strict'; message: string }; // --strict stopped the guest at an unsupported system call (before it returned)

/** A program that could not be loaded: a one-line reason. */
export interface LoadFailure {
  /** What is wrong with the image. */
  error: string;
}

/** The assembled machine. */
export class GuestMachine {
  /** Guest physical memory. */
  readonly mem: PhysMemory;
  /** The processor. */
  readonly cpu: Cpu;
  /** The hypervisor. */
  readonly vm: Vm;
  /** Processes, threads and the schedule. */
  readonly procs: ProcessTable;
  /** The fatal-signal outcome of the first process, kept while other processes still run. */
  private rootFatal: ServiceOutcome | null = null;
  /** Kernel routines. */
  readonly kernel: BootInfo;
  /** Program entry point. */
  readonly entry: bigint;
  /** Load bias (static-PIE), 0 for ET_EXEC. */
  readonly loadBias: bigint;
  /** System calls serviced. */
  syscalls = 0;
  /** Page faults resolved by demand paging. */
  pageFaults = 0;
  /** Stop at the first unsupported system call (MachineOptions.strict). */
  strict = false;
  /** The executable mappings of ELF files (program, interpreter, libraries). */
  modules = new ModuleTracker();

  private constructor(mem: PhysMemory, cpu: Cpu, procs: ProcessTable, kernel: BootInfo, entry: bigint, loadBias: bigint) {
    this.mem = mem; this.cpu = cpu; this.vm = new Vm(cpu); this.procs = procs; this.kernel = kernel;
    this.entry = entry; this.loadBias = loadBias;
  }

  /** The running process's address space. */
  get as(): AddressSpace {
    return this.procs.current.proc.as;
  }

  /** The running process's Linux ABI. */
  get linux(): LinuxProcess {
    return this.procs.current.proc.linux;
  }

  /** Build a machine ready to execute the program's first instruction (via the kernel's return to ring 3). */
  static create(o: MachineOptions): GuestMachine | LoadFailure {
    const mem = new PhysMemory(o.memory ?? DEFAULT_MEMORY);
    const cpu = new Cpu(mem);
    cpu.setLevel(o.cpu ?? DEFAULT_CPU_LEVEL);
    const obs = o.observer ?? {};
    const sink = (linear: bigint, phys: number, bytes: Uint8Array): void => obs.hostWrite?.(linear, phys, bytes);
    const as = new AddressSpace(mem, sink, (p, n) => cpu.notifyPhysWrite(p, n));
    const modules = new ModuleTracker();
    as.onMap = (v) => modules.mapped(v);
    as.onUnmap = (start, end) => modules.unmapped(start, end);
    const kernel = boot(cpu);
    const random = o.random ?? ((n: number) => new Uint8Array(globalThis.crypto.getRandomValues(new Uint8Array(n))));
    // RDRAND draws from the same random bytes as getrandom; RDTSC, RDTSCP and RDRAND values are inputs
    const host = modelHostValues(random);
    cpu.host = obs.input === undefined ? host : loggedHostValues(host, (kind, data) => obs.input?.(kind, data));
    const uid = o.uid ?? 1000;
    const stdio = o.stdio ?? [0, 1, 2];
    // /proc/self/exe is absolute (the kernel's d_path) even when the program was run by a relative path
    const guestPath = isAbsolute(o.execPath) ? o.execPath : resolve(o.execPath);
    const paths = new Map<Uint8Array, string>([[o.image, guestPath]]); // file bytes -> guest path, for the loader's mappings
    const procsRef: { table?: ProcessTable } = {}; // set once the process table exists (the view asks later)
    const linux = new LinuxProcess({
      mem: as, mm: as,
      events: {
        input: (kind, data) => obs.input?.(kind, data),
        unsupportedSyscall: (nr, name, result, detail) => obs.unsupportedSyscall?.(nr, name, result, detail),
        signal: (kind, signo, code, from, to) => obs.signal?.(kind, signo, code, from, to),
      },
      root: o.root,
      rw: o.rw,
      program: { guestPath, bytes: o.image },
      // /proc/self/maps is the running process's (argv and auxv stay the first program's: TODO per process)
      proc: { argv: [o.execPath, ...o.args], maps: () => (procsRef.table?.current.proc.as ?? as).mapsEntries(), auxv: () => auxvBytes },
      stdin: stdio[0], stdout: stdio[1], stderr: stdio[2],
      random: (n) => random(n),
      clock: o.clock,
      uid, gid: uid,
      setFsBase: (v) => { cpu.r[Off.FS_BASE >> 2] = Number(v & 0xffffffffn); cpu.r[(Off.FS_BASE >> 2) + 1] = Number(v >> 32n); },
      getFsBase: () => (BigInt(cpu.r[(Off.FS_BASE >> 2) + 1]!) << 32n) | BigInt(cpu.r[Off.FS_BASE >> 2]!),
      setGsBase: (v) => { cpu.r[Off.GS_BASE >> 2] = Number(v & 0xffffffffn); cpu.r[(Off.GS_BASE >> 2) + 1] = Number(v >> 32n); },
      getGsBase: () => (BigInt(cpu.r[(Off.GS_BASE >> 2) + 1]!) << 32n) | BigInt(cpu.r[Off.GS_BASE >> 2]!),
    });
    let auxvBytes = new Uint8Array(0); // /proc/self/auxv, set once the loader has written the vector
    const loaded = loadProgram(o.image, {
      target: loaderTarget(as, paths),
      execPath: o.execPath, args: o.args, env: o.env, uid: BigInt(uid), gid: BigInt(uid),
      random: (n) => { const b = random(n); obs.input?.('auxv-random', b); return b; },
      readInterpreter: (path) => {
        const r = linux.readWholeFile(path);
        if ('error' in r) return r;
        paths.set(r.bytes, r.path);
        return r.bytes;
      },
    });
    if (!loaded.ok) return { error: loaded.error };
    auxvBytes = new Uint8Array(new BigUint64Array(loaded.stack.auxv.flatMap((e) => [BigInt(e.type), e.value])).buffer);
    as.reserveVdso(); // where Linux's [vvar]/[vdso] go, so anonymous mmap addresses equal native ones
    prepareUserEntry(cpu, loaded.entry, loaded.sp);
    const root = {
      pid: linux.ids.pid, ppid: linux.ids.ppid, linux, as, image: guestPath, argv: [o.execPath, ...o.args], forkStep: 0, execSteps: [],
      state: 'live' as const, waitStatus: 0, exitStep: null, vforkParent: null,
    };
    const procs = new ProcessTable(cpu, kernel, root, {
      mem, sink, notify: (p, n) => cpu.notifyPhysWrite(p, n), frames: as.frames, modules,
      random: (n) => { const b = random(n); obs.input?.('auxv-random', b); return b; },
    });
    procsRef.table = procs;
    const machine = new GuestMachine(mem, cpu, procs, kernel, loaded.entry, loaded.loadBias);
    machine.strict = o.strict ?? false;
    machine.modules = modules;
    return machine;
  }

  /** The kernel routine containing a linear address, if any. */
  routineAt(addr: bigint): BootInfo['routines'][number] | undefined {
    return this.kernel.routines.find((r) => addr >= r.address && addr < r.address + BigInt(r.size));
  }

  private reg(n: number): bigint {
    return (BigInt(this.cpu.r[(n << 1) | 1]!) << 32n) | BigInt(this.cpu.r[n << 1]!);
  }


  private rip(): bigint {
    return (BigInt(this.cpu.r[(Off.RIP >> 2) + 1]!) << 32n) | BigInt(this.cpu.r[Off.RIP >> 2]!);
  }

  /** Handle the VM exit in vmcs.exit (anything but MONITOR_TRAP_FLAG / PREEMPTION_TIMER). */
  service(): ServiceOutcome {
    const reason = this.vm.vmcs.exit.reason;
    if (reason === ExitReason.TRIPLE_FAULT) return { kind: 'error', message: `guest triple fault at rip ${this.rip().toString(16)} (${String(this.cpu.lastFault)})` };
    if (reason !== ExitReason.VMCALL) {
      return { kind: 'error', message: `unexpected VM exit ${reason} at rip ${this.rip().toString(16)}` };
    }
    const routine = this.routineAt(this.rip());
    if (routine === undefined) return { kind: 'error', message: `VMCALL outside the kernel at ${this.rip().toString(16)}` };
    switch (routine.service) {
      case Service.SYSCALL: {
        this.syscalls++;
        this.procs.reapDeferred();
        const nr = Number(this.reg(0) & 0xffffffffn);
        const args = [this.reg(7), this.reg(6), this.reg(2), this.reg(10), this.reg(8), this.reg(9)];
        const linux = this.linux, task = this.procs.current;
        const unsupportedBefore = linux.unsupported.total;
        const port = new EntryContext(this.cpu, this.as, 'syscall');
        linux.signals.port = port;
        let strictStop = false;
        let out;
        try {
          out = this.procs.syscall(nr, args, (p, n, a) => {
            const r = p.linux.syscall(n, a);
            if (this.strict && p.linux.unsupported.total > unsupportedBefore) strictStop = true;
            return r;
          });
        } finally {
          linux.signals.port = undefined;
        }
        if (strictStop) {
          const e = linux.unsupported.entries.find((x) => x.count > 0 && x.name === syscallName(nr)) ?? linux.unsupported.entries[0]!;
          return { kind: 'strict', message: `stopped at the unsupported system call ${e.name} (${e.result}${e.detail !== undefined ? `: ${e.detail}` : ''}) with --strict` };
        }
        if (out.kind === 'exit') return this.rootFatal ?? { kind: 'exit', status: out.status };
        if (out.kind === 'error') return out;
        if (this.procs.current !== task) {
          // the caller blocked or ended and the kernel switches to another task (its signals wait for its next entry)
          this.vm.skipInstruction();
          return { kind: 'continue' };
        }
        port.forget(); // RAX holds the result now (unless rt_sigreturn replaced the whole context)
        // rt_sigreturn replaced the context: no restart decision applies to the value it restored
        const back = returnToUser(linux, port, port.dirty ? { kind: 'fault' } : { kind: 'syscall', nr });
        if (back.kind === 'killed') return this.killed(back.signal, back.core);
        return this.resume(port);
      }
      case Service.PAGE_FAULT: {
        this.procs.reapDeferred();
        const cr2 = this.reg(0), err = Number(this.reg(7) & 0xffffn);
        if (this.as.handleFault(cr2, err) === 'mapped') {
          this.pageFaults++;
          this.vm.skipInstruction();
          return { kind: 'continue' };
        }
        const detail = `page fault at ${cr2.toString(16)} (error code ${err})`;
        const port = new EntryContext(this.cpu, this.as, 'page_fault');
        if (!port.fromUser()) return { kind: 'signal', status: statusForSignal(SIGSEGV), signal: SIGSEGV, detail };
        // Linux's sanitize_error_code: a user access to a kernel address reads as a protection fault
        const code = BigInt(err) | (cr2 >= TASK_SIZE_MAX ? 1n : 0n);
        raiseFault(this.linux.signals, pageFaultSignal(cr2, this.as.find(cr2) !== undefined), { trapNr: 14, errorCode: code, cr2 });
        return this.afterFault(port, 11, detail);
      }
      case Service.FATAL: {
        this.procs.reapDeferred();
        const vector = Number(this.reg(7) & 0xffn);
        const sig = signalForVector(vector);
        const f = this.cpu.lastFault, at = (BigInt(this.cpu.lastFaultRipHi) << 32n) | BigInt(this.cpu.lastFaultRipLo);
        const detail = f === null ? `vector ${vector}` : `${VECTOR_NAMES[f.vector] ?? `vector ${f.vector}`} at 0x${at.toString(16)}${f.detail ? `: ${f.detail}` : ''}`;
        const port = new EntryContext(this.cpu, this.as, 'exception');
        if (!port.fromUser() || vector === 8 || vector === 18 || vector === 2) return { kind: 'signal', status: statusForSignal(sig), signal: sig, detail };
        const ctx = port.read();
        const info = faultSignal(vector, ctx.rip, this.cpu.r[Off.MXCSR >> 2]!);
        const errorCode = port.errorCode();
        raiseFault(this.linux.signals, info, { trapNr: vector, errorCode, cr2: this.linux.signals.thread.fault.cr2 });
        return this.afterFault(port, info.signo, detail);
      }
      default:
        return { kind: 'error', message: `VMCALL from ${routine.name}` };
    }
  }

  /** The end of the running process by `signal` (128 + n; a shell's message for the signals it names). */
  private killed(signal: number, core: boolean, detail?: string): ServiceOutcome {
    const f = fatalSignal(signal) ?? { signal, name: `signal ${signal}`, message: `Killed by signal ${signal}` };
    const out = { kind: 'signal' as const, status: statusForSignal(f), signal: f, detail: detail ?? `${f.name} (${core ? 'core' : 'terminate'})` };
    return this.fatalSignal(out);
  }

  /** The way back to user mode after a fault that raised `signal`. */
  private afterFault(port: EntryContext, signal: number, detail: string): ServiceOutcome {
    const back = returnToUser(this.linux, port, { kind: 'fault' });
    if (back.kind === 'killed') return this.killed(back.signal, back.core, back.signal === signal ? detail : undefined);
    return this.resume(port);
  }

  /**
   * The running process dies of a fatal signal: the machine ends with `out` if it was the last process (or the
   * first process's own fatal outcome once every process has ended); otherwise the kernel switches to another task.
   */
  private fatalSignal(out: Extract<ServiceOutcome, { kind: 'signal' }>): ServiceOutcome {
    const p = this.procs.current.proc;
    if (p === this.procs.root) this.rootFatal = out;
    const r = this.procs.kill(p, out.signal.signal, DEAD_SWITCH_STEPS);
    if (r.kind === 'exit') return this.rootFatal ?? { kind: 'exit', status: r.status };
    if (r.kind === 'error') return r;
    this.vm.skipInstruction();
    return { kind: 'continue' };
  }

  /** Puts the (possibly new) user context in place and continues after the VMCALL. */
  private resume(port: EntryContext): ServiceOutcome {
    let work = port.commit();
    if (this.as.tlbFlushNeeded) {
      this.as.tlbFlushNeeded = false;
      work |= 1;
    }
    if (work !== 0) this.as.hostWrite(kernelLinear(PERCPU_PHYS + Percpu.FLUSH_TLB), PERCPU_PHYS + Percpu.FLUSH_TLB, Uint8Array.of(work));
    this.vm.skipInstruction();
    return { kind: 'continue' };
  }

  /** Run without stepping until the program ends. */
  run(): ServiceOutcome {
    this.vm.vmcs.controls.monitorTrapFlag = false;
    for (;;) {
      const reason = this.vm.enter(1 << 30);
      if (reason === ExitReason.PREEMPTION_TIMER) continue;
      const out = this.service();
      if (out.kind !== 'continue') return out;
    }
  }
}
