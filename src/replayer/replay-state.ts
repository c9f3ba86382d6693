// The full machine state at any position of a trace: the nearest snapshot at or before it (step-index
// snapshots, every `snapshotEvery` steps) plus the logged deltas of the steps in between, read from the regs and
// mem batches that cover them. Moving forward from the current position applies only the new steps' deltas.
import { Off } from '../cpu/state.js';
import { TraceReader } from '../trace/trace-reader.js';
import { BatchTable } from './batch-table.js';
import { DeltaState } from './delta-state.js';
import { readSnapshot } from './snapshots.js';
import { lowerBound, StepIndex } from './step-index.js';

const RIP = Off.RIP >> 2;

/** A movable view of the machine state. */
export class ReplayState {
  /** The index it navigates with. */
  readonly index: StepIndex;
  /** Registers and memory as of `position` (state before that step). */
  readonly delta: DeltaState;
  private readonly regs: BatchTable;
  private readonly mem: BatchTable;

  constructor(reader: TraceReader, index: StepIndex) {
    this.index = index;
    this.regs = new BatchTable(reader.dir, 'regs');
    this.mem = new BatchTable(reader.dir, 'mem');
    const s = readSnapshot(index.dir, 0);
    this.delta = new DeltaState(index.meta.memorySize, s.state, s.pages, 0);
  }

  /** Current position. */
  get position(): number {
    return this.delta.position;
  }

  /** Move to the state before step p (0 <= p <= steps). */
  seek(p: number): void {
    const every = this.index.meta.snapshotEvery;
    const base = Math.floor(p / every) * every;
    const cur = this.delta.position;
    if (!(cur <= p && cur >= base)) {
      const s = readSnapshot(this.index.dir, base);
      this.delta.reset(s.state, s.pages, base);
    }
    this.apply(this.delta.position, p);
    this.delta.position = p;
    // RIP is not logged: it is the step's own address
    const rip = p < this.index.steps ? this.index.rip(p) : this.lastRip();
    const u = this.delta.state.u32;
    u[RIP] = Number(rip & 0xffffffffn); u[RIP + 1] = Number(rip >> 32n);
  }

  private lastRip(): bigint {
    const s = this.index.steps - 1;
    if (s < 0) return 0n;
    const c = this.index.code(s);
    const len = c === 0xffffffff ? 0 : this.index.codeBytes[c]!.length;
    return this.index.rip(s) + BigInt(len);
  }

  /** Apply the rows of steps [from, to). */
  private apply(from: number, to: number): void {
    if (to <= from) return;
    const rc = new Rows(this.regs, this.index.regsFirst, from), mc = new Rows(this.mem, this.index.memFirst, from);
    const d = this.delta;
    for (;;) {
      const ms = mc.seq(), rs = rc.seq();
      if (ms < to && ms <= rs) {
        const m = mc.cols!, i = mc.i;
        if (m.ints('access')[i] === 1) {
          const a = m.words('addr'), v = m.words('value');
          d.applyWrite({ seq: ms, addrLo: a[2 * i]!, addrHi: a[2 * i + 1]!, size: m.ints('size')[i]!, lo: v[2 * i]!, hi: v[2 * i + 1]! });
        }
        mc.next();
      } else if (rs < to) {
        const g = rc.cols!, i = rc.i, v = g.words('value');
        d.applyReg({ seq: rs, reg: g.ints('reg')[i]!, lo: v[2 * i]!, hi: v[2 * i + 1]! });
        rc.next();
      } else return;
    }
  }

  /** Read `len` bytes at a linear address; unmapped bytes are undefined. */
  read(addr: bigint, len: number): (number | undefined)[] {
    const out: (number | undefined)[] = [];
    for (let k = 0; k < len; k++) {
      const a = BigInt.asUintN(64, addr + BigInt(k));
      const p = this.delta.translate(Number(a & 0xffffffffn), Number(a >> 32n));
      out.push(p < 0 ? undefined : this.delta.mem.bytes[p]);
    }
    return out;
  }
}

/** Rows of one table from the first row whose seq >= from, across batches. */
class Rows {
  cols: ReturnType<BatchTable['batch']> | null = null;
  i = 0;
  private b: number;
  private seqs: Uint32Array = new Uint32Array(0);
  private readonly table: BatchTable;

  constructor(table: BatchTable, firsts: Float64Array, from: number) {
    this.table = table;
    this.b = Math.max(0, lowerBound(firsts, from) - 1);
    this.load();
    while (this.cols !== null && this.seq() < from) this.next();
  }

  seq(): number {
    return this.cols === null ? Infinity : this.seqs[2 * this.i]! + this.seqs[2 * this.i + 1]! * 4294967296;
  }

  next(): void {
    if (++this.i >= this.cols!.length) { this.b++; this.load(); }
  }

  private load(): void {
    this.i = 0;
    if (this.b >= this.table.batches) { this.cols = null; return; }
    this.cols = this.table.batch(this.b);
    this.seqs = this.cols.words('seq');
    if (this.cols.length === 0) { this.b++; this.load(); }
  }
}
