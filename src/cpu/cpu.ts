// The x86-64 processor: state, memory access through the software TLB, the decoded-block cache and the run loop.
import { Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic } from 'iced-x86';
import { Decoded, fromIced } from './decoded.js';
import { deliverException } from './deliver.js';
import { Fault, Vector } from './fault.js';
import { Access, NON_CANONICAL, walk, WalkResult } from './mmu.js';
import { PhysMemory } from './phys-memory.js';
import { CpuState, Off } from './state.js';
import { lookupHandler, endsBlock } from './table.js';
import { TLB_MASK, TlbClass, TlbSet, vpnOf } from './tlb.js';
import { CompiledBlock, compileBlock, compileLoggingBlock, LoggingBlock } from './jit/compile-block.js';
import type { MemLog } from './mem-log.js';
import type { StepLog } from './step-log.js';
import { HostValues, modelHostValues } from './host-values.js';
import { type CpuLevel, DEFAULT_CPU_LEVEL } from './cpu-level.js';

/** An instruction handler: a function of the machine only (operands are bound when it is built). */
export type Exec = (c: Cpu) => void;

/** Builds the handler of one decoded instruction. */
export type Builder = (d: Decoded) => Exec;

/** A straight-line run of decoded instructions within one page; only the last may transfer control. */
export interface Block {
  /** Linear address of the first instruction, lo half. */
  ipLo: number;
  /** Linear address of the first instruction, hi half. */
  ipHi: number;
  /** Physical address of the first instruction. */
  phys: number;
  /** The decoded instructions. */
  insns: Decoded[];
  /** Their handlers. */
  execs: Exec[];
  /** Linear address after the last instruction (RIP when the block falls through), lo half. */
  endLo: number;
  /** Linear address after the last instruction, hi half. */
  endHi: number;
  /** Two cached successor blocks (taken / not taken), valid while `chainGen` equals the processor's generation. */
  succ0: Block | null;
  /** Second cached successor. */
  succ1: Block | null;
  /** Cpu.chainGen when the successors were cached. */
  chainGen: number;
  /** Executions so far (the block is compiled when it gets hot). */
  hits: number;
  /** The compiled block, null before compilation, or NOT_COMPILABLE. */
  jit: CompiledBlock | null | typeof NOT_COMPILABLE;
  /** Executions while recording (the logging block is compiled when it gets hot). */
  logHits: number;
  /** The compiled logging block (recording), null before compilation, or NOT_COMPILABLE. */
  logJit: LoggingBlock | null | typeof NOT_COMPILABLE;
}

/** Marks a block the compiler declined. */
const NOT_COMPILABLE = 0;


/**
 * Called after every step of runStepped(): `d` is the instruction (null when fetching it faulted); `faulted`
 * tells that the step was a faulting attempt whose exception has been delivered.
 */
export type StepHook = (d: Decoded | null, faulted: boolean) => void;

/** Why run() returned. */
export const enum RunStatus {
  BUDGET = 0, // executed the requested number of steps
  HALT = 1, // HLT executed (RIP after the HLT)
  EXIT = 2, // a VM exit is pending (exitReason set)
  FAULT = 3, // an exception was delivered (only when stopOnFault; lastFault set)
  TRIPLE_FAULT = 4, // delivery of a double fault failed
}

/** Fields a VM exit fills (SDM exit-information fields, as far as the model needs them). */
export interface ExitInfo {
  /** Basic exit reason (SDM appendix C numbers). */
  reason: number;
  /** Exit qualification. */
  qualification: number;
  /** Length of the instruction that caused the exit (instruction-caused exits). */
  instructionLength: number;
}

const RIP = Off.RIP >> 2;
const CPL = Off.CPL >> 2;

/** An x86-64 processor attached to physical memory. */
export class Cpu {
  /** Architectural state. */
  readonly s: CpuState;
  /** 32-bit view of the state (the hot-path view). */
  readonly r: Uint32Array;
  /** Guest physical memory. */
  readonly mem: PhysMemory;
  /** DataView of guest physical memory. */
  readonly dv: DataView;
  /** Byte view of guest physical memory. */
  readonly bytes: Uint8Array;

  /** Steps executed (instructions and REP iterations), since construction. */
  icount = 0;
  /** Set by a handler to end the current block after it (mode/paging change, SMC, pending exit). */
  brk = false;
  /** Hi half returned by 64-bit reads and effective-address computations. */
  hi = 0;
  /** Steps left in the current run() call (REP handlers may consume several). */
  budget = 0;
  /** When true, a REP string instruction does one iteration per step (as the monitor trap flag requires). */
  singleIteration = false;
  /** Pending VM exit, or reason -1. */
  readonly exit: ExitInfo = { reason: -1, qualification: 0, instructionLength: 0 };
  /** VM-execution controls the processor itself honours (set by src/vmx). */
  readonly controls = {
    /** Bit n set: exception vector n causes an EXCEPTION_OR_NMI exit instead of IDT delivery. */
    exceptionBitmap: 0,
    /** CPUID causes an exit. */
    cpuidExiting: false,
    /** RDTSC/RDTSCP cause an exit. */
    rdtscExiting: false,
    /** HLT causes an exit. */
    hltExiting: false,
    /** VMCALL is an instruction the hypervisor handles (always exits when true; #UD when no hypervisor). */
    vmcallExits: false,
  };
  /** The last exception raised (delivered or exited), for diagnostics and the recorder. */
  lastFault: Fault | null = null;
  /** Address of the instruction that raised lastFault, lo half (diagnostics). */
  lastFaultRipLo = 0;
  /** Address of the instruction that raised lastFault, hi half. */
  lastFaultRipHi = 0;
  /** Return from run() after delivering an exception (the recorder's fault step). */
  stopOnFault = false;
  /** Compile hot blocks to JavaScript (off: every instruction goes through its handler). */
  jitEnabled = true;
  /**
   * Executions after which a block is compiled (tests use 1 to compile everything). Compiling costs some 10 ms
   * of CPU per block (V8 runs each generated function unoptimized, then optimizes it with TurboFan), and the
   * handlers it replaces are already optimized shared code, so only blocks that run very often repay it: on
   * SQLite and Lua a threshold of 16 made `trace run` 2-3x slower than no compilation at all.
   */
  jitThreshold = 100_000;
  /**
   * Executions while recording after which a block is compiled as a logging block. The same V8 compile cost
   * applies: at 16, recording SQLite took 33 CPU-s against 18 CPU-s at 100 000 (the per-step path runs the rest).
   */
  logJitThreshold = 100_000;
  /** Set by a compiled block when an instruction faults: the index of that instruction in the block. */
  jitIndex = 0;
  /** Memory-access log (the recorder's), or null. */
  mlog: MemLog | null = null;
  /** Where RDTSC, RDTSCP and RDRAND get their values (a recording logs them, a replay feeds them back). */
  host: HostValues = modelHostValues();
  /** The CPU model (`--cpu`): what CPUID advertises and which instructions execute. Change it with setLevel. */
  level: CpuLevel = DEFAULT_CPU_LEVEL;
  /** Address and values of the access being logged (MemLog.accessWords). */
  private readonly mw = new Uint32Array(6);

  /** TLBs for CPL 0. */
  private readonly tlbSup = new TlbClass();
  /** TLBs for CPL 3. */
  private readonly tlbUser = new TlbClass();
  /** Read TLB for the current CPL. */
  private tr: TlbSet;
  /** Write TLB for the current CPL. */
  private tw: TlbSet;
  /** Fetch TLB for the current CPL. */
  private tx: TlbSet;
  private readonly walkOut: WalkResult = { phys: 0, writable: false };

  /** Per physical frame: blocks by page offset, or undefined if the frame holds no decoded code. */
  private readonly blocks: (Map<number, Block> | undefined)[];
  /** Per physical frame: 1 if a block starting in the previous frame extends into it. */
  private readonly crossInto: Uint8Array;
  private readonly insn = new Instruction();
  /** Blocks decoded (decode-cache misses), for statistics. */
  blocksDecoded = 0;

  constructor(mem: PhysMemory, state: CpuState = new CpuState()) {
    this.s = state;
    this.r = state.u32;
    this.mem = mem;
    this.dv = mem.dv;
    this.bytes = mem.bytes;
    this.tr = this.tlbSup.read; this.tw = this.tlbSup.write; this.tx = this.tlbSup.fetch;
    this.blocks = new Array<Map<number, Block> | undefined>(mem.size >>> 12);
    this.crossInto = new Uint8Array(mem.size >>> 12);
    this.r[Off.PAT >> 2] = 0x00070406; this.r[(Off.PAT >> 2) + 1] = 0x00070406; // IA32_PAT reset value
    this.r[Off.XCR0 >> 2] = 1; // XCR0 reset value: x87 only
    this.syncCpl();
  }

  // ---- privilege and TLB management ------------------------------------------------------------

  /** Current privilege level. */
  get cpl(): number { return this.r[CPL]!; }

  /** Change CPL (ring switch) and select that privilege class's TLBs. */
  setCpl(cpl: number): void {
    this.r[CPL] = cpl;
    this.syncCpl();
  }

  /**
   * Generation of block chains: successor links are trusted only while it is unchanged. Bumped by anything that
   * can change what a linear address fetches (TLB flushes, CPL changes, code invalidation).
   */
  chainGen = 0;

  /** Re-select TLBs after the CPL field was written directly (state restore). */
  syncCpl(): void {
    this.chainGen++;
    const t = this.r[CPL] === 3 ? this.tlbUser : this.tlbSup;
    this.tr = t.read; this.tw = t.write; this.tx = t.fetch;
  }

  /** Flush all TLBs (CR3 write, CR0/CR4 paging changes, state restore). */
  flushTlb(): void {
    this.chainGen++;
    this.tlbSup.flush(); this.tlbUser.flush();
  }

  /** Flush the TLB entries of one linear page (INVLPG). */
  flushTlbPage(lo: number, hi: number): void {
    const vpn = vpnOf(lo, hi);
    this.chainGen++;
    this.tlbSup.flushPage(vpn); this.tlbUser.flushPage(vpn);
  }

  /** Translate a linear address for an access at the current CPL; returns the physical address. */
  translate(lo: number, hi: number, access: Access): number {
    return this.translateAt(lo, hi, access, this.r[CPL]!);
  }

  /** Translate for an access with an explicit privilege (implicit supervisor accesses use 0). */
  translateAt(lo: number, hi: number, access: Access, cpl: number): number {
    const w = this.walkOut;
    walk(this.r, this.mem, lo, hi, access, cpl, w);
    const vpn = vpnOf(lo, hi), i = vpn & TLB_MASK;
    const cls = cpl === 3 ? this.tlbUser : this.tlbSup;
    const frame = w.phys >>> 12;
    if (access === Access.FETCH) { cls.fetch.tag[i] = vpn; cls.fetch.phys[i] = w.phys; } else {
      cls.read.tag[i] = vpn; cls.read.phys[i] = w.phys;
      if (w.writable && this.blocks[frame] === undefined) {
        cls.write.tag[i] = vpn; cls.write.phys[i] = w.phys; this.mem.dirty[frame] = 1;
      }
    }
    return w.phys + (lo & 0xfff);
  }

  // ---- memory access (linear addresses as lo/hi halves) ----------------------------------------

  // With a memory log attached, accesses that hit the TLB are logged right here; the others take the logged
  // slow path (logRead/logWrite), which performs the access with the log detached and then logs it.

  rd8(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tr, log = this.mlog;
    if (t.tag[i] === vpn) {
      const v = this.bytes[t.phys[i]! + (lo & 0xfff)]!;
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 1, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 1, false);
    return this.bytes[this.translate(lo, hi, Access.READ)]!;
  }

  rd16(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tr, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffe) {
      const v = this.dv.getUint16(t.phys[i]! + off, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 2, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 2, false);
    return this.rdSlow(lo, hi, 2);
  }

  rd32(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tr, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffc) {
      const v = this.dv.getUint32(t.phys[i]! + off, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 4, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 4, false);
    return this.rdSlow(lo, hi, 4);
  }

  /** 64-bit read: returns the lo half, leaves the hi half in `this.hi`. */
  rd64(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tr, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xff8) {
      const p = t.phys[i]! + off;
      const vh = this.dv.getUint32(p + 4, true), v = this.dv.getUint32(p, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = vh; w[4] = 0; w[5] = 0; log.accessWords(w, 8, 0); }
      this.hi = vh;
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 8, false);
    const vlo = this.rdSlow(lo, hi, 4);
    const n = (lo + 4) >>> 0;
    this.hi = this.rdSlow(n, n < lo ? (hi + 1) >>> 0 : hi, 4);
    return vlo;
  }

  private rdSlow(lo: number, hi: number, size: number): number {
    const off = lo & 0xfff;
    if (off + size <= 0x1000) {
      const p = this.translate(lo, hi, Access.READ);
      return size === 4 ? this.dv.getUint32(p, true) : this.dv.getUint16(p, true);
    }
    let v = 0;
    for (let k = 0; k < size; k++) {
      const a = (lo + k) >>> 0;
      v += this.rd8(a, a < lo ? (hi + 1) >>> 0 : hi) * 2 ** (8 * k);
    }
    return v;
  }

  // Reads of a read-modify-write are translated for writing, as hardware does: a #PF reports W=1 and a
  // read-only page faults before anything is read.

  /** A read performed with the log detached, then logged. */
  private logRead(lo: number, hi: number, size: number, rmw: boolean): number {
    const log = this.mlog!;
    this.mlog = null;
    let v: number, vh = 0;
    try {
      switch (size) {
        case 1: v = rmw ? this.rmw8(lo, hi) : this.rd8(lo, hi); break;
        case 2: v = rmw ? this.rmw16(lo, hi) : this.rd16(lo, hi); break;
        case 4: v = rmw ? this.rmw32(lo, hi) : this.rd32(lo, hi); break;
        default: v = rmw ? this.rmw64(lo, hi) : this.rd64(lo, hi); vh = this.hi;
      }
    } finally {
      this.mlog = log;
    }
    log.access(lo, hi, size, 0, v, vh, 0, 0);
    this.hi = vh;
    return v;
  }

  /** A write performed with the log detached (the old value read for writing first, so faults match), then logged. */
  private logWrite(lo: number, hi: number, size: number, vlo: number, vhi: number): void {
    const log = this.mlog!;
    this.mlog = null;
    let olo: number, ohi = 0;
    try {
      switch (size) {
        case 1: olo = this.rmw8(lo, hi); this.wr8(lo, hi, vlo); break;
        case 2: olo = this.rmw16(lo, hi); this.wr16(lo, hi, vlo); break;
        case 4: olo = this.rmw32(lo, hi); this.wr32(lo, hi, vlo); break;
        default: olo = this.rmw64(lo, hi); ohi = this.hi; this.wr64(lo, hi, vlo, vhi);
      }
    } finally {
      this.mlog = log;
    }
    log.access(lo, hi, size, 1, size === 8 ? vlo : vlo & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff), vhi, olo, ohi);
  }

  rmw8(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, log = this.mlog;
    if (t.tag[i] === vpn) {
      const v = this.bytes[t.phys[i]! + (lo & 0xfff)]!;
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 1, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 1, true);
    this.translate(lo, hi, Access.WRITE);
    return this.rd8(lo, hi);
  }

  rmw16(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffe) {
      const v = this.dv.getUint16(t.phys[i]! + off, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 2, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 2, true);
    this.rmwCheck(lo, hi, 2);
    return this.rd16(lo, hi);
  }

  rmw32(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffc) {
      const v = this.dv.getUint32(t.phys[i]! + off, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = 0; w[4] = 0; w[5] = 0; log.accessWords(w, 4, 0); }
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 4, true);
    this.rmwCheck(lo, hi, 4);
    return this.rd32(lo, hi);
  }

  /** 64-bit read-modify-write read: returns lo, hi in `this.hi`. */
  rmw64(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xff8) {
      const p = t.phys[i]! + off;
      const vh = this.dv.getUint32(p + 4, true), v = this.dv.getUint32(p, true);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v; w[3] = vh; w[4] = 0; w[5] = 0; log.accessWords(w, 8, 0); }
      this.hi = vh;
      return v;
    }
    if (log !== null) return this.logRead(lo, hi, 8, true);
    this.rmwCheck(lo, hi, 8);
    return this.rd64(lo, hi);
  }

  /** Translate every page of an access for writing (faulting as a write would). */
  private rmwCheck(lo: number, hi: number, size: number): void {
    this.translate(lo, hi, Access.WRITE);
    if ((lo & 0xfff) + size > 0x1000) {
      const n = ((lo | 0xfff) + 1) >>> 0;
      this.translate(n, n < lo ? (hi + 1) >>> 0 : hi, Access.WRITE);
    }
  }

  wr8(lo: number, hi: number, v: number): void {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, log = this.mlog;
    if (t.tag[i] === vpn) {
      const p = t.phys[i]! + (lo & 0xfff);
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v & 0xff; w[3] = 0; w[4] = this.bytes[p]!; w[5] = 0; log.accessWords(w, 1, 1); }
      this.bytes[p] = v;
      return;
    }
    if (log !== null) { this.logWrite(lo, hi, 1, v, 0); return; }
    this.wrSlow(lo, hi, 1, v);
  }

  wr16(lo: number, hi: number, v: number): void {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffe) {
      const p = t.phys[i]! + off;
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v & 0xffff; w[3] = 0; w[4] = this.dv.getUint16(p, true); w[5] = 0; log.accessWords(w, 2, 1); }
      this.dv.setUint16(p, v, true);
      return;
    }
    if (log !== null) { this.logWrite(lo, hi, 2, v, 0); return; }
    this.wrSlow(lo, hi, 2, v);
  }

  wr32(lo: number, hi: number, v: number): void {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xffc) {
      const p = t.phys[i]! + off;
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = v >>> 0; w[3] = 0; w[4] = this.dv.getUint32(p, true); w[5] = 0; log.accessWords(w, 4, 1); }
      this.dv.setUint32(p, v, true);
      return;
    }
    if (log !== null) { this.logWrite(lo, hi, 4, v, 0); return; }
    this.wrSlow(lo, hi, 4, v);
  }

  wr64(lo: number, hi: number, vlo: number, vhi: number): void {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tw, off = lo & 0xfff, log = this.mlog;
    if (t.tag[i] === vpn && off <= 0xff8) {
      const p = t.phys[i]! + off;
      if (log !== null) { const w = this.mw; w[0] = lo; w[1] = hi; w[2] = vlo; w[3] = vhi; w[4] = this.dv.getUint32(p, true); w[5] = this.dv.getUint32(p + 4, true); log.accessWords(w, 8, 1); }
      this.dv.setUint32(p, vlo, true); this.dv.setUint32(p + 4, vhi, true);
      return;
    }
    if (log !== null) { this.logWrite(lo, hi, 8, vlo, vhi); return; }
    if (off > 0xff8) { // crosses a page: check both pages are writable before writing anything
      const n = ((lo | 0xfff) + 1) >>> 0; // first byte of the second page (the #PF address hardware reports)
      this.translate(lo, hi, Access.WRITE);
      this.translate(n, n < lo ? (hi + 1) >>> 0 : hi, Access.WRITE);
    }
    this.wrSlow(lo, hi, 4, vlo);
    const n = (lo + 4) >>> 0;
    this.wrSlow(n, n < lo ? (hi + 1) >>> 0 : hi, 4, vhi);
  }

  private wrSlow(lo: number, hi: number, size: number, v: number): void {
    const off = lo & 0xfff;
    if (off + size <= 0x1000) {
      const p = this.translate(lo, hi, Access.WRITE);
      this.writePhys(p, size, v);
      return;
    }
    // crossing a page boundary: translate both pages first so a fault leaves memory untouched
    const lo2 = ((lo | 0xfff) + 1) >>> 0; // first byte of the second page
    this.translate(lo, hi, Access.WRITE);
    this.translate(lo2, lo2 < lo ? (hi + 1) >>> 0 : hi, Access.WRITE);
    for (let k = 0; k < size; k++) {
      const a = (lo + k) >>> 0;
      this.writePhys(this.translate(a, a < lo ? (hi + 1) >>> 0 : hi, Access.WRITE), 1, (v / 2 ** (8 * k)) & 0xff);
    }
  }

  /** Write physical memory from the slow path, invalidating decoded code on that frame. */
  private writePhys(p: number, size: number, v: number): void {
    const frame = p >>> 12;
    if (this.blocks[frame] !== undefined) this.invalidateCode(frame);
    this.mem.dirty[frame] = 1;
    if (size === 1) this.bytes[p] = v;
    else if (size === 2) this.dv.setUint16(p, v, true);
    else this.dv.setUint32(p, v, true);
  }

  /** Drop decoded blocks of a physical frame (self-modifying code, or host writes). */
  invalidateCode(frame: number): void {
    this.chainGen++;
    this.blocks[frame] = undefined;
    if (this.crossInto[frame] && frame > 0) { this.blocks[frame - 1] = undefined; this.crossInto[frame] = 0; }
    this.brk = true;
  }

  /** Host writes into guest physical memory must call this so decoded code stays coherent. */
  notifyPhysWrite(phys: number, length: number): void {
    for (let f = phys >>> 12, end = (phys + Math.max(length, 1) - 1) >>> 12; f <= end; f++) {
      this.mem.dirty[f] = 1;
      if (this.blocks[f] !== undefined) this.invalidateCode(f);
    }
  }

  /** Select the CPU model; decoded code is dropped (its handlers were built for the previous model). */
  setLevel(level: CpuLevel): void {
    this.level = level;
    this.invalidateAllCode();
  }

  /** Drop all decoded code (state restore). */
  invalidateAllCode(): void {
    this.chainGen++;
    this.blocks.fill(undefined);
    this.crossInto.fill(0);
  }

  // ---- the block cache -------------------------------------------------------------------------

  private fetchPhys(lo: number, hi: number): number {
    const vpn = hi * 1048576 + (lo >>> 12), i = vpn & TLB_MASK, t = this.tx;
    if (t.tag[i] === vpn) return t.phys[i]! + (lo & 0xfff);
    return this.translate(lo, hi, Access.FETCH);
  }

  /** The block at the current RIP, decoding it on a miss. */
  private blockAtRip(): Block {
    const lo = this.r[RIP]!, hi = this.r[RIP + 1]!;
    const p = this.fetchPhys(lo, hi);
    const map = this.blocks[p >>> 12];
    if (map !== undefined) {
      const b = map.get(p & 0xfff);
      if (b !== undefined && b.ipLo === lo && b.ipHi === hi) return b;
    }
    return this.decodeBlock(lo, hi, p);
  }

  private decodeBlock(lo: number, hi: number, p: number): Block {
    this.blocksDecoded++;
    const frame = p >>> 12;
    const off = p & 0xfff;
    const tail = this.bytes.subarray(p, (frame + 1) << 12);
    const insns: Decoded[] = [];
    const execs: Exec[] = [];
    const ins = this.insn;
    let buf = tail;
    let crossing = false;
    const ip = BigInt(hi) * 4294967296n + BigInt(lo);
    let decoder = new Decoder(64, buf, DecoderOptions.None);
    decoder.ip = ip;
    try {
      for (;;) {
        const pos = decoder.position;
        decoder.decodeOut(ins);
        if (ins.isInvalid && pos + 15 > buf.length && insns.length === 0 && !crossing && off + 15 > 0x1000) {
          // the first instruction may continue on the next page: fetch it (this may #PF, as on hardware)
          const nlo = ((lo & ~0xfff) + 0x1000) >>> 0, nhi = nlo === 0 ? (hi + 1) >>> 0 : hi;
          const np = this.fetchPhys(nlo, nhi);
          const joined = new Uint8Array(tail.length + 15);
          joined.set(tail); joined.set(this.bytes.subarray(np, np + 15), tail.length);
          decoder.free();
          buf = joined; crossing = true;
          decoder = new Decoder(64, buf, DecoderOptions.None);
          decoder.ip = ip;
          this.crossInto[np >>> 12] = 1;
          if (this.blocks[np >>> 12] === undefined) this.markCode(np >>> 12);
          continue;
        }
        if (ins.isInvalid) {
          if (insns.length > 0 && pos + 15 > buf.length) break; // let the next block handle the page edge
          const d = fromIced(ins, buf.subarray(pos, pos + Math.max(1, ins.length)));
          insns.push(d); execs.push(undecodable(d));
          break;
        }
        if (!crossing && pos + ins.length > buf.length) break;
        const d = fromIced(ins, buf.subarray(pos, pos + ins.length));
        insns.push(d); execs.push(lookupHandler(d, this.level));
        if (crossing || endsBlock(d, ins.flowControl !== FlowControl.Next, ins.isStringInstruction) || decoder.position >= buf.length || insns.length >= 256) break;
      }
    } finally {
      decoder.free();
    }
    const last = insns[insns.length - 1]!;
    const b: Block = { ipLo: lo, ipHi: hi, phys: p, insns, execs, endLo: last.nextLo, endHi: last.nextHi, succ0: null, succ1: null, chainGen: -1, hits: 0, jit: null, logHits: 0, logJit: null };
    let map = this.blocks[frame];
    if (map === undefined) { this.markCode(frame); map = this.blocks[frame]!; }
    map.set(off, b);
    return b;
  }

  /** A frame now holds decoded code: writes to it must take the slow path. */
  private markCode(frame: number): void {
    this.blocks[frame] ??= new Map();
    const base = frame << 12;
    for (const cls of [this.tlbSup, this.tlbUser]) {
      const t = cls.write;
      for (let i = 0; i < t.phys.length; i++) if (t.phys[i] === base) t.tag[i] = -1;
    }
  }

  // ---- the run loop ----------------------------------------------------------------------------

  /**
   * Execute up to `steps` steps (instructions, REP iterations). Exceptions are delivered through the IDT
   * unless the exception bitmap asks for an exit. Returns why it stopped.
   */
  run(steps: number): RunStatus {
    const r = this.r;
    this.budget = steps;
    this.exit.reason = -1;
    let prev: Block | null = null;
    while (this.budget > 0) {
      if (r[Off.HALTED >> 2]) return RunStatus.HALT;
      const blk = this.nextBlock(prev);
      if (blk === null) {
        prev = null;
        const st = this.onFault(this.fetchFault, -1, -1);
        if (st !== RunStatus.BUDGET) return st;
        continue;
      }
      const execs = blk.execs, count = execs.length, last = count - 1;
      const n = count <= this.budget ? count : this.budget;
      // Steps are accounted in icount/budget before a block's last instruction runs, so handlers that read
      // them (REP string instructions, RDTSC: always last in their block) see exact values.
      let i = 0;
      this.brk = false;
      const jit = blk.jit;
      if (n === count && jit !== null) {
        if (jit !== NOT_COMPILABLE) {
          try {
            i = jit(this); // completed instructions not yet accounted (the compiled code accounts before the last)
          } catch (e) {
            const k = this.jitIndex;
            if (k !== last) { this.icount += k; this.budget -= k; }
            prev = null;
            const d = blk.insns[k]!;
            const st = this.onFault(e, d.ipLo, d.ipHi, d);
            if (st !== RunStatus.BUDGET) return st;
            continue;
          }
          this.icount += i; this.budget -= i;
          prev = this.brk ? null : blk;
          if (this.exit.reason >= 0) return RunStatus.EXIT;
          if (r[Off.HALTED >> 2]) return RunStatus.HALT;
          continue;
        }
      } else if (jit === null && ++blk.hits >= this.jitThreshold && this.jitEnabled) {
        blk.jit = compileBlock(blk) ?? NOT_COMPILABLE;
      }
      let acc = 0; // instructions of this block already accounted
      try {
        // RIP is written at block boundaries only: handlers never read it except block-ending ones
        const m = n < count ? n : last;
        for (; i < m; i++) {
          execs[i]!(this);
          if (this.brk) { i++; break; }
        }
        if (n === count && i === last && !this.brk) {
          r[RIP] = blk.endLo; r[RIP + 1] = blk.endHi;
          this.icount += i; this.budget -= i; acc = i;
          execs[i]!(this);
          i++;
        } else if (this.exit.reason < 0) {
          const d = blk.insns[i - 1]!; // stopped early (budget or a handler's request) after instruction i-1
          r[RIP] = d.nextLo; r[RIP + 1] = d.nextHi;
        }
      } catch (e) {
        this.icount += i - acc; this.budget -= i - acc;
        prev = null;
        const d = blk.insns[i]!;
        const st = this.onFault(e, d.ipLo, d.ipHi, d);
        if (st !== RunStatus.BUDGET) return st;
        continue;
      }
      this.icount += i - acc; this.budget -= i - acc;
      prev = this.brk ? null : blk;
      if (this.exit.reason >= 0) return RunStatus.EXIT;
      if (r[Off.HALTED >> 2]) return RunStatus.HALT;
    }
    return RunStatus.BUDGET;
  }

  /**
   * Execute up to `steps` steps with RIP and the step count exact before every instruction, calling `onStep`
   * after each: the monitor-trap-flag exit, delivered in the loop. Exits caused by instructions (VMCALL, ...)
   * return EXIT without a step. With a StepLog, hot blocks run as compiled logging blocks that log their steps
   * into it without calling `onStep` (only while the log's quietUntil allows; rings never switch inside them
   * and a fault inside one is stepped through `onStep` as usual).
   */
  runStepped(steps: number, onStep: StepHook, log: StepLog | null = null): RunStatus {
    const r = this.r;
    this.budget = steps;
    this.exit.reason = -1;
    let prev: Block | null = null;
    outer: while (this.budget > 0) {
      if (r[Off.HALTED >> 2]) return RunStatus.HALT;
      const blk = this.nextBlock(prev);
      if (blk === null) {
        prev = null;
        const st = this.stepFault(this.fetchFault, null, onStep);
        if (st !== RunStatus.BUDGET) return st;
        continue;
      }
      prev = null;
      const insns = blk.insns, execs = blk.execs;
      this.brk = false;
      let i = 0;
      if (log !== null) {
        const lj = blk.logJit;
        if (lj === null) {
          if (++blk.logHits >= this.logJitThreshold && this.jitEnabled) blk.logJit = compileLoggingBlock(blk, log) ?? NOT_COMPILABLE;
        } else if (lj !== NOT_COMPILABLE && lj.rows.count <= this.budget && log.seq + lj.rows.count < log.quietUntil) {
          let done: number;
          const s0 = log.seq; // the compiled code moves log.seq to each step that accesses memory
          try {
            done = lj.run(this, log);
          } catch (e) {
            const k = this.jitIndex;
            log.seq = s0;
            log.rows(lj.rows, k);
            this.icount += k; this.budget -= k;
            const st = this.stepFault(e, insns[k]!, onStep);
            if (st !== RunStatus.BUDGET) return st;
            continue;
          }
          log.seq = s0;
          log.rows(lj.rows, done);
          this.icount += done; this.budget -= done;
          if (this.brk) continue;
          if (done === insns.length) { prev = blk; continue; }
          i = done;
        }
      }
      for (; i < insns.length && this.budget > 0; i++) {
        const d = insns[i]!;
        r[RIP] = d.nextLo; r[RIP + 1] = d.nextHi;
        this.icount++; this.budget--;
        try {
          execs[i]!(this);
        } catch (e) {
          this.icount--; this.budget++;
          const st = this.stepFault(e, d, onStep);
          if (st !== RunStatus.BUDGET) return st;
          continue outer;
        }
        if (this.exit.reason >= 0) return RunStatus.EXIT;
        onStep(d, false);
        if (this.brk) continue outer;
      }
      if (i === insns.length) prev = blk;
    }
    return RunStatus.BUDGET;
  }

  /**
   * Deliver the fault of a stepped instruction (`d` null: fetching it faulted, RIP is at it) and report the
   * faulting attempt to `onStep` as a step.
   */
  private stepFault(e: unknown, d: Decoded | null, onStep: StepHook): RunStatus {
    const st = d === null ? this.onFault(e, -1, -1) : this.onFault(e, d.ipLo, d.ipHi, d);
    if (st === RunStatus.BUDGET || st === RunStatus.FAULT) onStep(d, true);
    return st;
  }

  /** The fault raised by the last failed nextBlock() fetch. */
  private fetchFault: unknown = null;

  /**
   * The block at RIP: a cached successor of `prev` (valid while the chain generation is unchanged), else a
   * lookup, which is then cached as a successor of `prev`. Null when fetching faults (the error in fetchFault).
   */
  private nextBlock(prev: Block | null): Block | null {
    const lo = this.r[RIP]!, hi = this.r[RIP + 1]!;
    if (prev !== null && prev.chainGen === this.chainGen) {
      const a = prev.succ0;
      if (a !== null && a.ipLo === lo && a.ipHi === hi) return a;
      const b = prev.succ1;
      if (b !== null && b.ipLo === lo && b.ipHi === hi) return b;
    }
    let blk: Block;
    try {
      blk = this.blockAtRip();
    } catch (e) {
      this.fetchFault = e;
      return null;
    }
    if (prev !== null) {
      if (prev.chainGen !== this.chainGen) { prev.chainGen = this.chainGen; prev.succ0 = blk; prev.succ1 = null; }
      else if (prev.succ0 === null) prev.succ0 = blk;
      else { prev.succ1 = prev.succ0; prev.succ0 = blk; }
    }
    return blk;
  }

  /** Deliver a caught fault (or rethrow a non-Fault error). ipLo/ipHi -1 means RIP already points at the faulting fetch. */
  private onFault(err: unknown, ipLo: number, ipHi: number, d?: Decoded): RunStatus {
    if (!(err instanceof Fault)) throw err;
    let e: Fault = err;
    // a non-canonical address in a stack-segment reference (base RSP or RBP, no override) is #SS(0), not #GP(0)
    if (e.vector === Vector.GP && e.detail === NON_CANONICAL && d?.mem !== undefined && d.mem.seg < 0 &&
      (d.mem.base === 4 || d.mem.base === 5)) e = new Fault(Vector.SS, 0, 0, 0, NON_CANONICAL);
    const r = this.r;
    if (ipLo !== -1) { r[RIP] = ipLo; r[RIP + 1] = ipHi; }
    this.lastFault = e;
    this.lastFaultRipLo = r[RIP]!; this.lastFaultRipHi = r[RIP + 1]!;
    // a faulting attempt is a step (the trace records it)
    this.icount++; this.budget--;
    if ((this.controls.exceptionBitmap >>> e.vector) & 1) {
      this.exit.reason = 0; this.exit.qualification = e.vector; this.exit.instructionLength = 0;
      return RunStatus.EXIT;
    }
    if (!deliverException(this, e)) return RunStatus.TRIPLE_FAULT;
    return this.stopOnFault ? RunStatus.FAULT : RunStatus.BUDGET;
  }

  /** Request a VM exit caused by instruction `d` (RIP stays at the instruction, as the SDM specifies). */
  vmexit(reason: number, d: Decoded, qualification = 0): void {
    this.r[RIP] = d.ipLo; this.r[RIP + 1] = d.ipHi;
    this.exit.reason = reason; this.exit.qualification = qualification; this.exit.instructionLength = d.length;
    this.brk = true;
    this.icount--; this.budget++; // the exiting instruction did not retire
  }
}

/** Handler for bytes iced cannot decode. */
function undecodable(d: Decoded): Exec {
  const hex = Array.from(d.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return () => { throw new Fault(Vector.UD, 0, 0, 0, `undecodable bytes ${hex}`); };
}

/** Name of a mnemonic, for diagnostics. */
export function mnemonicName(m: number): string {
  return (Mnemonic as unknown as Record<number, string>)[m] ?? `mnemonic ${m}`;
}
