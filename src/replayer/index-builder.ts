// Builds a trace's navigation index (step-index.ts) in one pass over insns, regs and mem in seq order: the regs
// and mem rows are applied to a DeltaState from checkpoint 0 (so the pass knows RSP before every step for the
// call/return matching, and can save a state snapshot every `snapshotEvery` steps), and the rows are sorted into
// the lookup arrays. Snapshots store the registers and, for each physical frame in use, a page id in
// `pages.bin` (each page version is written once: a snapshot adds only the frames written since the previous).
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleScratch } from './build-scratch.js';
import { Off } from '../cpu/state.js';
import { DEFAULT_MEMORY } from '../guest/layout.js';
import { disassemble } from '../trace/disassemble.js';
import { TableColumns } from '../trace/table-columns.js';
import { TraceReader } from '../trace/trace-reader.js';
import { writeU32Blocks } from './block-file.js';
import { DeltaLogWriter } from './delta-log.js';
import { ThreadRuns } from './thread-runs.js';
import { readProcesses } from '../trace/processes-file.js';
import { DeltaState } from './delta-state.js';
import { Growable } from './growable.js';
import { IndexMeta, INDEX_DIR, Kind, NO_CODE, NO_RETURN, STEP_INDEX_VERSION, StepIndex } from './step-index.js';
import { snapshotPath, writeSnapshot } from './snapshots.js';

/** Default steps between snapshots. */
export const SNAPSHOT_EVERY = 16384;

const STRING_OPS = new Set(['movsb', 'movsw', 'movsd', 'movsq', 'stosb', 'stosw', 'stosd', 'stosq', 'lodsb', 'lodsw', 'lodsd', 'lodsq',
  'cmpsb', 'cmpsw', 'cmpsd', 'cmpsq', 'scasb', 'scasw', 'scasd', 'scasq', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'outsd']);

/** Kind bits of one instruction. */
export function kindOf(rip: bigint, bytes: Uint8Array): number {
  const d = disassemble(rip, bytes);
  let k = 0;
  if (d.isCall) k |= Kind.CALL;
  if (d.isRet) k |= Kind.RET;
  if (d.mnemonic === 'syscall') k |= Kind.SYSCALL;
  if (d.mnemonic.startsWith('sysret')) k |= Kind.SYSRET;
  if (d.mnemonic.startsWith('iret')) k |= Kind.IRET;
  if (d.mnemonic === 'vmcall') k |= Kind.VMCALL;
  if (STRING_OPS.has(d.mnemonic)) {
    // a REP/REPE/REPNE prefix among the legacy prefixes
    for (const b of bytes) {
      if (b === 0xf3 || b === 0xf2) { k |= Kind.REP; break; }
      if (!(b === 0x66 || b === 0x67 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65 || b === 0xf0 || (b & 0xf0) === 0x40)) break;
    }
  }
  return k;
}

/** A cursor over the batches of a table stream. */
class RowCursor {
  cols: TableColumns | null = null;
  i = 0;
  seq: Uint32Array = new Uint32Array(0);
  private readonly it: Iterator<TableColumns>;
  readonly firsts = new Growable((n) => new Float64Array(n), 64);

  constructor(it: Iterable<TableColumns>) {
    this.it = it[Symbol.iterator]();
    this.advance();
  }

  /** Seq of the current row (Infinity at the end). */
  current(): number {
    return this.cols === null ? Infinity : this.seq[2 * this.i]! + this.seq[2 * this.i + 1]! * 4294967296;
  }

  next(): void {
    if (++this.i >= this.cols!.length) this.advance();
  }

  private advance(): void {
    for (;;) {
      const r = this.it.next();
      if (r.done) { this.cols = null; return; }
      if (r.value.length === 0) continue;
      this.cols = r.value;
      this.i = 0;
      this.seq = r.value.words('seq');
      this.firsts.push(this.seq[0]! + this.seq[1]! * 4294967296);
      return;
    }
  }
}

/** Names of a build's scratch directory (group 1: the building process's id). */
const STEP_SCRATCH = /^step-index\.tmp(\d+)$/;

/** Build (or rebuild) the index of a trace and load it; its scratch directory never outlives it (build-scratch.ts). */
export function buildStepIndex(reader: TraceReader, opts: { snapshotEvery?: number } = {}): StepIndex | { error: string } {
  const t0 = performance.now();
  const every = opts.snapshotEvery ?? SNAPSHOT_EVERY;
  const final = join(reader.dir, INDEX_DIR);
  const dir = `${final}.tmp${process.pid}`;
  removeStaleScratch(reader.dir, STEP_SCRATCH);
  // no signal handler: this build is synchronous, so one would only run after it (Ctrl-C would wait for the whole
  // build); an interrupted build's directory is removed by the next open of the trace (removeStaleScratch)
  try {
    return buildInto(reader, dir, final, every, t0);
  } finally {
    rmSync(dir, { recursive: true, force: true }); // after the rename nothing is left; after a failure, the half-built directory
  }
}

/** The build proper, into the scratch directory `dir`, renamed to `final` at the end. */
function buildInto(reader: TraceReader, dir: string, final: string, every: number, t0: number): StepIndex | { error: string } {
  mkdirSync(join(dir, 'snapshots'), { recursive: true });
  const cp = reader.readCheckpoint(0);
  if ('error' in cp) return cp;
  let maxFrame = 0;
  for (const f of cp.pages.keys()) maxFrame = Math.max(maxFrame, f);
  const memorySize = Math.max(DEFAULT_MEMORY, (maxFrame + 1) * 4096);
  const ds = new DeltaState(memorySize, cp.state, cp.pages, 0);

  const code = reader.readTable('code');
  if (code.error !== undefined) return { error: code.error };
  const codeRip = code.columns.words('rip'), codeBytes = code.columns.bytes('bytes');
  const nCodes = code.columns.length;
  const codeKind = new Uint8Array(nCodes), codeText: string[] = new Array(nCodes);
  for (let c = 0; c < nCodes; c++) {
    const rip = (BigInt(codeRip[2 * c + 1]!) << 32n) | BigInt(codeRip[2 * c]!);
    codeKind[c] = kindOf(rip, codeBytes[c]!);
    codeText[c] = disassemble(rip, codeBytes[c]!).text;
  }

  const N = reader.table('insns').rows;
  const codes = new Uint32Array(N);
  const ringSeq = new Growable((n) => new Uint32Array(n)), ringCpl = new Growable((n) => new Uint8Array(n));
  const faults = new Growable((n) => new Uint32Array(n));
  const callSeq = new Growable((n) => new Uint32Array(n)), callRet = new Growable((n) => new Uint32Array(n));
  const callParent = new Growable((n) => new Int32Array(n)), callCpl = new Growable((n) => new Uint8Array(n));
  const runStart = new Growable((n) => new Uint32Array(n)), runEnd = new Growable((n) => new Uint32Array(n));
  const wLo = new Growable((n) => new Uint32Array(n), 1 << 16), wHi = new Growable((n) => new Uint32Array(n), 1 << 16);
  const wSize = new Growable((n) => new Uint8Array(n), 1 << 16), wSeq = new Growable((n) => new Uint32Array(n), 1 << 16);
  const fetchFaults: [number, string][] = [];
  const callTid = new Growable((n) => new Uint32Array(n));
  // open CALLs per thread and ring: index into the call arrays, and RSP before the CALL (every thread has its own
  // user and kernel stacks)
  const runs = new ThreadRuns(readProcesses(reader.dir, reader.meta.argv), N);
  const stacksOf = new Map<number, { open: [number[], number[]][]; openRsp: [number[], number[]][] }>();
  const stacks = (tid: number): { open: [number[], number[]][]; openRsp: [number[], number[]][] } => {
    let x = stacksOf.get(tid);
    if (x === undefined) {
      x = { open: [[[], []], [[], []], [[], []], [[], []]], openRsp: [[[], []], [[], []], [[], []], [[], []]] };
      stacksOf.set(tid, x);
    }
    return x;
  };
  let run = 0, tid = runs.runTid[0]!;
  let { open, openRsp } = stacks(tid);

  const regs = new RowCursor(reader.stream('regs')), mem = new RowCursor(reader.stream('mem'));
  const log = new DeltaLogWriter(join(dir, 'deltas.blk'), N, every);
  const u = ds.state.u32, RSP = (Off.GPR >> 2) + 8;
  // snapshots: frame -> page id of its latest saved version
  const pagesFd = openSync(join(dir, 'pages.bin'), 'w');
  let nextPage = 0;
  const frameTable = new Map<number, number>();
  const savePage = (f: number): void => {
    writeSync(pagesFd, ds.mem.bytes, f << 12, 4096, nextPage * 4096);
    frameTable.set(f, nextPage++);
  };
  for (const f of cp.pages.keys()) savePage(f);

  let cpl0 = 0, prevCpl = -1, runCode = -1, runFrom = 0, prevCode = -1;
  let s = 0;
  const applyUpTo = (limit: number): void => {
    // every row of steps < limit, a step's memory rows before its register rows
    for (;;) {
      const ms = mem.current(), rs = regs.current();
      if (ms < limit && ms <= rs) {
        const m = mem.cols!, i = mem.i;
        if (m.ints('access')[i] === 1) {
          const a = m.words('addr'), v = m.words('value'), size = m.ints('size')[i]!;
          ds.applyWrite({ seq: ms, addrLo: a[2 * i]!, addrHi: a[2 * i + 1]!, size, lo: v[2 * i]!, hi: v[2 * i + 1]! });
          log.write(ms, a[2 * i]!, a[2 * i + 1]!, size, v[2 * i]!, v[2 * i + 1]!);
          wLo.push(a[2 * i]!); wHi.push(a[2 * i + 1]!); wSize.push(size); wSeq.push(ms);
        }
        mem.next();
      } else if (rs < limit) {
        const g = regs.cols!, i = regs.i, v = g.words('value');
        const reg = g.ints('reg')[i]!;
        ds.applyReg({ seq: rs, reg, lo: v[2 * i]!, hi: v[2 * i + 1]! });
        log.reg(rs, reg, v[2 * i]!, v[2 * i + 1]!);
        regs.next();
      } else return;
    }
  };
  const closeRun = (end: number): void => {
    if (runCode >= 0 && end - runFrom >= 2 && (codeKind[runCode]! & Kind.REP)) { runStart.push(runFrom); runEnd.push(end); }
  };

  const insns = reader.stream('insns');
  for (const b of insns) {
    const bCode = b.ints('code') as Uint32Array, bCpl = b.ints('cpl'), bFault = b.ints('faulted'), bRip = b.words('rip');
    for (let i = 0; i < b.length; i++, s++) {
      applyUpTo(s);
      if (s % every === 0) {
        if (s > 0) log.flush();
        for (const f of ds.written) savePage(f);
        ds.written.clear();
        writeSnapshot(snapshotPath(dir, s), u, frameTable);
      }
      const c = bCode[i]!, cpl = bCpl[i]!;
      codes[s] = c;
      if (run + 1 < runs.runSeq.length && runs.runSeq[run + 1] === s) {
        run++;
        tid = runs.runTid[run]!;
        ({ open, openRsp } = stacks(tid));
      }
      if (s === 0) cpl0 = cpl;
      else if (cpl !== prevCpl) {
        ringSeq.push(s); ringCpl.push(cpl);
        if (prevCpl === 0 && cpl === 3) {
          // back to user mode: kernel CALLs still open never return
          const st = open[0]!;
          for (const k of st[0]) callRet.set(k, NO_RETURN);
          st[0].length = 0; openRsp[0]![0].length = 0; openRsp[0]![1].length = 0;
        }
      }
      if (c === NO_CODE) fetchFaults.push([s, ((BigInt(bRip[2 * i + 1]!) << 32n) | BigInt(bRip[2 * i]!)).toString(16)]);
      // REP runs: consecutive steps of one code row in one ring
      if (c !== prevCode || cpl !== prevCpl) { closeRun(s); runCode = c; runFrom = s; }
      prevCode = c; prevCpl = cpl;
      // returns: open CALLs of this ring whose RSP is back (RSP now >= RSP before the CALL)
      const rLo = u[RSP]!, rHi = u[RSP + 1]!;
      const st = open[cpl & 3]!, sr = openRsp[cpl & 3]!;
      while (st[0].length > 0) {
        const top = st[0].length - 1, tLo = sr[0][top]!, tHi = sr[1][top]!;
        if (rHi > tHi || (rHi === tHi && rLo >= tLo)) { callRet.set(st[0][top]!, s); st[0].pop(); sr[0].pop(); sr[1].pop(); } else break;
      }
      const faulted = bFault[i] === 1;
      if (faulted) faults.push(s);
      else if (c !== NO_CODE && (codeKind[c]! & Kind.CALL)) {
        const k = callSeq.length;
        callSeq.push(s); callRet.push(NO_RETURN); callCpl.push(cpl); callTid.push(tid);
        callParent.push(st[0].length > 0 ? st[0][st[0].length - 1]! : -1);
        st[0].push(k); sr[0].push(rLo); sr[1].push(rHi);
      }
    }
  }
  closeRun(s);
  applyUpTo(Infinity);
  log.flush();
  log.finish(N);
  closeSync(pagesFd);
  if (insns.error !== undefined) return { error: insns.error };

  // steps grouped by code row (counting sort)
  const byCodeOff = new Uint32Array(nCodes + 1);
  for (let k = 0; k < N; k++) { const c = codes[k]!; if (c !== NO_CODE) byCodeOff[c + 1]!++; }
  for (let c = 0; c < nCodes; c++) byCodeOff[c + 1]! += byCodeOff[c]!;
  const fill = byCodeOff.slice(0, nCodes), byCode = new Uint32Array(byCodeOff[nCodes]!);
  for (let k = 0; k < N; k++) { const c = codes[k]!; if (c !== NO_CODE) byCode[fill[c]!++] = k; }

  // writes sorted by address, then seq
  const W = wLo.length, lo = wLo.view(), hi = wHi.view();
  const key = new Float64Array(W);
  for (let k = 0; k < W; k++) key[k] = (hi[k]! & 0x1ffff) * 4294967296 + lo[k]!;
  const order = new Uint32Array(W);
  for (let k = 0; k < W; k++) order[k] = k;
  order.sort((a, b) => key[a]! - key[b]! || a - b);
  const sKey = new Float64Array(W), sSize = new Uint8Array(W), sSeq = new Uint32Array(W);
  const ws = wSize.view(), wq = wSeq.view();
  for (let k = 0; k < W; k++) { const o = order[k]!; sKey[k] = key[o]!; sSize[k] = ws[o]!; sSeq[k] = wq[o]!; }

  const put = (name: string, a: ArrayBufferView): void => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  writeU32Blocks(join(dir, 'codes.blk'), codes); put('code-kind.u8', codeKind);
  put('code-rip.u32', codeRip); writeFileSync(join(dir, 'code-bytes.bin'), Buffer.concat(codeBytes.map((b) => Uint8Array.of(b.length, ...b))));
  writeFileSync(join(dir, 'code-text.txt'), codeText.join('\n'));
  put('ring-seq.u32', ringSeq.view()); put('ring-cpl.u8', ringCpl.view()); put('faults.u32', faults.view());
  put('call-seq.u32', callSeq.view()); put('call-ret.u32', callRet.view()); put('call-parent.i32', callParent.view()); put('call-cpl.u8', callCpl.view()); put('call-tid.u32', callTid.view());
  put('run-start.u32', runStart.view()); put('run-end.u32', runEnd.view());
  put('bycode-off.u32', byCodeOff); writeU32Blocks(join(dir, 'bycode-seq.blk'), byCode, true);
  put('write-key.f64', sKey); put('write-size.u8', sSize); put('write-seq.u32', sSeq);
  put('regs-first.f64', regs.firsts.view()); put('mem-first.f64', mem.firsts.view());
  const meta: IndexMeta = {
    version: STEP_INDEX_VERSION, steps: N, codes: nCodes, snapshotEvery: every, insnsBytes: reader.table('insns').bytes,
    started: reader.meta.started, cpl0, fetchFaults, memorySize, buildSeconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(meta, null, 1) + '\n');
  rmSync(final, { recursive: true, force: true });
  renameSync(dir, final);
  const idx = StepIndex.load(reader);
  return idx ?? { error: `${final}: the index just built does not load` };
}

/** The cached index of a trace, built first if missing or stale. */
export function openStepIndex(reader: TraceReader, opts: { snapshotEvery?: number } = {}): StepIndex | { error: string } {
  removeStaleScratch(reader.dir, STEP_SCRATCH);
  const cached = StepIndex.load(reader);
  if (cached !== undefined && (opts.snapshotEvery === undefined || cached.meta.snapshotEvery === opts.snapshotEvery)) return cached;
  try {
    return buildStepIndex(reader, opts);
  } catch (e) {
    return { error: `cannot index ${reader.dir}: ${(e as Error).message}` };
  }
}
