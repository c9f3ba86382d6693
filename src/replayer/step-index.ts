// The navigation index of a trace, built once (index-builder.ts) and cached in `<trace>/step-index/`: per-step
// code ids, ring switches, faulted steps, CALLs with their matching returns, REP runs, steps grouped by
// instruction (breakpoints), memory writes sorted by address (watchpoints), the first seq of every regs/mem
// batch, and state snapshots every `snapshotEvery` steps. Every navigation is a binary search in these arrays.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TraceReader } from '../trace/trace-reader.js';
import { BlockU32File } from './block-file.js';
import { DeltaLog } from './delta-log.js';
import { ThreadRuns } from './thread-runs.js';
import { readProcesses } from '../trace/processes-file.js';

/** Version of the index layout; a different version is rebuilt. */
export const STEP_INDEX_VERSION = 4; // 3: code-text.txt (disassembly) or threads per step; 4: both

/** Directory of the cache inside a trace. */
export const INDEX_DIR = 'step-index';

/** insns.code of a step whose instruction fetch faulted. */
export const NO_CODE = 0xffffffff;

/** callRet of a CALL that never returns within the trace. */
export const NO_RETURN = 0xffffffff;

/** What kind of instruction a code row is (bits). */
export const enum Kind { CALL = 1, RET = 2, REP = 4, SYSCALL = 8, SYSRET = 16, IRET = 32, VMCALL = 64 }

/** index.json. */
export interface IndexMeta {
  /** STEP_INDEX_VERSION. */
  version: number;
  /** Steps indexed (rows of insns). */
  steps: number;
  /** Rows of the code table. */
  codes: number;
  /** Steps between snapshots. */
  snapshotEvery: number;
  /** Size of insns.arrows when built (a changed trace is re-indexed). */
  insnsBytes: number;
  /** meta.json's `started`. */
  started: string;
  /** CPL of step 0. */
  cpl0: number;
  /** Steps whose instruction fetch faulted: [seq, rip hex]. */
  fetchFaults: [number, string][];
  /** Physical memory size (bytes). */
  memorySize: number;
  /** Seconds the build took. */
  buildSeconds: number;
}

// A file's bytes, 8-byte aligned (large reads have their own buffer: no copy then).
function bytesOf(dir: string, name: string): Uint8Array {
  const b = readFileSync(join(dir, name));
  return b.byteOffset % 8 === 0 ? b : new Uint8Array(b);
}
function u32(dir: string, name: string): Uint32Array {
  const b = bytesOf(dir, name);
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
}
function u8(dir: string, name: string): Uint8Array {
  return bytesOf(dir, name);
}
function i32(dir: string, name: string): Int32Array {
  const b = bytesOf(dir, name);
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
}
function f64(dir: string, name: string): Float64Array {
  const b = bytesOf(dir, name);
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength >> 3);
}

/** Memory writes sorted by address (then seq). */
export interface WriteIndex {
  /** Address key: (addr hi & 0x1ffff) * 2^32 + addr lo (exact for canonical addresses). */
  readonly key: Float64Array;
  /** Bytes written. */
  readonly size: Uint8Array;
  /** Step that wrote. */
  readonly seq: Uint32Array;
}

/** Key of a canonical linear address for WriteIndex (49 bits, exact in a double). */
export function addressKey(addr: bigint): number {
  return Number((addr >> 32n) & 0x1ffffn) * 4294967296 + Number(addr & 0xffffffffn);
}

/** The loaded index. */
export class StepIndex {
  /** Index directory. */
  readonly dir: string;
  /** index.json. */
  readonly meta: IndexMeta;
  /** Steps. */
  readonly steps: number;
  /** Code row of every step (file-backed, block-compressed). */
  readonly codes: BlockU32File;
  /** Kind bits per code row. */
  readonly codeKind: Uint8Array;
  /** Code rip as lo/hi words per code row. */
  readonly codeRip: Uint32Array;
  /** Instruction bytes per code row. */
  readonly codeBytes: readonly Uint8Array[];
  /** Disassembly (Intel syntax) per code row, so that showing a step needs no disassembler. */
  readonly codeText: readonly string[];
  /** First step of every ring switch (cpl differs from the previous step's), ascending. */
  readonly ringSeq: Uint32Array;
  /** CPL from ringSeq[i] on. */
  readonly ringCpl: Uint8Array;
  /** Faulted steps, ascending. */
  readonly faults: Uint32Array;
  /** CALL steps (not faulted), ascending. */
  readonly callSeq: Uint32Array;
  /** First step after the callee returned (same ring, RSP back above its value before the CALL), or NO_RETURN. */
  readonly callRet: Uint32Array;
  /** Index of the enclosing CALL (active when this one was made, same ring), or -1. */
  readonly callParent: Int32Array;
  /** CPL of the CALL. */
  readonly callCpl: Uint8Array;
  /** Call indices per ring (0 and 3), ascending by seq. */
  readonly ringCalls: readonly [Int32Array, Int32Array];
  /** Runs of 2+ consecutive steps of one REP string instruction (same code row and ring): first step. */
  readonly runStart: Uint32Array;
  /** ... and the step after the run. */
  readonly runEnd: Uint32Array;
  /** Offsets into byCode per code row (length codes+1). */
  readonly byCodeOff: Uint32Array;
  /** Steps grouped by code row, ascending within a group (file-backed, block-compressed). */
  readonly byCode: BlockU32File;
  /** Register changes and memory writes per snapshot interval (state reconstruction). */
  readonly deltas: DeltaLog;
  /** First seq of every regs batch. */
  readonly regsFirst: Float64Array;
  /** First seq of every mem batch. */
  readonly memFirst: Float64Array;
  /** Fetch-faulted step → rip. */
  readonly fetchFaultRip: Map<number, bigint>;
  /** Thread of every CALL (the call tree is per thread). */
  readonly callTid: Uint32Array;
  /** Which thread ran each step (processes.json of the trace). */
  readonly threads: ThreadRuns;
  private writes: WriteIndex | undefined;

  constructor(dir: string, meta: IndexMeta) {
    this.dir = dir;
    this.meta = meta;
    this.steps = meta.steps;
    this.codeKind = u8(dir, 'code-kind.u8');
    this.codeRip = u32(dir, 'code-rip.u32');
    const cb = readFileSync(join(dir, 'code-bytes.bin')), bytes: Uint8Array[] = [];
    for (let at = 0; at < cb.length; at += 1 + cb[at]!) bytes.push(new Uint8Array(cb.subarray(at + 1, at + 1 + cb[at]!)));
    this.codeBytes = bytes;
    this.codeText = bytes.length === 0 ? [] : readFileSync(join(dir, 'code-text.txt'), 'utf8').split('\n');
    if (bytes.length !== this.codeKind.length || this.codeRip.length !== 2 * bytes.length || this.codeText.length !== bytes.length) throw new Error(`${dir}: code tables disagree`);
    this.ringSeq = u32(dir, 'ring-seq.u32');
    this.ringCpl = u8(dir, 'ring-cpl.u8');
    this.faults = u32(dir, 'faults.u32');
    this.callSeq = u32(dir, 'call-seq.u32');
    this.callRet = u32(dir, 'call-ret.u32');
    this.callParent = i32(dir, 'call-parent.i32');
    this.callCpl = u8(dir, 'call-cpl.u8');
    let n0 = 0;
    for (let k = 0; k < this.callCpl.length; k++) if (this.callCpl[k] === 0) n0++;
    const r0 = new Int32Array(n0), r3 = new Int32Array(this.callCpl.length - n0);
    for (let k = 0, i0 = 0, i3 = 0; k < this.callCpl.length; k++) if (this.callCpl[k] === 0) r0[i0++] = k; else r3[i3++] = k;
    this.ringCalls = [r0, r3];
    this.runStart = u32(dir, 'run-start.u32');
    this.runEnd = u32(dir, 'run-end.u32');
    this.byCodeOff = u32(dir, 'bycode-off.u32');
    this.codes = new BlockU32File(join(dir, 'codes.blk'));
    this.byCode = new BlockU32File(join(dir, 'bycode-seq.blk'));
    this.deltas = new DeltaLog(join(dir, 'deltas.blk'));
    this.regsFirst = f64(dir, 'regs-first.f64');
    this.memFirst = f64(dir, 'mem-first.f64');
    this.fetchFaultRip = new Map(meta.fetchFaults.map(([s, r]) => [s, BigInt(`0x${r}`)]));
    this.callTid = u32(dir, 'call-tid.u32');
    this.threads = new ThreadRuns(readProcesses(dirname(dir), []), this.steps);
  }

  /** Load the cached index of a trace if it is current, else undefined. */
  static load(reader: TraceReader): StepIndex | undefined {
    return StepIndex.loadAt(reader.dir, reader.meta.started);
  }

  /** Load the cached index of the trace in `traceDir` if it is current, reading only the trace's meta.json (not
   * framing its tables as TraceReader.open does); undefined if there is none or it is stale. */
  static loadDir(traceDir: string): StepIndex | undefined {
    let started: unknown;
    try {
      started = (JSON.parse(readFileSync(join(traceDir, 'meta.json'), 'utf8')) as { started?: unknown }).started;
    } catch {
      return undefined;
    }
    return typeof started === 'string' ? StepIndex.loadAt(traceDir, started) : undefined;
  }

  private static loadAt(traceDir: string, started: string): StepIndex | undefined {
    const dir = join(traceDir, INDEX_DIR);
    const path = join(dir, 'index.json');
    if (!existsSync(path)) return undefined;
    let meta: IndexMeta;
    try {
      meta = JSON.parse(readFileSync(path, 'utf8')) as IndexMeta;
    } catch {
      return undefined;
    }
    if (meta.version !== STEP_INDEX_VERSION || meta.started !== started) return undefined;
    try {
      if (meta.insnsBytes !== statSync(join(traceDir, 'insns.arrows')).size) return undefined;
    } catch {
      return undefined;
    }
    try {
      return new StepIndex(dir, meta);
    } catch {
      return undefined;
    }
  }

  /** Writes by address (loaded on first use). */
  writeIndex(): WriteIndex {
    this.writes ??= { key: f64(this.dir, 'write-key.f64'), size: u8(this.dir, 'write-size.u8'), seq: u32(this.dir, 'write-seq.u32') };
    return this.writes;
  }

  /** Code row of step s. */
  code(s: number): number {
    return this.codes.get(s);
  }

  /** Linear address of step s. */
  rip(s: number): bigint {
    const c = this.codes.get(s);
    if (c === NO_CODE) return this.fetchFaultRip.get(s) ?? 0n;
    return (BigInt(this.codeRip[2 * c + 1]!) << 32n) | BigInt(this.codeRip[2 * c]!);
  }

  /** Kind bits of step s's instruction (0 if its fetch faulted). */
  kind(s: number): number {
    const c = this.codes.get(s);
    return c === NO_CODE ? 0 : this.codeKind[c]!;
  }

  /** CPL step s ran at. */
  cplAt(s: number): number {
    const i = upperBound(this.ringSeq, s) - 1;
    return i < 0 ? this.meta.cpl0 : this.ringCpl[i]!;
  }

  /** True if step s faulted. */
  faulted(s: number): boolean {
    const i = lowerBound(this.faults, s);
    return i < this.faults.length && this.faults[i] === s;
  }

  /** Index of the CALL at step s, or -1. */
  callAt(s: number): number {
    const i = lowerBound(this.callSeq, s);
    return i < this.callSeq.length && this.callSeq[i] === s ? i : -1;
  }

  /** The REP run containing step s as [start, end), or undefined. */
  runAt(s: number): [number, number] | undefined {
    const i = upperBound(this.runStart, s) - 1;
    if (i < 0 || this.runEnd[i]! <= s) return undefined;
    return [this.runStart[i]!, this.runEnd[i]!];
  }

  /** Code rows whose instruction starts at `rip`. */
  codesAt(rip: bigint): number[] {
    const lo = Number(rip & 0xffffffffn), hi = Number(rip >> 32n);
    const out: number[] = [];
    for (let c = 0; c < this.codeKind.length; c++) if (this.codeRip[2 * c] === lo && this.codeRip[2 * c + 1] === hi) out.push(c);
    return out;
  }

  /** Close the file-backed columns. */
  closeSync(): void {
    this.codes.closeSync();
    this.byCode.closeSync();
    this.deltas.closeSync();
  }
}

/** First index i with a[i] >= v. */
export function lowerBound(a: ArrayLike<number>, v: number, from = 0, to = a.length): number {
  let lo = from, hi = to;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m]! < v) lo = m + 1; else hi = m; }
  return lo;
}

/** First index i with a[i] > v. */
export function upperBound(a: ArrayLike<number>, v: number, from = 0, to = a.length): number {
  let lo = from, hi = to;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m]! <= v) lo = m + 1; else hi = m; }
  return lo;
}
