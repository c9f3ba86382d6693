// `trace record`: run a program on the guest machine with the monitor trap flag set and write every step,
// ring switch, page fault, system call and input into a trace directory.
import { cpuLevelName } from '../cpu/cpu-level.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Code } from 'iced-x86';
import type { Cpu } from '../cpu/cpu.js';
import type { Decoded } from '../cpu/decoded.js';
import { getFlags } from '../cpu/flags.js';
import { Access } from '../cpu/mmu.js';
import { Off } from '../cpu/state.js';
import { Service } from '../guest/kernel/image.js';
import type { ServiceOutcome } from '../guest/machine.js';
import { createMachine, DEFAULT_ENV, describeOutcome, ProgramSpec, readImage, SpecError } from '../guest/run-program.js';
import { ExitReason } from '../vmx/exit-reason.js';
import { E } from '../guest/linux/errno.js';
import type { UnsupportedSyscall } from '../guest/linux/unsupported.js';
import { TRACE_VERSION, TraceMeta } from '../trace/schema.js';
import { collectSymbols, writeSymbols } from '../trace/symbols.js';
import { writeModules } from '../trace/modules-file.js';
import { writeProcesses } from '../trace/processes-file.js';
import type { ProcessEvent } from '../guest/process-model.js';
import { processesOf } from './processes-of.js';
import { BackgroundTraceWriter, backgroundWriterAvailable } from '../trace/background-writer.js';
import type { TraceSink } from '../trace/trace-sink.js';
import { TraceWriter } from '../trace/trace-writer.js';
import { EventRecorder } from './event-recorder.js';
import { StepRecorder } from './step-recorder.js';

/** What to record and how. */
export interface RecordOptions extends ProgramSpec {
  /** Trace directory (default traces/<image>-<n>). */
  out?: string;
  /** Stop cleanly after this many steps. */
  maxSteps?: number;
  /** Steps between checkpoints (default 1,000,000). */
  checkpointEvery?: number;
  /** Called about every 250 ms with the progress so far. */
  onProgress?: (p: { steps: number; stepsPerSecond: number; bytes: number }) => void;
  /** Steps between sync points (default SYNC_EVERY; tests use small values to get several in a short run). */
  syncEvery?: number;
  /** Write on a worker thread when possible (default true). */
  background?: boolean;
  /** Let hot blocks log their own steps as compiled code (default true; false steps every instruction through the handler). */
  loggingBlocks?: boolean;
  /** Tests: steps before which to call `onSnapshot` with the live processor (state before that step). */
  snapshotAt?: ReadonlySet<number>;
  /** Tests: receives the live processor at each position of `snapshotAt`. */
  onSnapshot?: (seq: number, cpu: Cpu) => void;
}

/** Steps between sync points: every table is flushed and the manifest records that all of them hold exactly the
 * rows of the steps so far (the prefix readers use after a crash); the asynchronous recorder also yields there. */
export const SYNC_EVERY = 1 << 18;

/** Asks a recording in progress to stop at the next sync point (recordAsync). */
export interface RecordControl {
  /** Set to the signal name (SIGINT, SIGTERM) to stop at the next step boundary the recorder checks. */
  stop: string | null;
}

/** The summary `trace record` prints and writes with --summary-json. */
export interface RecordSummary {
  /** Trace directory. */
  trace: string;
  /** The program's exit status (128+signal when killed), or null if the recording stopped first (--max-steps). */
  exitStatus: number | null;
  /** Steps recorded. */
  steps: number;
  /** Steps at CPL 3. */
  userSteps: number;
  /** Steps at CPL 0. */
  kernelSteps: number;
  /** Ring switches. */
  ringSwitches: number;
  /** Page faults. */
  pageFaults: number;
  /** System calls. */
  syscalls: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Bytes of the trace directory's tables and checkpoints. */
  bytes: number;
  /** A line for stderr (fatal signal, stop reason), if any. */
  message?: string;
  /** Set when a signal stopped the recording: its name (the trace holds every step up to there). */
  interrupted?: string;
  /** Set when the recording could not be finished (internal error, trace writer failure such as a full disk). */
  failed?: string;
  /** System calls the guest kernel did not carry out as Linux would (also in meta.json and as events). */
  unsupportedSyscalls: UnsupportedSyscall[];
}

const VERSION = '0.1.0';

/** The first free `traces/<name>-<n>` directory. */
export function defaultTraceDir(image: string, base = 'traces'): string {
  const name = basename(image);
  const taken = existsSync(base) ? new Set(readdirSync(base)) : new Set<string>();
  let n = 1;
  while (taken.has(`${name}-${n}`)) n++;
  return join(base, `${name}-${n}`);
}

const RIP = Off.RIP >> 2;

/** Record a program; returns the summary or a one-line error. */
export function record(opts: RecordOptions): RecordSummary | SpecError {
  const g = recording(opts, { stop: null });
  for (;;) {
    const r = g.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Record a program, returning to the event loop at every sync point (so signal handlers run) and stopping at the
 * next one once `control.stop` is set: every table is then written up to that step and meta.json says so.
 */
export async function recordAsync(opts: RecordOptions, control: RecordControl): Promise<RecordSummary | SpecError> {
  const g = recording(opts, control);
  for (;;) {
    const r = g.next();
    if (r.done === true) return r.value;
    await new Promise((res) => setImmediate(res));
  }
}

/** The recording, yielding at each sync point. */
function* recording(opts: RecordOptions, control: RecordControl): Generator<void, RecordSummary | SpecError> {
  const image = readImage(opts);
  if ('error' in image) return image;
  const dir = opts.out ?? defaultTraceDir(opts.image);
  const t0 = process.hrtime.bigint();
  // the recorders exist once the machine does; inputs chosen while building it belong to step 0
  let rec: StepRecorder | null = null;
  let ev: EventRecorder | null = null;
  const early: [string, Uint8Array][] = [];
  const made = createMachine(opts, image, {
    hostWrite: (linear, phys, bytes) => rec?.hostWrite(linear, phys, bytes),
    input: (kind, data) => { if (ev !== null && rec !== null) ev.input(rec.seq, kind, data); else early.push([kind, data.slice()]); },
    signal: (kind, signo, code, from, to) => ev?.event(rec?.seq ?? 0, kind, signo, code, 0n, 0, 0, from, to),
    unsupportedSyscall: (nr, _name, result) => ev?.event(rec?.seq ?? 0, 'unsupported_syscall', nr, (E as Record<string, number>)[result] ?? 0, 0n, 0, 0, 0n, 0n),
  });
  if ('error' in made) return made;
  const m = made.machine, cpu = m.cpu, vm = m.vm;
  const checkpointEvery = opts.checkpointEvery ?? 1_000_000;
  const meta: TraceMeta = {
    version: TRACE_VERSION, tool: VERSION, image: opts.image, imageSha256: createHash('sha256').update(image).digest('hex'),
    argv: [opts.image, ...opts.args], env: [...(opts.env ?? DEFAULT_ENV)], root: opts.root, started: new Date().toISOString(), complete: false,
    kernelSymbols: m.kernel.routines.map((r) => ({ name: r.name, address: r.address.toString(16), size: r.size })),
    loadBias: m.loadBias.toString(16), checkpointEvery, cpu: cpuLevelName(cpu.level),
    ...(opts.chaos !== undefined ? { chaos: String(opts.chaos) } : {}),
  };
  // the worker thread does the encoding, compression and writing when the compiled build runs
  const created: TraceSink | { error: string } = backgroundWriterAvailable() && opts.background !== false
    ? BackgroundTraceWriter.create(dir, meta) : TraceWriter.create(dir, meta);
  if ('error' in created) { made.close(); return created; }
  const writer = created;
  writeSymbols(dir, collectSymbols(image, m.loadBias, m.kernel.routines));
  const sink = (buf: Parameters<TraceSink['writeBatch']>[0]): void => writer.writeBatch(buf);
  const steps = new StepRecorder(cpu, sink);
  const events = new EventRecorder(sink);
  rec = steps; ev = events;
  m.modules.clock = () => steps.seq;
  m.procs.clock = () => steps.seq;
  // process events belong to the VMCALL step (a switch: to a later step); written after that step's vmexit event
  const procEvents: ProcessEvent[] = [];
  m.procs.onEvent = (e) => procEvents.push(e);
  for (const [kind, data] of early) events.input(0, kind, data);

  // checkpoint 0 is the whole machine before the first step (every frame boot, the loader and the host wrote
  // is marked dirty); later checkpoints hold the frames written since the previous one
  const checkpoint = (): void => {
    getFlags(cpu.r);
    const pages = new Map<number, Uint8Array>();
    for (const f of cpu.mem.takeDirty()) pages.set(f, cpu.mem.bytes.slice(f << 12, (f + 1) << 12));
    cpu.flushTlb(); // writes through cached TLB entries must mark their pages dirty again
    writer.writeCheckpoint(steps.seq, cpu.s.snapshot(), pages, { icount: cpu.icount });
  };
  checkpoint();
  steps.resync();

  const maxSteps = opts.maxSteps ?? Number.MAX_SAFE_INTEGER;
  let lastSyscallSeq = -1;
  const syncEvery = opts.syncEvery ?? SYNC_EVERY;
  let nextSync = syncEvery, syncDue = false;
  let nextCheckpoint = checkpointEvery;
  let nextProgress = 1 << 18;
  let lastTime = t0, lastSteps = 0;
  const progress = (): void => {
    const now = process.hrtime.bigint();
    const dt = Number(now - lastTime) / 1e9;
    if (dt >= 0.25) {
      opts.onProgress?.({ steps: steps.seq, stepsPerSecond: (steps.seq - lastSteps) / dt, bytes: writer.bytesWritten() });
      lastTime = now; lastSteps = steps.seq;
    }
  };

  vm.vmcs.controls.monitorTrapFlag = true;
  cpu.mlog = steps;
  vm.mtfHandler = (d: Decoded | null, faulted: boolean): void => {
    const seq = steps.seq, cplBefore = steps.shadowCpl;
    const fromLo = d !== null ? d.ipLo : steps.shadowRipLo, fromHi = d !== null ? d.ipHi : steps.shadowRipHi;
    steps.onStep(d, faulted);
    const cplAfter = cpu.r[Off.CPL >> 2]!;
    if (faulted || cplAfter !== cplBefore) {
      const f = cpu.lastFault;
      const from = (BigInt(fromHi) << 32n) | BigInt(fromLo);
      const to = (BigInt(cpu.r[RIP + 1]!) << 32n) | BigInt(cpu.r[RIP]!);
      events.stepEvent(seq, d?.code ?? -1, faulted,
        f ? { vector: f.vector, errorCode: f.errorCode, cr2: (BigInt(f.cr2Hi) << 32n) | BigInt(f.cr2Lo) } : null,
        cplBefore, cplAfter, from, to);
      if (d?.code === Code.Syscall) lastSyscallSeq = seq;
    }
    if (steps.seq >= nextCheckpoint) { nextCheckpoint += checkpointEvery; checkpoint(); }
    if (steps.seq >= nextProgress) { nextProgress += 1 << 18; progress(); }
    if (steps.seq >= nextSync) { nextSync += syncEvery; syncDue = true; cpu.budget = 0; }
    if (steps.seq >= maxSteps) cpu.budget = 0;
    steps.quietUntil = Math.min(nextCheckpoint, nextProgress, maxSteps, nextSnapshot, nextSync);
  };
  // hot blocks log their own steps (no call of the handler above) while they end before the next position
  // where the handler has work: a checkpoint, a progress report, --max-steps, a test's snapshot
  vm.mtfLog = opts.loggingBlocks === false ? null : steps;
  let nextSnapshot = Number.MAX_SAFE_INTEGER;
  steps.quietUntil = Math.min(nextCheckpoint, nextProgress, maxSteps, nextSync);
  const snap = opts.snapshotAt, onSnap = opts.onSnapshot;
  if (snap !== undefined && onSnap !== undefined) {
    const inner = vm.mtfHandler;
    const positions = [...snap].sort((a, b) => a - b);
    let next = 0;
    const advance = (): void => {
      while (next < positions.length && positions[next]! <= steps.seq) next++;
      nextSnapshot = positions[next] ?? Number.MAX_SAFE_INTEGER;
    };
    advance();
    steps.quietUntil = Math.min(steps.quietUntil, nextSnapshot);
    if (snap.has(0)) onSnap(0, cpu);
    vm.mtfHandler = (d, faulted) => {
      inner(d, faulted);
      if (snap.has(steps.seq)) onSnap(steps.seq, cpu);
      advance();
      steps.quietUntil = Math.min(steps.quietUntil, nextSnapshot);
    };
  }

  let outcome: ServiceOutcome | null = null;
  /** Set when an exception stopped the machine in the middle of a step (rows of that step may be half written). */
  let crashed: string | undefined;
  try {
    while (outcome === null && steps.seq < maxSteps) {
      if (control.stop !== null) break;
      const reason = vm.enter(maxSteps - steps.seq);
      if (reason === ExitReason.PREEMPTION_TIMER) {
        if (syncDue) {
          // a step boundary: every row of steps [0, seq) is buffered; write them all, then record the sync point
          syncDue = false;
          steps.flushAll();
          events.flushRows();
          writer.sync(steps.seq);
          yield;
        }
        continue;
      }
      if (reason !== ExitReason.VMCALL) { outcome = m.service(); break; }
      // the VMCALL step: the host's work (memory writes, the result register) belongs to it
      const seq = steps.seq, cpl = steps.shadowCpl;
      const ripLo = cpu.r[RIP]!, ripHi = cpu.r[RIP + 1]!;
      const len = vm.vmcs.exit.instructionLength;
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = cpu.bytes[cpu.translate((ripLo + k) >>> 0, ripHi, Access.FETCH)]!;
      const routine = m.routineAt((BigInt(ripHi) << 32n) | BigInt(ripLo));
      const isSyscall = routine?.service === Service.SYSCALL;
      if (isSyscall) {
        const reg = (n: number): bigint => (BigInt(cpu.r[2 * n + 1]!) << 32n) | BigInt(cpu.r[2 * n]!);
        events.beginSyscall(lastSyscallSeq, Number(reg(0) & 0xffffffffn), [reg(7), reg(6), reg(2), reg(10), reg(8), reg(9)]);
      }
      const out = m.service();
      if (isSyscall && out.kind === 'continue') events.syscallResult(BigInt.asIntN(64, (BigInt(cpu.r[1]!) << 32n) | BigInt(cpu.r[0]!)));
      steps.exitStep(cpl, ripLo, ripHi, bytes);
      if (snap?.has(steps.seq)) onSnap?.(steps.seq, cpu);
      const to = (BigInt(cpu.r[RIP + 1]!) << 32n) | BigInt(cpu.r[RIP]!);
      events.event(seq, 'vmexit', ExitReason.VMCALL, 0, 0n, cpl, cpl, (BigInt(ripHi) << 32n) | BigInt(ripLo), to);
      for (const e of procEvents.splice(0)) events.event(e.seq, e.kind, e.id, e.other, 0n, cpl, cpl, 0n, 0n);
      if (out.kind !== 'continue') outcome = out;
    }
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    crashed = /ENOSPC/.test(text)
      ? `disk full at step ${steps.seq} after writing ${writer.bytesWritten()} bytes (${text})`
      : text.startsWith('trace writer:') ? `${text} (at step ${steps.seq})` : `internal error at step ${steps.seq}: ${text}`;
    outcome = { kind: 'error', message: crashed };
  } finally {
    cpu.mlog = null;
    vm.mtfHandler = null;
    vm.mtfLog = null;
    made.close();
  }
  const last = Math.max(steps.seq - 1, 0);
  let exitStatus: number | null = null;
  let message: string | undefined;
  if (outcome !== null) {
    const d = describeOutcome(outcome);
    exitStatus = outcome.kind === 'error' || outcome.kind === 'strict' ? null : d.status;
    message = d.message;
    if (outcome.kind === 'exit') events.event(last, 'exit', -1, outcome.status, 0n, 0, 0, 0n, 0n);
    else if (outcome.kind === 'signal') events.event(last, 'signal', outcome.signal.signal, outcome.status, 0n, 3, 3, 0n, 0n);
  } else if (control.stop !== null) {
    message = `interrupted at step ${steps.seq} (${control.stop}); the trace holds every step up to there`;
  } else {
    message = `stopped after ${steps.seq} steps (--max-steps)`;
  }
  const stopped = control.stop !== null && outcome === null ? `interrupted at step ${steps.seq} (${control.stop})` : crashed;
  // every module's symbols (the program's among them), named module!symbol where two modules share a name
  const moduleSymbols = m.modules.symbols((path) => { const f = m.linux.readWholeFile(path); return 'error' in f ? undefined : f.bytes; });
  if (moduleSymbols.length > 0) {
    const kernel = collectSymbols(new Uint8Array(0), 0n, m.kernel.routines);
    writeSymbols(dir, [...moduleSymbols.map((s) => ({ ...s, source: 'elf' as const })), ...kernel]);
  }
  writeProcesses(dir, processesOf(m.procs));
  writeModules(dir, m.modules.modules.map((x) => ({
    path: x.path, name: x.name, base: x.base, start: x.start, size: x.size, buildId: x.buildId ?? null, mapSeq: x.mapSeq, unmapSeq: x.unmapSeq ?? null,
  })));
  const unsupportedSyscalls = m.linux.unsupported.entries.map((e) => ({ ...e }));
  if (crashed === undefined) {
    steps.flushAll();
    events.flushAll();
    writer.close({ complete: true, steps: steps.seq, exitStatus: exitStatus ?? undefined, stopped, unsupportedSyscalls });
  } else {
    // rows of the step that was cut short may be buffered: keep only what the last sync point covers
    try {
      writer.close({ complete: false, stopped });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (!crashed.includes(text)) message = `${message ?? ''}; ${text}`;
    }
    message = `${message}; the trace keeps the steps of the last sync point (see trace info)`;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary: RecordSummary = {
    trace: dir, exitStatus, steps: steps.seq, userSteps: steps.userSteps, kernelSteps: steps.seq - steps.userSteps,
    ringSwitches: events.counts.ringSwitches, pageFaults: events.counts.pageFaults, syscalls: events.counts.syscalls,
    seconds, bytes: writer.bytesWritten(), message, unsupportedSyscalls,
  };
  if (control.stop !== null && outcome === null) summary.interrupted = control.stop;
  if (crashed !== undefined) summary.failed = crashed;
  return summary;
}
