// The monitor-trap-flag exit handler that records: after every step it appends the insns row, compares the
// registers the instruction can change with a shadow copy (regs rows for the ones that changed), and receives
// the step's memory accesses as the processor's MemLog (mem rows). Full tables are handed to a sink.
import type { Cpu } from '../cpu/cpu.js';
import type { Decoded } from '../cpu/decoded.js';
import { getFlags } from '../cpu/flags.js';
import { type LoggedRows, type StepLog, Tier } from '../cpu/step-log.js';
import { Off } from '../cpu/state.js';
import { writtenTier, xmmMask } from '../cpu/written-state.js';
import { REGISTERS, RegisterSlot } from '../trace/registers.js';
import { TableBuffer } from '../trace/table-buffer.js';


/** Receives a full (or final) table buffer; must write it and clear it. */
export type TableSink = (buf: TableBuffer) => void;

/** Rows per batch of the hot tables. */
const BATCH = 1 << 18;
/** A u64 column of 1s (lo/hi words): the seq deltas of consecutive insns rows. */
const ONES = new Uint32Array(2 * BATCH).map((_, i) => (i % 2 === 0 ? 1 : 0));

const RIP = Off.RIP >> 2;
const CPL = Off.CPL >> 2;

function slotIndices(filter: (r: RegisterSlot) => boolean): Int32Array {
  return Int32Array.from(REGISTERS.filter((r) => filter(r) && r.name !== 'rip').map((r) => r.id));
}

/** Registers compared by each tier (XMM register n: its two halves and the YMM upper half, XMM_SLOTS[4n..4n+3]). */
const MXCSR_SLOT = REGISTERS.findIndex((r) => r.name === 'mxcsr');
const XMM_SLOTS = Int32Array.from({ length: 64 }, (_, i) =>
  REGISTERS.findIndex((r) => r.name === `${i & 2 ? 'ymm' : 'xmm'}${i >> 2}_${i & 2 ? 'h_' : ''}${i & 1 ? 'hi' : 'lo'}`));
const X87_SLOTS = slotIndices((r) => r.tier === 'x87');
const ALL_SLOTS = slotIndices(() => true);
/** Word index (in the 32-bit state view) and width of each register id. */
const SLOT_WORD = Int32Array.from(REGISTERS.map((r) => r.off >> 2));
const SLOT_WIDE = Uint8Array.from(REGISTERS.map((r) => (r.bytes === 8 ? 1 : 0)));
const RFLAGS_SLOT = REGISTERS.findIndex((r) => r.name === 'rflags');
const RFLAGS_WORD = Off.RFLAGS >> 2;

/** Records steps into table buffers. */
export class StepRecorder implements StepLog {
  /** Next step number (the seq of the step being executed). */
  seq = 0;
  /** Compiled logging blocks may run only while they end before this seq (the driver's per-step work is due there). */
  quietUntil = 0;
  /** Steps at CPL 3. */
  userSteps = 0;
  /** Buffered insns rows. */
  readonly insns = new TableBuffer('insns', BATCH);
  /** Buffered regs rows. */
  readonly regs = new TableBuffer('regs', BATCH);
  /** Buffered mem rows. */
  readonly mem = new TableBuffer('mem', BATCH);
  /** Address and values of an access given as arguments (see access). */
  private readonly words = new Uint32Array(6);
  /** Runs of the insns cpl column in the current batch: (first row, cpl) pairs (filled in when it is handed over). */
  private readonly cplRuns: number[] = [];
  /** cpl of the current run, -1 before the first row of a batch. */
  private runCpl = -1;
  /** Rows of the current batch whose attempt faulted (the faulted column is filled in when it is handed over). */
  private readonly faultRows: number[] = [];
  /** seq of the last buffered regs row (regs.seq is written delta-coded, as the trace stores it). */
  private regsLastSeq = 0;
  /** seq of the last buffered mem row (mem.seq is delta-coded too). */
  private memLastSeq = 0;
  /** Buffered code rows. */
  readonly code = new TableBuffer('code', 4096);
  /** Code ids by "rip:bytes". */
  private readonly codeIds = new Map<string, number>();
  private readonly cpu: Cpu;
  private readonly r: Uint32Array;
  /** Register values as of the last recorded step. */
  readonly shadow: Uint32Array;
  private readonly sink: TableSink;
  // hot column stores, re-read after every flush
  private iSeq: Uint32Array; private iRip: Uint32Array; private iCpl: Uint8Array; private iLen: Uint8Array; private iCode: Uint32Array; private iFault: Uint8Array;
  private rSeq: Uint32Array; private rReg: Uint8Array; private rVal: Uint32Array;
  private mSeq: Uint32Array; private mAddr: Uint32Array; private mSize: Uint8Array; private mAcc: Uint8Array; private mVal: Uint32Array; private mOld: Uint32Array;

  constructor(cpu: Cpu, sink: TableSink) {
    this.cpu = cpu;
    this.r = cpu.r;
    this.sink = sink;
    this.insns.deltaCoded = this.regs.deltaCoded = this.mem.deltaCoded = true;
    getFlags(cpu.r);
    this.shadow = cpu.r.slice();
    const I = this.insns.cols, G = this.regs.cols, M = this.mem.cols;
    this.iSeq = I[0] as Uint32Array; this.iRip = I[1] as Uint32Array; this.iCpl = I[2] as Uint8Array; this.iLen = I[3] as Uint8Array; this.iCode = I[4] as Uint32Array; this.iFault = I[5] as Uint8Array;
    this.rSeq = G[0] as Uint32Array; this.rReg = G[1] as Uint8Array; this.rVal = G[2] as Uint32Array;
    this.mSeq = M[0] as Uint32Array; this.mAddr = M[1] as Uint32Array; this.mSize = M[2] as Uint8Array; this.mAcc = M[3] as Uint8Array; this.mVal = M[4] as Uint32Array; this.mOld = M[5] as Uint32Array;
  }

  /** Hand a table to the sink, then take up its column stores again (a sink may swap in fresh ones). */
  private emit(buf: TableBuffer): void {
    if (buf === this.insns) { this.fillInsnsSeq(); this.fillInsnsRuns(); }
    this.sink(buf);
    const C = buf.cols;
    if (buf === this.insns) {
      this.iSeq = C[0] as Uint32Array; this.iRip = C[1] as Uint32Array; this.iCpl = C[2] as Uint8Array; this.iLen = C[3] as Uint8Array; this.iCode = C[4] as Uint32Array; this.iFault = C[5] as Uint8Array;
    } else if (buf === this.regs) {
      this.rSeq = C[0] as Uint32Array; this.rReg = C[1] as Uint8Array; this.rVal = C[2] as Uint32Array;
    } else if (buf === this.mem) {
      this.mSeq = C[0] as Uint32Array; this.mAddr = C[1] as Uint32Array; this.mSize = C[2] as Uint8Array; this.mAcc = C[3] as Uint8Array; this.mVal = C[4] as Uint32Array; this.mOld = C[5] as Uint32Array;
    }
  }

  /**
   * insns rows are consecutive steps: their seq column (delta-coded, as the trace stores it: the first seq, then
   * 1s) is written once per batch, when it is handed over.
   */
  private fillInsnsSeq(): void {
    const n = this.insns.length, w = this.iSeq, seq = this.seq - n;
    if (n === 0) return;
    w[0] = seq >>> 0; w[1] = (seq / 4294967296) >>> 0;
    // the store is filled with 1s once (a recycled one already holds them: this column never holds anything else)
    if (w[w.length - 2] !== 1) w.set(ONES.subarray(0, w.length - 2), 2);
  }

  /** The cpl and faulted columns of the batch, from the runs and faults noted while rows were added. */
  private fillInsnsRuns(): void {
    const n = this.insns.length, runs = this.cplRuns;
    for (let i = 0; i < runs.length; i += 2) this.iCpl.fill(runs[i + 1]!, runs[i]!, i + 2 < runs.length ? runs[i + 2]! : n);
    this.iFault.fill(0, 0, n);
    for (const row of this.faultRows) this.iFault[row] = 1;
    runs.length = 0; this.faultRows.length = 0; this.runCpl = -1;
  }

  /** Note the cpl of the rows from row `n` on (a new run if it differs from the current one). */
  private noteCpl(n: number, cpl: number): void {
    if (cpl !== this.runCpl) { this.cplRuns.push(n, cpl); this.runCpl = cpl; }
  }

  /** CPL as of the last recorded step (before the next one). */
  get shadowCpl(): number {
    return this.shadow[CPL]!;
  }

  /** RIP as of the last recorded step, lo half (where the next step starts). */
  get shadowRipLo(): number {
    return this.shadow[RIP]!;
  }

  /** RIP as of the last recorded step, hi half. */
  get shadowRipHi(): number {
    return this.shadow[RIP + 1]!;
  }

  /** The code-table row for an instruction's bytes at its address. */
  codeIdOf(ripLo: number, ripHi: number, bytes: Uint8Array): number {
    const key = `${ripHi.toString(16)}:${ripLo.toString(16)}:${Buffer.from(bytes).toString('hex')}`;
    let id = this.codeIds.get(key);
    if (id === undefined) {
      id = this.codeIds.size;
      this.codeIds.set(key, id);
      if (this.code.full) this.emit(this.code);
      this.code.push([id, (BigInt(ripHi) << 32n) | BigInt(ripLo), bytes.slice()]);
    }
    return id;
  }

  /**
   * Record one step: `d` the instruction (null if fetching it faulted: then `ripLo/ripHi` is where), `cpl` the
   * privilege it ran at, `faulted` whether its exception was delivered, `tier` which registers to compare.
   */
  step(d: Decoded | null, cplBefore: number, faulted: boolean, ripLo: number, ripHi: number, tier: number): void {
    let len = 0, id = 0xffffffff;
    if (d !== null) { len = d.length; id = this.codeOf(d); }
    this.row(cplBefore, faulted, ripLo, ripHi, len, id, tier);
  }

  /** Record the step of an instruction that exited to the hypervisor (VMCALL), after the host serviced it. */
  exitStep(cplBefore: number, ripLo: number, ripHi: number, bytes: Uint8Array): void {
    this.row(cplBefore, false, ripLo, ripHi, bytes.length, this.codeIdOf(ripLo, ripHi, bytes), Tier.ALL);
  }

  private row(cplBefore: number, faulted: boolean, ripLo: number, ripHi: number, len: number, id: number, tier: number): void {
    const seq = this.seq;
    let n = this.insns.length;
    const s2 = 2 * n;
    this.iRip[s2] = ripLo; this.iRip[s2 + 1] = ripHi;
    this.noteCpl(n, cplBefore);
    this.iLen[n] = len; this.iCode[n] = id;
    if (faulted) this.faultRows.push(n);
    if (cplBefore === 3) this.userSteps++;
    this.insns.length = ++n;
    this.compareRegisters(seq, tier);
    this.seq = seq + 1;
    if (n === BATCH) this.flushHot();
  }

  /** StepLog: the insns rows of the first `count` instructions of a compiled block that just ran them. */
  rows(t: LoggedRows, count: number): void {
    const cpl = this.shadow[CPL]!;
    const rip = t.rip, len = t.length, code = t.code;
    for (let k = 0; k < count;) {
      const start = this.insns.length, m = Math.min(count - k, BATCH - start);
      this.noteCpl(start, cpl);
      const iRip = this.iRip, iLen = this.iLen, iCode = this.iCode;
      for (let j = 0, n = start; j < m; j++, n++, k++) {
        iRip[2 * n] = rip[2 * k]!; iRip[2 * n + 1] = rip[2 * k + 1]!;
        iLen[n] = len[k]!; iCode[n] = code[k]!;
      }
      this.insns.length = start + m;
      this.seq += m;
      if (start + m === BATCH) this.flushHot();
    }
    if (cpl === 3) this.userSteps += count;
    this.shadow[RIP] = this.r[RIP]!; this.shadow[RIP + 1] = this.r[RIP + 1]!;
  }

  /** StepLog: GPR `g` differs from the shadow after step `seq`. */
  gpr(seq: number, g: number): void {
    const lo = this.r[2 * g]!, hi = this.r[2 * g + 1]!;
    this.shadow[2 * g] = lo; this.shadow[2 * g + 1] = hi;
    this.logReg(seq, g, lo, hi);
  }

  /** StepLog: RFLAGS changed to `value` at step `seq` (shadow already updated). */
  rflags(seq: number, value: number): void {
    this.logReg(seq, RFLAGS_SLOT, value, 0);
  }

  /** StepLog: log RFLAGS at step `seq` if it changed. */
  flags(seq: number): void {
    const f = getFlags(this.r);
    if (f !== this.shadow[RFLAGS_WORD]) { this.shadow[RFLAGS_WORD] = f; this.logReg(seq, RFLAGS_SLOT, f, 0); }
  }

  /** StepLog: compare a tier of registers after step `seq`. */
  compare(seq: number, tier: number): void {
    this.compareRegisters(seq, tier);
  }

  /** StepLog: the code-table id of `d` (cached on the instruction). */
  codeOf(d: Decoded): number {
    let id = d.codeId;
    if (id < 0) { id = this.codeIdOf(d.ipLo, d.ipHi, d.bytes); d.codeId = id; }
    return id;
  }

  /** The MTF handler body for a processor step (the tier cached on the instruction). */
  onStep(d: Decoded | null, faulted: boolean): void {
    const cplBefore = this.shadow[CPL]!;
    let tier: number, lo: number, hi: number;
    if (d !== null) {
      tier = writtenTier(d);
      lo = d.ipLo; hi = d.ipHi;
    } else {
      tier = Tier.ALL; lo = this.shadow[RIP]!; hi = this.shadow[RIP + 1]!;
    }
    if (faulted || this.r[CPL] !== cplBefore) tier = Tier.ALL;
    this.step(d, cplBefore, faulted, lo, hi, tier);
  }

  private compareRegisters(seq: number, tier: number): void {
    const r = this.r, sh = this.shadow;
    if (tier & Tier.ALL) {
      getFlags(r);
      this.compareSlots(seq, ALL_SLOTS);
    } else {
      // the 16 GPRs are words 0..31 of the state and register ids 0..15
      for (let w = 0; w < 32; w += 2) {
        const lo = r[w]!, hi = r[w + 1]!;
        if (lo !== sh[w] || hi !== sh[w + 1]) { sh[w] = lo; sh[w + 1] = hi; this.logReg(seq, w >> 1, lo, hi); }
      }
      if (tier & Tier.FLAGS) this.flags(seq);
      if (tier & Tier.MXCSR) this.compareSlot(seq, MXCSR_SLOT);
      if (tier & Tier.X87) this.compareSlots(seq, X87_SLOTS);
      const xmm = xmmMask(tier);
      if (xmm !== 0) {
        for (let n = 0; n < 16; n++) if ((xmm >>> n) & 1) for (let k = 4 * n; k < 4 * n + 4; k++) this.compareSlot(seq, XMM_SLOTS[k]!);
      }
    }
    sh[RIP] = r[RIP]!; sh[RIP + 1] = r[RIP + 1]!;
  }

  private logReg(s: number, id: number, lo: number, hi: number): void {
    const n = this.regs.length;
    if (n === 0) { this.rSeq[0] = s >>> 0; this.rSeq[1] = (s / 4294967296) >>> 0; } else { const d = s - this.regsLastSeq; this.rSeq[2 * n] = d >>> 0; this.rSeq[2 * n + 1] = d > 4294967295 ? (d / 4294967296) >>> 0 : 0; }
    this.regsLastSeq = s;
    this.rReg[n] = id;
    this.rVal[2 * n] = lo; this.rVal[2 * n + 1] = hi;
    this.regs.length = n + 1;
    if (n + 1 === BATCH) this.flushTable(this.regs);
  }

  private compareSlots(seq: number, slots: Int32Array): void {
    for (let k = 0; k < slots.length; k++) this.compareSlot(seq, slots[k]!);
  }

  private compareSlot(seq: number, id: number): void {
    const w = SLOT_WORD[id]!, r = this.r, sh = this.shadow;
    const wide = SLOT_WIDE[id] === 1;
    const lo = r[w]!, hi = wide ? r[w + 1]! : 0;
    if (lo === sh[w] && (!wide || hi === sh[w + 1])) return;
    sh[w] = lo; if (wide) sh[w + 1] = hi;
    this.logReg(seq, id, lo, hi);
  }

  /** MemLog: one access of the current step (the slow paths' form: put into words, then as accessWords). */
  access(lo: number, hi: number, size: number, write: number, vLo: number, vHi: number, oldLo: number, oldHi: number): void {
    const w = this.words;
    w[0] = lo; w[1] = hi; w[2] = vLo; w[3] = vHi; w[4] = oldLo; w[5] = oldHi;
    this.accessWords(w, size, write);
  }

  /** MemLog: one access of the current step, its address and values in `w`. */
  accessWords(w: Uint32Array, size: number, write: number): void {
    const n = this.mem.length, s = this.seq, n2 = 2 * n;
    if (n === 0) { this.mSeq[0] = s >>> 0; this.mSeq[1] = (s / 4294967296) >>> 0; } else { const d = s - this.memLastSeq; this.mSeq[n2] = d >>> 0; this.mSeq[n2 + 1] = d > 4294967295 ? (d / 4294967296) >>> 0 : 0; }
    this.memLastSeq = s;
    this.mAddr[n2] = w[0]!; this.mAddr[n2 + 1] = w[1]!;
    this.mSize[n] = size; this.mAcc[n] = write;
    this.mVal[n2] = w[2]!; this.mVal[n2 + 1] = w[3]!;
    this.mOld[n2] = w[4]!; this.mOld[n2 + 1] = w[5]!;
    this.mem.length = n + 1;
    if (n + 1 === BATCH) this.flushTable(this.mem);
  }

  /** A host write into guest memory during the current (VMCALL) step, as 8-byte (or smaller) write rows. */
  hostWrite(linear: bigint, phys: number, bytes: Uint8Array): void {
    const dv = this.cpu.dv;
    let off = 0;
    while (off < bytes.length) {
      const a = linear + BigInt(off);
      const size = bytes.length - off >= 8 && (a & 7n) === 0n ? 8 : bytes.length - off >= 4 && (a & 3n) === 0n ? 4 : 1;
      const p = phys + off;
      const bv = new DataView(bytes.buffer, bytes.byteOffset + off, size);
      const vLo = size === 1 ? bv.getUint8(0) : bv.getUint32(0, true), vHi = size === 8 ? bv.getUint32(4, true) : 0;
      const oLo = size === 1 ? dv.getUint8(p) : dv.getUint32(p, true), oHi = size === 8 ? dv.getUint32(p + 4, true) : 0;
      this.access(Number(a & 0xffffffffn), Number(a >> 32n), size, 1, vLo, vHi, oLo, oHi);
      off += size;
    }
  }

  private flushTable(buf: TableBuffer): void {
    this.emit(buf);
  }

  private flushHot(): void {
    this.emit(this.code);
    this.emit(this.insns);
  }

  /** Write every buffered row (at the end, and before checkpoints so files and checkpoints agree). */
  flushAll(): void {
    if (this.code.length) this.emit(this.code);
    if (this.insns.length) this.emit(this.insns);
    if (this.regs.length) this.emit(this.regs);
    if (this.mem.length) this.emit(this.mem);
  }

  /** Re-synchronise the shadow with the processor (after host changes outside a step, e.g. at the start). */
  resync(): void {
    getFlags(this.r);
    this.shadow.set(this.r);
  }
}
