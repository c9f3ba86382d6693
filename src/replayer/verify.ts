// `trace replay --verify`: re-execute a trace from checkpoint 0 on a fresh processor, one step at a time (the
// monitor-trap-flag loop), and check every step against the recorded rows: address, ring, faulted, every
// register after the step, and every memory access (address, size, read/write, value, old value). The host's
// work is not re-executed: a VMCALL step gets its recorded register and memory rows applied and RIP moves past
// it. RDTSC, RDTSCP and RDRAND get the values the recording logged as inputs (replayed-host-values.ts). The first
// difference is reported with its step, what differs, and both values.
import { Cpu, RunStatus } from '../cpu/cpu.js';
import { peekPage } from '../cpu/mmu.js';
import type { Decoded } from '../cpu/decoded.js';
import { getFlags } from '../cpu/flags.js';
import { Tier } from '../cpu/step-log.js';
import { writtenTier } from '../cpu/written-state.js';
import type { MemLog } from '../cpu/mem-log.js';
import { PhysMemory } from '../cpu/phys-memory.js';
import { Off } from '../cpu/state.js';
import { DEFAULT_MEMORY } from '../guest/layout.js';
import { ExitReason } from '../vmx/exit-reason.js';
import { REGISTERS, RIP_ID } from '../trace/registers.js';
import { type IntStore, TableColumns } from '../trace/table-columns.js';
import { TraceReader } from '../trace/trace-reader.js';
import { traceCpuLevel } from '../trace/schema.js';
import { replayedHostValues } from './replayed-host-values.js';

/** The outcome of a verification. */
export type VerifyResult =
  | { ok: true; steps: number; seconds: number }
  | { ok: false; seq: number; what: string; recorded: string; replayed: string; steps: number; seconds: number };

const RIP = Off.RIP >> 2, CPL = Off.CPL >> 2;
const hex = (lo: number, hi: number): string => `0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`;

/** Rows of a streamed table in seq order; `onLoad` takes up the columns of each batch as it is reached. */
class Cursor {
  cols: TableColumns | null = null;
  i = 0;
  private seqs: Uint32Array = new Uint32Array(0);
  private readonly it: Iterator<TableColumns>;
  constructor(it: Iterable<TableColumns>, private readonly onLoad: (c: TableColumns) => void) { this.it = it[Symbol.iterator](); this.load(); }
  seq(): number { return this.cols === null ? Infinity : this.seqs[2 * this.i]! + this.seqs[2 * this.i + 1]! * 4294967296; }
  next(): void { if (++this.i >= this.cols!.length) this.load(); }
  private load(): void {
    for (;;) {
      const r = this.it.next();
      if (r.done) { this.cols = null; return; }
      if (r.value.length === 0) continue;
      this.cols = r.value; this.i = 0; this.seqs = r.value.words('seq');
      this.onLoad(r.value);
      return;
    }
  }
}

/** Column stores of the current batch of each table (looked up by name once per batch, not once per row). */
const EMPTY_WORDS: Uint32Array = new Uint32Array(0), EMPTY_INTS: IntStore = new Uint8Array(0);
class Columns {
  rip: Uint32Array = EMPTY_WORDS; cpl: IntStore = EMPTY_INTS; faulted: IntStore = EMPTY_INTS; length: IntStore = EMPTY_INTS;
  reg: IntStore = EMPTY_INTS; regValue: Uint32Array = EMPTY_WORDS;
  addr: Uint32Array = EMPTY_WORDS; value: Uint32Array = EMPTY_WORDS; old: Uint32Array = EMPTY_WORDS; access: IntStore = EMPTY_INTS; size: IntStore = EMPTY_INTS;
  insns(c: TableColumns): void { this.rip = c.words('rip'); this.cpl = c.ints('cpl'); this.faulted = c.ints('faulted'); this.length = c.ints('length'); }
  regs(c: TableColumns): void { this.reg = c.ints('reg'); this.regValue = c.words('value'); }
  mem(c: TableColumns): void { this.addr = c.words('addr'); this.value = c.words('value'); this.old = c.words('old_value'); this.access = c.ints('access'); this.size = c.ints('size'); }
}

/** Registers in the order they are compared: the GPRs and RFLAGS first, then the others (RIP is checked per row). */
const ORDERED = [...REGISTERS.filter((s) => s.tier === 'gpr' || s.name === 'rflags'), ...REGISTERS.filter((s) => s.tier !== 'gpr' && s.name !== 'rflags' && s.id !== RIP_ID)];
/** Words of the state view compared after a step, in that order, and the register id of each. */
const CHECKED_WORDS: Int32Array = Int32Array.from(ORDERED.flatMap((s) => (s.bytes === 8 ? [s.off >> 2, (s.off >> 2) + 1] : [s.off >> 2])));
const WORD_SLOT: Int32Array = Int32Array.from(ORDERED.flatMap((s) => (s.bytes === 8 ? [s.id, s.id] : [s.id])));
/** How many of CHECKED_WORDS are the GPRs and RFLAGS. */
const GPR_FLAGS_WORDS = ORDERED.filter((s) => s.tier === 'gpr' || s.name === 'rflags').reduce((n, s) => n + s.bytes / 4, 0);
/** Steps between comparisons of every register. */
const FULL_COMPARE_EVERY = 1024;

/** Words per replayed access: lo, hi, size, write, value lo/hi, old value lo/hi. */
const ACCESS_WORDS = 8;

/** One replayed memory access. */
interface Access { lo: number; hi: number; size: number; write: number; vLo: number; vHi: number; oLo: number; oHi: number }

class Divergence extends Error {
  constructor(readonly seq: number, readonly what: string, readonly recorded: string, readonly replayed: string) { super(what); }
}

/** Physical address of a linear one under the processor's page tables (no side effects), or -1. */
function walk(cpu: Cpu, lo: number, hi: number): number {
  const base = peekPage(cpu.mem, cpu.r[Off.CR3 >> 2]!, lo, hi);
  return base < 0 ? -1 : base + (lo & 0xfff);
}

/** Verify a whole trace (or its first `limit` steps). */
export function verifyTrace(reader: TraceReader, opts: { limit?: number } = {}): VerifyResult | { error: string } {
  const t0 = performance.now();
  const cp = reader.readCheckpoint(0);
  if ('error' in cp) return cp;
  let maxFrame = 0;
  for (const f of cp.pages.keys()) maxFrame = Math.max(maxFrame, f);
  const mem = new PhysMemory(Math.max(DEFAULT_MEMORY, (maxFrame + 1) * 4096));
  for (const [f, b] of cp.pages) mem.bytes.set(b, f << 12);
  const cpu = new Cpu(mem);
  cpu.setLevel(traceCpuLevel(reader.meta)); // the recorded CPU model: its CPUID and its instruction set
  cpu.s.restore(cp.state);
  cpu.syncCpl(); cpu.flushTlb();
  cpu.singleIteration = true; cpu.stopOnFault = false; cpu.controls.vmcallExits = true;
  cpu.jitEnabled = false;
  // the replayed accesses of the current step, ACCESS_WORDS words each (no object per access)
  let acc = new Uint32Array(64 * ACCESS_WORDS), nAcc = 0;
  const accessAt = (k: number): Access => {
    const b = k * ACCESS_WORDS;
    return { lo: acc[b]!, hi: acc[b + 1]!, size: acc[b + 2]!, write: acc[b + 3]!, vLo: acc[b + 4]!, vHi: acc[b + 5]!, oLo: acc[b + 6]!, oHi: acc[b + 7]! };
  };
  const log: MemLog = {
    access(lo, hi, size, write, vLo, vHi, oLo, oHi) {
      if ((nAcc + 1) * ACCESS_WORDS > acc.length) { const bigger = new Uint32Array(acc.length * 2); bigger.set(acc); acc = bigger; }
      const b = nAcc++ * ACCESS_WORDS;
      acc[b] = lo; acc[b + 1] = hi; acc[b + 2] = size; acc[b + 3] = write; acc[b + 4] = vLo; acc[b + 5] = vHi; acc[b + 6] = oLo; acc[b + 7] = oHi;
    },
    accessWords(w, size, write) { this.access(w[0]!, w[1]!, size, write, w[2]!, w[3]!, w[4]!, w[5]!); },
  };
  cpu.mlog = log;
  const hostRows = replayedHostValues(reader.readTable('inputs').columns, () => seq, (what, recorded, replayed) => { throw new Divergence(seq, what, recorded, replayed); });
  cpu.host = hostRows.host;

  const N = Math.min(reader.table('insns').rows, opts.limit ?? Infinity);
  const streams = [reader.stream('insns'), reader.stream('regs'), reader.stream('mem')] as const;
  const C = new Columns();
  const insns = new Cursor(streams[0], (c) => C.insns(c)), regs = new Cursor(streams[1], (c) => C.regs(c)), memRows = new Cursor(streams[2], (c) => C.mem(c));
  // a table that could not be read (checksum mismatch, undecodable batch) is an error, never a divergence
  const readError = (): { error: string } | undefined => {
    const e = streams.find((x) => x.error !== undefined)?.error;
    return e === undefined ? undefined : { error: e };
  };
  // expected registers: checkpoint 0 plus the recorded regs rows so far
  const expect = cpu.r.slice();
  getFlags(cpu.r); getFlags(expect);
  let seq = 0;
  let ripLo = cpu.r[RIP]!, ripHi = cpu.r[RIP + 1]!, cpl = cpu.r[CPL]!;

  const applyRegRows = (into: Uint32Array[]): void => {
    while (regs.seq() === seq) {
      const i = regs.i, id = C.reg[i]!, v = C.regValue, slot = REGISTERS[id]!;
      for (const u of into) { u[slot.off >> 2] = v[2 * i]!; if (slot.bytes === 8) u[(slot.off >> 2) + 1] = v[2 * i + 1]!; }
      regs.next();
    }
  };
  const checkInsn = (d: Decoded | null, faulted: boolean): void => {
    if (insns.seq() !== seq) throw new Divergence(seq, 'step missing from insns', 'no row', 'a step');
    const i = insns.i, rip = C.rip;
    if (rip[2 * i] !== ripLo || rip[2 * i + 1] !== ripHi) throw new Divergence(seq, 'rip', hex(rip[2 * i]!, rip[2 * i + 1]!), hex(ripLo, ripHi));
    if (C.cpl[i] !== cpl) throw new Divergence(seq, 'cpl', String(C.cpl[i]), String(cpl));
    if ((C.faulted[i] === 1) !== faulted) throw new Divergence(seq, 'faulted', String(C.faulted[i]), faulted ? '1' : '0');
    const len = d === null ? 0 : d.length;
    if (C.length[i] !== len) throw new Divergence(seq, 'instruction length', String(C.length[i]), String(len));
    insns.next();
  };
  const describeAccess = (write: number, size: number, lo: number, hi: number, vLo: number, vHi: number, oLo: number, oHi: number): string =>
    `${write ? 'write' : 'read'} ${size} bytes at ${hex(lo, hi)} value ${hex(vLo, vHi)}${write ? ` (old ${hex(oLo, oHi)})` : ''}`;
  const checkMem = (): void => {
    let k = 0;
    while (memRows.seq() === seq) {
      const i = memRows.i, a = C.addr, v = C.value, o = C.old, w = C.access[i]!;
      const b = k * ACCESS_WORDS;
      const same = k < nAcc && acc[b + 3] === w && acc[b + 2] === C.size[i] && acc[b] === a[2 * i] && acc[b + 1] === a[2 * i + 1] &&
        acc[b + 4] === v[2 * i] && acc[b + 5] === v[2 * i + 1] && (w === 0 || (acc[b + 6] === o[2 * i] && acc[b + 7] === o[2 * i + 1]));
      if (!same) {
        const rec = describeAccess(w, C.size[i]!, a[2 * i]!, a[2 * i + 1]!, v[2 * i]!, v[2 * i + 1]!, o[2 * i]!, o[2 * i + 1]!);
        const x = k < nAcc ? accessAt(k) : undefined;
        const got = x === undefined ? 'none' : describeAccess(x.write, x.size, x.lo, x.hi, x.vLo, x.vHi, x.oLo, x.oHi);
        if (got !== rec) throw new Divergence(seq, `memory access ${k}`, rec, got);
      }
      k++;
      memRows.next();
    }
    if (k < nAcc) {
      const x = accessAt(k);
      throw new Divergence(seq, `memory access ${k}`, 'none', `${x.write ? 'write' : 'read'} ${x.size} bytes at ${hex(x.lo, x.hi)}`);
    }
    nAcc = 0;
  };
  // The GPRs and RFLAGS are compared after every step; the other registers after every step that may write them
  // (written-state.ts, as the recorder logs them), at every ring switch and fault, and every FULL_COMPARE_EVERY
  // steps, so that a write nobody declared is still found, at most that many steps late.
  let nextFull = 0;
  const checkRegs = (tier: number): void => {
    applyRegRows([expect]);
    getFlags(cpu.r);
    const r = cpu.r;
    const full = (tier & ~Tier.FLAGS) !== 0 || seq >= nextFull;
    if (full) nextFull = seq + FULL_COMPARE_EVERY;
    const n = full ? CHECKED_WORDS.length : GPR_FLAGS_WORDS;
    for (let k = 0; k < n; k++) {
      const w = CHECKED_WORDS[k]!;
      if (r[w] === expect[w]) continue;
      const slot = REGISTERS[WORD_SLOT[k]!]!, b = slot.off >> 2, wide = slot.bytes === 8;
      throw new Divergence(seq, `register ${slot.name}`, hex(expect[b]!, wide ? expect[b + 1]! : 0), hex(r[b]!, wide ? r[b + 1]! : 0));
    }
  };
  const hook = (d: Decoded | null, faulted: boolean): void => {
    checkInsn(d, faulted);
    checkMem();
    checkRegs(d === null || faulted || cpu.r[CPL] !== cpl ? Tier.ALL : writtenTier(d));
    if (hostRows.nextSeq() <= seq) throw new Divergence(seq, `input ${hostRows.nextKind()}`, 'a value at this step', 'not requested');
    seq++;
    ripLo = cpu.r[RIP]!; ripHi = cpu.r[RIP + 1]!; cpl = cpu.r[CPL]!;
    if (seq >= N) cpu.budget = 0;
  };

  try {
    while (seq < N) {
      const st = cpu.runStepped(N - seq, hook);
      if (seq >= N) break;
      if (st === RunStatus.EXIT && cpu.exit.reason === ExitReason.VMCALL) {
        // the host's step: its recorded writes and registers, then past the instruction
        const len = cpu.exit.instructionLength;
        nAcc = 0;
        if (insns.cols === null || insns.seq() !== seq) throw new Divergence(seq, 'step missing from insns', 'no row', 'VMCALL');
        const rip = C.rip;
        if (rip[2 * insns.i] !== ripLo || rip[2 * insns.i + 1] !== ripHi) throw new Divergence(seq, 'rip', hex(rip[2 * insns.i]!, rip[2 * insns.i + 1]!), hex(ripLo, ripHi));
        insns.next();
        while (memRows.seq() === seq) {
          const i = memRows.i;
          if (C.access[i] === 1) {
            const a = C.addr, v = C.value, size = C.size[i]!;
            for (let k = 0; k < size; k++) {
              const lo = (a[2 * i]! + k) >>> 0, hi = lo < a[2 * i]! ? a[2 * i + 1]! + 1 : a[2 * i + 1]!;
              const p = walk(cpu, lo, hi);
              if (p < 0) throw new Divergence(seq, 'host write address', `${hex(a[2 * i]!, a[2 * i + 1]!)} mapped`, 'unmapped');
              cpu.bytes[p] = k < 4 ? (v[2 * i]! >>> (8 * k)) & 0xff : (v[2 * i + 1]! >>> (8 * (k - 4))) & 0xff;
              cpu.notifyPhysWrite(p, 1);
            }
          }
          memRows.next();
        }
        const oldRipLo = cpu.r[RIP]!, oldRipHi = cpu.r[RIP + 1]!;
        applyRegRows([expect, cpu.r]);
        const next = oldRipLo + len;
        cpu.r[RIP] = next >>> 0; cpu.r[RIP + 1] = next > 0xffffffff ? oldRipHi + 1 : oldRipHi;
        cpu.icount++; // the VMCALL has completed, as the hypervisor's skipInstruction counts it
        cpu.syncCpl(); cpu.flushTlb();
        seq++;
        ripLo = cpu.r[RIP]!; ripHi = cpu.r[RIP + 1]!; cpl = cpu.r[CPL]!;
        continue;
      }
      if (st === RunStatus.BUDGET) continue;
      throw new Divergence(seq, 'execution stopped', 'more steps', st === RunStatus.HALT ? 'HLT' : st === RunStatus.TRIPLE_FAULT ? 'triple fault' : `VM exit ${cpu.exit.reason}`);
    }
  } catch (e) {
    const seconds = (performance.now() - t0) / 1000;
    const bad = readError();
    if (bad !== undefined) return bad;
    if (e instanceof Divergence) return { ok: false, seq: e.seq, what: e.what, recorded: e.recorded, replayed: e.replayed, steps: seq, seconds };
    return { ok: false, seq, what: `internal error: ${(e as Error).message}`, recorded: '', replayed: '', steps: seq, seconds };
  } finally {
    cpu.mlog = null;
  }
  return readError() ?? { ok: true, steps: seq, seconds: (performance.now() - t0) / 1000 };
}

/** The one-line report. */
export function formatVerify(r: VerifyResult): string {
  if (r.ok) return `verified ${r.steps.toLocaleString('en-US')} steps (${r.seconds.toFixed(1)} s)`;
  return `divergence at step ${r.seq}: ${r.what}: recorded ${r.recorded}, replayed ${r.replayed}`;
}
