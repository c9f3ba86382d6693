// `trace diff`: the first divergence of two recordings with its cause, the regions where the aligned runs
// differ, where they converge again, a differential profile (steps and calls per function), differing system
// calls and page-fault counts. Every fact is plain data: the command prints it as text or JSON, and
// diff-sql.ts loads it into a DuckDB session beside both traces.
import { performance } from 'node:perf_hooks';
import { disassemble } from '../trace/disassemble.js';
import { REGISTERS } from '../trace/registers.js';
import { alignCalls, Alignment, Region } from './align-calls.js';
import { callProfile } from './call-profile.js';
import { Cause, causeBytesA, findCauses, readSyscalls, SyscallRow, syscallAt } from './causes.js';
import { DivergenceKind, firstDivergence } from './first-divergence.js';
import { registersAt, RegisterFile } from './registers-at.js';
import { TraceSide } from './trace-side.js';

/** Options. */
export interface DiffOptions {
  /** Steps shown before and after the divergence on each side (default 3). */
  context?: number;
  /** Call depth used for alignment (default 4). */
  depth?: number;
  /** Skip the whole-trace passes (alignment, profile, system calls, page faults). */
  firstOnly?: boolean;
  /** Compare by symbol+offset even for the same image. */
  bySymbol?: boolean;
}

/** One step of one side, for printing. */
export interface SideStep {
  seq: number;
  rip: string;
  cpl: number;
  bytes: string;
  disassembly: string;
  symbol: string | null;
}

/** One side of the first divergence. */
export interface DivergenceSide extends SideStep {
  /** Registers whose values after the step differ between the runs (hex). */
  values: Record<string, string>;
  /** This step's memory accesses that differ: address, size, r/w, value. */
  memory: { address: string; size: number; access: 'r' | 'w'; value: string }[];
  /** All general registers before the step (hex), for the side-by-side block. */
  registers: Record<string, string>;
  /** Steps around the divergence. */
  context: SideStep[];
}

/** The first divergence. */
export interface FirstDivergenceJson {
  kind: DivergenceKind;
  kinds: DivergenceKind[];
  seq: number;
  a: DivergenceSide;
  b: DivergenceSide;
  /** The difference in what the runs were given that explains it, and why it was chosen. */
  cause: (Cause & { reason: string }) | null;
  /** The earliest difference in what the runs were given (may equal cause). */
  firstCause: Cause | null;
  /** Compared by symbol+offset (different builds). */
  bySymbol: boolean;
}

/** One row of the differential profile. */
export interface ProfileRow { symbol: string; stepsA: number; stepsB: number; callsA: number; callsB: number }

/** A system call that differs. */
export interface SyscallDiff {
  kind: 'only-a' | 'only-b' | 'result';
  name: string;
  a: { entry: number; result: string } | null;
  b: { entry: number; result: string } | null;
}

/** Summary of one trace. */
export interface TraceBrief { dir: string; argv: string[]; imageSha256: string; steps: number; exitStatus: number | null }

/** Everything the diff found. */
export interface DiffResult {
  identical: boolean;
  a: TraceBrief;
  b: TraceBrief;
  sameImage: boolean;
  firstDivergence: FirstDivergenceJson | null;
  /** Every difference in argv, env, inputs and system-call results. */
  causes: Cause[];
  regions: Region[];
  converge: Alignment['converge'];
  alignment: { matched: number; callsA: number; callsB: number; depth: number; greedy: boolean } | null;
  profile: ProfileRow[];
  syscalls: SyscallDiff[];
  pageFaults: { a: number; b: number; bySymbol: { symbol: string; a: number; b: number }[] };
  /** Milliseconds: finding the first divergence, and the whole diff. */
  timing: { firstDivergenceMs: number; totalMs: number };
}

const hex = (v: bigint): string => v.toString(16).padStart(16, '0');

function sideStep(s: TraceSide, seq: number): SideStep {
  const st = s.step(seq);
  return {
    seq, rip: hex(st.rip), cpl: st.cpl, bytes: Buffer.from(st.bytes).toString('hex'),
    disassembly: st.bytes.length === 0 ? '(instruction fetch faulted)' : disassemble(st.rip, st.bytes).text,
    symbol: s.symbols.describe(st.rip) ?? null,
  };
}

/** regs rows and mem rows of one step. */
function stepRows(s: TraceSide, seq: number): { regs: Map<string, bigint>; mem: DivergenceSide['memory'] } {
  const regs = new Map<string, bigint>();
  const mem: DivergenceSide['memory'] = [];
  for (const [t, isMem] of [[s.regs, false], [s.mem, true]] as const) {
    for (let r = t.lowerBound(seq); r < t.rows; r++) {
      const at = t.at(r), c = at.cols, i = at.i, w = c.words('seq');
      if (w[2 * i]! + w[2 * i + 1]! * 4294967296 !== seq) break;
      const v = c.words('value'), val = BigInt(v[2 * i]!) | (BigInt(v[2 * i + 1]!) << 32n);
      if (isMem) {
        const a = c.words('addr');
        mem.push({ address: hex(BigInt(a[2 * i]!) | (BigInt(a[2 * i + 1]!) << 32n)), size: c.ints('size')[i]!, access: c.ints('access')[i] === 1 ? 'w' : 'r', value: val.toString(16) });
      } else {
        regs.set(REG_NAMES[c.ints('reg')[i]!] ?? `reg${c.ints('reg')[i]}`, val);
      }
    }
  }
  return { regs, mem };
}

const REG_NAMES = REGISTERS.map((r) => r.name);
const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'];

function pickCause(causes: readonly Cause[], seq: number, calls: readonly SyscallRow[], memA: DivergenceSide['memory'], rspA: bigint | undefined, bySymbol: boolean): (Cause & { reason: string }) | null {
  const before = causes.filter((c) => Math.min(c.seqA, c.seqB) <= seq);
  if (before.length === 0) return null;
  const image = before.find((c) => c.kind === 'image');
  if (bySymbol && image !== undefined) return { ...image, reason: 'different builds: the steps part where their code does' };
  const call = syscallAt(calls, seq);
  const same = before.find((c) => c.seqA === seq || c.seqB === seq || (call !== undefined && c.kind === 'syscall-result' && c.seqA >= call.entry && c.seqA <= (call.ret < 0 ? Infinity : call.ret)));
  if (same !== undefined) return { ...same, reason: 'received at the divergent step' };
  const cpu = before.find((c) => c.kind === 'cpu');
  if (cpu !== undefined) return { ...cpu, reason: 'different CPU models: CPUID answers differ, so code picks other routines' };
  const readRows = memA.filter((m) => m.access === 'r');
  const reads = readRows.map((m) => BigInt(`0x${m.address}`));
  const valueBytes = readRows.map((m) => {
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(`0x${m.value}`));
    return v.subarray(0, m.size);
  });
  const carries = before.find((c) => {
    const raw = causeBytesA.get(c);
    return raw !== undefined && valueBytes.some((v) => v.length >= 2 && Buffer.from(raw).indexOf(v) >= 0);
  });
  if (carries !== undefined) return { ...carries, reason: 'the divergent step read bytes it delivered' };
  const inRange = before.find((c) => c.rangeA !== undefined && reads.some((r) => r >= c.rangeA![0] && r < c.rangeA![0] + BigInt(c.rangeA![1])));
  if (inRange !== undefined) return { ...inRange, reason: 'the divergent step read the buffer it filled' };
  if (rspA !== undefined && reads.some((r) => r >= rspA && r < rspA + 0x100000n)) {
    const initial = before.find((c) => c.kind === 'argv') ?? before.find((c) => c.kind === 'env') ?? before.find((c) => c.what === 'auxv-random');
    if (initial !== undefined) return { ...initial, reason: 'the divergent step read the initial stack (arguments, environment, auxv)' };
  }
  return { ...before[0]!, reason: 'the first difference before the divergence' };
}

function regHex(f: RegisterFile | { error: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if ('error' in f) return out;
  for (const n of GPRS) { const v = f.get(n); if (v !== undefined) out[n] = n === 'rflags' ? v.toString(16).padStart(8, '0') : hex(v); }
  return out;
}

function divergenceSide(s: TraceSide, seq: number, context: number): { side: DivergenceSide; rows: ReturnType<typeof stepRows>; before: RegisterFile | { error: string } } {
  const has = seq < s.steps;
  const step = has ? sideStep(s, seq) : { seq, rip: '', cpl: -1, bytes: '', disassembly: '(end of the trace)', symbol: null };
  const rows = has ? stepRows(s, seq) : { regs: new Map<string, bigint>(), mem: [] };
  const before = registersAt(s.reader, s.regs, s.insns, Math.min(seq, s.steps));
  const ctx: SideStep[] = [];
  for (let k = Math.max(0, seq - context); k <= seq + context && k < s.steps; k++) ctx.push(sideStep(s, k));
  return { side: { ...step, values: {}, memory: rows.mem, registers: regHex(before), context: ctx }, rows, before };
}

/** Compare two traces. */
export function diffTraces(dirA: string, dirB: string, opts: DiffOptions = {}): DiffResult | { error: string } {
  const t0 = performance.now();
  const a = TraceSide.open(dirA);
  if ('error' in a) return a;
  const b = TraceSide.open(dirB);
  if ('error' in b) { a.closeSync(); return b; }
  try {
    const sameImage = a.reader.meta.imageSha256 === b.reader.meta.imageSha256;
    const point = firstDivergence(a, b, { bySymbol: opts.bySymbol ?? !sameImage });
    const tFirst = performance.now();
    const callsA = readSyscalls(a.reader), callsB = readSyscalls(b.reader);
    const causes = findCauses(a.reader, b.reader, callsA, callsB);
    let first: FirstDivergenceJson | null = null;
    if (point !== null) {
      const ctx = opts.context ?? 3;
      const sa = divergenceSide(a, point.seqA, ctx), sb = divergenceSide(b, point.seqB, ctx);
      if (!point.bySymbol) {
        const names = new Set([...sa.rows.regs.keys(), ...sb.rows.regs.keys()]);
        for (const n of names) {
          const va = sa.rows.regs.get(n) ?? ('error' in sa.before ? undefined : sa.before.get(n));
          const vb = sb.rows.regs.get(n) ?? ('error' in sb.before ? undefined : sb.before.get(n));
          if (va === vb) continue;
          if (va !== undefined) sa.side.values[n] = hex(va);
          if (vb !== undefined) sb.side.values[n] = hex(vb);
        }
        const same = (x: DivergenceSide['memory'][number], y: DivergenceSide['memory'][number] | undefined): boolean =>
          y !== undefined && x.address === y.address && x.size === y.size && x.access === y.access && x.value === y.value;
        const ma = sa.side.memory, mb = sb.side.memory;
        sa.side.memory = ma.filter((m, i) => !same(m, mb[i]));
        sb.side.memory = mb.filter((m, i) => !same(m, ma[i]));
      }
      if ((point.kinds.includes('control-flow') || point.kinds.includes('end')) && sa.side.rip !== sb.side.rip) {
        if (sa.side.rip !== '') sa.side.values.rip = sa.side.rip;
        if (sb.side.rip !== '') sb.side.values.rip = sb.side.rip;
      }
      const rsp0 = registersAt(a.reader, a.regs, a.insns, 0);
      const rsp = 'error' in rsp0 ? undefined : rsp0.get('rsp');
      const cause = pickCause(causes, point.seq, callsA, sa.side.memory, rsp, point.bySymbol);
      const firstCause = causes.find((c) => Math.min(c.seqA, c.seqB) <= point.seq) ?? null;
      first = { kind: point.kinds[0]!, kinds: point.kinds, seq: point.seq, a: sa.side, b: sb.side, cause, firstCause, bySymbol: point.bySymbol };
    }
    const result: DiffResult = {
      identical: point === null,
      a: brief(a), b: brief(b), sameImage, firstDivergence: first, causes,
      regions: [], converge: null, alignment: null, profile: [], syscalls: diffSyscalls(callsA, callsB),
      pageFaults: pageFaults(a, b),
      timing: { firstDivergenceMs: tFirst - t0, totalMs: 0 },
    };
    if (!opts.firstOnly && point !== null) {
      const pa = callProfile(a), pb = callProfile(b);
      const depth = opts.depth ?? 4;
      const al = alignCalls(pa.nodes, pb.nodes, depth);
      result.regions = al.regions;
      result.converge = al.converge;
      result.alignment = { matched: al.matched, callsA: al.callsA, callsB: al.callsB, depth, greedy: al.greedy };
      const names = new Set([...pa.steps.keys(), ...pb.steps.keys()]);
      result.profile = [...names].map((symbol) => ({ symbol, stepsA: pa.steps.get(symbol) ?? 0, stepsB: pb.steps.get(symbol) ?? 0, callsA: pa.calls.get(symbol) ?? 0, callsB: pb.calls.get(symbol) ?? 0 }))
        .sort((x, y) => Math.abs(y.stepsB - y.stepsA) - Math.abs(x.stepsB - x.stepsA) || y.stepsA - x.stepsA || (x.symbol < y.symbol ? -1 : 1));
    }
    result.timing.totalMs = performance.now() - t0;
    return result;
  } finally {
    a.closeSync();
    b.closeSync();
  }
}

function brief(s: TraceSide): TraceBrief {
  const m = s.reader.meta;
  return { dir: s.reader.dir, argv: m.argv, imageSha256: m.imageSha256, steps: s.steps, exitStatus: m.exitStatus ?? null };
}

function diffSyscalls(x: readonly SyscallRow[], y: readonly SyscallRow[]): SyscallDiff[] {
  const out: SyscallDiff[] = [];
  const side = (c: SyscallRow): { entry: number; result: string } => ({ entry: c.entry, result: String(c.result) });
  let i = 0, j = 0;
  while (i < x.length || j < y.length) {
    const p = x[i], q = y[j];
    if (p !== undefined && q !== undefined && p.name === q.name) {
      if (p.result !== q.result) out.push({ kind: 'result', name: p.name, a: side(p), b: side(q) });
      i++; j++;
      continue;
    }
    // resynchronise on the next call of the same name within a few calls
    const qAhead = q !== undefined && x.slice(i + 1, i + 9).some((c) => c.name === q.name);
    const pAhead = p !== undefined && y.slice(j + 1, j + 9).some((c) => c.name === p.name);
    if (p !== undefined && (q === undefined || qAhead || !pAhead)) { out.push({ kind: 'only-a', name: p.name, a: side(p), b: null }); i++; }
    if (q !== undefined && (p === undefined || pAhead || !qAhead)) { out.push({ kind: 'only-b', name: q.name, a: null, b: side(q) }); j++; }
  }
  return out;
}

function pageFaults(a: TraceSide, b: TraceSide): DiffResult['pageFaults'] {
  const count = (s: TraceSide): Map<string, number> => {
    const e = s.reader.readTable('events').columns;
    const kind = e.strings('kind'), from = e.u64('from_rip');
    const m = new Map<string, number>();
    for (let i = 0; i < e.length; i++) {
      if (kind[i] !== 'page_fault') continue;
      const name = s.symbols.lookup(from[i]!)?.symbol.name ?? '?';
      m.set(name, (m.get(name) ?? 0) + 1);
    }
    return m;
  };
  const ca = count(a), cb = count(b);
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((p, q) => p + q, 0);
  const names = [...new Set([...ca.keys(), ...cb.keys()])].filter((n) => ca.get(n) !== cb.get(n)).sort();
  return { a: sum(ca), b: sum(cb), bySymbol: names.map((symbol) => ({ symbol, a: ca.get(symbol) ?? 0, b: cb.get(symbol) ?? 0 })) };
}
