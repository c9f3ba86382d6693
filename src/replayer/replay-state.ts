// The full machine state at any position of a trace: the nearest snapshot at or before it (step-index
// snapshots, every `snapshotEvery` steps) plus the logged deltas of the steps in between, read from the index's
// delta log (one small compressed chunk per snapshot interval, delta-log.ts). Moving forward from the current
// position applies only the new steps' deltas.
import { Off } from '../cpu/state.js';
import { TraceReader } from '../trace/trace-reader.js';
import { WRITE_TAG } from './delta-log.js';
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

  /** `_reader` is the trace, if open (the index holds everything the state needs). */
  constructor(_reader: TraceReader | null, index: StepIndex) {
    this.index = index;
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
    // (a position at the very end uses the last snapshot)
    const base = Math.min(Math.floor(p / every), Math.floor(Math.max(0, this.index.steps - 1) / every)) * every;
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
    const log = this.index.deltas, every = log.every, d = this.delta;
    for (let k = Math.floor(from / every); k < log.length && k * every < to; k++) {
      const c = log.chunk(k), lo = c.lo, hi = c.hi, tag = c.tag, dseq = c.dseq;
      const start = lowerBound(dseq, from - c.base), end = lowerBound(dseq, to - c.base, start);
      // index of the first write record at or after `start`
      let w = 0;
      for (let r = 0; r < start; r++) if (tag[r] === WRITE_TAG) w++;
      for (let r = start; r < end; r++) {
        const t = tag[r]!;
        if (t === WRITE_TAG) {
          d.applyWrite({ seq: c.base + dseq[r]!, addrLo: c.addrLo[w]!, addrHi: c.addrHi[w]!, size: c.size[w]!, lo: lo[r]!, hi: hi[r]! });
          w++;
        } else d.applyReg({ seq: c.base + dseq[r]!, reg: t, lo: lo[r]!, hi: hi[r]! });
      }
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
