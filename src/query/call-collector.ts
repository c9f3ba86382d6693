// Collects, while the index scans the insns and regs tables, what the call tree needs: CALL/RET steps (from a
// per-code-row classification, so no step is disassembled), ring runs, the RSP changes, and the changes of the
// argument registers and RAX (16 bytes per change: about 1/3 of the regs rows of compiled code). Looking these
// up here is ~10x faster than seven ASOF joins in DuckDB.
import { BRANCH_CALL, CallTreeInput } from './call-tree.js';
import { Growable } from './growable.js';
import { TableColumns } from '../trace/table-columns.js';

/** Register number of RSP in regs.reg. */
const RSP_ID = 4;

/** Registers whose history the call table needs: the SysV argument registers and RAX (trace register numbers). */
export const ARG_REGISTERS = { rdi: 7, rsi: 6, rdx: 2, rcx: 1, r8: 8, r9: 9, rax: 0 } as const;

/** The history of one register: seqs that changed it (ascending) and the values after them (lo/hi words). */
export interface RegisterHistory {
  readonly seq: Float64Array;
  readonly value: Uint32Array;
}

/** The value of a register after step `seq` (last change at or before it), or undefined before the first change. */
export function valueAfter(h: RegisterHistory, seq: number): [number, number] | undefined {
  let lo = 0, hi = h.seq.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (h.seq[mid]! <= seq) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found < 0 ? undefined : [h.value[2 * found]!, h.value[2 * found + 1]!];
}

/** Accumulates branch steps, ring runs and RSP changes from batches of insns and regs (each in seq order). */
export class CallCollector {
  private readonly kindOfCode: Uint8Array;
  private readonly branchSeq = new Growable(Float64Array);
  private readonly branchKind = new Growable(Uint8Array);
  private readonly branchRip = new Growable(Uint32Array);
  private readonly branchNext = new Growable(Uint32Array);
  private readonly rspSeq = new Growable(Float64Array);
  private readonly rspValue = new Growable(Uint32Array);
  private readonly runStart = new Growable(Float64Array);
  private readonly runRing = new Growable(Uint8Array);
  private readonly histSeq = new Map<number, Growable<Float64Array>>();
  private readonly histValue = new Map<number, Growable<Uint32Array>>();
  private readonly tracked = new Uint8Array(256);
  private lastRing = -1;
  private pendingNext = -1;
  private steps = 0;

  /** kindOfCode[code id] is BRANCH_CALL, BRANCH_RET or 0. */
  constructor(kindOfCode: Uint8Array) {
    this.kindOfCode = kindOfCode;
    for (const id of Object.values(ARG_REGISTERS)) {
      this.tracked[id] = 1;
      this.histSeq.set(id, new Growable(Float64Array));
      this.histValue.set(id, new Growable(Uint32Array));
    }
  }

  /** One batch of the insns table. */
  insns(b: TableColumns): void {
    const base = this.steps; // insns row n has seq n
    const rip = b.words('rip');
    const cpl = b.ints('cpl'), code = b.ints('code'), faulted = b.ints('faulted');
    const kinds = this.kindOfCode;
    const n = b.length;
    if (n === 0) return;
    if (this.pendingNext >= 0) {
      this.branchNext.set(2 * this.pendingNext, rip[0]!);
      this.branchNext.set(2 * this.pendingNext + 1, rip[1]!);
      this.pendingNext = -1;
    }
    for (let i = 0; i < n; i++) {
      const ring = cpl[i]!;
      if (ring !== this.lastRing) {
        this.runStart.push(base + i);
        this.runRing.push(ring);
        this.lastRing = ring;
      }
      const c = code[i]!;
      const k = c < kinds.length ? kinds[c]! : 0;
      if (k === 0 || faulted[i] !== 0) continue;
      this.branchSeq.push(base + i);
      this.branchKind.push(k);
      this.branchRip.push(rip[2 * i]!); this.branchRip.push(rip[2 * i + 1]!);
      if (i + 1 < n) { this.branchNext.push(rip[2 * i + 2]!); this.branchNext.push(rip[2 * i + 3]!); } else {
        this.branchNext.push(0); this.branchNext.push(0);
        if (k === BRANCH_CALL) this.pendingNext = this.branchSeq.length - 1;
      }
    }
    this.steps += n;
  }

  /** One batch of the regs table. */
  regs(b: TableColumns): void {
    const seq = b.words('seq'), reg = b.ints('reg'), value = b.words('value');
    const tracked = this.tracked;
    for (let i = 0; i < b.length; i++) {
      const r = reg[i]!;
      if (r === RSP_ID) {
        this.rspSeq.push(seq[2 * i]! + seq[2 * i + 1]! * 0x1_0000_0000);
        this.rspValue.push(value[2 * i]!); this.rspValue.push(value[2 * i + 1]!);
      } else if (tracked[r] === 1) {
        this.histSeq.get(r)!.push(seq[2 * i]! + seq[2 * i + 1]! * 0x1_0000_0000);
        const v = this.histValue.get(r)!;
        v.push(value[2 * i]!); v.push(value[2 * i + 1]!);
      }
    }
  }

  /** The history of a tracked register (an ARG_REGISTERS number). */
  history(id: number): RegisterHistory {
    return { seq: this.histSeq.get(id)!.view(), value: this.histValue.get(id)!.view() };
  }

  /** Everything collected, as the call tree's input. */
  input(initialRsp: readonly [number, number]): CallTreeInput {
    if (this.runStart.length === 0) { this.runStart.push(0); this.runRing.push(3); }
    return {
      steps: this.steps, initialRsp,
      branchSeq: this.branchSeq.view(), branchKind: this.branchKind.view(), branchRip: this.branchRip.view(), branchNext: this.branchNext.view(),
      rspSeq: this.rspSeq.view(), rspValue: this.rspValue.view(), runStart: this.runStart.view(), runRing: this.runRing.view(),
    };
  }
}

