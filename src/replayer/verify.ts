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
import type { MemLog } from '../cpu/mem-log.js';
import { PhysMemory } from '../cpu/phys-memory.js';
import { Off } from '../cpu/state.js';
import { DEFAULT_MEMORY } from '../guest/layout.js';
import { ExitReason } from '../vmx/exit-reason.js';
import { REGISTERS, RIP_ID } from '../trace/registers.js';
import { TableColumns } from '../trace/table-columns.js';
import { TraceReader } from '../trace/trace-reader.js';
import { traceCpuLevel } from '../trace/schema.js';
import { replayedHostValues } from './replayed-host-values.js';

/** The outcome of a verification. */
export type VerifyResult =
  | { ok: true; steps: number; seconds: number }
  | { ok: false; seq: number; what: string; recorded: string; replayed: string; steps: number; seconds: number };

const RIP = Off.RIP >> 2, CPL = Off.CPL >> 2;
const hex = (lo: number, hi: number): string => `0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`;

/** Rows of a streamed table in seq order. */
class Cursor {
  cols: TableColumns | null = null;
  i = 0;
  private seqs: Uint32Array = new Uint32Array(0);
  private readonly it: Iterator<TableColumns>;
  constructor(it: Iterable<TableColumns>) { this.it = it[Symbol.iterator](); this.load(); }
  seq(): number { return this.cols === null ? Infinity : this.seqs[2 * this.i]! + this.seqs[2 * this.i + 1]! * 4294967296; }
  next(): void { if (++this.i >= this.cols!.length) this.load(); }
  private load(): void {
    for (;;) {
      const r = this.it.next();
      if (r.done) { this.cols = null; return; }
      if (r.value.length === 0) continue;
      this.cols = r.value; this.i = 0; this.seqs = r.value.words('seq');
      return;
    }
  }
}

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
  const accesses: Access[] = [];
  const log: MemLog = {
    access(lo, hi, size, write, vLo, vHi, oLo, oHi) { accesses.push({ lo, hi, size, write, vLo, vHi, oLo, oHi }); },
    accessWords(w, size, write) { this.access(w[0]!, w[1]!, size, write, w[2]!, w[3]!, w[4]!, w[5]!); },
  };
  cpu.mlog = log;
  const hostRows = replayedHostValues(reader.readTable('inputs').columns, () => seq, (what, recorded, replayed) => { throw new Divergence(seq, what, recorded, replayed); });
  cpu.host = hostRows.host;

  const N = Math.min(reader.table('insns').rows, opts.limit ?? Infinity);
  const streams = [reader.stream('insns'), reader.stream('regs'), reader.stream('mem')] as const;
  const insns = new Cursor(streams[0]), regs = new Cursor(streams[1]), memRows = new Cursor(streams[2]);
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
      const g = regs.cols!, i = regs.i, id = g.ints('reg')[i]!, v = g.words('value'), slot = REGISTERS[id]!;
      for (const u of into) { u[slot.off >> 2] = v[2 * i]!; if (slot.bytes === 8) u[(slot.off >> 2) + 1] = v[2 * i + 1]!; }
      regs.next();
    }
  };
  const checkInsn = (d: Decoded | null, faulted: boolean): void => {
    if (insns.seq() !== seq) throw new Divergence(seq, 'step missing from insns', 'no row', 'a step');
    const I = insns.cols!, i = insns.i, rip = I.words('rip');
    if (rip[2 * i] !== ripLo || rip[2 * i + 1] !== ripHi) throw new Divergence(seq, 'rip', hex(rip[2 * i]!, rip[2 * i + 1]!), hex(ripLo, ripHi));
    if (I.ints('cpl')[i] !== cpl) throw new Divergence(seq, 'cpl', String(I.ints('cpl')[i]), String(cpl));
    if ((I.ints('faulted')[i] === 1) !== faulted) throw new Divergence(seq, 'faulted', String(I.ints('faulted')[i]), faulted ? '1' : '0');
    const len = d === null ? 0 : d.length;
    if (I.ints('length')[i] !== len) throw new Divergence(seq, 'instruction length', String(I.ints('length')[i]), String(len));
    insns.next();
  };
  const checkMem = (): void => {
    let k = 0;
    while (memRows.seq() === seq) {
      const m = memRows.cols!, i = memRows.i, a = m.words('addr'), v = m.words('value'), o = m.words('old_value');
      const rec = `${m.ints('access')[i] ? 'write' : 'read'} ${m.ints('size')[i]} bytes at ${hex(a[2 * i]!, a[2 * i + 1]!)} value ${hex(v[2 * i]!, v[2 * i + 1]!)}${m.ints('access')[i] ? ` (old ${hex(o[2 * i]!, o[2 * i + 1]!)})` : ''}`;
      const x = accesses[k];
      if (x === undefined) throw new Divergence(seq, `memory access ${k}`, rec, 'none');
      const got = `${x.write ? 'write' : 'read'} ${x.size} bytes at ${hex(x.lo, x.hi)} value ${hex(x.vLo, x.vHi)}${x.write ? ` (old ${hex(x.oLo, x.oHi)})` : ''}`;
      if (got !== rec) throw new Divergence(seq, `memory access ${k}`, rec, got);
      k++;
      memRows.next();
    }
    if (k < accesses.length) {
      const x = accesses[k]!;
      throw new Divergence(seq, `memory access ${k}`, 'none', `${x.write ? 'write' : 'read'} ${x.size} bytes at ${hex(x.lo, x.hi)}`);
    }
    accesses.length = 0;
  };
  const checkRegs = (): void => {
    applyRegRows([expect]);
    getFlags(cpu.r);
    const r = cpu.r;
    for (const slot of REGISTERS) {
      if (slot.id === RIP_ID) continue;
      const w = slot.off >> 2;
      if (r[w] !== expect[w] || (slot.bytes === 8 && r[w + 1] !== expect[w + 1])) {
        throw new Divergence(seq, `register ${slot.name}`, hex(expect[w]!, slot.bytes === 8 ? expect[w + 1]! : 0), hex(r[w]!, slot.bytes === 8 ? r[w + 1]! : 0));
      }
    }
  };
  const hook = (d: Decoded | null, faulted: boolean): void => {
    checkInsn(d, faulted);
    checkMem();
    checkRegs();
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
        accesses.length = 0;
        const I = insns.cols;
        if (I === null || insns.seq() !== seq) throw new Divergence(seq, 'step missing from insns', 'no row', 'VMCALL');
        const rip = I.words('rip');
        if (rip[2 * insns.i] !== ripLo || rip[2 * insns.i + 1] !== ripHi) throw new Divergence(seq, 'rip', hex(rip[2 * insns.i]!, rip[2 * insns.i + 1]!), hex(ripLo, ripHi));
        insns.next();
        while (memRows.seq() === seq) {
          const m = memRows.cols!, i = memRows.i;
          if (m.ints('access')[i] === 1) {
            const a = m.words('addr'), v = m.words('value'), size = m.ints('size')[i]!;
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
