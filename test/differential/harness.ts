// Differential testing against the host CPU: builds the native runner, runs a batch of generated cases
// natively and in the emulator (BareMachine) from the same state, and compares the results.
// The record layouts below mirror native/runner.c.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { Off } from '../../src/cpu/state.js';
import { Code } from 'iced-x86';
import { decodeAt, undeclaredWrites } from '../helpers/undeclared-writes.js';
import type { Fault } from '../../src/cpu/fault.js';

export const CODE_BASE = 0x01000000;
export const CODE_SIZE = 0x1000;
export const DATA_BASE = 0x01100000;
export const DATA_SIZE = 0x4000;
export const CTRL_BASE = 0x01200000;
/** The runner stores the address of its dump routine here; exit stubs jump through it. */
export const CTRL_DUMP_PTR = CTRL_BASE + 8;
const CASE_SIZE = 2304;
const MAGIC = 0x46464944;
const C_GPR = 0, C_RFLAGS = 128, C_ENTRY = 136, C_CODELEN = 140, C_PATCHLEN = 144, C_FX = 160, C_CODE = 672, C_PATCH = 1184, C_YMMH = 2048;
export const CODE_MAX = 512;
export const PATCH_MAX = C_YMMH - C_PATCH;
const R_STATUS = 0, R_EXIT = 4, R_RIP = 8, R_ERR = 16, R_CR2 = 24, R_GPR = 32, R_RFLAGS = 160, R_FX = 176, R_YMMH = 688, R_NDIFF = 944, R_HDR = 948;
/** Seed of the data region's baseline content (xorshift32 low bytes). */
export const BASELINE_SEED = 0x2545f491;

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** One generated test case: the complete initial state, the code, and what to ignore when comparing. */
export interface DiffCase {
  /** Family the case was generated for. */
  family: string;
  /** Index of the case within its family (reproduce with ITRACE_DIFF_CASE=family:index). */
  index: number;
  /** Initial GPRs (encoding order). */
  gpr: bigint[];
  /** Initial RFLAGS. */
  rflags: number;
  /** FXSAVE image with the initial x87 state, MXCSR and XMM registers (64-bit format). */
  fx: Uint8Array;
  /** Bits 255:128 of YMM0..15 (256 bytes; zero when absent). */
  ymmh?: Uint8Array;
  /** Offset of the first instruction in the code page. */
  entry: number;
  /** Code bytes loaded at CODE_BASE for the emulator (instructions and exit stubs). */
  code: Uint8Array;
  /** Code bytes for the host when they differ (see the bit family's REP BSF/BSR note). */
  nativeCode?: Uint8Array;
  /** Offsets (in the code page) of the exit points; the run ends when RIP reaches one. */
  exits: number[];
  /** Data-region patches applied over the baseline: [offset, bytes]. */
  patches: [number, Uint8Array][];
  /** RFLAGS bits the SDM leaves undefined after the executed instructions. */
  undefFlags: number;
  /** x87 status word bits left undefined (C0..C3 after most x87 instructions). */
  undefFsw: number;
  /** Disassembly of the instructions under test, with their bytes. */
  asm: string[];
  /** The code writes to its own page on purpose (self-modifying code). */
  selfModifying?: boolean;
}

/** Result of running a case on one side. */
export interface CaseResult {
  /** 'exit' (reached an exit), 'fault', 'timeout' or 'error' (could not run). */
  kind: 'exit' | 'fault' | 'timeout' | 'error';
  /** Exit index, or exception vector for a fault. */
  code: number;
  /** RIP of the faulting instruction. */
  rip: bigint;
  /** Error code of the fault. */
  err: number;
  /** Fault address for #PF. */
  cr2: bigint;
  gpr: bigint[];
  rflags: number;
  /** FXSAVE image of the final x87/SSE state (tag byte abridged). */
  fx: Uint8Array;
  /** Bits 255:128 of YMM0..15 (zero on a host without AVX). */
  ymmh: Uint8Array;
  /** Changed data bytes relative to the baseline: offset -> value. */
  mem: Map<number, number>;
  /** Extra diagnostics (the emulator's fault detail). */
  note: string;
  /** Problems found besides the state (stray writes outside the data region, modified code). */
  problems?: string;
}

// ---- the native runner -----------------------------------------------------------------------------

/** Why the host cannot run the differential suite, or null when it can. */
export function hostUnsupportedReason(): string | null {
  if (platform() !== 'linux') return `host platform is ${platform()}, the differential suite needs Linux`;
  if (arch() !== 'x64') return `host architecture is ${arch()}, the differential suite needs x86-64`;
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'gcc is not installed (install gcc to run the differential suite)';
  return null;
}

/** The host processor's feature flags (/proc/cpuinfo `flags`), empty when unknown. */
export function hostCpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** The host has AVX: the runner loads and saves the YMM upper halves, and they are compared. */
const HOST_AVX = hostCpuFlags().has('avx');

const HERE = dirname(fileURLToPath(import.meta.url));

/** Compile the runner once per source version into the temp directory; returns its path. */
export function buildRunner(): string {
  const src = join(HERE, 'native', 'runner.c');
  const text = readFileSync(src);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'itrace-diff');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `runner-${hash}`);
  if (existsSync(exe)) return exe;
  const tmp = `${exe}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O1', '-std=gnu11', '-Wall', '-o', tmp, src], { stdio: 'pipe' });
  renameSync(tmp, exe); // atomic: parallel test files may build at the same time
  return exe;
}

let batchNo = 0;

/** Run cases on the host CPU. */
export function runNative(exe: string, cases: DiffCase[]): CaseResult[] {
  const buf = new Uint8Array(16 + cases.length * CASE_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, MAGIC, true); dv.setUint32(4, cases.length, true); dv.setUint32(8, BASELINE_SEED, true);
  cases.forEach((c, k) => {
    const o = 16 + k * CASE_SIZE;
    for (let i = 0; i < 16; i++) dv.setBigUint64(o + C_GPR + 8 * i, BigInt.asUintN(64, c.gpr[i]!), true);
    dv.setBigUint64(o + C_RFLAGS, BigInt(c.rflags >>> 0), true);
    dv.setUint32(o + C_ENTRY, c.entry, true);
    const code = c.nativeCode ?? c.code;
    if (code.length > CODE_MAX) throw new Error(`case ${c.family}:${c.index}: code too long`);
    dv.setUint32(o + C_CODELEN, code.length, true);
    buf.set(c.fx, o + C_FX);
    if (c.ymmh !== undefined) buf.set(c.ymmh, o + C_YMMH);
    buf.set(code, o + C_CODE);
    let p = 0;
    for (const [off, bytes] of c.patches) {
      if (p + 4 + bytes.length > PATCH_MAX) throw new Error(`case ${c.family}:${c.index}: patches too large`);
      dv.setUint16(o + C_PATCH + p, off, true); dv.setUint16(o + C_PATCH + p + 2, bytes.length, true);
      buf.set(bytes, o + C_PATCH + p + 4);
      p += 4 + bytes.length;
    }
    dv.setUint32(o + C_PATCHLEN, p, true);
  });
  const dir = join(tmpdir(), 'itrace-diff');
  mkdirSync(dir, { recursive: true });
  const tag = `${process.pid}-${batchNo++}`;
  const inFile = join(dir, `cases-${tag}.bin`), outFile = join(dir, `results-${tag}.bin`);
  writeFileSync(inFile, buf);
  const r = spawnSync(exe, [inFile, outFile], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`native runner failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const out = readFileSync(outFile);
  rmSync(inFile, { force: true }); rmSync(outFile, { force: true });
  const odv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const res: CaseResult[] = [];
  let o = 0;
  for (let k = 0; k < cases.length; k++) {
    const status = odv.getUint32(o + R_STATUS, true);
    const gpr: bigint[] = [];
    for (let i = 0; i < 16; i++) gpr.push(odv.getBigUint64(o + R_GPR + 8 * i, true));
    const nd = odv.getUint32(o + R_NDIFF, true);
    const mem = new Map<number, number>();
    for (let i = 0; i < nd; i++) mem.set(odv.getUint16(o + R_HDR + 4 * i, true), out[o + R_HDR + 4 * i + 2]!);
    res.push({
      kind: status === 0 ? 'exit' : status === 1 ? 'fault' : status === 2 ? 'timeout' : 'error',
      code: odv.getUint32(o + R_EXIT, true),
      rip: odv.getBigUint64(o + R_RIP, true),
      err: Number(odv.getBigUint64(o + R_ERR, true) & 0xffffffffn),
      cr2: odv.getBigUint64(o + R_CR2, true),
      gpr, rflags: Number(odv.getBigUint64(o + R_RFLAGS, true) & 0xffffffffn),
      fx: out.slice(o + R_FX, o + R_FX + 512), ymmh: out.slice(o + R_YMMH, o + R_YMMH + 256), mem, note: '',
    });
    o += R_HDR + 4 * nd;
  }
  return res;
}

// ---- the emulator side -----------------------------------------------------------------------------

/** The data region's baseline content. */
export function baseline(): Uint8Array {
  const b = new Uint8Array(DATA_SIZE);
  let x = BASELINE_SEED >>> 0;
  for (let i = 0; i < DATA_SIZE; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** x87 tag of an 80-bit value (SDM 8.1.7): 0 valid, 1 zero, 2 special. */
export function x87Tag(b: Uint8Array, off: number): number {
  const exp = (b[off + 8]! | (b[off + 9]! << 8)) & 0x7fff;
  let mant = 0;
  for (let i = 0; i < 8; i++) mant |= b[off + i]!;
  if (exp === 0) return mant === 0 ? 1 : 2;
  if (exp === 0x7fff) return 2;
  return b[off + 7]! & 0x80 ? 0 : 2; // J bit clear: unsupported format
}

const R = (off: number): number => off >> 2;

/** Runs cases in one reused BareMachine. */
export class Emulator {
  readonly m = new BareMachine();
  private readonly base = baseline();
  private readonly tableFrames: number;

  constructor() {
    const size = this.m.mem.size;
    this.tableFrames = (size - 0x4000) >>> 12;
    // Map only what the native runner maps (code page, data region) with 4-KiB pages, so that an access
    // anywhere else faults with #PF in both. BareMachine's tables: PML4, PDPT, PD, and one spare page.
    const dv = this.m.mem.dv, pd = size - 0x2000, pt = size - 0x1000;
    for (let i = 0; i < 1024; i++) { dv.setUint32(pd + 4 * i, 0, true); dv.setUint32(pt + 4 * i, 0, true); }
    const region = CODE_BASE & ~0x1fffff;
    if ((DATA_BASE + DATA_SIZE - 1 - region) >>> 21 !== 0) throw new Error('code and data must share one 2-MiB region');
    dv.setUint32(pd + 8 * (region >>> 21), (pt | 0x27) >>> 0, true);
    const map = (addr: number): void => dv.setUint32(pt + 8 * ((addr - region) >>> 12), (addr | 0x67) >>> 0, true);
    map(CODE_BASE);
    for (let a = DATA_BASE; a < DATA_BASE + DATA_SIZE; a += 0x1000) map(a);
    this.m.cpu.flushTlb();
  }

  /**
   * Run a case. 'step' runs one instruction per cpu.run(1) call and stops when RIP reaches an exit stub;
   * 'block' makes one cpu.run() call (decoded blocks, chaining, REP in one go) that ends when an exit
   * stub's store to the control page, which the emulator does not map, faults.
   */
  run(c: DiffCase, mode: 'step' | 'block' = 'step', stepLimit = 20_000): CaseResult {
    const m = this.m, cpu = m.cpu, r = cpu.r, s = cpu.s, mem = m.mem.bytes;
    // memory: data baseline + patches, code page
    mem.set(this.base, DATA_BASE);
    for (const [off, bytes] of c.patches) mem.set(bytes, DATA_BASE + off);
    mem.fill(0xcc, CODE_BASE, CODE_BASE + CODE_SIZE);
    mem.set(c.code, CODE_BASE);
    cpu.notifyPhysWrite(CODE_BASE, CODE_SIZE);
    cpu.notifyPhysWrite(DATA_BASE, DATA_SIZE);
    cpu.flushTlb();
    m.mem.dirty.fill(0);
    // registers
    for (let i = 0; i < 16; i++) m.setReg(i, c.gpr[i]!);
    m.setRip(CODE_BASE + c.entry);
    r[R(Off.LAZY_OP)] = 0;
    setFlags(r, c.rflags);
    // write the architectural value directly: flags.ts setFlags() currently clears the always-one bit 1
    r[R(Off.RFLAGS)] = (c.rflags | 2) >>> 0;
    r[R(Off.HALTED)] = 0;
    r[R(Off.INT_SHADOW)] = 0;
    const fx = c.fx, fdv = new DataView(fx.buffer, fx.byteOffset, 512);
    r[R(Off.MXCSR)] = fdv.getUint32(24, true);
    r[R(Off.FCW)] = fdv.getUint16(0, true);
    const fsw = fdv.getUint16(2, true);
    const top = (fsw >> 11) & 7;
    r[R(Off.FSW)] = fsw & ~0x3800;
    r[R(Off.FTOP)] = top;
    r[R(Off.FOP)] = 0;
    r[R(Off.FIP)] = 0; r[R(Off.FIP) + 1] = 0; r[R(Off.FDP)] = 0; r[R(Off.FDP) + 1] = 0;
    const aftw = fx[4]!;
    let ftag = 0;
    for (let p = 0; p < 8; p++) {
      const i = (p - top) & 7; // stack slot of physical register p
      const src = 32 + 16 * i;
      s.u8.fill(0, Off.ST + 16 * p, Off.ST + 16 * p + 16);
      s.u8.set(fx.subarray(src, src + 10), Off.ST + 16 * p);
      const tag = (aftw >> p) & 1 ? x87Tag(fx, src) : 3;
      ftag |= tag << (2 * p);
    }
    r[R(Off.FTAG)] = ftag;
    s.u8.set(fx.subarray(160, 160 + 256), Off.XMM);
    if (c.ymmh !== undefined) s.u8.set(c.ymmh, Off.YMMH); else s.u8.fill(0, Off.YMMH, Off.YMMH + 256);
    cpu.lastFault = null;

    const exits = c.exits.map((e) => CODE_BASE + e);
    const ripIdx = R(Off.RIP);
    const before = new Uint32Array(r.length);
    let undeclared = '';
    let kind: CaseResult['kind'] = 'timeout', code = 0, rip = 0n, err = 0, cr2 = 0n, note = '';
    try {
      for (let step = 0; step < stepLimit; step++) {
        if (r[ripIdx + 1] === 0) {
          const k = exits.indexOf(r[ripIdx]!);
          if (k >= 0) { kind = 'exit'; code = k; break; }
        }
        if (mode === 'step') { getFlags(r); before.set(r); }
        const st = cpu.run(mode === 'step' ? 1 : stepLimit);
        if (mode === 'step' && st === RunStatus.BUDGET && cpu.lastFault === null) {
          // every register the instruction changed is one its written state declares (the recorder's compare set)
          getFlags(r);
          const at = before[ripIdx]!; // code is identity-mapped (and may have been modified by the case)
          const d = decodeAt(mem.subarray(at, at + 15), at);
          const extra = undeclaredWrites(d, before, r);
          if (extra.length > 0) undeclared += ` ${Code[d.code]} wrote ${extra.join(', ')} beyond its written state;`;
        }
        if (mode === 'block' && st === RunStatus.EXIT) {
          const f = cpu.lastFault as Fault | null;
          const k = r[ripIdx + 1] === 0 ? exits.indexOf(r[ripIdx]!) : -1;
          if (f && f.vector === 14 && f.cr2Lo === CTRL_BASE && f.cr2Hi === 0 && k >= 0) { kind = 'exit'; code = k; break; }
        }
        if (st === RunStatus.EXIT) {
          const f = cpu.lastFault as Fault | null;
          kind = 'fault';
          code = f ? f.vector : cpu.exit.qualification;
          rip = m.rip();
          if (f) {
            err = f.errorCode;
            cr2 = (BigInt(f.cr2Hi >>> 0) << 32n) | BigInt(f.cr2Lo >>> 0);
            note = f.toString();
          } else {
            note = `VM exit reason ${cpu.exit.reason}`;
          }
          break;
        }
        if (st === RunStatus.HALT) { kind = 'error'; note = 'HLT'; break; }
        if (st !== RunStatus.BUDGET) { kind = 'error'; note = `run status ${st}`; break; }
        if (mode === 'block') break; // budget exhausted: timeout
      }
    } catch (e) {
      kind = 'error';
      note = `emulator threw: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e)}`;
    }
    // final state
    const gpr: bigint[] = [];
    for (let i = 0; i < 16; i++) gpr.push(m.reg(i));
    const rflags = getFlags(r);
    const out = new Uint8Array(512);
    const odv = new DataView(out.buffer);
    odv.setUint16(0, r[R(Off.FCW)]! & 0xffff, true);
    const ftop = r[R(Off.FTOP)]! & 7;
    odv.setUint16(2, ((r[R(Off.FSW)]! & ~0x3800) | (ftop << 11)) & 0xffff, true);
    const etag = r[R(Off.FTAG)]!;
    let ab = 0;
    for (let p = 0; p < 8; p++) if (((etag >> (2 * p)) & 3) !== 3) ab |= 1 << p;
    out[4] = ab;
    odv.setUint32(24, r[R(Off.MXCSR)]!, true);
    for (let i = 0; i < 8; i++) {
      const p = (ftop + i) & 7;
      out.set(s.u8.subarray(Off.ST + 16 * p, Off.ST + 16 * p + 10), 32 + 16 * i);
    }
    out.set(s.u8.subarray(Off.XMM, Off.XMM + 256), 160);
    // the emulator's full tags must agree with the register contents (checked in compare())
    const fullTags: number[] = [];
    for (let i = 0; i < 8; i++) fullTags.push((etag >> (2 * ((ftop + i) & 7))) & 3);
    // memory: diff of the data region against the baseline; stray writes elsewhere
    const memDiff = new Map<number, number>();
    const base = this.base;
    for (let i = 0; i < DATA_SIZE; i++) {
      const v = mem[DATA_BASE + i]!;
      if (v !== base[i]) memDiff.set(i, v);
    }
    const dirty = m.mem.dirty;
    const dataF0 = DATA_BASE >>> 12, dataF1 = (DATA_BASE + DATA_SIZE - 1) >>> 12, codeF = CODE_BASE >>> 12;
    let problems = undeclared;
    for (let f = 0; f < dirty.length; f++) {
      if (!dirty[f] || (f >= dataF0 && f <= dataF1) || f === codeF || f >= this.tableFrames) continue;
      const page = mem.subarray(f << 12, (f + 1) << 12);
      const nz = page.findIndex((b) => b !== 0);
      if (nz >= 0) {
        problems += ` stray write at physical ${((f << 12) + nz).toString(16)} (outside the data region)`;
        page.fill(0);
      }
    }
    const codeNow = mem.subarray(CODE_BASE, CODE_BASE + c.code.length);
    for (let i = 0; i < c.code.length && !c.selfModifying; i++) {
      if (codeNow[i] !== c.code[i]) { problems += ` code page modified at +${i.toString(16)}`; break; }
    }
    const ymmh = s.u8.slice(Off.YMMH, Off.YMMH + 256);
    const res: CaseResult & { fullTags?: number[] } = { kind, code, rip, err, cr2, gpr, rflags, fx: out, ymmh, mem: memDiff, note, problems };
    res.fullTags = fullTags;
    return res;
  }
}

// ---- comparison ------------------------------------------------------------------------------------

const hex = (v: bigint | number, w = 0): string => `0x${v.toString(16).padStart(w, '0')}`;

const FLAG_NAMES: [number, string][] = [
  [0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x100, 'TF'], [0x200, 'IF'], [0x400, 'DF'],
  [0x800, 'OF'], [0x4000, 'NT'], [0x40000, 'AC'], [0x200000, 'ID'],
];

function flagNames(bits: number): string {
  const n = FLAG_NAMES.filter(([b]) => bits & b).map(([, s]) => s);
  return n.length ? n.join(',') : hex(bits);
}

const VEC: Record<number, string> = {
  0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 19: '#XM',
};

function outcome(r: CaseResult): string {
  if (r.kind === 'exit') return `exit ${r.code}`;
  if (r.kind === 'fault') return `${VEC[r.code] ?? `vector ${r.code}`} at rip ${hex(r.rip)}`;
  return r.kind;
}

function f80(b: Uint8Array, off: number): string {
  const se = b[off + 8]! | (b[off + 9]! << 8);
  let m = 0n;
  for (let i = 7; i >= 0; i--) m = (m << 8n) | BigInt(b[off + i]!);
  return `${se >> 15 ? '-' : '+'}e${(se & 0x7fff).toString(16)}:m${m.toString(16).padStart(16, '0')}`;
}

function xmmHex(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 15; i >= 0; i--) s += b[off + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Compare a native and an emulated result; returns the list of differences (empty when they agree). */
export function compare(c: DiffCase, nat: CaseResult, emu: CaseResult & { fullTags?: number[] }): string[] {
  const d: string[] = [];
  if (nat.kind === 'error') return [`native runner rejected the case`];
  if (nat.kind !== emu.kind || nat.code !== emu.code || (nat.kind === 'fault' && nat.rip !== emu.rip)) {
    d.push(`outcome: native ${outcome(nat)}, emulator ${outcome(emu)}${emu.note ? ` (${emu.note.trim()})` : ''}`);
    if (emu.kind === 'fault' && emu.code === 6 && /unsupported|undecodable/.test(emu.note)) return d; // the rest is noise
  }
  if (emu.problems) d.push(`emulator: ${emu.problems.trim()}`);
  if (nat.kind === 'fault' && emu.kind === 'fault' && nat.code === 14) {
    if (nat.cr2 !== emu.cr2) d.push(`#PF address: native ${hex(nat.cr2)}, emulator ${hex(emu.cr2)}`);
    // P (present) is not comparable for kernel-half addresses: the host's kernel is mapped there
    const m = nat.cr2 >= 0xffff800000000000n ? 6 : 7;
    if ((nat.err & m) !== (emu.err & m)) d.push(`#PF error code: native ${hex(nat.err)}, emulator ${hex(emu.err)}`);
  }
  for (let i = 0; i < 16; i++) {
    if (nat.gpr[i] !== emu.gpr[i]) d.push(`${GPR_NAMES[i]}: native ${hex(nat.gpr[i]!, 16)}, emulator ${hex(emu.gpr[i]!, 16)}`);
  }
  const fm = 0x3f7fff & ~c.undefFlags & ~0x10000; // RF is not architectural state here
  const fd = (nat.rflags ^ emu.rflags) & fm;
  if (fd) d.push(`rflags: native ${hex(nat.rflags)}, emulator ${hex(emu.rflags)} (differ in ${flagNames(fd)}; ignored undefined ${flagNames(c.undefFlags) || '-'})`);
  const nv = new DataView(nat.fx.buffer, nat.fx.byteOffset, 512), ev = new DataView(emu.fx.buffer, emu.fx.byteOffset, 512);
  const nm = nv.getUint32(24, true), em = ev.getUint32(24, true);
  if (nm !== em) d.push(`mxcsr: native ${hex(nm)}, emulator ${hex(em)}`);
  for (let i = 0; i < 16; i++) {
    const a = xmmHex(nat.fx, 160 + 16 * i), b = xmmHex(emu.fx, 160 + 16 * i);
    if (a !== b) d.push(`xmm${i}: native ${a}, emulator ${b}`);
  }
  if (HOST_AVX) {
    for (let i = 0; i < 16; i++) {
      const a = xmmHex(nat.ymmh, 16 * i), b = xmmHex(emu.ymmh, 16 * i);
      if (a !== b) d.push(`ymm${i}[255:128]: native ${a}, emulator ${b}`);
    }
  }
  const nfcw = nv.getUint16(0, true), efcw = ev.getUint16(0, true);
  if (nfcw !== efcw) d.push(`fcw: native ${hex(nfcw)}, emulator ${hex(efcw)}`);
  const nsw = nv.getUint16(2, true), esw = ev.getUint16(2, true);
  if ((nsw ^ esw) & ~c.undefFsw & 0xffff) {
    d.push(`fsw: native ${hex(nsw)}, emulator ${hex(esw)} (TOP ${(nsw >> 11) & 7}/${(esw >> 11) & 7}; ignored ${hex(c.undefFsw)})`);
  }
  if (nat.fx[4] !== emu.fx[4]) d.push(`x87 tags (non-empty physical registers): native ${hex(nat.fx[4]!)}, emulator ${hex(emu.fx[4]!)}`);
  const top = (nsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    if (!((nat.fx[4]! >> p) & 1)) continue; // empty: contents are not compared
    const a = f80(nat.fx, 32 + 16 * i), b = f80(emu.fx, 32 + 16 * i);
    if (a !== b) d.push(`st${i}: native ${a}, emulator ${b}`);
    else if (emu.fullTags && ((emu.fx[4]! >> p) & 1) && emu.fullTags[i] !== x87Tag(nat.fx, 32 + 16 * i)) {
      d.push(`st${i} tag: emulator ${emu.fullTags[i]}, expected ${x87Tag(nat.fx, 32 + 16 * i)} for ${a}`);
    }
  }
  const offs = new Set([...nat.mem.keys(), ...emu.mem.keys()]);
  const bad = [...offs].filter((o) => nat.mem.get(o) !== emu.mem.get(o)).sort((a, b) => a - b);
  if (bad.length) {
    const base = baseline();
    const show = bad.slice(0, 16).map((o) => `${hex(DATA_BASE + o)}: native ${hex(nat.mem.get(o) ?? base[o]!, 2)} emulator ${hex(emu.mem.get(o) ?? base[o]!, 2)}`);
    d.push(`memory differs at ${bad.length} byte(s): ${show.join('; ')}${bad.length > 16 ? ' ...' : ''}`);
  }
  return d;
}

/** A readable summary of a case's input state. */
export function describeInput(c: DiffCase, detail: { xmm?: boolean; x87?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push('  ' + c.gpr.map((v, i) => `${GPR_NAMES[i]}=${hex(v)}`).join(' '));
  lines.push(`  rflags=${hex(c.rflags)} entry=${hex(CODE_BASE + c.entry)}`);
  const dv = new DataView(c.fx.buffer, c.fx.byteOffset, 512);
  if (detail.xmm) {
    lines.push(`  mxcsr=${hex(dv.getUint32(24, true))}`);
    const used = new Set<number>();
    for (const a of c.asm) for (const m of a.matchAll(/xmm(\d+)/g)) used.add(Number(m[1]));
    for (const i of [...used].sort((a, b) => a - b)) lines.push(`  xmm${i}=${xmmHex(c.fx, 160 + 16 * i)}`);
  }
  if (detail.x87) {
    const fsw = dv.getUint16(2, true), top = (fsw >> 11) & 7;
    const st: string[] = [];
    for (let i = 0; i < 8; i++) st.push((c.fx[4]! >> ((top + i) & 7)) & 1 ? `st${i}=${f80(c.fx, 32 + 16 * i)}` : `st${i}=empty`);
    lines.push(`  fcw=${hex(dv.getUint16(0, true))} fsw=${hex(fsw)} ${st.join(' ')}`);
  }
  if (c.patches.length) {
    lines.push('  memory: ' + c.patches.map(([o, b]) => `[${hex(DATA_BASE + o)}]=${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`).join(' '));
  }
  return lines.join('\n');
}
