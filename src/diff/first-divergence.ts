// The first step at which two recordings part. Same program image: the first step whose instruction (rip, ring,
// bytes, fault), register changes, or memory accesses (address, size, direction, value; the overwritten value is
// not compared) differ, found per table with firstDifferingRow (byte-identical batches skipped, so equal
// prefixes cost a read, not a decode). Different builds: addresses differ, so steps are compared as
// symbol+offset (and instruction length) and only user-mode steps that did not fault are paired (page faults
// and kernel paths depend on the layout), walking both traces; register and memory values are not compared.
import { TableColumns } from '../trace/table-columns.js';
import { firstDifferingRow, ScanStats } from './first-differing-row.js';
import { NO_CODE, TraceSide } from './trace-side.js';

/** What differs first. */
export type DivergenceKind = 'control-flow' | 'memory' | 'register' | 'end';

/** Where the runs part (same seq in both traces: every earlier step is equal). */
export interface DivergencePoint {
  /** The step (in A). */
  readonly seq: number;
  /** The step in A and in B (equal unless compared by symbol, where only user-mode steps are paired). */
  readonly seqA: number;
  readonly seqB: number;
  /** What differs at it, most telling first (control flow, then memory, then registers; 'end' if one trace stops). */
  readonly kinds: DivergenceKind[];
  /** Compared as symbol+offset (different builds). */
  readonly bySymbol: boolean;
  /** Counters of the scans (also filled in the options' `stats` when given, even if no divergence is found). */
  readonly stats: Record<'insns' | 'regs' | 'mem', ScanStats>;
}

const w64eq = (a: Uint32Array, i: number, b: Uint32Array, j: number): boolean => a[2 * i] === b[2 * j] && a[2 * i + 1] === b[2 * j + 1];

/** Code ids of B mapped to the equal (rip, bytes) code id of A, or -1. */
function codeMap(a: TraceSide, b: TraceSide): Int32Array {
  const byKey = new Map<string, number>();
  a.codeRip.forEach((rip, id) => byKey.set(`${rip.toString(16)}:${Buffer.from(a.codeBytes[id]!).toString('hex')}`, id));
  return Int32Array.from(b.codeRip, (rip, id) => byKey.get(`${rip.toString(16)}:${Buffer.from(b.codeBytes[id]!).toString('hex')}`) ?? -1);
}

/** Per code id: a number naming symbol+offset+length, equal across builds for the same place in the same function. */
function symbolKeys(sides: [TraceSide, TraceSide]): [Float64Array, Float64Array] {
  const names = new Map<string, number>();
  return sides.map((s) => Float64Array.from(s.codeRip, (rip, id) => {
    const hit = s.symbols.lookup(rip);
    const len = s.codeBytes[id]!.length;
    if (hit === undefined) return -(Number(rip) * 16 + len) - 1;
    let n = names.get(hit.symbol.name);
    if (n === undefined) { n = names.size; names.set(hit.symbol.name, n); }
    return (n * 2 ** 24 + Number(hit.offset)) * 16 + len;
  })) as [Float64Array, Float64Array];
}

/** The first divergence, or null if the traces are equal step for step. */
export function firstDivergence(a: TraceSide, b: TraceSide, opts: { bySymbol?: boolean; stats?: DivergencePoint['stats'] } = {}): DivergencePoint | null {
  const bySymbol = opts.bySymbol ?? a.reader.meta.imageSha256 !== b.reader.meta.imageSha256;
  const stats = opts.stats ?? { insns: { skipped: 0, decoded: 0 }, regs: { skipped: 0, decoded: 0 }, mem: { skipped: 0, decoded: 0 } };
  if (bySymbol) {
    const u = firstUserDifference(a, b);
    if (u === null) return null;
    return { seq: u.seqA, seqA: u.seqA, seqB: u.seqB, kinds: [u.end ? 'end' : 'control-flow'], bySymbol, stats };
  }
  const map = codeMap(a, b);
  const insnsEq = (x: TableColumns, i: number, y: TableColumns, j: number): boolean => {
    const ca = x.ints('code')[i]!, cb = y.ints('code')[j]!;
    return w64eq(x.words('rip'), i, y.words('rip'), j) && x.ints('cpl')[i] === y.ints('cpl')[j] &&
      x.ints('length')[i] === y.ints('length')[j] && x.ints('faulted')[i] === y.ints('faulted')[j] &&
      (ca === NO_CODE ? cb === NO_CODE : cb !== NO_CODE && map[cb] === ca);
  };
  const d = firstDifferingRow(a.insns, b.insns, insnsEq, Infinity, stats.insns);
  let best = d === null ? Infinity : Math.min(d.seqA, d.seqB);
  const kinds = new Map<DivergenceKind, number>();
  if (d !== null) kinds.set(d.seqA === Infinity || d.seqB === Infinity ? 'end' : 'control-flow', best);
  {
    const memEq = (x: TableColumns, i: number, y: TableColumns, j: number): boolean =>
      w64eq(x.words('seq'), i, y.words('seq'), j) && w64eq(x.words('addr'), i, y.words('addr'), j) &&
      x.ints('size')[i] === y.ints('size')[j] && x.ints('access')[i] === y.ints('access')[j] && w64eq(x.words('value'), i, y.words('value'), j);
    const m = firstDifferingRow(a.mem, b.mem, memEq, best + 1, stats.mem);
    if (m !== null) { const s = Math.min(m.seqA, m.seqB); kinds.set('memory', s); best = Math.min(best, s); }
    const regsEq = (x: TableColumns, i: number, y: TableColumns, j: number): boolean =>
      w64eq(x.words('seq'), i, y.words('seq'), j) && x.ints('reg')[i] === y.ints('reg')[j] && w64eq(x.words('value'), i, y.words('value'), j);
    const r = firstDifferingRow(a.regs, b.regs, regsEq, best + 1, stats.regs);
    if (r !== null) { const s = Math.min(r.seqA, r.seqB); kinds.set('register', s); best = Math.min(best, s); }
  }
  if (best === Infinity) return null;
  const order: DivergenceKind[] = ['control-flow', 'end', 'memory', 'register'];
  return { seq: best, seqA: best, seqB: best, kinds: order.filter((k) => kinds.get(k) === best), bySymbol, stats };
}

/** User-mode, non-faulting steps of one side, one batch at a time. */
class UserSteps {
  private b = 0;
  private i = 0;
  private cols: TableColumns | null = null;
  private readonly side: TraceSide;
  private readonly keys: Float64Array;
  /** seq of the current step. */
  seq = 0;

  constructor(side: TraceSide, keys: Float64Array) {
    this.side = side;
    this.keys = keys;
    this.load();
    this.skip();
  }

  /** Key of the current step, or NaN at the end. */
  key(): number {
    if (this.cols === null) return NaN;
    return this.keys[this.cols.ints('code')[this.i]!]!;
  }

  next(): void {
    this.step();
    this.skip();
  }

  private step(): void {
    this.seq++;
    if (++this.i >= this.cols!.length) { this.b++; this.load(); }
  }

  private skip(): void {
    while (this.cols !== null) {
      const c = this.cols.ints('code')[this.i]!;
      if (this.cols.ints('cpl')[this.i] === 3 && this.cols.ints('faulted')[this.i] === 0 && c !== NO_CODE) return;
      this.step();
    }
  }

  private load(): void {
    this.i = 0;
    const t = this.side.insns.batches;
    this.cols = this.b < t.batches ? t.batch(this.b) : null;
    if (this.cols !== null && this.cols.length === 0) { this.b++; this.load(); }
  }
}

/** The first pair of user-mode steps whose symbol+offset differ, or where one run has no more. */
function firstUserDifference(a: TraceSide, b: TraceSide): { seqA: number; seqB: number; end: boolean } | null {
  const [ka, kb] = symbolKeys([a, b]);
  const x = new UserSteps(a, ka), y = new UserSteps(b, kb);
  for (;;) {
    const p = x.key(), q = y.key();
    if (Number.isNaN(p) && Number.isNaN(q)) return null;
    if (p !== q) return { seqA: Math.min(x.seq, a.steps), seqB: Math.min(y.seq, b.steps), end: Number.isNaN(p) || Number.isNaN(q) };
    x.next(); y.next();
  }
}
