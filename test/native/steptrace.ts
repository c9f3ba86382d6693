// Native single-step traces (test/native/steptrace.c): the register state before every user-mode instruction of
// a program run under ptrace with randomisation off, for lockstep comparison with the emulator.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Unavailable, compileC } from './native-tools.js';

/** Registers in one record, in file order (18 little-endian u64 per record). */
export const STEP_FIELDS = [
  'rip', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rflags',
] as const;
export type StepField = (typeof STEP_FIELDS)[number];
const RECORD_WORDS = STEP_FIELDS.length;

/** A finished native trace. */
export interface NativeTrace {
  readonly ok: true;
  readonly steps: number; // user-mode instructions executed (each REP iteration and a faulting attempt count once)
  readonly records: BigUint64Array; // steps * 18 words: the state before each step
  readonly exit: { readonly kind: 'exit' | 'signal'; readonly value: number }; // how the program ended
  readonly stdout: Buffer; // the program's output
  readonly stderr: Buffer;
  readonly random?: Uint8Array; // the 16 AT_RANDOM bytes the kernel gave the program (with StepOptions.random)
}

export interface StepOptions {
  readonly args?: readonly string[]; // argv[1..]; argv[0] is the program path as given
  readonly env?: readonly string[]; // the complete environment ("K=V"), default none
  readonly cwd?: string; // working directory of the program
  readonly timeoutMs?: number; // default 20 minutes (ptrace single-stepping costs ~100 us per step in some VMs)
  readonly random?: boolean; // also read the program's 16 AT_RANDOM bytes (NativeTrace.random)
  readonly hideVdso?: boolean; // turn auxv's AT_SYSINFO_EHDR into AT_IGNORE, as the emulated machine has no vDSO (-n)
}

const source = join(dirname(fileURLToPath(import.meta.url)), 'steptrace.c');

/** Compiles steptrace once per process. */
export function buildSteptrace(): { ok: true; path: string } | Unavailable {
  return compileC(source, 'steptrace', ['-O2']);
}

/** Runs `program` single-stepped natively and returns every record. */
export function stepTrace(program: string, opts: StepOptions = {}): NativeTrace | Unavailable {
  const tool = buildSteptrace();
  if (!tool.ok) return tool;
  const dir = mkdtempSync(join(tmpdir(), 'itrace-steptrace-'));
  try {
    const recordsPath = join(dir, 'records.bin');
    const summaryPath = join(dir, 'summary.txt');
    const randomPath = join(dir, 'random.bin');
    const envFlags = (opts.env ?? []).flatMap((e) => ['-e', e]);
    const randomFlags = [...(opts.random === true ? ['-r', randomPath] : []), ...(opts.hideVdso === true ? ['-n'] : [])];
    const r = spawnSync(tool.path, ['-o', recordsPath, '-s', summaryPath, ...randomFlags, ...envFlags, '--', program, ...(opts.args ?? [])], {
      cwd: opts.cwd, timeout: opts.timeoutMs ?? 20 * 60_000, maxBuffer: 1 << 28,
    });
    if (r.error !== undefined) return { ok: false, reason: `steptrace could not run: ${r.error.message}` };
    if (r.status !== 0) return { ok: false, reason: `steptrace failed (ptrace may be forbidden here): ${r.stderr.toString().trim()}` };
    const summary = new Map(readFileSync(summaryPath, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    const raw = readFileSync(recordsPath);
    const records = new BigUint64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const steps = Number(summary.get('steps'));
    if (records.length !== steps * RECORD_WORDS) return { ok: false, reason: `steptrace wrote ${records.length} words for ${steps} steps` };
    const signal = summary.get('signal');
    return {
      ok: true,
      steps,
      records,
      exit: signal !== undefined ? { kind: 'signal', value: Number(signal) } : { kind: 'exit', value: Number(summary.get('exit')) },
      stdout: r.stdout,
      stderr: r.stderr,
      ...(opts.random === true ? { random: new Uint8Array(readFileSync(randomPath)) } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One register of record `i`. */
export function stepValue(trace: NativeTrace, i: number, field: StepField): bigint {
  return trace.records[i * RECORD_WORDS + STEP_FIELDS.indexOf(field)]!;
}
