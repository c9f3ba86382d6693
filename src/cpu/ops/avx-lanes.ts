// AVX/AVX2 instructions that are their SSE instruction with a third operand: `vop dst, src1, src2/m` computes
// what `op src1, src2/m` leaves in src1, into dst. For a 256-bit form of an in-lane instruction (every 128-bit
// half computed alone with the same immediate: integer arithmetic, compares, PSHUFB, PALIGNR, the pack and unpack
// instructions, FP arithmetic...) the SSE instruction runs once per half. The SSE handler (instruction table)
// runs on a private lane processor whose XMM0 holds src1 and XMM1 the source, so VEX semantics come for free:
// no alignment check on memory operands, every read before any write, and a VEX.128 result zeroes bits 255:128.
// The mapping is derived from iced's Code names (VEX_Vpcmpeqb_ymm_ymm_ymmm256 -> Pcmpeqb_xmm_xmmm128).
import { Code, Mnemonic } from 'iced-x86';
import type { Builder, Cpu, Exec } from '../cpu.js';
import { Cpu as Processor } from '../cpu.js';
import { type Decoded, OpType, RegClass, type RegRef } from '../decoded.js';
import type { OpMap, OpSpec } from '../op-spec.js';
import { eaOf, memOf } from '../operands.js';
import { PhysMemory } from '../phys-memory.js';
import { Off } from '../state.js';
import { Fault, Vector } from '../fault.js';

/**
 * The processor SSE handlers run on (its XMM0 is the destination/first source, XMM1 the second source); created
 * on first use (cpu.ts imports the table that imports this file).
 */
let lane: Cpu | null = null;
let L: Uint32Array = new Uint32Array(0);
const LX0 = Off.XMM >> 2, LX1 = (Off.XMM >> 2) + 4;
/** Words 0..45 of the state: GPRs, RIP, RFLAGS and the lazy-flag record (copied for instructions that use them). */
const CTX_WORDS = Off.SEL >> 2;
const MXCSR = Off.MXCSR >> 2;
/** The result of both halves, written to the destination after the last half. */
const OUT = new Uint32Array(8);
/** A memory source, read before anything is written. */
const MEM = new Uint32Array(8);

/** u32 index of bits 127:0 (half 0) or 255:128 (half 1) of vector register n. */
const halfIndex = (n: number, h: number): number => (h === 0 ? (Off.XMM >> 2) + 4 * n : (Off.YMMH >> 2) + 4 * n);

const XMM0: RegRef = { cls: RegClass.XMM, n: 0, size: 16, high8: false };
const XMM1: RegRef = { cls: RegClass.XMM, n: 1, size: 16, high8: false };

/** Read `size` bytes (1..32) at a linear address into MEM (zero-extended to 32 bytes). */
function readMem(c: Cpu, lo: number, hi: number, size: number): void {
  MEM.fill(0);
  if (size >= 8) {
    for (let k = 0; k < size; k += 8) {
      const a = (lo + k) >>> 0, ah = a < lo ? (hi + 1) >>> 0 : hi;
      MEM[k >> 2] = c.rd64(a, ah); MEM[(k >> 2) + 1] = c.hi;
    }
  } else if (size === 4) MEM[0] = c.rd32(lo, hi);
  else if (size === 2) MEM[0] = c.rd16(lo, hi);
  else MEM[0] = c.rd8(lo, hi);
}

/** How an operand of the VEX form becomes part of the lane state. */
interface Plan {
  /** The legacy (SSE) handler, built for the lane processor. */
  exec: Exec;
  /** 3-operand form: VEX operand 1 goes to lane XMM0. */
  three: boolean;
  /** Number of the VEX operand that goes to lane XMM1 (-1: none). */
  srcOp: number;
}

/** Instructions whose RFLAGS result depends on all 256 bits. */
const FLAG_WRITERS = new Set(['Vptest', 'Vtestps', 'Vtestpd']);
/** 2-operand forms that write no vector register (flags, ECX): their destination is only read. */
const READ_ONLY_DST = new Set(['Vcomiss', 'Vcomisd', 'Vucomiss', 'Vucomisd', 'Vpcmpistri', 'Vpcmpestri', 'Vpcmpestri64']);
/** 2-operand forms whose vector result goes to XMM0 (PCMPxSTRM's mask). */
const RESULT_IN_XMM0 = new Set(['Vpcmpistrm', 'Vpcmpestrm', 'Vpcmpestrm64']);
/** Loads that keep their alignment check in the VEX form (#GP unless 16/32-byte aligned). */
const ALIGNED = new Set(['Vmovdqa', 'Vmovaps', 'Vmovapd', 'Vmovntdqa']);

/** Shifts of 256-bit registers whose count is an XMM register or m128, the same for both halves. */
const SHARED_COUNT = /^Vps(ll|rl|ra)[wdq]$/;
/** 256-bit forms whose immediate has separate bits per half: [mnemonic, bits of the immediate each half uses]. */
const IMM_PER_HALF: Readonly<Record<string, number>> = { Vblendps: 4, Vblendpd: 2, Vshufpd: 2, Vmpsadbw: 3 };

/** Build the handler of a VEX form from its SSE Code. */
function buildLanes(d: Decoded, legacy: OpSpec, legacyCode: number, legacyMnemonic: number, three: boolean, name: string, gprSource: boolean): Exec {
  if (lane === null) { lane = new Processor(new PhysMemory(1 << 16)); L = lane.r; }
  const cpu = lane;
  const wide = d.regs[0]!.size === 32;
  const dst = RESULT_IN_XMM0.has(name) ? 0 : d.regs[0]!.n;
  const writesVec = !READ_ONLY_DST.has(name) && d.regs[0]!.cls !== RegClass.GPR;
  const writesGpr = d.regs[0]!.cls === RegClass.GPR || name.startsWith('Vpcmpestri') || name.startsWith('Vpcmpistri');
  // the lane instruction: XMM0 [, XMM1 | GPR] [, imm8]
  const ops: OpType[] = [], regs: (RegRef | undefined)[] = [];
  let srcOp = -1, usesCtx = d.flagsRead !== 0 || d.flagsWritten !== 0;
  const vexOps = three ? [0, ...Array.from({ length: d.opCount - 2 }, (_, i) => i + 2)] : Array.from({ length: d.opCount }, (_, i) => i);
  const gprDst = d.regs[0]!.cls === RegClass.GPR; // VCVTTSD2SI r, xmm/m64 and friends
  let memInGpr = false;
  for (const [k, i] of vexOps.entries()) {
    if (k === 0) { ops.push(OpType.REG); regs.push(gprDst ? d.regs[0] : XMM0); if (gprDst) usesCtx = true; continue; }
    const t = d.ops[i]!;
    if (t === OpType.IMM) { ops.push(OpType.IMM); regs.push(undefined); continue; }
    if (t === OpType.MEM && gprSource) { // r/m32, r/m64, r32/m8 sources: the memory value goes to the lane's RAX
      ops.push(OpType.REG); regs.push({ cls: RegClass.GPR, n: 0, size: Math.max(4, d.mem!.size), high8: false });
      srcOp = i; memInGpr = true; usesCtx = true; continue;
    }
    if (t === OpType.REG && d.regs[i]!.cls === RegClass.GPR) { ops.push(OpType.REG); regs.push(d.regs[i]); usesCtx = true; continue; }
    ops.push(OpType.REG); regs.push(XMM1); srcOp = i;
  }
  // INSERTPS from memory ignores imm8[7:6] (the source element); the lane reads the value from its XMM1 element 0
  const imm = name === 'Vinsertps' && d.ops[2] === OpType.MEM ? d.immLo & 0x3f : d.immLo;
  const ld: Decoded = { ...d, code: legacyCode, mnemonic: legacyMnemonic, opCount: ops.length, ops, regs, mem: undefined, immLo: imm, logTier: -1, codeId: -1 };
  const perHalf = IMM_PER_HALF[name];
  const execs = [legacy.build(ld)];
  if (wide && perHalf !== undefined) execs.push(legacy.build({ ...ld, immLo: (d.immLo >>> perHalf) & 0xff }));
  const exec1 = execs[execs.length - 1]!;
  const plan: Plan = { exec: execs[0]!, three, srcOp };
  const src1 = three ? d.regs[1]!.n : -1;
  const srcIsMem = srcOp >= 0 && d.ops[srcOp] === OpType.MEM && !memInGpr;
  const srcReg = srcOp >= 0 && !srcIsMem && !memInGpr ? d.regs[srcOp]!.n : -1;
  const srcShared = srcOp >= 0 && !memInGpr && wide && (srcIsMem ? (d.mem?.size ?? 0) <= 16 : d.regs[srcOp]!.size === 16);
  const memSize = srcIsMem || memInGpr ? d.mem!.size : 0;
  const ea0 = srcIsMem || memInGpr ? eaOf(memOf(d)) : null;
  const alignMask = ALIGNED.has(name) ? memSize - 1 : 0;
  const ea = ea0 === null || alignMask === 0 ? ea0 : (c: Cpu): number => {
    const lo = ea0(c);
    if (lo & alignMask) throw new Fault(Vector.GP, 0, 0, 0, `misaligned ${memSize}-byte AVX operand`);
    return lo;
  };
  const dstIn = three ? -1 : d.regs[0]!.n; // a 2-operand form: the SSE instruction may read its destination (PTEST, COMISS)
  const halves = wide ? 2 : 1;
  return (c) => {
    const r = c.r;
    if (ea !== null) { const lo = ea(c); readMem(c, lo, c.hi, memSize); }
    if (usesCtx) for (let w = 0; w < CTX_WORDS; w++) L[w] = r[w]!;
    if (memInGpr) { L[0] = MEM[0]!; L[1] = MEM[1]!; }
    L[MXCSR] = r[MXCSR]!;
    let xm: Fault | null = null;
    for (let h = 0; h < halves; h++) {
      if (src1 >= 0 || dstIn >= 0) { const k = halfIndex(src1 >= 0 ? src1 : dstIn, h); L[LX0] = r[k]!; L[LX0 + 1] = r[k + 1]!; L[LX0 + 2] = r[k + 2]!; L[LX0 + 3] = r[k + 3]!; }
      if (srcReg >= 0) {
        const k = halfIndex(srcReg, srcShared ? 0 : h);
        L[LX1] = r[k]!; L[LX1 + 1] = r[k + 1]!; L[LX1 + 2] = r[k + 2]!; L[LX1 + 3] = r[k + 3]!;
      } else if (srcIsMem) {
        const k = srcShared ? 0 : 4 * h;
        L[LX1] = MEM[k]!; L[LX1 + 1] = MEM[k + 1]!; L[LX1 + 2] = MEM[k + 2]!; L[LX1 + 3] = MEM[k + 3]!;
      }
      try {
        (h === 0 ? plan.exec : exec1)(cpu);
      } catch (e) {
        if (!(e instanceof Fault) || e.vector !== Vector.XM) throw e;
        xm = e; // #XM: the other half is still evaluated (the processor computes every lane's flags first)
      }
      OUT[4 * h] = L[LX0]!; OUT[4 * h + 1] = L[LX0 + 1]!; OUT[4 * h + 2] = L[LX0 + 2]!; OUT[4 * h + 3] = L[LX0 + 3]!;
    }
    if (xm !== null) {
      // the flags of all lanes are set, nothing else changes; with an unmasked pre-computation exception (invalid,
      // denormal, divide-by-zero) anywhere only the pre-computation flags are reported (SDM vol. 1, 11.5.2)
      const before = r[MXCSR]!, added = L[MXCSR]! & ~before & 0x3f, unmasked = added & ~(before >>> 7) & 0x3f;
      r[MXCSR] = (before | ((unmasked & 7) !== 0 ? added & 7 : added)) >>> 0;
      throw xm;
    }
    const k0 = halfIndex(dst, 0), k1 = halfIndex(dst, 1);
    if (writesVec) {
    r[k0] = OUT[0]!; r[k0 + 1] = OUT[1]!; r[k0 + 2] = OUT[2]!; r[k0 + 3] = OUT[3]!;
    if (wide) { r[k1] = OUT[4]!; r[k1 + 1] = OUT[5]!; r[k1 + 2] = OUT[6]!; r[k1 + 3] = OUT[7]!; } else { r[k1] = 0; r[k1 + 1] = 0; r[k1 + 2] = 0; r[k1 + 3] = 0; }
    }
    r[MXCSR] = L[MXCSR]!;
    if (usesCtx) {
      if (writesGpr) for (let w = 0; w < 32; w++) r[w] = L[w]!; // GPRs
      for (let w = (Off.RFLAGS >> 2); w < CTX_WORDS; w++) r[w] = L[w]!; // RFLAGS and the lazy record
    }
  };
}

/** Operand tokens of an iced Code name after the mnemonic. */
const tokens = (name: string): string[] => name.split('_').slice(1);

/**
 * The VEX Codes that are an SSE Code with a third operand (or the same operands), with their SSE Code: every
 * operand an XMM/YMM register, an xmm/m or ymm/m source, a GPR or imm8; 256-bit forms only for in-lane
 * instructions (no xmm-sized operand beside a ymm destination, except a shared shift count).
 */
export function laneOps(table: (code: number) => OpSpec | undefined, exclude: ReadonlySet<number>): OpMap {
  const map: OpMap = {};
  const byName = new Map<string, number>();
  for (const [n, v] of Object.entries(Code)) if (typeof v === 'number') byName.set(n, v);
  for (const [name, code] of byName) {
    if (!name.startsWith('VEX_V') || exclude.has(code)) continue;
    const vex = name.slice(4); // Vpcmpeqb_ymm_ymm_ymmm256
    const mnemonic = vex.split('_')[0]!;
    const toks = tokens(vex);
    if (toks.length < 2 || !/^(xmm|ymm|r32|r64)$/.test(toks[0]!)) continue;
    if (!toks.every((t) => /^(xmm|ymm|xmmm\d+|ymmm\d+|r32|r64|rm32|rm64|r32m8|r64m8|r32m16|r64m16|imm8)$/.test(t))) continue;
    const gprSource = toks.slice(1).some((t) => /^(rm|r32m|r64m)/.test(t));
    const wide = toks[0] === 'ymm';
    if (!wide && toks.some((t) => t.startsWith('ymm'))) continue; // narrowing (VCVTPD2PS xmm, ymm/m256): not in-lane
    if (wide && FLAG_WRITERS.has(mnemonic)) continue; // flags from both halves (VPTEST ymm): avx-move.ts
    if (wide && toks.slice(1).some((t) => t.startsWith('xmm')) && !SHARED_COUNT.test(mnemonic)) continue;
    if (wide && toks.some((t) => t === 'r32' || t === 'r64')) continue;
    const xmmToks = toks.map((t) => t.replace(/^ymmm256$/, 'xmmm128').replace(/^ymm$/, 'xmm'));
    const base = mnemonic.slice(1, 2).toUpperCase() + mnemonic.slice(2);
    const candidates: [string, boolean][] = [];
    if (xmmToks.length >= 3 && xmmToks[1] === 'xmm') candidates.push([[base, xmmToks[0], ...xmmToks.slice(2)].join('_'), true]);
    candidates.push([[base, ...xmmToks].join('_'), false]);
    for (const [legacyName, three] of candidates) {
      const legacyCode = byName.get(legacyName);
      if (legacyCode === undefined) continue;
      const spec = table(legacyCode);
      if (spec === undefined) continue;
      const legacyMnemonic = (Mnemonic as unknown as Record<string, number>)[base] ?? 0;
      const build: Builder = (d) => buildLanes(d, spec, legacyCode, legacyMnemonic, three, mnemonic, gprSource);
      (map as Record<number, OpSpec>)[code] = { build, writes: spec.writes };
      break;
    }
  }
  return map;
}
